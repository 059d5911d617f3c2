import Testing
import VigilCore

@Suite("AWS ARNs")
struct AWSARNTests {
    @Test("an assumed-role session ARN gives its role's ARN; anything else gives nil")
    func roleOfSession() {
        #expect(
            AWSARN.roleARN(fromSession: "arn:aws:sts::123456789012:assumed-role/web-node/i-0abc")
                == "arn:aws:iam::123456789012:role/web-node")
        #expect(
            AWSARN.roleARN(fromSession: "arn:aws-cn:sts::1:assumed-role/r/s") == "arn:aws-cn:iam::1:role/r")
        #expect(AWSARN.roleARN(fromSession: "arn:aws:iam::123456789012:user/x") == nil)
        #expect(AWSARN.roleARN(fromSession: "arn:aws:sts::1:assumed-role/no-session") == nil)
        #expect(AWSARN.roleARN(fromSession: "not an arn") == nil)
    }
}

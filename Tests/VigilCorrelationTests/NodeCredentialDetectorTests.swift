import Testing
import VigilCore
import VigilCorrelation
import VigilTestKit

@Suite("Node credential detector")
struct NodeCredentialDetectorTests {
    @Test("the node role's session from another address is flagged once per address; from the node, never")
    func flagsUseOutsideTheNode() {
        let symbols = SymbolTable()
        var build = EventBuilder(symbols: symbols, step: second)
        let session = "arn:aws:sts::111122223333:assumed-role/node/i-0123456789abcdef0"
        let events = EventBatch([
            build.cloudCall(
                principal: session, service: "sts", action: "GetCallerIdentity", sourceAddress: nodeAddress),
            build.cloudCall(
                principal: session, service: "sts", action: "GetCallerIdentity", sourceAddress: "203.0.113.7"),
            build.cloudCall(
                principal: session, service: "ec2", action: "DescribeInstances", sourceAddress: "203.0.113.7"),
            build.cloudCall(
                principal: "arn:aws:iam::111122223333:user/alice", service: "s3", action: "ListBuckets",
                sourceAddress: "203.0.113.7"),
            build.cloudCall(principal: nodeRole, service: "iam", action: "ListRoles", sourceAddress: "192.0.2.50"),
        ])
        var detector = NodeCredentialDetector(node: node, symbols: symbols)
        var findings: [Finding] = []
        detector.inspect(events, into: &findings)
        #expect(findings.map { $0.event.time } == [events[1].time, events[4].time])
        #expect(findings.allSatisfy { $0.mitre.technique == "T1552.005" && $0.severity == .high })
        #expect(findings.first?.explanation.contains("from 203.0.113.7, which is not the node (198.51.100.10)") == true)
        #expect(NodeCredentialDetector.factory(node: nil) == nil)
    }
}

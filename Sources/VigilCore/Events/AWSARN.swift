/// Reading AWS identities out of ARNs, shared by the CloudTrail parser and the correlator.
public enum AWSARN {
    /// The role ARN behind an assumed-role session ARN, or nil when `arn` is not one:
    /// `arn:<partition>:sts::<account>:assumed-role/<role>/<session>` gives
    /// `arn:<partition>:iam::<account>:role/<role>`.
    public static func roleARN(fromSession arn: String) -> String? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "sts", parts[5].hasPrefix("assumed-role/") else {
            return nil
        }
        let path = parts[5].dropFirst("assumed-role/".count)
        guard let slash = path.firstIndex(of: "/") else { return nil }
        return "arn:\(parts[1]):iam::\(parts[4]):role/\(path[..<slash])"
    }
}

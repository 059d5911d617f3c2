import VigilCore

/// The cloud identity of the node the agent runs on, from configuration.
///
/// It lets the correlator follow credentials from the instance metadata service to the cloud API: a process
/// that reaches the metadata address is linked to ``roleARN``, and cloud calls made with that role join the
/// same story (from one of ``addresses``) or are flagged as credential exfiltration (from anywhere else).
public struct NodeIdentity: Sendable, Equatable {
    /// The instance id (`i-0abc…`).
    public var instanceID: String
    /// The instance role's ARN (`arn:aws:iam::111122223333:role/node`).
    public var roleARN: String
    /// The addresses the node's cloud calls come from (its private and public or NAT addresses).
    public var addresses: [IPAddress]

    /// Creates a node identity.
    public init(instanceID: String, roleARN: String, addresses: [IPAddress]) {
        self.instanceID = instanceID
        self.roleARN = roleARN
        self.addresses = addresses
    }

    /// The instance metadata service's addresses (AWS IPv4 and IPv6; GCP and Azure use the IPv4 one too).
    /// Vigil only compares addresses with these; it never sends traffic to them.
    public static let metadataAddresses: [IPAddress] = [IPAddress("169.254.169.254")!, IPAddress("fd00:ec2::254")!]

    /// Whether `principal` is this node's role: its ARN, or one of its assumed-role sessions
    /// (`arn:aws:sts::<account>:assumed-role/<role>/<session>`).
    public func isRole(_ principal: String) -> Bool {
        guard !roleARN.isEmpty else { return false }
        if principal == roleARN { return true }
        return AWSARN.roleARN(fromSession: principal) == roleARN
    }
}

import VigilCore

/// Flags cloud calls made with this node's instance-role credentials from an address that is not the
/// node's: the credentials the metadata service handed to the node are being used elsewhere (T1552.005,
/// the cloud instance metadata API, credential access).
///
/// Only the node knows its own addresses, so this is a detector configured with the ``NodeIdentity``
/// rather than a rule. Calls AWS makes on the role's behalf carry a service name, not an address, and are
/// not flagged. One finding per source address and hour, so a stolen key's burst of calls is one alert
/// (the correlator counts the rest on its story).
public struct NodeCredentialDetector: Detector {
    /// The node's identity.
    public let node: NodeIdentity
    private let symbols: SymbolTable
    private var lastReported: [IPAddress: Int64] = [:]
    private static let quiet: Int64 = 3_600 * 1_000_000_000

    /// The rule the findings name.
    public static let rule = RuleReference(
        id: "vigil.cloud.instance-credentials-outside-node", name: "Instance credentials used outside the node")

    /// Creates a detector for `node`, resolving symbols through `symbols`.
    public init(node: NodeIdentity, symbols: SymbolTable) {
        self.node = node
        self.symbols = symbols
    }

    /// A factory for the engine, or nil when the node has no role to watch.
    public static func factory(node: NodeIdentity?) -> DetectorFactory? {
        guard let node, !node.roleARN.isEmpty else { return nil }
        return { shard in NodeCredentialDetector(node: node, symbols: shard.symbols) }
    }

    public mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
        for event in events where event.kind == .cloudAPICall {
            guard case .cloud(let cloud) = event.fields, cloud.sourceAddress.family != .none,
                !node.addresses.contains(cloud.sourceAddress), !event.principal.isNone,
                node.isRole(symbols.string(event.principal))
            else { continue }
            if let last = lastReported[cloud.sourceAddress], event.time - last < Self.quiet { continue }
            lastReported[cloud.sourceAddress] = event.time
            if lastReported.count > 4_096 { lastReported.removeAll(keepingCapacity: true) }
            let addresses = node.addresses.map(\.description).joined(separator: ", ")
            findings.append(
                Finding(
                    severity: .high, rule: Self.rule,
                    mitre: MITREMapping(tactic: .credentialAccess, technique: "T1552.005"), event: event,
                    explanation:
                        "The node's role \(node.roleARN) called \(symbols.string(cloud.service)):"
                        + "\(symbols.string(cloud.action)) from \(cloud.sourceAddress), which is not the node "
                        + "(\(addresses.isEmpty ? "no address configured" : addresses)): its instance credentials "
                        + "were taken from the metadata service and are used elsewhere."))
        }
    }
}

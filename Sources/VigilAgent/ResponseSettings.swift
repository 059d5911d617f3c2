import Logging
import VigilCore
import VigilLinux
import VigilResponse
import VigilSQLite

/// How `vigil-agent run` responds: `--respond off|dry-run|on` and `--policy FILE`.
///
/// Without a policy file the policy is report only. The mode given on the command line wins over the
/// policy's own `mode`; with neither, nothing responds. The audit trail lives in the SQLite store when the
/// profiles do (`sqlite:PATH`, the same database), in memory otherwise.
public struct ResponseSettings: Sendable, Equatable {
    /// The command line's mode, or nil to take the policy's.
    public var mode: ResponseMode?
    /// The policy file, or nil for report only.
    public var policyPath: String?

    /// No response at all.
    public static let off = ResponseSettings(mode: .off)

    /// Creates settings.
    public init(mode: ResponseMode? = nil, policyPath: String? = nil) {
        self.mode = mode
        self.policyPath = policyPath
    }

    /// The policy these settings name.
    ///
    /// - Throws: ``AgentError`` naming the file, line and key when the policy does not load.
    public func policy() throws -> ResponsePolicy {
        guard let policyPath else { return .reportOnly }
        do {
            return try ResponsePolicy(contentsOf: policyPath)
        } catch {
            throw AgentError("cannot load the response policy: \(error)")
        }
    }

    /// The mode in force: the command line's, else the policy file's, else off.
    public func effectiveMode(policy: ResponsePolicy) -> ResponseMode {
        mode ?? (policyPath == nil ? .off : policy.mode)
    }

    /// The responder for a run, or nil when the mode is off. In mode `on` it sets up the network quarantine
    /// (root and BPF); if that fails, quarantine actions fail with the reason and the rest still work. The
    /// audit trail shares the profile store's SQLite database when there is one.
    func makeResponder(
        policy: ResponsePolicy, symbols: SymbolTable, profiles: any ProfileStore, logger: Logger
    ) throws -> PolicyResponder? {
        let mode = effectiveMode(policy: policy)
        guard mode != .off else { return nil }
        var quarantine: NetworkQuarantine?
        if mode == .on {
            do {
                quarantine = try NetworkQuarantine(
                    filesystem: try CgroupFilesystem.locateV2(), allow: policy.allow.networks)
            } catch {
                logger.warning(
                    "no network quarantine: quarantine actions will fail", metadata: ["error": "\(error)"])
            }
        }
        let auditTrail: any ResponseAuditTrail =
            (profiles as? SQLiteProfileStore).map { SQLiteResponseAuditTrail(database: $0.database) }
            ?? MemoryResponseAuditTrail()
        return PolicyResponder(
            policy: policy, mode: mode, actuator: LinuxActuator(quarantine: quarantine), auditTrail: auditTrail,
            symbols: symbols, logger: logger)
    }
}

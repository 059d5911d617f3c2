import Glibc
import Logging
import VigilCore

/// The responder the engine calls with every alert: it asks the policy what to do, checks the safety rails,
/// acts through an actuator (or, in dry-run, says what it would do), records every outcome in the audit
/// trail, and returns the record so that the engine attaches it to the alert.
///
/// The target is the process of the alert's ``VigilCore/Alert/responseFinding``: a finding's own event
/// process; for an incident, the process of its root-cause finding (or, when that has none, of its earliest
/// finding that has one). A process is named by pid and start time; an event without a start time cannot be
/// told from a later process that reuses its pid, so it is refused.
///
/// In mode `off` it returns no records and records nothing. Reports (the policy's default) are recorded as
/// done in every other mode: they change nothing.
public final class PolicyResponder: Responder {
    /// The policy that picks the action.
    public let policy: ResponsePolicy
    /// Whether actions are taken: the command line's choice, or the policy's.
    public let mode: ResponseMode
    /// The checks every action passes.
    public let rails: SafetyRails
    private let actuator: any ResponseActuator
    private let auditTrail: any ResponseAuditTrail
    private let symbols: SymbolTable
    private let logger: Logger

    /// Creates a responder.
    ///
    /// - Parameters:
    ///   - policy: which alerts get which action; report only unless given.
    ///   - mode: overrides the policy's mode (the command line's `--respond`).
    ///   - actuator: what carries the actions out (``LinuxActuator`` on Linux).
    ///   - auditTrail: where every record is kept.
    ///   - symbols: the table the alerts' workloads and executables are interned in.
    ///   - rails: the safety rails; by default the policy's, protecting this process.
    ///   - logger: where audit-trail failures are logged.
    public init(
        policy: ResponsePolicy = .reportOnly, mode: ResponseMode? = nil, actuator: any ResponseActuator,
        auditTrail: any ResponseAuditTrail = MemoryResponseAuditTrail(), symbols: SymbolTable,
        rails: SafetyRails? = nil, logger: Logger = Logger(label: "vigil.response")
    ) {
        self.policy = policy
        self.mode = mode ?? policy.mode
        self.rails = rails ?? SafetyRails(policy: policy)
        self.actuator = actuator
        self.auditTrail = auditTrail
        self.symbols = symbols
        self.logger = logger
    }

    /// Decides, checks and (in mode `on`) acts on `alert`; returns the one record it made, or none in mode
    /// `off`.
    public func respond(to alert: Alert) async -> [ResponseRecord] {
        guard mode != .off else { return [] }
        let facts = AlertFacts(alert, symbols: symbols)
        let decision = policy.decide(facts)
        let finding = alert.responseFinding
        let target = finding.map {
            ResponseTarget(process: $0.event.process, workload: $0.event.workload, container: $0.event.container)
        }
        let action = ResponseAction(
            kind: decision.action, target: target ?? ResponseTarget(process: .none), reason: alert.alertID)
        let executable = finding.map { $0.process?.executable ?? symbols.string($0.event.executable) } ?? ""
        let (outcome, detail) = await handle(action, decision, workload: facts.workload, executable: executable)
        let record = ResponseRecord(action: action, outcome: outcome, detail: detail, time: Self.now())
        await audit(record, alertID: alert.alertID)
        return [record]
    }

    /// Undoes a reversible action that was done: resumes what `record` paused, releases what it quarantined.
    ///
    /// Undo acts on the same process identity and skips the allowlist and rate limits (it restores, it does
    /// not harm). In dry-run it only says what it would do; in mode `off` it is refused. The returned record
    /// is also in the audit trail, under the original alert's id.
    public func undo(_ record: ResponseRecord) async -> ResponseRecord {
        let original = record.action
        let (kind, outcome, detail): (ResponseActionKind, ResponseOutcome, String)
        if let undo = original.kind.undo {
            kind = undo
            if record.outcome != .done {
                (outcome, detail) = (.refused, "nothing to undo: the \(original.kind) was \(record.outcome.rawValue)")
            } else {
                switch mode {
                case .off:
                    (outcome, detail) = (.refused, "response mode is off")
                case .dryRun:
                    (outcome, detail) = (.dryRun, "would \(undo) process \(original.target.process)")
                case .on:
                    let action = ResponseAction(kind: undo, target: original.target, reason: original.reason)
                    (outcome, detail) = await perform(action, grace: .zero, scope: .process)
                }
            }
        } else {
            kind = original.kind
            (outcome, detail) = (.refused, "\(original.kind) cannot be undone")
        }
        let result = ResponseRecord(
            action: ResponseAction(kind: kind, target: original.target, reason: original.reason), outcome: outcome,
            detail: detail, time: Self.now())
        await audit(result, alertID: original.reason)
        return result
    }

    /// The outcome of `action`: the rails' checks in order, then the dry run or the action itself.
    private func handle(
        _ action: ResponseAction, _ decision: ResponseDecision, workload: String, executable: String
    ) async -> (ResponseOutcome, String) {
        let why = decision.rule.map { "policy rule '\($0)'" } ?? "policy defaults"
        if action.kind == .report { return (.done, "reported (\(why))") }
        let process = action.target.process
        if let refusal = rails.refusal(pid: process.pid) ?? rails.refusal(workload: workload) {
            return (.refused, refusal.description)
        }
        guard process.startTime != 0 else {
            return (
                .refused,
                "refused: the event has no start time for pid \(process.pid), so the process cannot be told from "
                    + "a later one that reuses the pid"
            )
        }
        let live: TargetProcess
        do {
            live = try actuator.inspect(process)
        } catch {
            return (error.code == .processReplaced ? .refused : .failed, error.message)
        }
        let inContainer = !action.target.container.isNone
        if let refusal = rails.refusal(
            process: live, eventExecutable: executable, scope: decision.scope, inContainer: inContainer)
            ?? rails.admit(action.target)
        {
            return (.refused, refusal.description)
        }
        let subject = Self.describe(live, workload: workload, scope: decision.scope)
        switch mode {
        case .off:
            return (.refused, "response mode is off")
        case .dryRun:
            return (.dryRun, "would \(action.kind) \(subject) (\(why))")
        case .on:
            let (outcome, detail) = await perform(action, grace: decision.grace, scope: decision.scope)
            return (outcome, "\(detail); \(subject) (\(why))")
        }
    }

    private func perform(
        _ action: ResponseAction, grace: Duration, scope: ResponseScope
    ) async -> (
        ResponseOutcome, String
    ) {
        do {
            return (.done, try await actuator.perform(action, grace: grace, scope: scope))
        } catch {
            return (error.code == .processReplaced ? .refused : .failed, error.message)
        }
    }

    private func audit(_ record: ResponseRecord, alertID: String) async {
        do {
            try await auditTrail.record(record, alertID: alertID)
        } catch {
            // The record still reaches the alert's outputs; the trail's loss must be seen.
            logger.error(
                "cannot record a response in the audit trail",
                metadata: ["alert": "\(alertID)", "action": "\(record.action.kind)", "error": "\(error)"])
        }
    }

    private static func describe(_ process: TargetProcess, workload: String, scope: ResponseScope) -> String {
        let executable = process.executable.isEmpty ? "" : " (\(process.executable))"
        let container = scope == .container ? "the container (cgroup \(process.cgroup)) of " : ""
        return "\(container)process \(process.pid)@\(process.startTime)\(executable) in workload \(workload)"
    }

    /// Nanoseconds since the epoch.
    private static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}

import Synchronization
import VigilCore

/// A responder that acts on nothing: it records every alert it sees and answers each with a `report`
/// record, so tests can check what reached the response stage and that records are attached.
public final class RecordingResponder: Responder {
    private let seen = Mutex<[Alert]>([])
    /// The outcome it records.
    public let outcome: ResponseOutcome

    /// Creates a responder that records `outcome` for every alert.
    public init(outcome: ResponseOutcome = .done) {
        self.outcome = outcome
    }

    public func respond(to alert: Alert) async -> [ResponseRecord] {
        seen.withLock { $0.append(alert) }
        let (reason, target): (String, ResponseTarget)
        switch alert {
        case .finding(let finding):
            reason = finding.id
            target = ResponseTarget(
                process: finding.event.process, workload: finding.event.workload, container: finding.event.container)
        case .incident(let incident):
            reason = incident.id
            target = ResponseTarget(process: incident.findings.first?.event.process ?? .none)
        }
        let action = ResponseAction(kind: .report, target: target, reason: reason)
        return [ResponseRecord(action: action, outcome: outcome, detail: "recorded", time: 0)]
    }

    /// Every alert seen, in order.
    public var alerts: [Alert] { seen.withLock { $0 } }
}

/// An alert output that keeps every alert in memory.
public final class CollectingOutput: AlertOutput {
    private let state = Mutex<(alerts: [Alert], finished: Bool)>(([], false))

    /// Creates an empty output.
    public init() {}

    public func write(_ alert: Alert) async throws { state.withLock { $0.alerts.append(alert) } }

    public func finish() async throws { state.withLock { $0.finished = true } }

    /// Every alert written, in order.
    public var alerts: [Alert] { state.withLock { $0.alerts } }

    /// The findings written, in order.
    public var findings: [Finding] {
        alerts.compactMap { if case .finding(let finding) = $0 { return finding } else { return nil } }
    }

    /// The incidents written, in order.
    public var incidents: [Incident] {
        alerts.compactMap { if case .incident(let incident) = $0 { return incident } else { return nil } }
    }

    /// Whether the engine finished the output.
    public var isFinished: Bool { state.withLock { $0.finished } }
}

import Synchronization
import VigilCore

/// Keeps every event the engine's shards see, for tests that run a real sensor through an engine and then
/// look at exactly what it produced.
///
/// Use ``factory(findingPerEvent:)`` as the engine's detector factory; after the engine has drained,
/// ``events`` holds every event in the order each shard saw them.
public final class EventLog: Sendable {
    private let entries = Mutex<[Event]>([])

    /// Creates an empty log.
    public init() {}

    /// The events seen so far.
    public var events: [Event] { entries.withLock { $0 } }

    /// A detector factory whose detectors record every event (and, if asked, raise a low finding for each,
    /// to exercise the alert path).
    public func factory(findingPerEvent: Bool = false) -> DetectorFactory {
        { _ in Recorder(log: self, findingPerEvent: findingPerEvent) }
    }

    struct Recorder: Detector {
        let log: EventLog
        let findingPerEvent: Bool

        mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
            log.entries.withLock { $0.append(contentsOf: events) }
            guard findingPerEvent else { return }
            for event in events {
                findings.append(
                    Finding(
                        severity: .low, rule: RuleReference(id: "test.event", name: "Every event"),
                        mitre: MITREMapping(tactic: .execution, technique: "T1059"), event: event,
                        explanation: "seen"))
            }
        }
    }
}

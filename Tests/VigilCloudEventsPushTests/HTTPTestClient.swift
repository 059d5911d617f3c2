import Synchronization
import VigilCore

/// Remembers every event the engine's shards saw.
final class EventLog: Sendable {
    private let entries = Mutex<[Event]>([])

    var events: [Event] { entries.withLock { $0 } }

    func factory() -> DetectorFactory {
        { _ in Recorder(log: self) }
    }

    struct Recorder: Detector {
        let log: EventLog
        mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
            log.entries.withLock { $0.append(contentsOf: events) }
        }
    }
}

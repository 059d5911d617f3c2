import Synchronization
import VigilCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Where the middleware and the client wrapper put what they saw. Recording never blocks and never fails:
/// a full sink drops the record and counts it.
public protocol ApplicationRecordSink: Sendable {
    /// Takes one record.
    func record(_ record: ApplicationRecord)
}

/// Counts of what an application sink took, delivered and dropped.
public struct ApplicationSinkStatistics: Sendable, Equatable {
    /// Records taken.
    public var recorded = 0
    /// Records delivered as events (to the engine or the log file).
    public var delivered = 0
    /// Records dropped because the buffer was full.
    public var dropped = 0

    /// Creates counts.
    public init(recorded: Int = 0, delivered: Int = 0, dropped: Int = 0) {
        self.recorded = recorded
        self.delivered = delivered
        self.dropped = dropped
    }
}

/// A bounded buffer of records between request handlers and the one task that delivers them.
final class RecordBuffer: Sendable {
    private struct State {
        var records: [ApplicationRecord] = []
        var statistics = ApplicationSinkStatistics()
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    func append(_ record: ApplicationRecord) {
        state.withLock { state in
            state.statistics.recorded += 1
            if state.records.count < capacity {
                state.records.append(record)
            } else {
                state.statistics.dropped += 1
            }
        }
    }

    /// Everything buffered, oldest first; the buffer is left empty.
    func take() -> [ApplicationRecord] {
        state.withLock { state in
            defer { state.records.removeAll(keepingCapacity: true) }
            return state.records
        }
    }

    func delivered(_ count: Int) {
        state.withLock { $0.statistics.delivered += count }
    }

    var statistics: ApplicationSinkStatistics { state.withLock { $0.statistics } }
}

/// Whole microseconds since `start`, saturating: the duration an application event records.
func microseconds(since start: ContinuousClock.Instant) -> UInt32 {
    let elapsed = ContinuousClock.now - start
    return UInt32(clamping: elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)
}

/// The wall clock in nanoseconds since the epoch: application events are stamped like kernel events.
func wallClockNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

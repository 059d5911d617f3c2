import Metrics
import Synchronization

/// Where a sensor delivers its events. The engine gives each sensor its own sink.
///
/// ``push(_:)`` never blocks: what the engine cannot take now is dropped and counted per sensor and per
/// event kind, and the shard remembers the loss so its next finding says events were lost around it. A
/// live sensor uses it so that its source (a kernel ring buffer, a socket) is never stalled. A replay
/// source that can simply wait uses ``send(_:)`` instead and loses nothing.
public final class EventSink: Sendable {
    /// The sensor's name, as used in metrics.
    public let sensorName: String
    /// The symbol table to intern strings into.
    public let symbols: SymbolTable

    private let shards: [AsyncBatchQueue<Event>]
    private let counters: SensorCounters
    /// Per-shard scratch buffers for partitioning a batch; reused, so pushing allocates nothing.
    private let scratch: Mutex<[ContiguousArray<Event>]>

    init(sensorName: String, symbols: SymbolTable, shards: [AsyncBatchQueue<Event>], counters: SensorCounters) {
        self.sensorName = sensorName
        self.symbols = symbols
        self.shards = shards
        self.counters = counters
        self.scratch = Mutex(Array(repeating: [], count: shards.count))
    }

    /// The result of a push.
    public struct PushResult: Sendable, Equatable {
        /// Events the engine queued.
        public var accepted: Int
        /// Events dropped because the engine was full.
        public var dropped: Int
    }

    /// Offers `batch` to the engine without waiting; returns how many events were taken and dropped.
    @discardableResult
    public func push(_ batch: EventBatch) -> PushResult {
        if batch.isEmpty { return PushResult(accepted: 0, dropped: 0) }
        counters.received(batch.count)
        if shards.count == 1 {
            return batch.events.withUnsafeBufferPointer { offer($0, to: 0) }
        }
        return scratch.withLock { parts in
            partition(batch, into: &parts)
            var result = PushResult(accepted: 0, dropped: 0)
            for shard in parts.indices where !parts[shard].isEmpty {
                let part = parts[shard].withUnsafeBufferPointer { offer($0, to: shard) }
                result.accepted += part.accepted
                result.dropped += part.dropped
                parts[shard].removeAll(keepingCapacity: true)
            }
            return result
        }
    }

    /// Hands `batch` to the engine, waiting while it is full. Nothing is dropped unless the engine has
    /// stopped, in which case the events not taken are counted as dropped.
    public func send(_ batch: EventBatch) async {
        if batch.isEmpty { return }
        counters.received(batch.count)
        if shards.count == 1 {
            await deliverWaiting(batch.events, to: 0)
            return
        }
        // Borrow the scratch buffers for the duration of the send; a concurrent send makes its own.
        var parts = scratch.withLock { parts in
            var borrowed: [ContiguousArray<Event>] = []
            swap(&parts, &borrowed)
            return borrowed
        }
        if parts.count != shards.count { parts = Array(repeating: [], count: shards.count) }
        partition(batch, into: &parts)
        for shard in parts.indices where !parts[shard].isEmpty {
            await deliverWaiting(parts[shard], to: shard)
            parts[shard].removeAll(keepingCapacity: true)
        }
        let returned = parts
        scratch.withLock { $0 = returned }
    }

    private func deliverWaiting(_ events: ContiguousArray<Event>, to shard: Int) async {
        let delivered = await shards[shard].append(events)
        if delivered < events.count {
            // The engine closed while we waited: whatever was not queued is lost, and counted.
            countDrops(events[delivered...], shard: shard)
        }
    }

    private func partition(_ batch: EventBatch, into parts: inout [ContiguousArray<Event>]) {
        let count = UInt64(shards.count)
        for event in batch.events {
            parts[Self.shardIndex(of: event.shardKey, shardCount: count)].append(event)
        }
    }

    private func offer(_ events: UnsafeBufferPointer<Event>, to shard: Int) -> PushResult {
        let accepted = shards[shard].tryAppend(events)
        let dropped = events.count - accepted
        if dropped > 0 {
            countDrops(events[accepted...], shard: shard)
        }
        return PushResult(accepted: accepted, dropped: dropped)
    }

    private func countDrops(_ events: some Collection<Event>, shard: Int) {
        shards[shard].recordDrops(events.count)
        counters.dropped(events)
    }

    /// Maps a shard key to a shard: a multiplicative hash spreads dense ids evenly.
    @inlinable
    static func shardIndex(of key: UInt32, shardCount: UInt64) -> Int {
        let mixed = UInt64(key &* 0x9E37_79B1)
        return Int((mixed &* shardCount) >> 32)
    }
}

/// Counts one sensor's events: received, and dropped per kind; mirrored to swift-metrics.
final class SensorCounters: Sendable {
    private struct State {
        var received: UInt64 = 0
        var droppedByKind = [UInt64](repeating: 0, count: EventKind.counterSlots)
        var dropCounters = [Counter?](repeating: nil, count: EventKind.counterSlots)
    }

    let sensorName: String
    private let state = Mutex(State())
    private let receivedCounter: Counter

    init(sensorName: String) {
        self.sensorName = sensorName
        self.receivedCounter = Counter(label: "vigil_events_received_total", dimensions: [("sensor", sensorName)])
    }

    func received(_ count: Int) {
        state.withLock { $0.received &+= UInt64(count) }
        receivedCounter.increment(by: count)
    }

    func dropped(_ events: some Collection<Event>) {
        var perKind = [Int](repeating: 0, count: EventKind.counterSlots)
        for event in events { perKind[Int(event.kind.rawValue)] += 1 }
        let sensorName = self.sensorName
        let counters = state.withLock { state -> [(Counter, Int)] in
            var touched: [(Counter, Int)] = []
            for slot in perKind.indices where perKind[slot] > 0 {
                state.droppedByKind[slot] &+= UInt64(perKind[slot])
                if state.dropCounters[slot] == nil, let kind = EventKind(rawValue: UInt8(slot)) {
                    state.dropCounters[slot] = Counter(
                        label: "vigil_events_dropped_total",
                        dimensions: [("sensor", sensorName), ("kind", kind.name)]
                    )
                }
                if let counter = state.dropCounters[slot] { touched.append((counter, perKind[slot])) }
            }
            return touched
        }
        for (counter, count) in counters { counter.increment(by: count) }
    }

    var receivedCount: UInt64 { state.withLock { $0.received } }

    var droppedByKind: [EventKind: UInt64] {
        state.withLock { state in
            var result: [EventKind: UInt64] = [:]
            for kind in EventKind.allCases where state.droppedByKind[Int(kind.rawValue)] > 0 {
                result[kind] = state.droppedByKind[Int(kind.rawValue)]
            }
            return result
        }
    }
}

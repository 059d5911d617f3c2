import Metrics
import Synchronization

/// Where a sensor delivers its events. The engine gives each sensor its own sink.
///
/// ``push(_:)`` never blocks: what the engine cannot take now is dropped and counted per sensor and per
/// event kind, and the shard remembers the loss so its next finding says events were lost around it. Bulk
/// kinds (``EventKind/isBulk``: opens, connections, DNS queries) are shed first; the rest may use a reserve
/// beyond the shard's capacity, so a flood of opens does not cost the exec that matters. A live sensor uses it so that its source (a kernel ring buffer, a socket) is never stalled. A replay
/// source that can simply wait uses ``send(_:)`` instead and loses nothing.
///
/// Both take the batch `inout` and return it empty: its buffer is handed to the engine rather than
/// copied, and an emptied buffer from earlier batches comes back for the sensor to fill next.
public final class EventSink: Sendable {
    /// The sensor's name, as used in metrics.
    public let sensorName: String
    /// The symbol table to intern strings into.
    public let symbols: SymbolTable

    private let shards: [AsyncBatchQueue<Event>]
    private let counters: SensorCounters
    private let processes: SharedProcessTable
    /// Per-shard buffers for splitting a batch; handed over and replaced like the batches themselves.
    private let parts: Mutex<[ContiguousArray<Event>]>

    init(
        sensorName: String, symbols: SymbolTable, shards: [AsyncBatchQueue<Event>], counters: SensorCounters,
        processes: SharedProcessTable
    ) {
        self.sensorName = sensorName
        self.symbols = symbols
        self.shards = shards
        self.counters = counters
        self.processes = processes
        self.parts = Mutex(Array(repeating: [], count: shards.count))
    }

    /// The result of a push.
    public struct PushResult: Sendable, Equatable {
        /// Events the engine queued.
        public var accepted: Int
        /// Events dropped because the engine was full.
        public var dropped: Int
    }

    /// Offers the batch's events to the engine without waiting; returns how many were taken and dropped.
    /// The batch comes back empty, ready to be filled again.
    @discardableResult
    public func push(_ batch: inout EventBatch) -> PushResult {
        if batch.isEmpty { return PushResult(accepted: 0, dropped: 0) }
        counters.received(batch.count)
        processes.observe(batch.events)
        if shards.count == 1 { return offer(&batch.events, to: 0) }
        return parts.withLock { parts in
            split(&batch, into: &parts)
            var result = PushResult(accepted: 0, dropped: 0)
            for shard in parts.indices where !parts[shard].isEmpty {
                let part = offer(&parts[shard], to: shard)
                result.accepted += part.accepted
                result.dropped += part.dropped
            }
            return result
        }
    }

    /// Hands the batch's events to the engine, waiting while it is full. Nothing is dropped unless the
    /// engine has stopped, in which case the events not taken are counted as dropped. The batch comes back
    /// empty, ready to be filled again.
    public func send(_ batch: inout EventBatch) async {
        if batch.isEmpty { return }
        counters.received(batch.count)
        processes.observe(batch.events)
        if shards.count == 1 {
            await deliverWaiting(&batch.events, to: 0)
            return
        }
        // Borrow the split buffers across the awaits; a concurrent send makes its own.
        var borrowed = parts.withLock { parts in
            var taken: [ContiguousArray<Event>] = []
            swap(&parts, &taken)
            return taken
        }
        if borrowed.count != shards.count { borrowed = Array(repeating: [], count: shards.count) }
        split(&batch, into: &borrowed)
        for shard in borrowed.indices where !borrowed[shard].isEmpty {
            await deliverWaiting(&borrowed[shard], to: shard)
        }
        // Swap back rather than assign, so the buffers never have two owners (emptying them would copy).
        parts.withLock { swap(&$0, &borrowed) }
    }

    private func deliverWaiting(_ events: inout ContiguousArray<Event>, to shard: Int) async {
        await shards[shard].enqueue(&events)
        if !events.isEmpty {
            // The engine closed while we waited: whatever was not queued is lost, and counted.
            countDrops(events, shard: shard)
            events.removeAll(keepingCapacity: true)
        }
    }

    /// Reports events the sensor's own source lost before they reached it (a full kernel ring buffer): they
    /// are counted as dropped for `kind`, like the engine's own drops, and the next finding of the shard
    /// `nextEvent` goes to says that events were lost before it.
    public func recordLostAtSource(_ count: Int, kind: EventKind, before nextEvent: Event) {
        guard count > 0 else { return }
        counters.dropped(kind: kind, count: count)
        let shard = shards.count == 1 ? 0 : Self.shardIndex(of: nextEvent.shardKey, shardCount: UInt64(shards.count))
        shards[shard].recordDrops(count)
    }

    /// Moves each event to its shard's buffer, in order, and empties the batch.
    private func split(_ batch: inout EventBatch, into parts: inout [ContiguousArray<Event>]) {
        let shardCount = UInt64(shards.count)
        let count = batch.count
        for shard in parts.indices { parts[shard].reserveCapacity(count) }
        batch.events.withUnsafeBufferPointer { events in
            for event in events {
                parts[Self.shardIndex(of: event.shardKey, shardCount: shardCount)].append(event)
            }
        }
        batch.removeAll()
    }

    private func offer(_ events: inout ContiguousArray<Event>, to shard: Int) -> PushResult {
        let count = events.count
        var accepted = shards[shard].tryEnqueue(&events)
        if accepted < count {
            accepted += offerEssentials(&events, from: accepted, to: shard)
            events.removeAll(keepingCapacity: true)
        }
        return PushResult(accepted: accepted, dropped: count - accepted)
    }

    /// The shard is full: drops the bulk events among `events[start...]` and offers the rest, in order, to
    /// the room the queue keeps in reserve; returns how many it took. Everything not taken is counted.
    private func offerEssentials(_ events: inout ContiguousArray<Event>, from start: Int, to shard: Int) -> Int {
        countDrops(events[start...].lazy.filter(\.kind.isBulk), shard: shard)
        // Keep the essential events, in order, at the front.
        var kept = 0
        for index in start..<events.count where !events[index].kind.isBulk {
            events[kept] = events[index]
            kept += 1
        }
        guard kept > 0 else { return 0 }
        events.removeSubrange(kept...)
        let accepted = shards[shard].tryEnqueue(&events, intoReserve: shards[shard].capacity / Self.reserveDivisor)
        if accepted < kept { countDrops(events[accepted...], shard: shard) }
        return accepted
    }

    /// A shard's queue keeps 1/4 of its capacity beyond it for essential events.
    private static let reserveDivisor = 4

    private func countDrops(_ events: some Collection<Event>, shard: Int) {
        shards[shard].recordDrops(events.count)
        counters.dropped(events)
    }

    /// The shard (from 0) that events with this ``Event/shardKey`` go to, in an engine of `shardCount`
    /// shards. Per-shard state built outside the engine (loaded profiles) uses it to land where the
    /// engine will look for it.
    public static func shard(forKey key: UInt32, shardCount: Int) -> Int {
        shardIndex(of: key, shardCount: UInt64(max(1, shardCount)))
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

    func dropped(kind: EventKind, count: Int) {
        var perKind = [Int](repeating: 0, count: EventKind.counterSlots)
        perKind[Int(kind.rawValue)] = count
        dropped(perKind: perKind)
    }

    func dropped(_ events: some Collection<Event>) {
        var perKind = [Int](repeating: 0, count: EventKind.counterSlots)
        for event in events { perKind[Int(event.kind.rawValue)] += 1 }
        dropped(perKind: perKind)
    }

    private func dropped(perKind: [Int]) {
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

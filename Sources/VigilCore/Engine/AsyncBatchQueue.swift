import DequeModule
import Synchronization

/// A bounded multi-producer, single-consumer queue of batches that moves buffers instead of copying them.
///
/// A producer hands over its whole buffer (``tryEnqueue(_:)``) and gets back an emptied one from the
/// consumer's earlier batches, so a batch's elements are written once by the producer and read once by
/// the consumer, and steady-state hand-over allocates nothing. Capacity counts elements. ``tryEnqueue(_:)``
/// never waits; ``enqueue(_:)`` waits for room. The consumer takes one batch at a time (``take(into:)``)
/// and returns the buffer with ``recycle(_:)``.
final class AsyncBatchQueue<Element: Sendable>: Sendable {
    private struct State {
        var batches: Deque<ContiguousArray<Element>> = []
        var queued = 0
        var spare: [ContiguousArray<Element>] = []
        var spareCapacity = 0
        var consumer: UnsafeContinuation<Void, Never>?
        var producers: Deque<UnsafeContinuation<Void, Never>> = []
        var closed = false
        var dropped: UInt64 = 0
    }

    private let state = Mutex(State())
    /// The most elements the queue holds.
    let capacity: Int
    /// The most elements the emptied buffers kept for reuse may hold, in all; beyond it they are freed.
    /// Twice the capacity covers every buffer a full queue has in flight, so a queue that fills and
    /// drains reuses its buffers instead of freeing and reallocating them.
    private var spareLimit: Int { capacity * 2 }

    init(capacity: Int) {
        precondition(capacity > 0, "a queue needs room for at least one element")
        self.capacity = capacity
    }

    /// Queues as much of `batch` as fits, without waiting, and returns how many elements were queued.
    ///
    /// When all of them were, `batch` comes back empty (holding a recycled buffer). Otherwise `batch` is
    /// unchanged: its first `n` elements were copied in, and the caller decides what to do with the rest.
    /// After ``close()`` nothing is queued.
    func tryEnqueue(_ batch: inout ContiguousArray<Element>) -> Int {
        tryEnqueue(&batch, acceptingPart: true)
    }

    /// Like ``tryEnqueue(_:)``, but may fill the queue up to `reserve` elements beyond its capacity: room
    /// kept for elements that must not be lost to a flood of others.
    func tryEnqueue(_ batch: inout ContiguousArray<Element>, intoReserve reserve: Int) -> Int {
        tryEnqueue(&batch, acceptingPart: true, reserve: reserve)
    }

    private func tryEnqueue(_ batch: inout ContiguousArray<Element>, acceptingPart: Bool, reserve: Int = 0) -> Int {
        let count = batch.count
        if count == 0 { return 0 }
        let (accepted, consumer) = state.withLock { state -> (Int, UnsafeContinuation<Void, Never>?) in
            if state.closed { return (0, nil) }
            let room = capacity + reserve - state.queued
            if room <= 0 || (!acceptingPart && room < count) { return (0, nil) }
            var moved = state.spare.popLast() ?? []
            state.spareCapacity -= moved.capacity
            if count <= room {
                swap(&moved, &batch)
            } else {
                moved.append(contentsOf: batch[0..<room])
            }
            let accepted = moved.count
            state.batches.append(moved)
            state.queued += accepted
            return (accepted, state.consumer.take())
        }
        consumer?.resume()
        return accepted
    }

    /// Queues every element of `batch`, waiting for room as often as needed. `batch` comes back empty,
    /// unless the queue was closed first: then it holds the elements that were not queued.
    ///
    /// It waits for room for the whole batch, so the buffer is handed over rather than copied in parts;
    /// only a batch larger than the queue's capacity goes in pieces.
    func enqueue(_ batch: inout ContiguousArray<Element>) async {
        while !batch.isEmpty {
            let accepted = tryEnqueue(&batch, acceptingPart: batch.count > capacity)
            if batch.isEmpty { break }
            if accepted > 0 { batch.removeFirst(accepted) }
            if await !waitForRoom(for: min(batch.count, capacity)) { break }
        }
    }

    private func waitForRoom(for count: Int) async -> Bool {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.closed || capacity - state.queued >= count { return true }
                state.producers.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
        return state.withLock { !$0.closed }
    }

    /// Waits for the next batch and swaps it into `buffer` (which should be empty); returns false once the
    /// queue is closed and empty.
    func take(into buffer: inout ContiguousArray<Element>) async -> Bool {
        var yielded = false
        while true {
            let outcome = state.withLock { state -> TakeOutcome in
                guard !state.batches.isEmpty else { return state.closed ? .closed : .empty }
                // Swap in place so the buffer never has a second owner, which would make emptying it copy.
                swap(&state.batches[state.batches.startIndex], &buffer)
                state.batches.removeFirst()
                state.queued -= buffer.count
                let waiting = state.producers
                state.producers.removeAll()
                return .took(waiting)
            }
            switch outcome {
            case .took(let producers):
                for producer in producers { producer.resume() }
                return true
            case .closed:
                return false
            case .empty:
                // Producers usually hand over the next batch within microseconds: yield once before
                // parking, since a park and wake-up costs more than processing a batch.
                if !yielded {
                    yielded = true
                    await Task.yield()
                    continue
                }
                yielded = false
                await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.batches.isEmpty || state.closed { return true }
                        state.consumer = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    private enum TakeOutcome {
        case took(Deque<UnsafeContinuation<Void, Never>>)
        case closed
        case empty
    }

    /// Empties a taken batch's buffer and keeps its storage for producers to reuse; `buffer` comes back
    /// empty with no storage.
    func recycle(_ buffer: inout ContiguousArray<Element>) {
        buffer.removeAll(keepingCapacity: true)
        var kept = ContiguousArray<Element>()
        swap(&kept, &buffer)
        guard kept.capacity > 0 else { return }
        let limit = spareLimit
        state.withLock { state in
            if state.spareCapacity + kept.capacity <= limit {
                state.spareCapacity += kept.capacity
                state.spare.append(kept)
            }
        }
    }

    /// Stops accepting elements; the consumer still receives what is queued, then `take` returns nil.
    func close() {
        let (consumer, producers) = state.withLock { state in
            state.closed = true
            let producers = state.producers
            state.producers.removeAll()
            return (state.consumer.take(), producers)
        }
        consumer?.resume()
        for producer in producers { producer.resume() }
    }

    /// Adds to the count of elements producers could not queue.
    func recordDrops(_ count: Int) {
        state.withLock { $0.dropped &+= UInt64(count) }
    }

    /// How many elements producers could not queue, in all.
    var dropped: UInt64 { state.withLock { $0.dropped } }
}

import DequeModule
import Synchronization

/// A bounded multi-producer, single-consumer queue that hands its contents over in bulk.
///
/// Producers either append what fits and learn how much did not (``tryAppend(_:)``, never waits) or wait
/// for room (``append(_:)``). The consumer swaps its empty buffer for the queued elements in one step
/// (``take(into:)``), so elements move in batches and buffers are reused, not reallocated.
final class AsyncBatchQueue<Element: Sendable>: Sendable {
    private struct State {
        var items: ContiguousArray<Element> = []
        var consumer: UnsafeContinuation<Void, Never>?
        var producers: Deque<UnsafeContinuation<Void, Never>> = []
        var closed = false
        var dropped: UInt64 = 0
    }

    private let state = Mutex(State())
    /// The most elements the queue holds.
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0, "a queue needs room for at least one element")
        self.capacity = capacity
    }

    /// Appends the longest prefix of `elements` that fits and returns its length. Never waits.
    /// After ``close()`` nothing is accepted.
    func tryAppend(_ elements: UnsafeBufferPointer<Element>) -> Int {
        if elements.isEmpty { return 0 }
        let (accepted, consumer) = state.withLock { state -> (Int, UnsafeContinuation<Void, Never>?) in
            if state.closed { return (0, nil) }
            let accepted = min(capacity - state.items.count, elements.count)
            if accepted > 0 {
                state.items.append(contentsOf: UnsafeBufferPointer(rebasing: elements[0..<accepted]))
            }
            let consumer = accepted > 0 ? state.consumer.take() : nil
            return (accepted, consumer)
        }
        consumer?.resume()
        return accepted
    }

    /// Appends every element, waiting for room as often as needed, and returns how many were appended:
    /// all of them unless the queue was closed first.
    func append(_ elements: ContiguousArray<Element>) async -> Int {
        var offset = 0
        while true {
            // The buffer pointer lives only inside this closure, never across an await.
            offset += elements.withUnsafeBufferPointer { tryAppend(UnsafeBufferPointer(rebasing: $0[offset...])) }
            if offset == elements.count { return offset }
            if await !waitForRoom() { return offset }
        }
    }

    private func waitForRoom() async -> Bool {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.closed || state.items.count < capacity { return true }
                state.producers.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
        return state.withLock { !$0.closed }
    }

    /// Waits until elements are queued, then swaps them into `buffer` (which should be empty) and returns
    /// true; returns false once the queue is closed and empty.
    func take(into buffer: inout ContiguousArray<Element>) async -> Bool {
        var yielded = false
        while true {
            let outcome = state.withLock { state -> TakeOutcome in
                if !state.items.isEmpty {
                    swap(&state.items, &buffer)
                    let waiting = state.producers
                    state.producers.removeAll()
                    return .took(waiting)
                }
                return state.closed ? .closed : .empty
            }
            switch outcome {
            case .took(let producers):
                for producer in producers { producer.resume() }
                return true
            case .closed:
                return false
            case .empty:
                // Producers usually hand over the next batch within microseconds: yield once before
                // parking, since a park and wake-up costs more than the batch's own processing.
                if !yielded {
                    yielded = true
                    await Task.yield()
                    continue
                }
                yielded = false
                await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.items.isEmpty || state.closed { return true }
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

    /// Stops accepting elements; the consumer still receives what is queued, then `take` returns false.
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

    /// How many elements are queued now.
    var count: Int { state.withLock { $0.items.count } }
}

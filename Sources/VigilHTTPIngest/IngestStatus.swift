import Synchronization

/// What an HTTP ingest endpoint has done so far, and where it listens; readable while it runs.
///
/// It holds what every endpoint counts, plus `Details` for what only one does; each sensor's public status type
/// wraps one and names its counters.
package final class IngestStatus<Details: Sendable>: Sendable {
    /// The counters, read and updated together.
    package struct Counters: Sendable {
        /// Requests received, whatever their outcome.
        package var requests = 0
        /// Events the engine queued.
        package var eventsAccepted = 0
        /// Events the engine could not take (also counted by the engine, per sensor and kind).
        package var eventsDropped = 0
        /// Requests refused with 401 (no or wrong credential).
        package var unauthorized = 0
        /// Requests refused with 413 (body over the limit).
        package var tooLarge = 0
        /// Requests refused with 400 because the body holds nothing usable.
        package var badRequests = 0
        /// Requests refused with 503 (too many in flight, or the engine full), each counted once.
        package var overloaded = 0
        /// What only this endpoint counts.
        package var details: Details
    }

    private struct State {
        var port: Int?
        var stopped = false
        var waiters: [CheckedContinuation<Int?, Never>] = []
        var inFlight = 0
        var counters: Counters
    }

    private let state: Mutex<State>

    /// Creates empty status, with `details` as the endpoint's own counters start.
    package init(details: Details) {
        state = Mutex(State(counters: Counters(details: details)))
    }

    /// The port the server listens on, waiting until it listens; nil once the server has stopped (or failed to
    /// start) without listening again.
    package func boundPort() async -> Int? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int?, Never>) in
            let ready: Int?? = state.withLock { state in
                if let port = state.port { return .some(port) }
                if state.stopped { return .some(nil) }
                state.waiters.append(continuation)
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// A copy of the counters as they are now.
    package var counters: Counters { state.withLock { $0.counters } }

    /// Updates the counters under the lock.
    package func count(_ update: (inout Counters) -> Void) {
        state.withLock { update(&$0.counters) }
    }

    // MARK: - Server lifecycle

    /// Records that the server listens on `port`, and wakes those waiting in ``boundPort()``.
    package func started(port: Int) {
        resumeWaiters(port: port, stopped: false)
    }

    /// Records that the server no longer listens, and wakes those waiting in ``boundPort()`` with nil.
    package func stopped() {
        resumeWaiters(port: nil, stopped: true)
    }

    private func resumeWaiters(port: Int?, stopped: Bool) {
        let waiters = state.withLock { state in
            state.port = port
            state.stopped = stopped
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    // MARK: - Requests in flight

    /// Admits a request unless `limit` are already in flight; a refusal is not counted here (the 503 answer
    /// counts it).
    package func enter(limit: Int) -> Bool {
        state.withLock { state in
            guard state.inFlight < limit else { return false }
            state.inFlight += 1
            return true
        }
    }

    /// Ends a request that ``enter(limit:)`` admitted.
    package func leave() {
        state.withLock { $0.inFlight -= 1 }
    }
}

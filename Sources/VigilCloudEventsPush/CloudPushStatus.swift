import Synchronization
import VigilCloudEvents

/// What a ``CloudPushSensor`` has done so far, and where it listens; readable while it runs.
public final class CloudPushStatus: Sendable {
    private struct State {
        var port: Int?
        var stopped = false
        var waiters: [CheckedContinuation<Int?, Never>] = []
        var inFlight = 0
        var requests = 0
        var eventsAccepted = 0
        var eventsDropped = 0
        var skipped = CloudSkipCounts()
        var unauthorized = 0
        var tooLarge = 0
        var malformed = 0
        var overloaded = 0
    }

    private let state = Mutex(State())

    /// Creates empty status.
    public init() {}

    /// The port the server listens on, waiting until it listens; nil once the sensor has stopped (or failed to
    /// start) without listening again.
    public func boundPort() async -> Int? {
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

    /// Requests received on the endpoint, whatever their outcome.
    public var requests: Int { state.withLock { $0.requests } }
    /// Events the engine queued.
    public var eventsAccepted: Int { state.withLock { $0.eventsAccepted } }
    /// Events the engine could not take (also counted by the engine, per sensor and kind).
    public var eventsDropped: Int { state.withLock { $0.eventsDropped } }
    /// Records in bodies that could not be used, by reason.
    public var skipped: CloudSkipCounts { state.withLock { $0.skipped } }
    /// Requests refused with 401 (no or wrong credential).
    public var unauthorized: Int { state.withLock { $0.unauthorized } }
    /// Requests refused with 413 (body over the limit).
    public var tooLarge: Int { state.withLock { $0.tooLarge } }
    /// Requests refused with 400 (no usable record in the body).
    public var malformed: Int { state.withLock { $0.malformed } }
    /// Requests refused with 503 (too many in flight, or the engine full).
    public var overloaded: Int { state.withLock { $0.overloaded } }

    // MARK: - Updates from the sensor

    func started(port: Int) {
        let waiters = state.withLock { state in
            state.port = port
            state.stopped = false
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    func stopped() {
        let waiters = state.withLock { state in
            state.port = nil
            state.stopped = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// Admits a request unless `limit` are already in flight.
    func enter(limit: Int) -> Bool {
        state.withLock { state in
            guard state.inFlight < limit else {
                state.overloaded += 1
                return false
            }
            state.inFlight += 1
            return true
        }
    }

    func leave() { state.withLock { $0.inFlight -= 1 } }

    func received() { state.withLock { $0.requests += 1 } }
    func countUnauthorized() { state.withLock { $0.unauthorized += 1 } }
    func countTooLarge() { state.withLock { $0.tooLarge += 1 } }
    func countOverloaded() { state.withLock { $0.overloaded += 1 } }

    func delivered(accepted: Int, dropped: Int, skipped: CloudSkipCounts, malformed: Bool) {
        state.withLock { state in
            state.eventsAccepted += accepted
            state.eventsDropped += dropped
            state.skipped.merge(skipped)
            if malformed { state.malformed += 1 }
        }
    }
}

import Synchronization

/// What a ``KubernetesAuditWebhookSensor`` has done so far, and where it listens; readable while it runs.
public final class KubernetesAuditWebhookStatus: Sendable {
    private struct State {
        var port: Int?
        var stopped = false
        var waiters: [CheckedContinuation<Int?, Never>] = []
        var inFlight = 0
        var requests = 0
        var accepted = 0
        var eventsAccepted = 0
        var eventsDropped = 0
        var itemsSkipped = 0
        var unauthorized = 0
        var tooLarge = 0
        var invalid = 0
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

    /// HTTP requests received, whatever their outcome (a client that fails the TLS handshake sends none).
    public var requests: Int { state.withLock { $0.requests } }
    /// Requests answered 200: their events were delivered (or some dropped, see ``eventsDropped``).
    public var accepted: Int { state.withLock { $0.accepted } }
    /// Events the engine queued.
    public var eventsAccepted: Int { state.withLock { $0.eventsAccepted } }
    /// Events the engine could not take (also counted by the engine, per sensor and kind).
    public var eventsDropped: Int { state.withLock { $0.eventsDropped } }
    /// Items of accepted bodies that were not audit events.
    public var itemsSkipped: Int { state.withLock { $0.itemsSkipped } }
    /// Requests refused with 401 (no or wrong bearer token).
    public var unauthorized: Int { state.withLock { $0.unauthorized } }
    /// Requests refused with 413 (body over the limit).
    public var tooLarge: Int { state.withLock { $0.tooLarge } }
    /// Requests refused with 400 (not JSON, or no audit event in it).
    public var invalid: Int { state.withLock { $0.invalid } }
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
            guard state.inFlight < limit else { return false }
            state.inFlight += 1
            return true
        }
    }

    func leave() { state.withLock { $0.inFlight -= 1 } }

    func received() { state.withLock { $0.requests += 1 } }
    func countUnauthorized() { state.withLock { $0.unauthorized += 1 } }
    func countTooLarge() { state.withLock { $0.tooLarge += 1 } }
    func countInvalid() { state.withLock { $0.invalid += 1 } }
    func countOverloaded() { state.withLock { $0.overloaded += 1 } }

    /// Records a body whose events were offered to the engine.
    func delivered(accepted: Int, dropped: Int, skipped: Int) {
        state.withLock { state in
            state.eventsAccepted += accepted
            state.eventsDropped += dropped
            state.itemsSkipped += skipped
        }
    }

    func countAccepted() { state.withLock { $0.accepted += 1 } }
}

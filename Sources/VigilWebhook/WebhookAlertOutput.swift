import AsyncHTTPClient
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import Synchronization
import VigilCore

/// Sends every alert as JSON to an HTTP endpoint (a SOAR, a chat bridge, falcosidekick-style receivers).
///
/// ``write(_:)`` never waits for the network: the alert's JSON goes into a bounded queue, and one delivery
/// task posts the queue in order, retrying failures (connection errors and 5xx/429 answers) with growing
/// pauses. An alert is dropped, and counted (`vigil_webhook_dropped_total{reason}`), when the queue is full
/// or its retries run out; a 4xx answer other than 429 is not retried (the receiver refuses that alert).
/// ``finish()`` delivers what is queued, giving up after ``Configuration/drainTimeout``.
public final class WebhookAlertOutput: AlertOutput {
    /// Where and how alerts are sent.
    public struct Configuration: Sendable {
        /// The endpoint (`http://` or `https://`).
        public var url: String
        /// Extra headers, such as `Authorization: Bearer …`.
        public var headers: [(String, String)]
        /// The most alerts waiting to be sent.
        public var queueCapacity: Int
        /// Attempts per alert, the first included.
        public var maximumAttempts: Int
        /// The pause after the first failed attempt; it doubles with each further one.
        public var firstRetryDelay: Duration
        /// How long one attempt may take.
        public var requestTimeout: Duration
        /// How long ``WebhookAlertOutput/finish()`` keeps delivering what is queued.
        public var drainTimeout: Duration

        /// Creates a configuration.
        public init(
            url: String, headers: [(String, String)] = [], queueCapacity: Int = 10_000, maximumAttempts: Int = 5,
            firstRetryDelay: Duration = .milliseconds(200), requestTimeout: Duration = .seconds(5),
            drainTimeout: Duration = .seconds(10)
        ) {
            self.url = url
            self.headers = headers
            self.queueCapacity = max(1, queueCapacity)
            self.maximumAttempts = max(1, maximumAttempts)
            self.firstRetryDelay = firstRetryDelay
            self.requestTimeout = requestTimeout
            self.drainTimeout = drainTimeout
        }
    }

    /// What the output has done so far.
    public struct Statistics: Sendable, Equatable {
        /// Alerts the receiver accepted (2xx).
        public var delivered: UInt64 = 0
        /// Attempts that failed and were tried again.
        public var retries: UInt64 = 0
        /// Alerts dropped because the queue was full.
        public var droppedQueueFull: UInt64 = 0
        /// Alerts dropped after the last attempt failed, or refused by the receiver (4xx).
        public var droppedFailed: UInt64 = 0

        /// Creates statistics.
        public init(delivered: UInt64 = 0, retries: UInt64 = 0, droppedQueueFull: UInt64 = 0, droppedFailed: UInt64 = 0)
        {
            self.delivered = delivered
            self.retries = retries
            self.droppedQueueFull = droppedQueueFull
            self.droppedFailed = droppedFailed
        }
    }

    private struct State {
        var queue: [String] = []
        var head = 0
        var delivering = false
        /// Set by finish(): past it, failed alerts are not retried.
        var drainDeadline: ContinuousClock.Instant?
        var statistics = Statistics()
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let configuration: Configuration
    private let client: HTTPClient
    private let symbols: SymbolTable
    private let state = Mutex(State())
    private let encoder: Mutex<AlertEncoder>
    private let logger: Logger
    private let droppedFull = Counter(label: "vigil_webhook_dropped_total", dimensions: [("reason", "queue_full")])
    private let droppedFailed = Counter(label: "vigil_webhook_dropped_total", dimensions: [("reason", "failed")])
    private let deliveredCounter = Counter(label: "vigil_webhook_delivered_total")

    /// Creates the output; nothing is sent until the first alert.
    ///
    /// - Throws: ``WebhookError`` when the URL is not an http or https URL.
    public init(
        configuration: Configuration, symbols: SymbolTable, logger: Logger = Logger(label: "vigil.webhook")
    ) throws {
        guard configuration.url.hasPrefix("http://") || configuration.url.hasPrefix("https://") else {
            throw WebhookError("the webhook URL must start with http:// or https://: \(configuration.url)")
        }
        self.configuration = configuration
        self.symbols = symbols
        self.encoder = Mutex(AlertEncoder(symbols: symbols))
        self.logger = logger
        self.client = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    /// What the output has done so far.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Queues the alert; drops it, counted, when the queue is full.
    public func write(_ alert: Alert) async throws {
        let body = encoder.withLock { $0.line(for: alert) }
        // nil: dropped; true: queued, and no delivery task runs yet.
        let queued = state.withLock { state -> Bool? in
            guard state.queue.count - state.head < configuration.queueCapacity else {
                state.statistics.droppedQueueFull += 1
                return nil
            }
            state.queue.append(body)
            if state.delivering { return false }
            state.delivering = true
            return true
        }
        switch queued {
        case nil: droppedFull.increment()
        case true?: Task { await self.deliverQueued() }
        case false?: break
        }
    }

    /// Delivers what is queued (up to the drain timeout), then closes the HTTP client.
    public func finish() async throws {
        let deadline = ContinuousClock.now + configuration.drainTimeout
        let busy = state.withLock { state -> Bool in
            state.drainDeadline = deadline
            return state.delivering
        }
        if busy {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withCheckedContinuation { continuation in
                        let resume = self.state.withLock { state -> Bool in
                            if !state.delivering { return true }
                            state.waiter = continuation
                            return false
                        }
                        if resume { continuation.resume() }
                    }
                }
                group.addTask { try? await Task.sleep(for: self.configuration.drainTimeout) }
                await group.next()
                group.cancelAll()
            }
        }
        let left = state.withLock { state -> Int in
            let left = state.queue.count - state.head
            state.statistics.droppedFailed += UInt64(left)
            state.queue.removeAll()
            state.head = 0
            if let waiter = state.waiter {
                state.waiter = nil
                waiter.resume()
            }
            return left
        }
        if left > 0 {
            droppedFailed.increment(by: left)
            logger.warning("webhook: alerts left undelivered at shutdown", metadata: ["alerts": "\(left)"])
        }
        try await client.shutdown()
    }

    /// Posts queued alerts in order until the queue is empty.
    private func deliverQueued() async {
        while let body = nextBody() {
            let delivered = await deliver(body)
            state.withLock { state in
                if delivered { state.statistics.delivered += 1 } else { state.statistics.droppedFailed += 1 }
            }
            if delivered { deliveredCounter.increment() } else { droppedFailed.increment() }
        }
    }

    /// The next body to send, or nil (and delivery marked as stopped) when the queue is empty.
    private func nextBody() -> String? {
        state.withLock { state in
            guard state.head < state.queue.count else {
                state.queue.removeAll(keepingCapacity: true)
                state.head = 0
                state.delivering = false
                if let waiter = state.waiter {
                    state.waiter = nil
                    waiter.resume()
                }
                return nil
            }
            let body = state.queue[state.head]
            state.head += 1
            // Compact now and then, so a long-lived queue does not keep what it has sent.
            if state.head >= 1024 && state.head * 2 >= state.queue.count {
                state.queue.removeFirst(state.head)
                state.head = 0
            }
            return body
        }
    }

    /// Sends one alert, retrying what may succeed later; true when the receiver accepted it.
    private func deliver(_ body: String) async -> Bool {
        var delay = configuration.firstRetryDelay
        for attempt in 1...configuration.maximumAttempts {
            var request = HTTPClientRequest(url: configuration.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            for (name, value) in configuration.headers { request.headers.add(name: name, value: value) }
            request.body = .bytes(ByteBuffer(string: body))
            let outcome: String
            do {
                let response = try await client.execute(
                    request,
                    timeout: .nanoseconds(
                        Int64(configuration.requestTimeout.components.seconds) * 1_000_000_000
                            + configuration.requestTimeout.components.attoseconds / 1_000_000_000))
                let status = response.status.code
                if (200..<300).contains(status) { return true }
                outcome = "status \(status)"
                if status != 429 && status < 500 {
                    logger.warning("webhook: the receiver refused an alert", metadata: ["status": "\(status)"])
                    return false
                }
            } catch {
                outcome = "\(error)"
            }
            // Past finish()'s drain deadline, no more attempts: shutdown must not wait on a dead receiver.
            let deadline = state.withLock { $0.drainDeadline }
            guard attempt < configuration.maximumAttempts, deadline.map({ ContinuousClock.now < $0 }) ?? true else {
                logger.warning(
                    "webhook: giving up on an alert", metadata: ["attempts": "\(attempt)", "last": "\(outcome)"])
                return false
            }
            state.withLock { $0.statistics.retries += 1 }
            try? await Task.sleep(for: delay)
            delay *= 2
        }
        return false
    }
}

/// A webhook output that cannot be set up.
public struct WebhookError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let description: String

    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

import VigilHTTPIngest

/// What a ``KubernetesAuditWebhookSensor`` has done so far, and where it listens; readable while it runs.
public final class KubernetesAuditWebhookStatus: Sendable {
    /// What only the webhook counts, beside what every ingest endpoint does.
    struct Details: Sendable {
        /// Requests answered 200.
        var accepted = 0
        /// Items of accepted bodies that were not audit events.
        var itemsSkipped = 0
    }

    /// The bound port, requests in flight and counters.
    let core = IngestStatus(details: Details())

    /// Creates empty status.
    public init() {}

    /// The port the server listens on, waiting until it listens; nil once the sensor has stopped (or failed to
    /// start) without listening again.
    public func boundPort() async -> Int? { await core.boundPort() }

    /// HTTP requests received, whatever their outcome (a client that fails the TLS handshake sends none).
    public var requests: Int { core.counters.requests }
    /// Requests answered 200: their events were delivered (or some dropped, see ``eventsDropped``).
    public var accepted: Int { core.counters.details.accepted }
    /// Events the engine queued.
    public var eventsAccepted: Int { core.counters.eventsAccepted }
    /// Events the engine could not take (also counted by the engine, per sensor and kind).
    public var eventsDropped: Int { core.counters.eventsDropped }
    /// Items of accepted bodies that were not audit events.
    public var itemsSkipped: Int { core.counters.details.itemsSkipped }
    /// Requests refused with 401 (no or wrong bearer token).
    public var unauthorized: Int { core.counters.unauthorized }
    /// Requests refused with 413 (body over the limit).
    public var tooLarge: Int { core.counters.tooLarge }
    /// Requests refused with 400 (not JSON, or no audit event in it).
    public var invalid: Int { core.counters.badRequests }
    /// Requests refused with 503 (too many in flight, or the engine full), each counted once.
    public var overloaded: Int { core.counters.overloaded }
}

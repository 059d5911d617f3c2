import VigilCloudEvents
import VigilHTTPIngest

/// What a ``CloudPushSensor`` has done so far, and where it listens; readable while it runs.
public final class CloudPushStatus: Sendable {
    /// The bound port, requests in flight and counters; the skipped records are this sensor's own.
    let core = IngestStatus(details: CloudSkipCounts())

    /// Creates empty status.
    public init() {}

    /// The port the server listens on, waiting until it listens; nil once the sensor has stopped (or failed to
    /// start) without listening again.
    public func boundPort() async -> Int? { await core.boundPort() }

    /// Requests received on the endpoint, whatever their outcome.
    public var requests: Int { core.counters.requests }
    /// Events the engine queued.
    public var eventsAccepted: Int { core.counters.eventsAccepted }
    /// Events the engine could not take (also counted by the engine, per sensor and kind).
    public var eventsDropped: Int { core.counters.eventsDropped }
    /// Records in bodies that could not be used, by reason.
    public var skipped: CloudSkipCounts { core.counters.details }
    /// Requests refused with 401 (no or wrong credential).
    public var unauthorized: Int { core.counters.unauthorized }
    /// Requests refused with 413 (body over the limit).
    public var tooLarge: Int { core.counters.tooLarge }
    /// Requests refused with 400 (no usable record in the body).
    public var malformed: Int { core.counters.badRequests }
    /// Requests refused with 503 (too many in flight, or the engine full), each counted once.
    public var overloaded: Int { core.counters.overloaded }
}

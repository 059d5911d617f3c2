import Logging
import VigilCloudEvents
import VigilCore
import VigilHTTPIngest

/// Receives cloud records over HTTP: an EventBridge API destination, a log forwarder or a script POSTs them and
/// they become `cloud.api_call` events.
///
/// The server accepts `POST /v1/events` and `POST /`. A request must carry `Authorization: Bearer <token>` or
/// the configured API-key header (both compared in constant time); otherwise it gets 401 and nothing is
/// delivered. The body is anything ``CloudEventDecoder`` reads: one CloudTrail record, an EventBridge envelope
/// (`{"detail-type": "AWS API Call via CloudTrail", "detail": {...}}`), a `{"Records": [...]}` object, a JSON
/// array, JSON lines, GCP audit and Azure activity records, plain or gzip.
///
/// Answers:
/// - 202 `{"accepted": n, "skipped": m, "dropped": d}`: `n` events queued, `m` records unusable, `d` events
///   the engine had no room for (counted by the engine too).
/// - 400 `{"error": "...", "skipped": m}` when no record of the body could be used (not JSON, not a cloud
///   record, empty).
/// - 401 without a valid credential; 413 when the body exceeds ``CloudPushConfiguration/maximumBodySize``
///   (refused from `Content-Length` before reading, or as soon as the limit is passed).
/// - 503 with `Retry-After` when ``CloudPushConfiguration/maximumRequestsInFlight`` requests are already being
///   handled, or when the engine could take none of the body's events.
///
/// Events are delivered with ``EventSink/push(_:)``, which never waits: a live HTTP source must not stall
/// behind a busy engine. `run(into:)` returns when its task is cancelled, after a graceful shutdown: the
/// server stops accepting connections and finishes the requests in flight.
public struct CloudPushSensor: Sensor {
    /// The sensor's name in metrics and logs.
    public let name: String
    /// Where it listens and what it accepts.
    public let configuration: CloudPushConfiguration
    /// Its bound port and counters.
    public let status: CloudPushStatus
    private let logger: Logger

    /// Creates a sensor.
    ///
    /// - Throws: ``CloudPushError`` when no credential is configured or a value is out of range.
    public init(
        configuration: CloudPushConfiguration,
        name: String = "cloud-push",
        status: CloudPushStatus = CloudPushStatus(),
        logger: Logger = Logger(label: "vigil.cloud-push")
    ) throws(CloudPushError) {
        try configuration.validate()
        self.name = name
        self.configuration = configuration
        self.status = status
        self.logger = logger
    }

    /// Serves until the task is cancelled, then shuts the server down gracefully and returns.
    ///
    /// - Throws: ``CloudPushError`` when the server cannot bind its address or fails.
    public func run(into sink: EventSink) async throws {
        let handler = CloudPushHandler(configuration: configuration, sink: sink, status: status, logger: logger)
        do {
            try await serveUntilCancelled(
                paths: ["/v1/events", "/"], host: configuration.host, port: configuration.port, status: status.core,
                logger: logger, listening: "cloud push endpoint listening", respond: handler.respond)
        } catch {
            throw CloudPushError(code: .serverFailed, message: error.description)
        }
    }
}

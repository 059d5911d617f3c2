import Hummingbird
import Logging
import VigilAuditLog
import VigilCore
import VigilHTTPIngest

/// Answers one webhook request: authenticate, bound, read (all shared with the other ingest endpoints), then
/// parse and deliver.
struct KubernetesAuditWebhookHandler: Sendable {
    let sink: EventSink
    let endpoint: IngestEndpoint<KubernetesAuditWebhookStatus.Details>
    let logger: Logger
    private let bearerToken: BearerToken?

    init(
        configuration: KubernetesAuditWebhookConfiguration, sink: EventSink, status: KubernetesAuditWebhookStatus,
        logger: Logger
    ) {
        self.sink = sink
        self.endpoint = IngestEndpoint(status: status.core, limits: configuration.ingestLimits)
        self.logger = logger
        self.bearerToken = configuration.bearerToken.map(BearerToken.init)
    }

    /// The answer to one request on the endpoint's routes.
    func respond(to request: Request) async -> Response {
        // A client certificate, when required, was checked by the TLS handshake before any request.
        let authorized = bearerToken?.isPresent(in: request.headers) ?? true
        return await endpoint.respond(
            to: request, authorized: authorized, unauthorizedMessage: "missing or wrong bearer token",
            deliver: deliver)
    }

    /// Parses the body (an `EventList`, or one `Event`) and pushes its events.
    ///
    /// Delivery uses ``EventSink/push(_:)``, which never waits: the API server's webhook backend times out and
    /// retries, so a handler must not stall behind a busy engine. What the engine cannot take is dropped and
    /// counted by the engine; when nothing of the body was taken the answer is 503, so that the API server sends
    /// the batch again (with backoff) without duplicating anything.
    private func deliver(_ bytes: [UInt8]) -> Response {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, maximumDepth: 128)
        } catch {
            endpoint.status.count { $0.badRequests += 1 }
            return IngestResponse.error(.badRequest, error.description)
        }
        var parser = KubernetesAuditParser(symbols: sink.symbols)
        let records = parser.records(in: value)
        let skipped = parser.statistics.totalSkipped
        if records.isEmpty && skipped > 0 {
            endpoint.status.count { $0.badRequests += 1 }
            logger.debug("refused webhook body", metadata: ["skipped": "\(parser.statistics.skipped)"])
            return IngestResponse.error(.badRequest, "the body holds no audit.k8s.io Event or EventList")
        }
        var batch = EventBatch(capacity: records.count)
        for record in records { batch.append(record.event(symbols: sink.symbols)) }
        let result = sink.push(&batch)
        let delivered = result.accepted > 0 || result.dropped == 0
        endpoint.status.count { counters in
            counters.eventsAccepted += result.accepted
            counters.eventsDropped += result.dropped
            counters.details.itemsSkipped += skipped
            if delivered { counters.details.accepted += 1 }
        }
        guard delivered else { return endpoint.overloaded() }
        return IngestResponse.delivered(.ok, accepted: result.accepted, skipped: skipped, dropped: result.dropped)
    }
}

import HTTPTypes
import Hummingbird
import Logging
import VigilCloudEvents
import VigilCore
import VigilHTTPIngest

/// Answers one push request: authenticate, bound, read (all shared with the other ingest endpoints), then decode
/// and deliver.
struct CloudPushHandler: Sendable {
    let configuration: CloudPushConfiguration
    let sink: EventSink
    let endpoint: IngestEndpoint<CloudSkipCounts>
    let logger: Logger
    private let bearerToken: BearerToken?
    private let apiKeyName: HTTPField.Name?
    private let apiKeyValue: [UInt8]

    init(configuration: CloudPushConfiguration, sink: EventSink, status: CloudPushStatus, logger: Logger) {
        self.configuration = configuration
        self.sink = sink
        self.endpoint = IngestEndpoint(status: status.core, limits: configuration.ingestLimits)
        self.logger = logger
        self.bearerToken = configuration.bearerToken.map(BearerToken.init)
        self.apiKeyName = configuration.apiKey.flatMap { HTTPField.Name($0.header) }
        self.apiKeyValue = Array((configuration.apiKey?.value ?? "").utf8)
    }

    /// The answer to one request on the endpoint's routes.
    func respond(to request: Request) async -> Response {
        await endpoint.respond(
            to: request, authorized: isAuthorized(request.headers), unauthorizedMessage: "missing or wrong credential",
            deliver: deliver)
    }

    /// Decodes the body and pushes its events.
    ///
    /// Delivery uses ``EventSink/push(_:)``, which never waits: an HTTP handler must not stall behind a busy
    /// engine (the sender times out and retries, and handlers pile up). What the engine cannot take is dropped and
    /// counted by the engine; when nothing of the body was taken the answer is 503, so that a sender that retries
    /// (EventBridge does) delivers it again without duplicating anything.
    private func deliver(_ bytes: [UInt8]) -> Response {
        var decoder: CloudEventDecoder
        do {
            decoder = try CloudEventDecoder(
                bytes: bytes, symbols: sink.symbols, path: "request", limits: configuration.limits)
        } catch {
            endpoint.status.count { $0.badRequests += 1 }
            return IngestResponse.error(.badRequest, error.description)
        }
        var batch = EventBatch(capacity: 64)
        var accepted = 0
        var dropped = 0
        var more = true
        while more {
            more = decoder.fill(&batch, upTo: 1024)
            let result = sink.push(&batch)
            accepted += result.accepted
            dropped += result.dropped
        }
        let skipped = decoder.skipped
        let malformed = decoder.eventCount == 0
        endpoint.status.count { counters in
            counters.eventsAccepted += accepted
            counters.eventsDropped += dropped
            counters.details.merge(skipped)
            if malformed { counters.badRequests += 1 }
        }
        if malformed {
            let first = skipped.messages.first ?? "the body holds no record"
            logger.debug("refused push body", metadata: ["reason": "\(first)"])
            return IngestResponse.error(
                .badRequest, "no CloudTrail, EventBridge, GCP or Azure record could be read: \(first)",
                skipped: skipped.total)
        }
        if accepted == 0 && dropped > 0 { return endpoint.overloaded() }
        return IngestResponse.delivered(.accepted, accepted: accepted, skipped: skipped.total, dropped: dropped)
    }

    /// Whether the request carries the bearer token or the API-key header (each compared in constant time).
    func isAuthorized(_ headers: HTTPFields) -> Bool {
        var authorized = bearerToken?.isPresent(in: headers) ?? false
        if let apiKeyName {
            for value in headers[values: apiKeyName] where constantTimeEqual(Array(value.utf8)[...], apiKeyValue) {
                authorized = true
            }
        }
        return authorized
    }
}

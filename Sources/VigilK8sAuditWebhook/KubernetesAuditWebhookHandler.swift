import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VigilAuditLog
import VigilCore

/// Answers one webhook request: authenticate, bound, read, parse, deliver.
struct KubernetesAuditWebhookHandler: Sendable {
    let configuration: KubernetesAuditWebhookConfiguration
    let sink: EventSink
    let status: KubernetesAuditWebhookStatus
    let logger: Logger
    private let bearerToken: [UInt8]?

    init(
        configuration: KubernetesAuditWebhookConfiguration, sink: EventSink, status: KubernetesAuditWebhookStatus,
        logger: Logger
    ) {
        self.configuration = configuration
        self.sink = sink
        self.status = status
        self.logger = logger
        self.bearerToken = configuration.bearerToken.map { Array($0.utf8) }
    }

    func respond(to request: Request) async -> Response {
        status.received()
        // A client certificate, when required, was checked by the TLS handshake before any request.
        if let bearerToken, !Self.hasBearerToken(bearerToken, in: request.headers) {
            status.countUnauthorized()
            var response = Self.json(.unauthorized, error: "missing or wrong bearer token")
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        // Refuse an announced oversized body before reading any of it.
        let limit = configuration.maximumBodySize
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            status.countTooLarge()
            return Self.json(.contentTooLarge, error: "the body has \(length) bytes, more than the limit of \(limit)")
        }
        guard status.enter(limit: configuration.maximumRequestsInFlight) else { return overloaded() }
        defer { status.leave() }

        var bytes: [UInt8] = []
        do {
            for try await buffer in request.body {
                guard bytes.count + buffer.readableBytes <= limit else {
                    status.countTooLarge()
                    return Self.json(.contentTooLarge, error: "the body is larger than the limit of \(limit) bytes")
                }
                bytes.append(contentsOf: buffer.readableBytesView)
            }
        } catch {
            // The client went away or sent a broken stream; nobody reads this answer.
            return Self.json(.badRequest, error: "the request body could not be read")
        }
        return deliver(bytes)
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
            status.countInvalid()
            return Self.json(.badRequest, error: error.description)
        }
        var parser = KubernetesAuditParser(symbols: sink.symbols)
        let records = parser.records(in: value)
        let skipped = parser.statistics.totalSkipped
        if records.isEmpty && skipped > 0 {
            status.countInvalid()
            logger.debug("refused webhook body", metadata: ["skipped": "\(parser.statistics.skipped)"])
            return Self.json(.badRequest, error: "the body holds no audit.k8s.io Event or EventList")
        }
        var batch = EventBatch(capacity: records.count)
        for record in records { batch.append(record.event(symbols: sink.symbols)) }
        let result = sink.push(&batch)
        status.delivered(accepted: result.accepted, dropped: result.dropped, skipped: skipped)
        if result.accepted == 0 && result.dropped > 0 { return overloaded() }
        status.countAccepted()
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        writer.key("accepted")
        writer.int(Int64(result.accepted))
        writer.key("skipped")
        writer.int(Int64(skipped))
        writer.key("dropped")
        writer.int(Int64(result.dropped))
        writer.endObject()
        return Self.response(.ok, writer.bytes)
    }

    private func overloaded() -> Response {
        status.countOverloaded()
        var response = Self.json(.serviceUnavailable, error: "the endpoint is busy; retry later")
        response.headers[.retryAfter] = String(configuration.retryAfterSeconds)
        return response
    }

    // MARK: - Authentication

    /// Whether an `Authorization` header carries `Bearer <token>` (the scheme in any case).
    static func hasBearerToken(_ token: [UInt8], in headers: HTTPFields) -> Bool {
        var found = false
        for value in headers[values: .authorization] {
            let utf8 = Array(value.utf8)
            guard utf8.count > 7, isBearerScheme(utf8) else { continue }
            var start = 7
            while start < utf8.count, utf8[start] == 0x20 { start += 1 }
            if constantTimeEqual(utf8[start...], token) { found = true }
        }
        return found
    }

    /// Whether the header starts with `Bearer ` (the scheme is case-insensitive).
    private static func isBearerScheme(_ utf8: [UInt8]) -> Bool {
        let scheme = Array("bearer ".utf8)
        for index in scheme.indices where utf8[index] | 0x20 != scheme[index] { return false }
        return true
    }

    /// Compares in time that depends only on the lengths, never on where the bytes differ.
    static func constantTimeEqual(_ given: ArraySlice<UInt8>, _ expected: [UInt8]) -> Bool {
        var difference = UInt(bitPattern: given.count ^ expected.count)
        let base = given.startIndex
        for index in expected.indices {
            let byte = index < given.count ? given[base + index] : 0
            difference |= UInt(byte ^ expected[index])
        }
        return difference == 0
    }

    // MARK: - Responses

    static func json(_ status: HTTPResponse.Status, error message: String) -> Response {
        var writer = JSONWriter(capacity: 64 + message.utf8.count)
        writer.beginObject()
        writer.key("error")
        writer.string(message)
        writer.endObject()
        return response(status, writer.bytes)
    }

    static func response(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VigilCloudEvents
import VigilCore

/// Answers one push request: authenticate, bound, read, decode, deliver.
struct CloudPushHandler: Sendable {
    let configuration: CloudPushConfiguration
    let sink: EventSink
    let status: CloudPushStatus
    let logger: Logger
    private let bearerToken: [UInt8]?
    private let apiKeyName: HTTPField.Name?
    private let apiKeyValue: [UInt8]

    init(configuration: CloudPushConfiguration, sink: EventSink, status: CloudPushStatus, logger: Logger) {
        self.configuration = configuration
        self.sink = sink
        self.status = status
        self.logger = logger
        self.bearerToken = configuration.bearerToken.map { Array($0.utf8) }
        self.apiKeyName = configuration.apiKey.flatMap { HTTPField.Name($0.header) }
        self.apiKeyValue = Array((configuration.apiKey?.value ?? "").utf8)
    }

    func respond(to request: Request) async -> Response {
        status.received()
        guard isAuthorized(request.headers) else {
            status.countUnauthorized()
            var response = Self.json(.unauthorized, error: "missing or wrong credential")
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

    /// Decodes the body and pushes its events.
    ///
    /// Delivery uses ``EventSink/push(_:)``, which never waits: an HTTP handler must not stall behind a busy
    /// engine (the sender times out and retries, and handlers pile up). What the engine cannot take is
    /// dropped and counted by the engine; when nothing of the body was taken the answer is 503, so that a
    /// sender that retries (EventBridge does) delivers it again without duplicating anything.
    private func deliver(_ bytes: [UInt8]) -> Response {
        var decoder: CloudEventDecoder
        do {
            decoder = try CloudEventDecoder(
                bytes: bytes, symbols: sink.symbols, path: "request", limits: configuration.limits)
        } catch {
            status.delivered(accepted: 0, dropped: 0, skipped: CloudSkipCounts(), malformed: true)
            return Self.json(.badRequest, error: error.description)
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
        status.delivered(accepted: accepted, dropped: dropped, skipped: skipped, malformed: malformed)
        if malformed {
            let first = skipped.messages.first ?? "the body holds no record"
            logger.debug("refused push body", metadata: ["reason": "\(first)"])
            return Self.json(
                .badRequest,
                error: "no CloudTrail, EventBridge, GCP or Azure record could be read: \(first)",
                skipped: skipped.total)
        }
        if accepted == 0 && dropped > 0 { return overloaded() }
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        writer.key("accepted")
        writer.int(Int64(accepted))
        writer.key("skipped")
        writer.int(Int64(skipped.total))
        writer.key("dropped")
        writer.int(Int64(dropped))
        writer.endObject()
        return Self.response(.accepted, writer.bytes)
    }

    private func overloaded() -> Response {
        status.countOverloaded()
        var response = Self.json(.serviceUnavailable, error: "the endpoint is busy; retry later")
        response.headers[.retryAfter] = String(configuration.retryAfterSeconds)
        return response
    }

    // MARK: - Authentication

    func isAuthorized(_ headers: HTTPFields) -> Bool {
        var authorized = false
        if let bearerToken {
            for value in headers[values: .authorization] {
                let utf8 = Array(value.utf8)
                guard utf8.count > 7, Self.isBearerScheme(utf8) else { continue }
                var start = 7
                while start < utf8.count, utf8[start] == 0x20 { start += 1 }
                if Self.constantTimeEqual(utf8[start...], bearerToken) { authorized = true }
            }
        }
        if let apiKeyName {
            for value in headers[values: apiKeyName] where Self.constantTimeEqual(Array(value.utf8)[...], apiKeyValue) {
                authorized = true
            }
        }
        return authorized
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

    static func json(_ status: HTTPResponse.Status, error message: String, skipped: Int? = nil) -> Response {
        var writer = JSONWriter(capacity: 64 + message.utf8.count)
        writer.beginObject()
        writer.key("error")
        writer.string(message)
        if let skipped {
            writer.key("skipped")
            writer.int(Int64(skipped))
        }
        writer.endObject()
        return response(status, writer.bytes)
    }

    static func response(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

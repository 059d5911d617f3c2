import HTTPTypes
import Hummingbird
import NIOCore
import VigilCore

/// What every Vigil HTTP ingest endpoint does with a request before its body is the sensor's business: count it,
/// refuse it without a credential (401), over the size limit (413) or when too many are in flight (503), and
/// read its body.
package struct IngestEndpoint<Details: Sendable>: Sendable {
    /// The counters and bound port the answers update.
    package let status: IngestStatus<Details>
    /// The size and concurrency limits.
    package let limits: IngestLimits

    /// Creates an endpoint that counts into `status` and enforces `limits`.
    package init(status: IngestStatus<Details>, limits: IngestLimits) {
        self.status = status
        self.limits = limits
    }

    /// Answers a request: 401 with `unauthorizedMessage` unless `authorized`; 413 when the body exceeds the limit
    /// (refused from `Content-Length` before reading any of it, or as soon as the streamed body passes it); 503
    /// when the in-flight limit is reached; 400 when the body cannot be read. Otherwise `deliver` answers for the
    /// whole body, while the request still counts as in flight.
    package func respond(
        to request: Request, authorized: Bool, unauthorizedMessage: String, deliver: ([UInt8]) -> Response
    ) async -> Response {
        status.count { $0.requests += 1 }
        guard authorized else {
            status.count { $0.unauthorized += 1 }
            var response = IngestResponse.error(.unauthorized, unauthorizedMessage)
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        let limit = limits.maximumBodySize
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            status.count { $0.tooLarge += 1 }
            return IngestResponse.error(
                .contentTooLarge, "the body has \(length) bytes, more than the limit of \(limit)")
        }
        guard status.enter(limit: limits.maximumRequestsInFlight) else { return overloaded() }
        defer { status.leave() }

        var bytes: [UInt8] = []
        do {
            for try await buffer in request.body {
                guard bytes.count + buffer.readableBytes <= limit else {
                    status.count { $0.tooLarge += 1 }
                    return IngestResponse.error(.contentTooLarge, "the body is larger than the limit of \(limit) bytes")
                }
                bytes.append(contentsOf: buffer.readableBytesView)
            }
        } catch {
            // The client went away or sent a broken stream; nobody reads this answer.
            return IngestResponse.error(.badRequest, "the request body could not be read")
        }
        return deliver(bytes)
    }

    /// A 503 answer with `Retry-After`, counted once as overloaded: for a request over the in-flight limit, or a
    /// body of which the engine could take nothing.
    package func overloaded() -> Response {
        status.count { $0.overloaded += 1 }
        var response = IngestResponse.error(.serviceUnavailable, "the endpoint is busy; retry later")
        response.headers[.retryAfter] = String(limits.retryAfterSeconds)
        return response
    }
}

/// The JSON answers of the HTTP ingest endpoints.
package enum IngestResponse {
    /// `{"error": message}`, with `"skipped": n` when `skipped` is given.
    package static func error(_ status: HTTPResponse.Status, _ message: String, skipped: Int? = nil) -> Response {
        var writer = JSONWriter(capacity: 64 + message.utf8.count)
        writer.beginObject()
        writer.key("error")
        writer.string(message)
        if let skipped {
            writer.key("skipped")
            writer.int(Int64(skipped))
        }
        writer.endObject()
        return json(status, writer.bytes)
    }

    /// `{"accepted": n, "skipped": m, "dropped": d}`: what became of a delivered body.
    package static func delivered(
        _ status: HTTPResponse.Status, accepted: Int, skipped: Int, dropped: Int
    ) -> Response {
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        writer.key("accepted")
        writer.int(Int64(accepted))
        writer.key("skipped")
        writer.int(Int64(skipped))
        writer.key("dropped")
        writer.int(Int64(dropped))
        writer.endObject()
        return json(status, writer.bytes)
    }

    /// A response with `bytes` as its `application/json` body.
    package static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

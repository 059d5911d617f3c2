import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import VigilCore

/// An HTTP client for request handlers that records every URL it fetches as an `http.fetch` event: method,
/// host, port, path, query, status and duration.
///
/// A server-side request forgery shows up here as the application fetching what its client named; with the
/// same process key as the kernel's view of the connection, the correlator ties the fetch, the connection
/// and the request that caused them into one story.
public struct MonitoredHTTPClient<Sink: ApplicationRecordSink>: Sendable {
    /// The client that does the work.
    public let client: HTTPClient
    /// Where records go.
    public let sink: Sink

    /// Wraps `client` (the caller keeps owning it and shuts it down).
    public init(client: HTTPClient = .shared, sink: Sink) {
        self.client = client
        self.sink = sink
    }

    /// Executes `request`, recording it; a failed request is recorded with status 0 and its error rethrown.
    public func execute(_ request: HTTPClientRequest, timeout: TimeAmount) async throws -> HTTPClientResponse {
        let time = wallClockNanoseconds()
        let start = ContinuousClock.now
        let url = ApplicationURL(request.url)
        func record(status: UInt16) {
            sink.record(
                ApplicationRecord(
                    direction: .fetched, time: time, method: request.method.rawValue, path: url.path,
                    parameters: url.query, host: url.host, status: status,
                    durationMicroseconds: microseconds(since: start), peer: url.literalAddress))
        }
        do {
            let response = try await client.execute(request, timeout: timeout)
            record(status: UInt16(clamping: response.status.code))
            return response
        } catch {
            record(status: 0)
            throw error
        }
    }

    /// Fetches `url` with GET and returns the status and at most `maximumBytes` of the body.
    public func get(
        _ url: String, maximumBytes: Int = 1 << 20, timeout: TimeAmount = .seconds(10)
    ) async throws -> (
        status: UInt, body: String
    ) {
        let response = try await execute(HTTPClientRequest(url: url), timeout: timeout)
        let body = try await response.body.collect(upTo: maximumBytes)
        return (response.status.code, String(buffer: body))
    }
}

/// The parts of a URL an application event records, split without Foundation.
struct ApplicationURL {
    var scheme = ""
    var host = ""
    var port: UInt16 = 0
    var path = "/"
    var query = ""

    init(_ text: String) {
        var rest = Substring(text)
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            scheme = rest[..<colon].lowercased()
            rest = rest[rest.index(colon, offsetBy: 3)...]
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]
        // User information never goes into an event: it may be a password.
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        host = Self.hostWithoutPort(String(authority))
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]"),
            let value = UInt16(authority[authority.index(after: colon)...])
        {
            port = value
        } else {
            port = scheme == "https" ? 443 : 80
        }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        if let question = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: question)...])
            rest = rest[..<question]
        }
        path = rest.isEmpty ? "/" : String(rest)
    }

    /// The server's address when the host is a literal address, else none (the name is resolved later).
    var literalAddress: VigilCore.SocketAddress {
        guard let address = IPAddress(host) else { return .none }
        return VigilCore.SocketAddress(address: address, port: port)
    }

    /// `host` of `host:port` or `[v6]:port`, lowercased.
    static func hostWithoutPort(_ authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[authority.index(after: authority.startIndex)..<close]).lowercased()
        }
        if let colon = authority.firstIndex(of: ":") { return authority[..<colon].lowercased() }
        return authority.lowercased()
    }
}

import Foundation
import Synchronization
import VigilCore

#if canImport(Glibc)
    import Glibc
#endif

/// A response read by ``RawHTTPClient``.
public struct RawResponse: Sendable {
    /// The status code.
    public var status: Int
    /// The headers, by lowercased name.
    public var headers: [String: String]
    /// The body as text.
    public var body: String
}

/// Why the raw client failed.
public struct RawHTTPError: Error, CustomStringConvertible {
    /// The socket call that failed.
    public var call: String
    /// Its errno.
    public var errno: Int32
    public var description: String { "\(call) failed: errno \(errno)" }
}

/// A minimal HTTP/1.1 client for tests of Vigil's HTTP endpoints: a blocking socket to 127.0.0.1 only (tests
/// never send traffic elsewhere), run on its own thread so that the cooperative pool is never blocked.
public enum RawHTTPClient {
    /// Sends a POST with `Connection: close` and `Content-Length` (`contentLength`, else the body's size) and,
    /// unless `sendBody` is false, the body; then reads the response.
    public static func post(
        port: Int, path: String = "/v1/events", headers: [(String, String)] = [], body: [UInt8],
        contentLength: Int? = nil, sendBody: Bool = true
    ) async throws -> RawResponse {
        let head = postHead(port: port, path: path, headers: headers, contentLength: contentLength ?? body.count)
        return try await exchange(port: port, request: head + (sendBody ? body : []))
    }

    /// Sends a request whose body is already chunk-encoded (`Transfer-Encoding: chunked`).
    public static func postChunked(
        port: Int, path: String = "/v1/events", headers: [(String, String)] = [], chunkedBody: [UInt8]
    ) async throws -> RawResponse {
        let head = head(port: port, path: path, headers: headers, framing: "Transfer-Encoding: chunked")
        return try await exchange(port: port, request: head + chunkedBody)
    }

    /// The head of a POST with `Connection: close` and `Content-Length: contentLength`, to send on a
    /// ``RawHTTPConnection`` ahead of its body.
    public static func postHead(
        port: Int, path: String = "/v1/events", headers: [(String, String)] = [], contentLength: Int
    ) -> [UInt8] {
        head(port: port, path: path, headers: headers, framing: "Content-Length: \(contentLength)")
    }

    /// A POST head with `Connection: close`, a JSON content type, `framing` (how the body's end is found) and
    /// `headers`.
    private static func head(port: Int, path: String, headers: [(String, String)], framing: String) -> [UInt8] {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        head += "Content-Type: application/json\r\n\(framing)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return Array(head.utf8)
    }

    /// Whether a TCP connection to 127.0.0.1:`port` is accepted.
    public static func accepts(port: Int) async -> Bool {
        (try? await onThread { () throws -> Bool in
            let fd = try connectLoopback(port: port)
            close(fd)
            return true
        }) ?? false
    }

    private static func exchange(port: Int, request: [UInt8]) async throws -> RawResponse {
        let connection = try await RawHTTPConnection(port: port)
        try await connection.write(request)
        return try await connection.response()
    }

    /// Runs `body` on a thread of its own, so that a blocking socket call never blocks the cooperative pool.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.start()
        }
    }

    static func connectLoopback(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError(call: "socket", errno: errno) }
        // A safety net against a hung server, not a timing assertion.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let error = errno
            close(fd)
            throw RawHTTPError(call: "connect", errno: error)
        }
        return fd
    }

    /// Whether the response holds its head and as many body bytes as `Content-Length` says.
    static func isComplete(_ bytes: [UInt8]) -> Bool {
        guard let parsed = try? parse(bytes), let length = parsed.headers["content-length"].flatMap({ Int($0) })
        else { return false }
        return parsed.body.utf8.count >= length
    }

    static func parse(_ bytes: [UInt8]) throws -> RawResponse {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw RawHTTPError(call: "parse", errno: 0) }
        let lines = text[..<split.lowerBound].split(separator: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ")[1]) else {
            throw RawHTTPError(call: "parse", errno: 0)
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                .trimmingCharacters(in: .whitespaces)
        }
        return RawResponse(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}

/// A connection to 127.0.0.1 on which a test sends a request in parts: the head now and the body later, for
/// instance, to keep a request in flight on the server meanwhile. It is closed when released.
public final class RawHTTPConnection: Sendable {
    private let fd: Int32

    /// Connects to 127.0.0.1:`port`.
    public init(port: Int) async throws {
        fd = try await RawHTTPClient.onThread { try RawHTTPClient.connectLoopback(port: port) }
    }

    deinit { close(fd) }

    /// Writes `bytes`; stops early, without an error, when the server no longer reads (it may answer 413 and close
    /// before the whole request is sent).
    public func write(_ bytes: [UInt8]) async throws {
        let fd = self.fd
        try await RawHTTPClient.onThread {
            var sent = 0
            while sent < bytes.count {
                let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if count <= 0 { break }
                sent += count
            }
        }
    }

    /// Reads the response: its head and as many body bytes as `Content-Length` says, or all until the server
    /// closes the connection.
    public func response() async throws -> RawResponse {
        let fd = self.fd
        let bytes = try await RawHTTPClient.onThread { () throws -> [UInt8] in
            var response: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count < 0 {
                    if response.isEmpty { throw RawHTTPError(call: "recv", errno: errno) }
                    break
                }
                if count == 0 { break }
                response += buffer[..<count]
                if RawHTTPClient.isComplete(response) { break }
            }
            return response
        }
        return try RawHTTPClient.parse(bytes)
    }
}

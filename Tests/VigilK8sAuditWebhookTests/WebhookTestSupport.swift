import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import Testing
import VigilCore
import VigilK8sAuditWebhook
import VigilTestKit

/// Stops a test that lacks a tool: a failure when CI is "true", a skip elsewhere.
func unavailable(_ reason: String) throws -> Never {
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        Issue.record("\(reason) (CI=true, so this test must run)")
        throw CancellationError()
    }
    try Test.cancel("\(reason); skipped outside CI")
}

/// Paths of the shared third-party test data (`../shared/data/` from the project root).
enum TestData {
    static let root: String = {
        // VIGIL_TEST_DATA overrides, for builds whose sources are reached through a symlink.
        if let override = ProcessInfo.processInfo.environment["VIGIL_TEST_DATA"] { return override }
        // #filePath is …/main/Tests/VigilK8sAuditWebhookTests/WebhookTestSupport.swift; the data is …/shared/data.
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)
        return parts.joined(separator: "/") + "/shared/data"
    }()

    /// The text of a file under the data directory.
    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: root + "/" + relative, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

// MARK: - Certificates

extension TestCertificates {
    /// The shared certificates; skips (or fails under CI) without `openssl`.
    static func shared() throws -> TestCertificates {
        do {
            return try TestCertificates.forThisRun()
        } catch let error as TestCertificates.Unavailable {
            try unavailable(error.description)
        }
    }

    /// A webhook configuration on 127.0.0.1 with a port the system picks, serving this PKI's server certificate.
    func configuration(
        _ authentication: [KubernetesAuditWebhookConfiguration.Authentication],
        maximumBodySize: Int = 16 << 20
    ) -> KubernetesAuditWebhookConfiguration {
        KubernetesAuditWebhookConfiguration(
            host: "127.0.0.1", port: 0, certificateChainPath: serverChainPath, privateKeyPath: serverKeyPath,
            authentication: authentication, maximumBodySize: maximumBodySize)
    }
}

// MARK: - HTTPS client

/// A response read by ``HTTPSClient``.
struct HTTPSResponse: Sendable {
    var status: Int
    /// The headers, by lowercased name.
    var headers: [String: String]
    var body: String

    struct Malformed: Error {}

    /// Parses a whole HTTP/1.1 response; nil while the head or `Content-Length` bytes of body are missing.
    init?(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<split.lowerBound].split(separator: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                .trimmingCharacters(in: .whitespaces)
        }
        let body = String(text[split.upperBound...])
        if let length = headers["content-length"].flatMap({ Int($0) }), body.utf8.count < length { return nil }
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A minimal HTTPS/1.1 client on SwiftNIO for the webhook tests: it connects to 127.0.0.1 only, verifies the
/// server certificate against the test CA (including the IP address 127.0.0.1), optionally presents a client
/// certificate, sends raw request bytes and reads one response.
enum HTTPSClient {
    /// Sends a POST with `Connection: close` and `Content-Length` (`contentLength`, else the body's size) and,
    /// unless `sendBody` is false, the body.
    static func post(
        port: Int, path: String = "/audit", headers: [(String, String)] = [], body: [UInt8],
        contentLength: Int? = nil, sendBody: Bool = true, pki: TestCertificates,
        clientCertificate: (chain: String, key: String)? = nil
    ) async throws -> HTTPSResponse {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(contentLength ?? body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return try await exchange(
            port: port, request: Array(head.utf8) + (sendBody ? body : []), pki: pki,
            clientCertificate: clientCertificate)
    }

    /// Sends a request whose body is already chunk-encoded (`Transfer-Encoding: chunked`).
    static func postChunked(
        port: Int, headers: [(String, String)] = [], chunkedBody: [UInt8], pki: TestCertificates
    ) async throws -> HTTPSResponse {
        var head = "POST /audit HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        head += "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return try await exchange(port: port, request: Array(head.utf8) + chunkedBody, pki: pki)
    }

    static func exchange(
        port: Int, request: [UInt8], pki: TestCertificates, clientCertificate: (chain: String, key: String)? = nil
    ) async throws -> HTTPSResponse {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki.caPath))
        if let clientCertificate {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(clientCertificate.chain).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: clientCertificate.key, format: .pem))
        }
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    // No host name: NIOSSL then checks the certificate against the peer's IP address.
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: nil))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let received = try await channel.executeThenClose { inbound, outbound in
            var received: [UInt8] = []
            try await outbound.write(ByteBuffer(bytes: request))
            do {
                for try await buffer in inbound {
                    received += buffer.readableBytesView
                    if HTTPSResponse(received) != nil { break }
                }
            } catch NIOSSLError.uncleanShutdown where HTTPSResponse(received) != nil {
                // The server closed after a complete answer without a TLS close_notify: the answer stands.
            }
            return received
        }
        guard let response = HTTPSResponse(received) else { throw HTTPSResponse.Malformed() }
        return response
    }
}

// MARK: - Engine

/// An output whose writes wait until it is opened: it stalls the engine's alert stage, so that findings, then
/// shards, then shard queues back up and sensors' pushes drop.
final class GatedOutput: AlertOutput {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func write(_ alert: Alert) async throws {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let wait = state.withLock { state in
                if !state.open { state.waiters.append(continuation) }
                return !state.open
            }
            if !wait { continuation.resume() }
        }
    }

    func finish() async throws {}

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// What one engine run with a webhook sensor saw.
struct WebhookRun {
    let events: [Event]
    let symbols: SymbolTable
    let statistics: EngineStatistics
    let status: KubernetesAuditWebhookStatus
    let port: Int

    func kubernetes(_ index: Int) -> KubernetesFields? {
        if case .kubernetes(let fields) = events[index].fields { return fields }
        return nil
    }

    func text(_ symbol: Symbol) -> String { symbols.string(symbol) }
}

/// Runs an engine with a webhook sensor, runs `body` with the port, then cancels the engine and waits for it to
/// drain, so that every delivered event has been seen.
func withWebhookEngine(
    _ configuration: KubernetesAuditWebhookConfiguration,
    engine engineConfiguration: EngineConfiguration = EngineConfiguration(shards: 1),
    log: EventLog = EventLog(),
    findingPerEvent: Bool = false,
    outputs: [any AlertOutput] = [],
    _ body: (Int) async throws -> Void
) async throws -> WebhookRun {
    let symbols = SymbolTable()
    let sensor = try KubernetesAuditWebhookSensor(configuration: configuration)
    #expect(sensor.name == "k8s-audit-webhook")
    let engine = Engine(
        configuration: engineConfiguration, symbols: symbols, sensors: [sensor],
        detectors: log.factory(findingPerEvent: findingPerEvent), outputs: outputs)
    let port = try await withRunningEngine(engine, ready: { await sensor.status.boundPort() }, body)
    return WebhookRun(
        events: log.events, symbols: symbols, statistics: engine.statistics, status: sensor.status, port: port)
}

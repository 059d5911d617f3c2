import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import VigilCore
import VigilHTTPIngest

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Receives the Kubernetes API server's audit events over HTTPS, as its webhook backend
/// (`--audit-webhook-config-file`) sends them, and turns them into `k8s.request` events.
///
/// The server accepts `POST /` and `POST /audit` with an `audit.k8s.io/v1` or `v1beta1` `EventList` (what the
/// API server sends) or a single `Event`, parsed by `KubernetesAuditParser`. It speaks TLS only, with the
/// configured server certificate; every configured authentication method must pass: a bearer token (else 401
/// and nothing is delivered) and a client certificate signed by the configured CA (else the TLS handshake
/// fails and no request is read).
///
/// Answers:
/// - 200 `{"accepted": n, "skipped": m, "dropped": d}`: `n` events queued, `m` items that were not audit events,
///   `d` events the engine had no room for (counted by the engine too).
/// - 400 `{"error": "..."}` when the body is not JSON or holds no audit event.
/// - 401 without the bearer token; 413 when the body exceeds
///   ``KubernetesAuditWebhookConfiguration/maximumBodySize`` (refused from `Content-Length` before reading, or as
///   soon as the limit is passed).
/// - 503 with `Retry-After` when ``KubernetesAuditWebhookConfiguration/maximumRequestsInFlight`` requests are
///   already being handled, or when the engine could take none of the body's events; the API server retries.
///
/// Events are delivered with ``EventSink/push(_:)``, which never waits: a live source must not stall behind a
/// busy engine. `run(into:)` returns when its task is cancelled, after a graceful shutdown: the server stops
/// accepting connections and finishes the requests in flight.
public struct KubernetesAuditWebhookSensor: Sensor {
    /// The sensor's name in metrics and logs (`k8s-audit-webhook`).
    public let name: String
    /// Where it listens and what it accepts.
    public let configuration: KubernetesAuditWebhookConfiguration
    /// Its bound port and counters.
    public let status: KubernetesAuditWebhookStatus
    private let tlsConfiguration: TLSConfiguration
    private let logger: Logger

    /// Creates a sensor, reading the certificate chain, the private key and any client CA file now.
    ///
    /// - Throws: ``KubernetesAuditWebhookError`` when no authentication is configured, a value is out of range,
    ///   a file cannot be read or holds no valid PEM certificate or key, or the key does not match the
    ///   certificate.
    public init(
        configuration: KubernetesAuditWebhookConfiguration,
        name: String = "k8s-audit-webhook",
        status: KubernetesAuditWebhookStatus = KubernetesAuditWebhookStatus(),
        logger: Logger = Logger(label: "vigil.k8s-audit-webhook")
    ) throws(KubernetesAuditWebhookError) {
        try configuration.validate()
        self.name = name
        self.configuration = configuration
        self.status = status
        self.logger = logger
        self.tlsConfiguration = try Self.tlsConfiguration(for: configuration)
    }

    /// Serves until the task is cancelled, then shuts the server down gracefully and returns.
    ///
    /// - Throws: ``KubernetesAuditWebhookError`` when the server cannot bind its address or fails.
    public func run(into sink: EventSink) async throws {
        let handler = KubernetesAuditWebhookHandler(
            configuration: configuration, sink: sink, status: status, logger: logger)
        do {
            try await serveUntilCancelled(
                paths: ["/", "/audit"], host: configuration.host, port: configuration.port, status: status.core,
                logger: logger, listening: "Kubernetes audit webhook listening",
                server: { try .tls(.http1(), tlsConfiguration: tlsConfiguration) }, respond: handler.respond)
        } catch {
            throw KubernetesAuditWebhookError(code: .serverFailed, message: error.description)
        }
    }

    // MARK: - TLS

    /// The server's TLS configuration from the PEM files; building a context from it now checks that the key
    /// matches the certificate.
    private static func tlsConfiguration(
        for configuration: KubernetesAuditWebhookConfiguration
    ) throws(KubernetesAuditWebhookError) -> TLSConfiguration {
        let chain = try load("certificate chain", configuration.certificateChainPath) { path in
            try NIOSSLCertificate.fromPEMFile(path)
        }
        if chain.isEmpty {
            throw KubernetesAuditWebhookError(
                code: .invalidTLSMaterial,
                message: "the certificate chain \(configuration.certificateChainPath) holds no PEM certificate")
        }
        let key = try load("private key", configuration.privateKeyPath) { path in
            try NIOSSLPrivateKey(file: path, format: .pem)
        }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        if let trustRootsPath = configuration.clientTrustRootsPath {
            let roots = try load("client CA file", trustRootsPath) { path in
                try NIOSSLCertificate.fromPEMFile(path)
            }
            if roots.isEmpty {
                throw KubernetesAuditWebhookError(
                    code: .invalidTLSMaterial, message: "the client CA file \(trustRootsPath) holds no PEM certificate")
            }
            // A client must present a certificate that chains to one of these roots; it has no host name to check.
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .certificates(roots)
            tls.sendCANameList = true
        }
        do {
            _ = try NIOSSLContext(configuration: tls)
        } catch {
            throw KubernetesAuditWebhookError(
                code: .invalidTLSMaterial,
                message: "cannot use the certificate \(configuration.certificateChainPath) with the key "
                    + "\(configuration.privateKeyPath): \(error) (does the key belong to the certificate?)")
        }
        return tls
    }

    /// Reads a PEM file with `body`, turning failures into errors that name the file.
    private static func load<T>(
        _ what: String, _ path: String, _ body: (String) throws -> T
    ) throws(KubernetesAuditWebhookError) -> T {
        guard access(path, R_OK) == 0 else {
            let reason = String(cString: strerror(errno))
            throw KubernetesAuditWebhookError(
                code: .unreadableFile, message: "cannot read the \(what) \(path): \(reason)")
        }
        do {
            return try body(path)
        } catch {
            throw KubernetesAuditWebhookError(
                code: .invalidTLSMaterial, message: "the \(what) \(path) is not valid PEM: \(error)")
        }
    }
}

import VigilHTTPIngest

/// How a ``KubernetesAuditWebhookSensor`` listens, which TLS identity it shows, whom it trusts and how much it
/// takes.
public struct KubernetesAuditWebhookConfiguration: Sendable {
    /// A way the API server proves who it is. Every configured method must pass.
    public enum Authentication: Sendable, Hashable {
        /// `Authorization: Bearer <token>`, compared in constant time: the `token` of the user in the API
        /// server's webhook kubeconfig.
        case bearerToken(String)
        /// Mutual TLS: the client must present a certificate that chains to a CA in the PEM file at `trustRoots`
        /// (the `client-certificate` of the user in the webhook kubeconfig). A client without such a
        /// certificate fails the TLS handshake and never reaches the HTTP layer.
        case clientCertificate(trustRoots: String)
    }

    /// The address to bind (`127.0.0.1`, `0.0.0.0`, `::`).
    public var host: String
    /// The TCP port to bind; 0 lets the system choose (read it with
    /// ``KubernetesAuditWebhookStatus/boundPort()``).
    public var port: Int
    /// The PEM file holding the server certificate, followed by any intermediate certificates.
    public var certificateChainPath: String
    /// The PEM file holding the server certificate's private key.
    public var privateKeyPath: String
    /// How requests are authenticated; at least one method, each at most once.
    public var authentication: [Authentication]
    /// The largest request body accepted, in bytes; larger requests get 413.
    public var maximumBodySize: Int
    /// How many requests are handled at once; more get 503 with `Retry-After`.
    public var maximumRequestsInFlight: Int
    /// The `Retry-After` value, in seconds, sent with 503 responses.
    public var retryAfterSeconds: Int

    /// Creates a configuration. The files are read, and the values checked, by
    /// ``KubernetesAuditWebhookSensor/init(configuration:name:status:logger:)``.
    public init(
        host: String = "127.0.0.1",
        port: Int = 9881,
        certificateChainPath: String,
        privateKeyPath: String,
        authentication: [Authentication],
        maximumBodySize: Int = 16 << 20,
        maximumRequestsInFlight: Int = 64,
        retryAfterSeconds: Int = 1
    ) {
        self.host = host
        self.port = port
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.authentication = authentication
        self.maximumBodySize = maximumBodySize
        self.maximumRequestsInFlight = maximumRequestsInFlight
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// The configured bearer token, if any.
    var bearerToken: String? {
        for method in authentication { if case .bearerToken(let token) = method { return token } }
        return nil
    }

    /// The configured PEM file of client CAs, if any.
    var clientTrustRootsPath: String? {
        for method in authentication { if case .clientCertificate(let path) = method { return path } }
        return nil
    }

    /// The body size, in-flight and `Retry-After` limits, as the shared endpoint code takes them.
    var ingestLimits: IngestLimits {
        IngestLimits(
            maximumBodySize: maximumBodySize, maximumRequestsInFlight: maximumRequestsInFlight,
            retryAfterSeconds: retryAfterSeconds)
    }

    /// Checks the values (not the files); throws naming the first problem and how to fix it.
    func validate() throws(KubernetesAuditWebhookError) {
        if authentication.isEmpty {
            throw KubernetesAuditWebhookError(
                code: .missingAuthentication,
                message: "the audit webhook needs a bearer token or client certificates (mutual TLS); configure "
                    + "at least one so that nobody else can inject audit events")
        }
        let tokens = authentication.filter { if case .bearerToken = $0 { true } else { false } }.count
        if tokens > 1 || authentication.count - tokens > 1 {
            throw KubernetesAuditWebhookError(
                code: .invalidConfiguration, message: "configure each authentication method at most once")
        }
        if let problem = ingestLimits.problem(port: port, bearerToken: bearerToken) {
            throw KubernetesAuditWebhookError(code: .invalidConfiguration, message: problem)
        }
    }
}

/// Why a ``KubernetesAuditWebhookSensor`` cannot be made or cannot run.
public struct KubernetesAuditWebhookError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; a struct so that codes can be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// No authentication method is configured.
        public static let missingAuthentication = Code("missing authentication")
        /// A configured value is out of range (a port, a limit, an empty token, a method given twice).
        public static let invalidConfiguration = Code("invalid configuration")
        /// A certificate, key or CA file cannot be read.
        public static let unreadableFile = Code("unreadable file")
        /// A file holds no valid PEM certificate or key, or the key does not match the certificate.
        public static let invalidTLSMaterial = Code("invalid TLS material")
        /// The HTTPS server could not be started or stopped with an error.
        public static let serverFailed = Code("server failed")
        /// The code's stable name.
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// Details in plain words, saying what to do.
    public var message: String

    /// Creates an error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// `<code>: <message>`.
    public var description: String { "\(code): \(message)" }
}

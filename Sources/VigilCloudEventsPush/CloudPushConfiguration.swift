import VigilCloudEvents
import VigilHTTPIngest

/// How a ``CloudPushSensor`` listens, whom it trusts and how much it takes.
public struct CloudPushConfiguration: Sendable {
    /// The address to bind (`127.0.0.1`, `0.0.0.0`, `::`).
    public var host: String
    /// The TCP port to bind; 0 lets the system choose (read it with ``CloudPushStatus/boundPort()``).
    public var port: Int
    /// The token expected in `Authorization: Bearer <token>`, or nil to accept no bearer token.
    public var bearerToken: String?
    /// A header name and value that also authenticate a request (`x-api-key`, as an EventBridge API
    /// destination with API-key authorization sends it), or nil.
    public var apiKey: (header: String, value: String)?
    /// The largest request body accepted, in bytes; larger requests get 413.
    public var maximumBodySize: Int
    /// How many requests are handled at once; more get 503 with `Retry-After`.
    public var maximumRequestsInFlight: Int
    /// The `Retry-After` value, in seconds, sent with 503 responses.
    public var retryAfterSeconds: Int
    /// Bounds on decoding a body (a gzip body's decompressed size, a JSON line's length).
    public var limits: CloudEventLimits

    /// Creates a configuration. At least one of `bearerToken` and `apiKey` must be set (see
    /// ``CloudPushSensor/init(configuration:name:logger:)``).
    public init(
        host: String = "127.0.0.1",
        port: Int = 9880,
        bearerToken: String? = nil,
        apiKey: (header: String, value: String)? = nil,
        maximumBodySize: Int = 1 << 20,
        maximumRequestsInFlight: Int = 64,
        retryAfterSeconds: Int = 1,
        limits: CloudEventLimits = CloudEventLimits(
            maximumFileSize: 1 << 20, maximumDecompressedSize: 16 << 20, maximumLineLength: 1 << 20)
    ) {
        self.host = host
        self.port = port
        self.bearerToken = bearerToken
        self.apiKey = apiKey
        self.maximumBodySize = maximumBodySize
        self.maximumRequestsInFlight = maximumRequestsInFlight
        self.retryAfterSeconds = retryAfterSeconds
        self.limits = limits
    }
}

/// Why a ``CloudPushSensor`` cannot be made or cannot run.
public struct CloudPushError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; a struct so that codes can be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// Neither a bearer token nor an API-key header is configured.
        public static let missingCredential = Code("missing credential")
        /// A configured value is out of range (a port, a limit, an empty token or header name).
        public static let invalidConfiguration = Code("invalid configuration")
        /// The HTTP server could not be started or stopped with an error.
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

extension CloudPushConfiguration {
    /// The body size, in-flight and `Retry-After` limits, as the shared endpoint code takes them.
    var ingestLimits: IngestLimits {
        IngestLimits(
            maximumBodySize: maximumBodySize, maximumRequestsInFlight: maximumRequestsInFlight,
            retryAfterSeconds: retryAfterSeconds)
    }

    /// Checks the configuration; throws naming the first problem and how to fix it.
    func validate() throws(CloudPushError) {
        if bearerToken == nil && apiKey == nil {
            throw CloudPushError(
                code: .missingCredential,
                message: "the cloud push endpoint needs a bearer token or an API-key header; "
                    + "set one (for example --cloud-push-token) so that nobody else can inject events")
        }
        if let apiKey, apiKey.header.isEmpty || apiKey.value.isEmpty {
            throw CloudPushError(
                code: .invalidConfiguration, message: "the API-key header needs a non-empty name and value")
        }
        if let problem = ingestLimits.problem(port: port, bearerToken: bearerToken) {
            throw CloudPushError(code: .invalidConfiguration, message: problem)
        }
    }
}

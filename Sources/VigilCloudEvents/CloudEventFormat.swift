import VigilCore

/// How a cloud log file is laid out and whose records it holds, recognised from its content.
public struct CloudEventFormat: Sendable, Hashable, CustomStringConvertible {
    /// How records are laid out in the file.
    public enum Container: String, Sendable, Hashable {
        /// `{"Records": [...]}`, as CloudTrail delivers to S3.
        case recordsObject = "records-object"
        /// A JSON array of records (for example the Stratus Red Team detonation logs).
        case array
        /// One JSON record per line (CloudWatch Logs and EventBridge exports, Panther test files).
        case lines
        /// One record, the whole file.
        case object
    }

    /// How records are laid out.
    public var container: Container
    /// Whose records they are, judged from the first one that is recognised.
    public var provider: CloudProvider
    /// Whether the file was gzip-compressed.
    public var compressed: Bool

    /// Creates a format.
    public init(container: Container, provider: CloudProvider, compressed: Bool = false) {
        self.container = container
        self.provider = provider
        self.compressed = compressed
    }

    public var description: String {
        "\(provider.name) \(container.rawValue)\(compressed ? " (gzip)" : "")"
    }

    /// Recognises CloudTrail (a Records object, an array, JSON lines, EventBridge envelopes), GCP Cloud Audit
    /// Logs and Azure Activity Logs by content; gzip is decompressed first. Nil when the bytes hold none of
    /// them (not JSON, empty, or JSON of another kind), or the gzip data is broken.
    public static func detect(_ bytes: [UInt8], limits: CloudEventLimits = CloudEventLimits()) -> CloudEventFormat? {
        guard var decoder = try? CloudEventDecoder(bytes: bytes, symbols: SymbolTable(), limits: limits) else {
            return nil
        }
        return decoder.detectFormat()
    }
}

/// Bounds on what a reader accepts, so that hostile or broken files cost bounded memory.
public struct CloudEventLimits: Sendable, Hashable {
    /// The largest file read, in bytes.
    public var maximumFileSize: Int
    /// The largest decompressed size of a gzip file, in bytes.
    public var maximumDecompressedSize: Int
    /// The longest line of a JSON-lines file; longer lines are skipped as ``CloudRecordError/Code/tooLarge``.
    public var maximumLineLength: Int

    /// Creates limits. The defaults are far above CloudTrail's own files (a few MB each).
    public init(
        maximumFileSize: Int = 1 << 30, maximumDecompressedSize: Int = 1 << 30, maximumLineLength: Int = 16 << 20
    ) {
        self.maximumFileSize = maximumFileSize
        self.maximumDecompressedSize = maximumDecompressedSize
        self.maximumLineLength = maximumLineLength
    }
}

/// Recognises a record's provider and maps it with the right parser.
struct CloudRecordMapper {
    let cloudTrail: CloudTrailParser
    let gcp: GCPAuditLogParser
    let azure: AzureActivityLogParser

    init(symbols: SymbolTable) {
        cloudTrail = CloudTrailParser(symbols: symbols)
        gcp = GCPAuditLogParser(symbols: symbols)
        azure = AzureActivityLogParser(symbols: symbols)
    }

    /// The record inside a Panther test case (`{rule_id, test_name, log}`), or the object itself.
    static func unwrapTestCase(_ object: JSONObject) -> JSONObject {
        if case .object(let log)? = object["log"], object["eventName"] == nil, object["operationName"] == nil {
            return log
        }
        return object
    }

    /// The provider of a record, or nil when it is not a cloud record.
    static func provider(of object: JSONObject) -> CloudProvider? {
        if CloudTrailParser.isRecord(object) { return .aws }
        if GCPAuditLogParser.isRecord(object) { return .gcp }
        if AzureActivityLogParser.isRecord(object) { return .azure }
        // A record naming an API but lacking the rest is a broken CloudTrail record, reported as such.
        if object["eventName"] != nil { return .aws }
        return nil
    }

    func event(from value: JSONValue) throws(CloudRecordError) -> Event {
        guard case .object(let outer) = value else {
            throw CloudRecordError(code: .notACloudRecord, message: "a record is a JSON object")
        }
        let object = Self.unwrapTestCase(outer)
        switch Self.provider(of: object) {
        case .aws?: return try cloudTrail.event(from: object)
        case .gcp?: return try gcp.event(from: object)
        case .azure?: return try azure.event(from: object)
        default:
            throw CloudRecordError(
                code: .notACloudRecord,
                message: "neither a CloudTrail, a GCP audit log nor an Azure activity log record "
                    + "(members: \(object.keys.prefix(6).joined(separator: ", ")))")
        }
    }
}

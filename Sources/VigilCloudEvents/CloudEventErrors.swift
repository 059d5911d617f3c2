/// Why a whole cloud log file could not be read (as opposed to one record in it, see ``CloudRecordError``).
public struct CloudEventError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; a struct so that codes can be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The file could not be opened, examined or read.
        public static let unreadable = Code("unreadable")
        /// The gzip stream ends before its end marker: the file was cut short or is still being written.
        public static let truncatedGzip = Code("truncated gzip")
        /// The bytes start like gzip but are not a valid gzip stream.
        public static let invalidGzip = Code("invalid gzip")
        /// The file, or its decompressed content, is larger than the configured limit.
        public static let tooLarge = Code("too large")
        /// A checkpoint could not be read or written.
        public static let checkpoint = Code("checkpoint")
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// The file concerned, or empty when the input did not come from a file.
    public var path: String
    /// Details in plain words, saying what to do.
    public var message: String
    /// The `errno` of a failed system call, or 0.
    public var errno: Int32

    /// Creates an error.
    public init(code: Code, path: String = "", message: String, errno: Int32 = 0) {
        self.code = code
        self.path = path
        self.message = message
        self.errno = errno
    }

    public var description: String {
        path.isEmpty ? "\(code): \(message)" : "\(code) '\(path)': \(message)"
    }
}

/// Why one record was skipped. Records are never fatal: the reader counts them in ``CloudSkipCounts`` and goes on.
public struct CloudRecordError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why a record was skipped; a struct so that codes can be added without breaking users.
    public struct Code: Hashable, Sendable, Comparable, CustomStringConvertible {
        /// The code's stable name, as used in logs and counters.
        public let name: String
        private init(_ name: String) { self.name = name }
        /// The record (or line) is not valid JSON.
        public static let invalidJSON = Code("invalid JSON")
        /// Valid JSON, but not a CloudTrail, GCP audit or Azure activity record (for example an S3 access log).
        public static let notACloudRecord = Code("not a cloud record")
        /// A CloudTrail `eventVersion` whose major version this reader does not know.
        public static let unsupportedVersion = Code("unsupported version")
        /// A field the event needs (time, API name, service) is missing.
        public static let missingField = Code("missing field")
        /// A field has the wrong JSON type or an impossible value.
        public static let invalidField = Code("invalid field")
        /// A line longer than the configured limit.
        public static let tooLarge = Code("too large")
        /// An input with no bytes at all (such as a file created but never written).
        public static let emptyInput = Code("empty input")
        public var description: String { name }
        public static func < (lhs: Code, rhs: Code) -> Bool { lhs.name < rhs.name }
    }

    /// Why the record was skipped.
    public var code: Code
    /// The offending field's path (`userIdentity.arn`), or empty.
    public var field: String
    /// Details in plain words.
    public var message: String

    /// Creates an error.
    public init(code: Code, field: String = "", message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String {
        field.isEmpty ? "\(code): \(message)" : "\(code) '\(field)': \(message)"
    }
}

/// Counts of skipped records per reason, with the first few messages so that an operator can see what was wrong.
public struct CloudSkipCounts: Sendable, Equatable, CustomStringConvertible {
    /// How many records were skipped for each reason.
    public private(set) var counts: [CloudRecordError.Code: Int] = [:]
    /// The first ``maximumMessages`` skip messages, each prefixed with where the record was.
    public private(set) var messages: [String] = []
    /// How many messages are kept; the counts are always complete, the messages are a sample.
    public static let maximumMessages = 32

    /// No skips.
    public init() {}

    /// Skipped records in all.
    public var total: Int { counts.values.reduce(0, +) }

    /// The count for one reason.
    public subscript(code: CloudRecordError.Code) -> Int { counts[code] ?? 0 }

    /// Counts one skipped record; `location` says where it was (`file.json record 3`, `line 17`).
    public mutating func record(_ error: CloudRecordError, at location: String) {
        counts[error.code, default: 0] += 1
        if messages.count < Self.maximumMessages { messages.append("\(location): \(error)") }
    }

    /// Adds another set of counts to this one.
    public mutating func merge(_ other: CloudSkipCounts) {
        for (code, count) in other.counts { counts[code, default: 0] += count }
        for message in other.messages where messages.count < Self.maximumMessages { messages.append(message) }
    }

    /// `invalid JSON: 2, missing field: 1`, or `none`.
    public var description: String {
        if counts.isEmpty { return "none" }
        return counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
    }
}

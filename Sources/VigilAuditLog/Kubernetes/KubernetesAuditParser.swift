import VigilCore

/// Why a Kubernetes audit line or value produced no event.
public struct KubernetesSkipReason: Hashable, Sendable, CustomStringConvertible {
    private let name: String
    private init(_ name: String) { self.name = name }
    /// Not valid JSON.
    public static let invalidJSON = KubernetesSkipReason("invalid JSON")
    /// JSON, but not a Kubernetes audit event (a CloudTrail record, a config file, a Cloud Audit Log entry of
    /// another Google service such as Compute Engine).
    public static let notAuditEvent = KubernetesSkipReason("not an audit event")
    /// A GKE entry for the Kubernetes API (`serviceName` `k8s.io`) whose `methodName` is missing or not
    /// `io.k8s.<group>.<version>.<resource>[.<subresource>].<verb>` with a known verb (nor `io.k8s.<path>`,
    /// a non-resource request).
    public static let invalidGKEMethodName = KubernetesSkipReason("invalid GKE methodName")
    /// A GKE entry for the Kubernetes API whose `resourceName` is not a string of the form
    /// `<group>/<version>/[namespaces/<namespace>/]<resource>[/<name>[/<subresource>]]` naming the version,
    /// resource and subresource of its `methodName` (or, for a non-resource request, a path).
    public static let invalidGKEResourceName = KubernetesSkipReason("invalid GKE resourceName")
    /// The line was longer than the configured bound.
    public static let lineTooLong = KubernetesSkipReason("line too long")
    /// The line is not valid UTF-8.
    public static let invalidUTF8 = KubernetesSkipReason("invalid UTF-8")
    public var description: String { name }
}

/// Turns Kubernetes API audit logs into `.kubernetesRequest` events.
///
/// Reads `audit.k8s.io/v1` and `v1beta1` `Event`s and `EventList`s (and events without an apiVersion, as
/// old Falco fixtures have), one JSON value a line or a whole document. Wrappers are unwrapped: Panther
/// test records (`{rule_id, …, log}`), EKS records (the event with extra `p_*` members) and AKS
/// diagnostic records (`properties.log` holds the event as a JSON string). GKE's Cloud Audit Log entries for
/// the Kubernetes API (`protoPayload` with `serviceName` `k8s.io`) are read into the same records: see
/// ``KubernetesAuditRecord``; entries of other Google services are counted as
/// ``KubernetesSkipReason/notAuditEvent``.
public struct KubernetesAuditParser {
    /// What the parser has counted.
    public struct Statistics: Sendable, Equatable {
        /// Lines or documents seen.
        public var inputs = 0
        /// Events emitted.
        public var events = 0
        /// Values skipped, per reason.
        public var skipped: [KubernetesSkipReason: Int] = [:]
        /// All skipped values.
        public var totalSkipped: Int { skipped.values.reduce(0, +) }

        /// Creates empty statistics.
        public init() {}
    }

    /// The table strings are interned into.
    public let symbols: SymbolTable
    /// Lines longer than this are skipped.
    public let maximumLineLength: Int
    /// What has been counted so far.
    public private(set) var statistics = Statistics()
    /// Maps plain event lines straight from their bytes; nil when every line goes through the tree.
    private var fastMapper: KubernetesFastMapper?

    /// Creates a parser.
    ///
    /// - Parameters:
    ///   - symbols: The table strings are interned into.
    ///   - maximumLineLength: Lines longer than this are skipped.
    ///   - fastPath: Whether plain event lines are read straight from their bytes (the default), building a
    ///     JSON tree only for lines that need one. `false` builds the tree of every line; both give the same
    ///     events and statistics, and `false` exists to check that.
    public init(symbols: SymbolTable, maximumLineLength: Int = 16 << 20, fastPath: Bool = true) {
        self.symbols = symbols
        self.maximumLineLength = maximumLineLength
        self.fastMapper = fastPath ? KubernetesFastMapper(symbols: symbols) : nil
    }

    /// Whether `bytes` (the start of a file) look like a Kubernetes audit log: JSON whose first object
    /// names `audit.k8s.io` or has the `Event` shape (`kind`, `verb`, `objectRef`/`requestURI`).
    public static func detect(_ bytes: some Collection<UInt8>) -> Bool {
        let head = String(decoding: bytes.prefix(64 * 1024), as: UTF8.self)
        guard head.drop(while: { $0.isWhitespace }).first == "{" || head.drop(while: \.isWhitespace).first == "["
        else { return false }
        if head.contains("\"audit.k8s.io/") { return true }
        return head.contains("\"kind\"") && head.contains("\"verb\"")
            && (head.contains("\"objectRef\"") || head.contains("\"requestURI\""))
    }

    /// Parses every audit event in `value` (an Event, an EventList, an array or a known wrapper).
    public mutating func records(in value: JSONValue) -> [KubernetesAuditRecord] {
        var records: [KubernetesAuditRecord] = []
        collect(value, into: &records, depth: 0)
        return records
    }

    /// Counts a line the reader skipped before parsing.
    public mutating func countSkipped(_ reason: KubernetesSkipReason) {
        statistics.inputs += 1
        statistics.skipped[reason, default: 0] += 1
    }

    /// Parses one line holding one JSON value; appends its events to `batch`.
    public mutating func parse(line bytes: UnsafeRawBufferPointer, into batch: inout EventBatch) {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { return }
        statistics.inputs += 1
        if bytes.count > maximumLineLength {
            statistics.skipped[.lineTooLong, default: 0] += 1
            return
        }
        if var fast = fastMapper {
            let scanner = JSONByteScanner(bytes, maximumDepth: 128)
            let start = scanner.skipSpace(0)
            if start < scanner.end, scanner.base[start] == UInt8(ascii: "{") {
                let end = scanner.validValue(at: start, depth: 0)
                if end >= 0, scanner.skipSpace(end) == scanner.end {
                    // Move the mapper out while it works so that its cache is not copied on write.
                    fastMapper = nil
                    let event = fast.event(bytes, range: start..<end, maximumDepth: 128)
                    fastMapper = fast
                    if let event {
                        batch.append(event)
                        statistics.events += 1
                        return
                    }
                }
            }
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, maximumDepth: 128)
        } catch {
            statistics.skipped[error.code == .invalidUTF8 ? .invalidUTF8 : .invalidJSON, default: 0] += 1
            return
        }
        emit(value, into: &batch)
    }

    /// Parses one line of text.
    public mutating func parse(line: String, into batch: inout EventBatch) {
        var line = line
        line.withUTF8 { parse(line: UnsafeRawBufferPointer($0), into: &batch) }
    }

    /// Parses a whole file: one JSON value (an Event, EventList or array), else one value a line.
    public mutating func parse(document bytes: [UInt8], into batch: inout EventBatch) {
        if let value = try? JSONParser.parse(bytes, maximumDepth: 128) {
            statistics.inputs += 1
            emit(value, into: &batch)
            return
        }
        bytes.withUnsafeBytes { buffer in
            var start = 0
            while start < buffer.count {
                var end = start
                while end < buffer.count, buffer[end] != 0x0a { end += 1 }
                parse(line: UnsafeRawBufferPointer(rebasing: buffer[start..<end]), into: &batch)
                start = end + 1
            }
        }
    }

    private mutating func emit(_ value: JSONValue, into batch: inout EventBatch) {
        for record in records(in: value) {
            batch.append(record.event(symbols: symbols))
            statistics.events += 1
        }
    }

    private mutating func collect(_ value: JSONValue, into records: inout [KubernetesAuditRecord], depth: Int) {
        guard depth < 8 else {
            statistics.skipped[.notAuditEvent, default: 0] += 1
            return
        }
        if let array = value.array {
            for item in array { collect(item, into: &records, depth: depth + 1) }
            return
        }
        guard let object = value.object else {
            statistics.skipped[.notAuditEvent, default: 0] += 1
            return
        }
        if object["kind"]?.string == "EventList" {
            for item in object["items"]?.array ?? [] { collect(item, into: &records, depth: depth + 1) }
            return
        }
        if object["rule_id"] != nil || object["test_name"] != nil, let log = object["log"] {
            collect(log, into: &records, depth: depth + 1)  // a Panther test record
            return
        }
        if let inner = object["properties"]?["log"]?.string {
            // AKS diagnostic logs carry the event as a JSON string.
            if let parsed = try? JSONParser.parse(inner, maximumDepth: 128) {
                collect(parsed, into: &records, depth: depth + 1)
            } else {
                statistics.skipped[.invalidJSON, default: 0] += 1
            }
            return
        }
        if object["protoPayload"] != nil {
            do throws(GKEEntryError) {
                records.append(try KubernetesAuditRecord(gkeEntry: object))
            } catch {
                statistics.skipped[error.reason, default: 0] += 1
            }
            return
        }
        if let record = KubernetesAuditRecord(object) {
            records.append(record)
        } else {
            statistics.skipped[.notAuditEvent, default: 0] += 1
        }
    }
}

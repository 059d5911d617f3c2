import VigilCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads the records of one cloud log file (any ``CloudEventFormat``) into events, a batch at a time.
///
/// The whole (decompressed) file is held in memory: CloudTrail files are small, and a JSON document must be
/// whole to be parsed. JSON-lines files are parsed line by line, so one broken line costs only that line.
/// Every record that cannot be used is counted in ``skipped`` with its reason; nothing here traps on input.
public struct CloudEventDecoder {
    private enum Source {
        case values([JSONValue], next: Int)
        /// The records of a validated `{"Records": [...]}` document, by byte range.
        case ranges([Range<Int>], next: Int)
        case lines(next: Int)
        case finished
    }

    private let bytes: [UInt8]
    private var source: Source
    private let mapper: CloudRecordMapper
    /// Maps plain CloudTrail records straight from their bytes; nil when every record goes through the tree.
    private var fastMapper: CloudTrailFastMapper?
    private let limits: CloudEventLimits
    private let path: String
    private let compressed: Bool
    private let container: CloudEventFormat.Container?
    /// The number of the record (from 1) or line last read, for messages.
    private var position = 0

    /// Records skipped so far, by reason.
    public private(set) var skipped = CloudSkipCounts()
    /// Records turned into events so far.
    public private(set) var eventCount = 0

    /// Prepares to read `bytes`, decompressing gzip (recognised by its magic number).
    ///
    /// - Parameters:
    ///   - bytes: The file's content.
    ///   - symbols: The table strings are interned into.
    ///   - path: Names the input in errors and skip messages.
    ///   - limits: Size bounds.
    ///   - fastPath: Whether CloudTrail records are read straight from their bytes (the default), building a
    ///     JSON tree only for records that need one. `false` builds the tree of every record; both give the
    ///     same events and skips, and `false` exists to check that.
    /// - Throws: ``CloudEventError`` when gzip data is truncated, corrupt or too large. A file that is not JSON
    ///   is not an error: its records are counted as skipped.
    public init(
        bytes: [UInt8], symbols: SymbolTable, path: String = "", limits: CloudEventLimits = CloudEventLimits(),
        fastPath: Bool = true
    ) throws(CloudEventError) {
        self.mapper = CloudRecordMapper(symbols: symbols)
        self.fastMapper = fastPath ? CloudTrailFastMapper(symbols: symbols) : nil
        self.limits = limits
        self.path = path
        self.compressed = Gzip.isGzip(bytes)
        let data =
            compressed ? try Gzip.decompress(bytes, maximumSize: limits.maximumDecompressedSize, path: path) : bytes
        self.bytes = data
        guard data.contains(where: { !Self.isSpace($0) }) else {
            source = .finished
            container = nil
            skipped.record(
                CloudRecordError(code: .emptyInput, message: "the input holds no data"),
                at: path.isEmpty ? "input" : path)
            return
        }
        if fastPath, let split = data.withUnsafeBytes({ CloudTrailRecordSplitter.recordRanges($0) }) {
            source = .ranges(split.ranges, next: 0)
            container = split.isArray ? .array : .recordsObject
            return
        }
        let parsed = data.withUnsafeBytes { buffer in
            Result { () throws(JSONParseError) -> JSONValue in try JSONParser.parse(buffer) }
        }
        switch parsed {
        case .success(.object(let object)):
            if let records = object["Records"] {
                guard case .array(let list) = records else {
                    source = .finished
                    container = .recordsObject
                    skipped.record(
                        CloudRecordError(code: .invalidField, field: "Records", message: "Records is not an array"),
                        at: path)
                    return
                }
                source = .values(list, next: 0)
                container = .recordsObject
            } else {
                source = .values([.object(object)], next: 0)
                container = .object
            }
        case .success(.array(let list)):
            source = .values(list, next: 0)
            container = .array
        case .success(let other):
            source = .values([other], next: 0)
            container = .object
        case .failure(let error):
            // Several values, or a document broken somewhere. If the first line holds a complete value (or is
            // itself the broken part) the input is JSON lines; if the error lies beyond the first line, one
            // multi-line document is broken, and it is one skip, not one per line.
            let firstLineEnd = Self.firstLineEnd(data)
            if error.code == .trailingCharacters || error.offset <= firstLineEnd {
                source = .lines(next: 0)
                container = .lines
            } else {
                source = .finished
                container = nil
                skipped.record(CloudRecordError(code: .invalidJSON, message: error.description), at: path)
            }
        }
    }

    /// Appends up to `maximumCount` events to `batch`; returns false once the input is exhausted (the last
    /// call may still have appended events).
    public mutating func fill(_ batch: inout EventBatch, upTo maximumCount: Int = 1024) -> Bool {
        var added = 0
        while added < maximumCount {
            guard let item = nextItem() else { return false }
            let value: JSONValue
            switch item {
            case .value(let parsed):
                value = parsed
            case .range(let range):
                if var fast = fastMapper {
                    // Move the mapper out while it works so that its cache is not copied on write.
                    fastMapper = nil
                    let event = bytes.withUnsafeBytes { fast.event($0, range: range) }
                    fastMapper = fast
                    if let event {
                        batch.append(event)
                        added += 1
                        eventCount += 1
                        continue
                    }
                }
                guard let parsed = parseRange(range) else { continue }
                value = parsed
            }
            do {
                batch.append(try mapper.event(from: value))
                added += 1
                eventCount += 1
            } catch {
                skipped.record(error, at: location)
            }
        }
        return true
    }

    /// Reads the next CloudTrail record as a ``CloudTrailRecord``; records of other providers and broken
    /// ones are counted as skipped. Nil at the end of the input.
    public mutating func nextCloudTrailRecord() -> CloudTrailRecord? {
        while let value = nextValue() {
            do throws(CloudRecordError) {
                guard case .object(let outer) = value else {
                    throw CloudRecordError(code: .notACloudRecord, message: "a record is a JSON object")
                }
                let object = CloudRecordMapper.unwrapTestCase(outer)
                guard CloudRecordMapper.provider(of: object) == .aws else {
                    throw CloudRecordError(code: .notACloudRecord, message: "not a CloudTrail record")
                }
                let record = try CloudTrailParser.record(from: object)
                eventCount += 1
                return record
            } catch {
                skipped.record(error, at: location)
            }
        }
        return nil
    }

    /// The format, judged from the first recognised record among the first few; consumes nothing.
    mutating func detectFormat() -> CloudEventFormat? {
        guard let container else { return nil }
        var probe = self
        for _ in 0..<16 {
            guard let value = probe.nextValue() else { return nil }
            guard case .object(let object) = value else { continue }
            if let provider = CloudRecordMapper.provider(of: CloudRecordMapper.unwrapTestCase(object)) {
                return CloudEventFormat(container: container, provider: provider, compressed: compressed)
            }
        }
        return nil
    }

    private var location: String {
        let unit = container == .lines ? "line" : "record"
        return path.isEmpty ? "\(unit) \(position)" : "\(path) \(unit) \(position)"
    }

    /// A record: a value, or the range of bytes of a validated one.
    private enum Item {
        case value(JSONValue)
        case range(Range<Int>)
    }

    /// The next raw value; unparseable lines are counted and passed over.
    private mutating func nextValue() -> JSONValue? {
        while let item = nextItem() {
            switch item {
            case .value(let value): return value
            case .range(let range):
                if let value = parseRange(range) { return value }
            }
        }
        return nil
    }

    /// The tree of the validated value at `range` (nil, counted, should it not parse after all).
    private mutating func parseRange(_ range: Range<Int>) -> JSONValue? {
        let parsed = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONParseError) -> JSONValue in
                try JSONParser.parse(UnsafeRawBufferPointer(rebasing: buffer[range]))
            }
        }
        switch parsed {
        case .success(let value): return value
        case .failure(let error):
            skipped.record(CloudRecordError(code: .invalidJSON, message: error.description), at: location)
            return nil
        }
    }

    /// The next record; unparseable lines are counted and passed over.
    private mutating func nextItem() -> Item? {
        while true {
            switch source {
            case .finished:
                return nil
            case .values(let list, let next):
                guard next < list.count else {
                    source = .finished
                    return nil
                }
                // Move the array out while advancing so that it is not copied on write.
                source = .finished
                position = next + 1
                let value = list[next]
                source = .values(list, next: next + 1)
                return .value(value)
            case .ranges(let list, let next):
                guard next < list.count else {
                    source = .finished
                    return nil
                }
                position = next + 1
                source = .ranges(list, next: next + 1)
                return .range(list[next])
            case .lines(let start):
                guard start < bytes.count else {
                    source = .finished
                    return nil
                }
                position += 1
                let (item, next) = parseLine(from: start)
                source = .lines(next: next)
                if let item { return item }
            }
        }
    }

    /// Parses the line starting at `start`; returns its value (nil for a blank or skipped line) and where the
    /// next line starts.
    private mutating func parseLine(from start: Int) -> (Item?, Int) {
        let limits = self.limits
        let fast = fastMapper != nil
        let outcome = bytes.withUnsafeBytes { buffer -> (Result<Item?, CloudRecordError>, Int) in
            let base = buffer.baseAddress!
            let remaining = buffer.count - start
            let newline = memchr(base + start, 0x0A, remaining)
            let end = newline.map { base.distance(to: UnsafeRawPointer($0)) } ?? buffer.count
            let next = end + 1
            var lower = start
            var upper = end
            while lower < upper, Self.isSpace(buffer[lower]) { lower += 1 }
            while upper > lower, Self.isSpace(buffer[upper - 1]) { upper -= 1 }
            if lower == upper { return (.success(nil), next) }
            if upper - lower > limits.maximumLineLength {
                let error = CloudRecordError(
                    code: .tooLarge,
                    message: "the line has \(upper - lower) bytes, more than the limit of \(limits.maximumLineLength)")
                return (.failure(error), next)
            }
            if fast, CloudTrailRecordSplitter.isValue(buffer, lower..<upper) {
                return (.success(.range(lower..<upper)), next)
            }
            do throws(JSONParseError) {
                let value = try JSONParser.parse(UnsafeRawBufferPointer(rebasing: buffer[lower..<upper]))
                return (.success(.value(value)), next)
            } catch {
                return (.failure(CloudRecordError(code: .invalidJSON, message: error.description)), next)
            }
        }
        switch outcome.0 {
        case .success(let value): return (value, outcome.1)
        case .failure(let error):
            skipped.record(error, at: location)
            return (nil, outcome.1)
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private static func firstLineEnd(_ data: [UInt8]) -> Int {
        var index = 0
        while index < data.count, isSpace(data[index]) { index += 1 }
        return data[index...].firstIndex(of: 0x0A) ?? data.count
    }
}

/// Reads whole cloud log files: the entry point for replaying files (`vigil-agent replay`).
public enum CloudEventFile {
    /// Reads every record of the file at `path` (any ``CloudEventFormat``, plain or gzip) into events.
    ///
    /// - Returns: The events in file order, and the records skipped with their reasons.
    /// - Throws: ``CloudEventError`` when the file cannot be read or its gzip data is broken.
    public static func read(
        path: String, symbols: SymbolTable, limits: CloudEventLimits = CloudEventLimits()
    ) throws(CloudEventError) -> (events: [Event], skipped: CloudSkipCounts) {
        let bytes = try FileIO.read(path: path, maximumSize: limits.maximumFileSize)
        var decoder = try CloudEventDecoder(bytes: bytes, symbols: symbols, path: path, limits: limits)
        var batch = EventBatch(capacity: 1024)
        while decoder.fill(&batch, upTo: Int.max) {}
        return (Array(batch.events), decoder.skipped)
    }

    /// Reads every CloudTrail record of the file at `path` as ``CloudTrailRecord``s, for layers that need the
    /// request and response details; records of other providers are counted as skipped.
    public static func cloudTrailRecords(
        path: String, limits: CloudEventLimits = CloudEventLimits()
    ) throws(CloudEventError) -> (records: [CloudTrailRecord], skipped: CloudSkipCounts) {
        let bytes = try FileIO.read(path: path, maximumSize: limits.maximumFileSize)
        var decoder = try CloudEventDecoder(bytes: bytes, symbols: SymbolTable(), path: path, limits: limits)
        var records: [CloudTrailRecord] = []
        while let record = decoder.nextCloudTrailRecord() { records.append(record) }
        return (records, decoder.skipped)
    }

    /// The format of the file at `path`, or nil when it holds no recognised cloud records.
    public static func detectFormat(
        path: String, limits: CloudEventLimits = CloudEventLimits()
    ) throws(CloudEventError) -> CloudEventFormat? {
        CloudEventFormat.detect(try FileIO.read(path: path, maximumSize: limits.maximumFileSize), limits: limits)
    }
}

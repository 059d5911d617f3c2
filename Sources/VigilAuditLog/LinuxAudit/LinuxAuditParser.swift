import VigilCore

/// Turns auditd log lines into Vigil events.
///
/// Records of one kernel event (SYSCALL, EXECVE, CWD, PATH…, PROCTITLE, SOCKADDR) share a timestamp and
/// serial; the parser gathers them and emits one event when the EOE record arrives. Records may come out
/// of order and EOE may be missing, so an open event is also emitted once `reorderWindowEvents` newer
/// events have started (record timestamps are not used as a window: a late record can be seconds older
/// than its neighbours, as in go-libaudit's out_of_order.log), when more than
/// `maximumOpenEvents` are open (the oldest goes, counted in ``Statistics/evictions``), and at
/// ``finish(into:)``. User-space records (USER_*, CRED_*…) are single records and go out at once.
///
/// Lines that are not audit records are counted per reason and skipped; nothing in the input can make
/// the parser crash or hang.
public struct LinuxAuditParser {
    /// Bounds and windows.
    public struct Configuration: Sendable {
        /// The most events waiting for more records at once.
        public var maximumOpenEvents: Int
        /// An open event is complete once this many newer events have started.
        public var reorderWindowEvents: Int
        /// Lines longer than this are skipped (the kernel never writes a record over 8970 bytes).
        public var maximumLineLength: Int
        /// The most bytes of joined arguments kept for an exec; the rest is cut and flagged.
        public var maximumArgumentBytes: Int

        /// Creates a configuration.
        public init(
            maximumOpenEvents: Int = 256,
            reorderWindowEvents: Int = 16,
            maximumLineLength: Int = 64 * 1024,
            maximumArgumentBytes: Int = 32 * 1024
        ) {
            self.maximumOpenEvents = max(1, maximumOpenEvents)
            self.reorderWindowEvents = max(0, reorderWindowEvents)
            self.maximumLineLength = maximumLineLength
            self.maximumArgumentBytes = maximumArgumentBytes
        }
    }

    /// What the parser has counted.
    public struct Statistics: Sendable, Equatable {
        /// Lines seen, blank ones included.
        public var lines = 0
        /// Records parsed.
        public var records = 0
        /// Events emitted.
        public var events = 0
        /// Lines skipped, per reason.
        public var skipped: [AuditSkipReason: Int] = [:]
        /// Values that should have been hex but were not (kept as written).
        public var badHexFields = 0
        /// Open events emitted early because ``Configuration/maximumOpenEvents`` was reached.
        public var evictions = 0
        /// Events emitted without their EOE record (the window passed or the input ended).
        public var withoutEndOfEvent = 0
        /// All skipped lines.
        public var totalSkipped: Int { skipped.values.reduce(0, +) }

        /// Creates empty statistics.
        public init() {}
    }

    private struct OpenEvent {
        var seconds: Int64
        var milliseconds: Int64
        var serial: UInt64
        var sequence: Int
        var records: [AuditRecord]

        func matches(_ record: AuditRecord) -> Bool {
            serial == record.serial && seconds == record.seconds && milliseconds == record.milliseconds
        }
    }

    /// The table strings are interned into.
    public let symbols: SymbolTable
    /// The bounds and windows in use.
    public let configuration: Configuration
    /// What has been counted so far.
    public private(set) var statistics = Statistics()

    private var open: [OpenEvent] = []
    private var sequence = 0
    /// Field keys and record type names seen, so each is made into a `String` once.
    private var keys = AuditTokenCache()
    private var types = AuditTokenCache()

    /// Creates a parser interning into `symbols`.
    public init(symbols: SymbolTable, configuration: Configuration = Configuration()) {
        self.symbols = symbols
        self.configuration = configuration
    }

    /// Whether `bytes` (the start of a file) look like an auditd log: the first non-blank line is an audit
    /// record. For content recognition by `vigil-agent replay`.
    public static func detect(_ bytes: some Collection<UInt8>) -> Bool {
        let text = String(decoding: bytes.prefix(64 * 1024), as: UTF8.self)
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).prefix(8) {
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
            if trimmed.isEmpty { continue }
            var ignored = 0
            if case .record = AuditRecordParser.parse(trimmed, badHexFields: &ignored) { return true }
            return false
        }
        return false
    }

    /// Counts a line the reader skipped before parsing (too long, say).
    public mutating func countSkipped(_ reason: AuditSkipReason) {
        statistics.lines += 1
        statistics.skipped[reason, default: 0] += 1
    }

    /// Parses one line (without or with its newline) and appends any completed events to `batch`.
    public mutating func parse(line: Substring, into batch: inout EventBatch) {
        var line = line
        line.withUTF8 { parse(validUTF8: UnsafeRawBufferPointer($0), into: &batch) }
    }

    /// Parses raw bytes of one line; invalid UTF-8 is counted and skipped.
    public mutating func parse(line bytes: UnsafeRawBufferPointer, into batch: inout EventBatch) {
        // The kernel hex-encodes anything unusual, so lines are nearly always ASCII: check that eight bytes
        // at a time and validate only lines that are not.
        if !Self.isASCII(bytes), String(validating: bytes, as: UTF8.self) == nil {
            statistics.lines += 1
            statistics.skipped[.invalidUTF8, default: 0] += 1
            return
        }
        parse(validUTF8: bytes, into: &batch)
    }

    private static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        var bits: UInt64 = 0
        while index + 8 <= bytes.count {
            bits |= bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < bytes.count {
            bits |= UInt64(bytes[index])
            index += 1
        }
        return bits & 0x8080_8080_8080_8080 == 0
    }

    private mutating func parse(validUTF8 bytes: UnsafeRawBufferPointer, into batch: inout EventBatch) {
        statistics.lines += 1
        if bytes.count > configuration.maximumLineLength {
            statistics.skipped[.lineTooLong, default: 0] += 1
            return
        }
        switch AuditRecordParser.parse(
            validUTF8: bytes, badHexFields: &statistics.badHexFields, keys: &keys, types: &types)
        {
        case .blank:
            return
        case .skipped(let reason):
            statistics.skipped[reason, default: 0] += 1
        case .record(let record):
            statistics.records += 1
            add(record, into: &batch)
        }
    }

    /// Emits every open event: at the end of the input, or when a followed file has gone quiet.
    public mutating func finish(into batch: inout EventBatch) {
        while !open.isEmpty {
            let event = open.removeFirst()
            statistics.withoutEndOfEvent += 1
            emit(event.records, into: &batch)
        }
    }

    /// Whether events are waiting for more records.
    public var hasOpenEvents: Bool { !open.isEmpty }

    private mutating func add(_ record: AuditRecord, into batch: inout EventBatch) {
        if record.type == AuditRecordType.endOfEvent {
            if let index = open.lastIndex(where: { $0.matches(record) }) {
                let event = open.remove(at: index)
                emit(event.records, into: &batch)
            }
        } else if AuditRecordType.isStandalone(record.type), !open.contains(where: { $0.matches(record) }) {
            emit([record], into: &batch)
        } else if let index = open.lastIndex(where: { $0.matches(record) }) {
            open[index].records.append(record)
        } else {
            sequence += 1
            open.append(
                OpenEvent(
                    seconds: record.seconds, milliseconds: record.milliseconds, serial: record.serial,
                    sequence: sequence, records: [record]))
            if open.count > configuration.maximumOpenEvents {
                let oldest = open.removeFirst()
                statistics.evictions += 1
                statistics.withoutEndOfEvent += 1
                emit(oldest.records, into: &batch)
            }
        }
        expire(into: &batch)
    }

    /// Emits open events that the windows say are complete, oldest first.
    private mutating func expire(into batch: inout EventBatch) {
        var index = 0
        while index < open.count {
            let candidate = open[index]
            if sequence - candidate.sequence > configuration.reorderWindowEvents {
                open.remove(at: index)
                statistics.withoutEndOfEvent += 1
                emit(candidate.records, into: &batch)
            } else {
                index += 1
            }
        }
    }

    private mutating func emit(_ records: [AuditRecord], into batch: inout EventBatch) {
        guard !records.isEmpty else { return }
        var mapper = AuditEventMapper(records: records, symbols: symbols, configuration: configuration)
        batch.append(mapper.event())
        statistics.events += 1
    }
}

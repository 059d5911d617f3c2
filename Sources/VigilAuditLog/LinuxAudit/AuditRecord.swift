/// One line of an auditd log: `[node=HOST ]type=NAME msg=audit(SECONDS.MILLIS:SERIAL): key=value …`.
///
/// Values are stored decoded: quoted strings without their quotes, hex-encoded fields (`proctitle`,
/// `name`, `cwd`, `exe`, EXECVE arguments…) as their text, and the key=values of a nested user-space
/// `msg='…'` appended after the outer ones. The values are kept as bytes in one buffer and become
/// `String`s only when asked for, so parsing a record creates no string per field.
public struct AuditRecord: Sendable, Equatable {
    /// Where one field's value lies in ``text``.
    struct Span: Sendable {
        var key: String
        var start: Int32
        var count: Int32
    }

    /// The record type number (`SYSCALL` = 1300).
    public var type: UInt16
    /// The node name of the `node=` prefix, or empty.
    public var node: String
    /// Whole seconds of the event's timestamp.
    public var seconds: Int64
    /// Milliseconds of the event's timestamp.
    public var milliseconds: Int64
    /// The event serial; with the timestamp it identifies the event the record belongs to.
    public var serial: UInt64
    /// The bytes the spans point into: the line after its header, then hex-decoded values.
    var text: [UInt8]
    /// The fields in order.
    var spans: [Span]

    /// Creates a record.
    public init(
        type: UInt16, node: String = "", seconds: Int64, milliseconds: Int64, serial: UInt64,
        fields: [(key: String, value: String)]
    ) {
        self.type = type
        self.node = node
        self.seconds = seconds
        self.milliseconds = milliseconds
        self.serial = serial
        self.text = []
        self.spans = []
        self.fields = fields
    }

    init(
        type: UInt16, node: String, seconds: Int64, milliseconds: Int64, serial: UInt64, text: [UInt8],
        spans: [Span]
    ) {
        self.type = type
        self.node = node
        self.seconds = seconds
        self.milliseconds = milliseconds
        self.serial = serial
        self.text = text
        self.spans = spans
    }

    /// The fields in the order they appear; keys may repeat (the outer and the nested `msg` each have a
    /// `pid`), in which case ``value(_:)`` returns the first.
    public var fields: [(key: String, value: String)] {
        get { spans.map { ($0.key, string(of: $0)) } }
        set {
            text.removeAll(keepingCapacity: true)
            spans.removeAll(keepingCapacity: true)
            for (key, value) in newValue {
                spans.append(Span(key: key, start: Int32(text.count), count: Int32(value.utf8.count)))
                text.append(contentsOf: value.utf8)
            }
        }
    }

    /// The first value of `key`, or nil.
    public func value(_ key: String) -> String? {
        for span in spans where span.key == key { return string(of: span) }
        return nil
    }

    /// Calls `body` with the bytes of the first value of `key`; nil when the key is absent.
    func withValue<Result>(_ key: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result? {
        for span in spans where span.key == key {
            return text.withUnsafeBufferPointer { buffer in
                body(UnsafeBufferPointer(rebasing: buffer[Int(span.start)..<Int(span.start + span.count)]))
            }
        }
        return nil
    }

    /// The first value of `key` read as a signed decimal integer; nil when absent or not a number.
    func integer(_ key: String) -> Int64? {
        withValue(key) { AuditNumber.decimal($0) } ?? nil
    }

    /// The first value of `key` read as hexadecimal (without `0x`); nil when absent or not hex.
    func hexadecimal(_ key: String) -> UInt64? {
        withValue(key) { AuditNumber.hexadecimal($0) } ?? nil
    }

    private func string(of span: Span) -> String {
        text.withUnsafeBufferPointer { buffer in
            String(decoding: buffer[Int(span.start)..<Int(span.start + span.count)], as: UTF8.self)
        }
    }

    /// The event's time in nanoseconds since the Unix epoch.
    public var time: Int64 { seconds &* 1_000_000_000 &+ milliseconds &* 1_000_000 }

    /// Two records are equal when their header and their fields (keys and values, in order) are equal.
    public static func == (lhs: AuditRecord, rhs: AuditRecord) -> Bool {
        lhs.type == rhs.type && lhs.node == rhs.node && lhs.seconds == rhs.seconds
            && lhs.milliseconds == rhs.milliseconds && lhs.serial == rhs.serial
            && lhs.fields.elementsEqual(rhs.fields, by: { $0.key == $1.key && $0.value == $1.value })
    }
}

/// Numbers read straight from value bytes, without making a `String`.
enum AuditNumber {
    /// A decimal integer with an optional leading `-`; nil when empty, not decimal or out of range.
    static func decimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var index = 0
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            index = 1
        } else if bytes.first == UInt8(ascii: "+") {
            index = 1
        }
        guard index < bytes.count else { return nil }
        var value: Int64 = 0
        while index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) =
                negative
                ? times.subtractingReportingOverflow(Int64(digit)) : times.addingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
            index += 1
        }
        return value
    }

    /// A hexadecimal integer of up to 16 digits; nil when empty, not hex or too long.
    static func hexadecimal(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 16 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard let nibble = AuditRecordParser.nibble(byte) else { return nil }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }
}

/// A small cache from short ASCII tokens (field keys, record type names) to their `String`, so that the
/// same key read a million times is made once. Tokens longer than 16 bytes are not cached.
struct AuditTokenCache {
    private struct Entry {
        var low: UInt64
        var high: UInt64
        var count: Int
        var string: String
        var number: UInt16?
    }

    private static let slots = 256
    private var entries: [Entry?] = []

    init() {}

    /// The string of `bytes`, made once per distinct token; `number` is a value computed with it.
    mutating func lookup(
        _ bytes: UnsafeRawBufferPointer, make: (String) -> UInt16? = { _ in nil }
    ) -> (string: String, number: UInt16?) {
        guard bytes.count <= 16 else {
            let string = String(decoding: bytes, as: UTF8.self)
            return (string, make(string))
        }
        var low: UInt64 = 0
        var high: UInt64 = 0
        for index in 0..<bytes.count {
            if index < 8 {
                low |= UInt64(bytes[index]) << (UInt64(index) * 8)
            } else {
                high |= UInt64(bytes[index]) << (UInt64(index - 8) * 8)
            }
        }
        if entries.isEmpty { entries = Array(repeating: nil, count: Self.slots) }
        let hash = (low &* 0x9E37_79B9_7F4A_7C15 ^ high &* 0xC2B2_AE3D_27D4_EB4F ^ UInt64(bytes.count)) >> 56
        let slot = Int(hash) & (Self.slots - 1)
        if let entry = entries[slot], entry.low == low, entry.high == high, entry.count == bytes.count {
            return (entry.string, entry.number)
        }
        let string = String(decoding: bytes, as: UTF8.self)
        let number = make(string)
        entries[slot] = Entry(low: low, high: high, count: bytes.count, string: string, number: number)
        return (string, number)
    }
}

/// Why a line was skipped rather than turned into a record or event.
public struct AuditSkipReason: Hashable, Sendable, CustomStringConvertible {
    private let name: String
    private init(_ name: String) { self.name = name }
    /// The line has no `type=… msg=audit(…)` header: it is not an audit record (blank lines are not counted).
    public static let notAuditRecord = AuditSkipReason("not an audit record")
    /// The header or a quoted value is cut short.
    public static let truncated = AuditSkipReason("truncated")
    /// The record type name is neither known nor `UNKNOWN[n]`.
    public static let unknownRecordType = AuditSkipReason("unknown record type")
    /// The line was longer than the configured bound.
    public static let lineTooLong = AuditSkipReason("line too long")
    /// The record has a type but no `msg=audit(TIME:SERIAL)` stamp (auditd writes `msg=?` for some
    /// kernel records it could not format), so it cannot be placed in an event.
    public static let noTimestamp = AuditSkipReason("no timestamp")
    /// The line is not valid UTF-8.
    public static let invalidUTF8 = AuditSkipReason("invalid UTF-8")
    public var description: String { name }
}

/// Parses single auditd log lines.
public enum AuditRecordParser {
    /// The result of parsing one line.
    public enum Outcome: Sendable, Equatable {
        /// A record.
        case record(AuditRecord)
        /// The line was skipped, for this reason.
        case skipped(AuditSkipReason)
        /// The line was empty or only whitespace.
        case blank
    }

    /// Keys whose unquoted values the kernel hex-encodes (it quotes a value only when it has no space,
    /// quote or control character; otherwise it writes the bytes in hex).
    static let encodedKeys: Set<String> = [
        "proctitle", "name", "cwd", "comm", "exe", "acct", "cmd", "path", "data", "dir", "ocomm", "root",
        "old-chardev", "new-chardev", "old-disk", "new-disk", "old-fs", "new-fs", "old-net", "new-net",
        "old-rng", "new-rng", "vm", "watch", "file",
    ]

    /// Parses one line. `badHexFields` counts values that should have been hex but were not (odd-length
    /// hex, or non-hex in a field the kernel always encodes: `proctitle`, EXECVE arguments); such a
    /// value is kept as written. Unquoted plain text in other encoded keys (`acct=root` from old PAM) is
    /// kept as written without being counted. A quote left open takes the rest of the line, as a cut
    /// user-space message still carries its leading fields.
    public static func parse(_ line: Substring, badHexFields: inout Int) -> Outcome {
        var cache = AuditTokenCache()
        var types = AuditTokenCache()
        var line = line
        return line.withUTF8 { buffer in
            parse(
                validUTF8: UnsafeRawBufferPointer(buffer), badHexFields: &badHexFields, keys: &cache,
                types: &types)
        }
    }

    /// Parses one line of bytes known to be valid UTF-8, over the bytes: no `Character` is formed and
    /// keys come from `keys`, type names from `types`.
    static func parse(
        validUTF8 line: UnsafeRawBufferPointer, badHexFields: inout Int, keys: inout AuditTokenCache,
        types: inout AuditTokenCache
    ) -> Outcome {
        var start = 0
        var end = line.count
        while start < end, line[start] == UInt8(ascii: " ") || line[start] == UInt8(ascii: "\t") { start += 1 }
        while end > start {
            let last = line[end - 1]
            guard last == 0x0a || last == 0x0d || last == 0x20 || last == 0x09 else { break }
            end -= 1
        }
        if start == end { return .blank }
        func hasPrefix(_ prefix: StaticString, at offset: Int) -> Bool {
            let count = prefix.utf8CodeUnitCount
            guard end - offset >= count else { return false }
            for index in 0..<count where line[offset + index] != prefix.utf8Start[index] { return false }
            return true
        }
        func find(_ byte: UInt8, from offset: Int) -> Int? {
            var index = offset
            while index < end {
                if line[index] == byte { return index }
                index += 1
            }
            return nil
        }
        var node = ""
        if hasPrefix("node=", at: start) {
            guard let space = find(0x20, from: start) else { return .skipped(.notAuditRecord) }
            node = String(decoding: UnsafeRawBufferPointer(rebasing: line[(start + 5)..<space]), as: UTF8.self)
            start = space + 1
        }
        guard hasPrefix("type=", at: start), let typeEnd = find(0x20, from: start) else {
            return .skipped(hasPrefix("type=", at: start) ? .truncated : .notAuditRecord)
        }
        let typeName = UnsafeRawBufferPointer(rebasing: line[(start + 5)..<typeEnd])
        var rest = typeEnd + 1
        guard hasPrefix("msg=audit(", at: rest) else {
            return .skipped(hasPrefix("msg=", at: rest) ? .noTimestamp : .notAuditRecord)
        }
        rest += 10
        guard let close = find(UInt8(ascii: ")"), from: rest) else { return .skipped(.truncated) }
        // SECONDS.MILLIS:SERIAL
        var index = rest
        func digits(_ limit: Int) -> (UInt64, Bool)? {
            var value: UInt64 = 0
            let first = index
            while index < limit, line[index] &- UInt8(ascii: "0") < 10 {
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(UInt64(line[index] &- UInt8(ascii: "0")))
                if overflow1 || overflow2 { return nil }
                value = sum
                index += 1
            }
            return index > first ? (value, true) : nil
        }
        guard let (seconds, _) = digits(close), seconds <= UInt64(Int64.max), index < close,
            line[index] == UInt8(ascii: ".")
        else { return .skipped(.truncated) }
        index += 1
        guard let (millis, _) = digits(close), millis <= UInt64(Int64.max), index < close,
            line[index] == UInt8(ascii: ":")
        else { return .skipped(.truncated) }
        index += 1
        guard let (serial, _) = digits(close), index == close else { return .skipped(.truncated) }
        rest = close + 1
        // Some daemon records (DAEMON_CONFIG of auditd 2.x) have no colon after the stamp.
        if rest < end, line[rest] == UInt8(ascii: ":") { rest += 1 }
        guard let type = types.lookup(typeName, make: { AuditRecordType.number(named: $0) }).number else {
            return .skipped(.unknownRecordType)
        }
        var tokenizer = Tokenizer(line: line, offset: rest, end: end)
        tokenizer.spans.reserveCapacity(24)
        guard
            tokenizer.tokenize(
                from: rest, to: end, isExecve: type == AuditRecordType.execve, keys: &keys, badHex: &badHexFields)
        else { return .skipped(.truncated) }
        var text = [UInt8](UnsafeRawBufferPointer(rebasing: line[rest..<end]))
        text.append(contentsOf: tokenizer.decoded)
        return .record(
            AuditRecord(
                type: type, node: node, seconds: Int64(seconds), milliseconds: Int64(millis), serial: serial,
                text: text, spans: tokenizer.spans))
    }

    /// Splits `key=value` pairs over bytes; words without `=` (the `avc:  denied  { read }` prose) are
    /// ignored. Spans are relative to `offset` (the start of the kept text); hex-decoded values go to
    /// `decoded`, placed after the text.
    private struct Tokenizer {
        let line: UnsafeRawBufferPointer
        let offset: Int
        let end: Int
        var spans: [AuditRecord.Span] = []
        var decoded: [UInt8] = []

        init(line: UnsafeRawBufferPointer, offset: Int, end: Int) {
            self.line = line
            self.offset = offset
            self.end = end
        }

        private mutating func append(_ key: String, _ start: Int, _ stop: Int) {
            spans.append(AuditRecord.Span(key: key, start: Int32(start - offset), count: Int32(stop - start)))
        }

        /// Returns false when a quote is never closed.
        mutating func tokenize(
            from first: Int, to last: Int, isExecve: Bool, keys: inout AuditTokenCache, badHex: inout Int
        ) -> Bool {
            let space = UInt8(ascii: " ")
            let equals = UInt8(ascii: "=")
            var index = first
            while index < last {
                while index < last, line[index] == space || line[index] == UInt8(ascii: "\t") { index += 1 }
                if index >= last { break }
                var keyEnd = index
                while keyEnd < last, line[keyEnd] != equals, line[keyEnd] != space { keyEnd += 1 }
                guard keyEnd < last, line[keyEnd] == equals else {
                    index = keyEnd
                    continue
                }
                let keyBytes = UnsafeRawBufferPointer(rebasing: line[index..<keyEnd])
                let (key, encoded) = keys.lookup(keyBytes, make: { AuditRecordParser.encodedKeys.contains($0) ? 1 : 0 })
                var valueStart = keyEnd + 1
                if valueStart < last, line[valueStart] == UInt8(ascii: "\"") || line[valueStart] == UInt8(ascii: "'") {
                    let quote = line[valueStart]
                    valueStart += 1
                    var close = valueStart
                    while close < last, line[close] != quote { close += 1 }
                    if key == "msg", quote == UInt8(ascii: "'") {
                        // A user-space message: its own key=values follow the outer ones.
                        let before = spans.count
                        if !tokenize(from: valueStart, to: close, isExecve: false, keys: &keys, badHex: &badHex) {
                            return false
                        }
                        if spans.count == before { append(key, valueStart, close) }
                    } else {
                        append(key, valueStart, close)
                    }
                    index = close < last ? close + 1 : close
                } else {
                    var stop = valueStart
                    while stop < last, line[stop] != space { stop += 1 }
                    let raw = UnsafeRawBufferPointer(rebasing: line[valueStart..<stop])
                    if stop > valueStart, isExecve ? Self.isArgument(keyBytes) : encoded == 1,
                        !Self.isPlaceholder(raw)
                    {
                        if raw.count % 2 == 0, decodeHex(raw) {
                            let count = raw.count / 2
                            let start = end + decoded.count - count
                            spans.append(
                                AuditRecord.Span(key: key, start: Int32(start - offset), count: Int32(count)))
                        } else {
                            let alwaysEncoded = isExecve || key == "proctitle"
                            if alwaysEncoded || raw.allSatisfy({ AuditRecordParser.nibble($0) != nil }) {
                                badHex += 1
                            }
                            append(key, valueStart, stop)
                        }
                    } else {
                        append(key, valueStart, stop)
                    }
                    index = stop
                }
            }
            return true
        }

        /// Whether an EXECVE key names argument text (`a0`, `a1[2]`), not a number (`argc`, `a1_len`).
        private static func isArgument(_ key: UnsafeRawBufferPointer) -> Bool {
            guard key.first == UInt8(ascii: "a"), !key.elementsEqual("argc".utf8) else { return false }
            return !(key.count >= 4 && key[(key.count - 4)...].elementsEqual("_len".utf8))
        }

        private static func isPlaceholder(_ raw: UnsafeRawBufferPointer) -> Bool {
            raw.elementsEqual("(null)".utf8) || raw.elementsEqual("?".utf8) || raw.elementsEqual("(none)".utf8)
        }

        /// Appends the bytes of even-length hex `raw` to `decoded`; false (and nothing kept) when not hex.
        private mutating func decodeHex(_ raw: UnsafeRawBufferPointer) -> Bool {
            let mark = decoded.count
            var index = 0
            while index < raw.count {
                guard let high = AuditRecordParser.nibble(raw[index]),
                    let low = AuditRecordParser.nibble(raw[index + 1])
                else {
                    decoded.removeLast(decoded.count - mark)
                    return false
                }
                decoded.append(high << 4 | low)
                index += 2
            }
            return true
        }
    }

    /// Decodes hex text into a string (NULs kept, invalid UTF-8 repaired); nil when not even-length hex.
    public static func decodeHex(_ hex: some StringProtocol) -> String? {
        guard let bytes = hexBytes(hex) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes of hex text, or nil when it is not even-length hex.
    public static func hexBytes(_ hex: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard !utf8.isEmpty, utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

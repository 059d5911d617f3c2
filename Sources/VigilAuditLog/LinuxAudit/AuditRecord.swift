/// One line of an auditd log: `[node=HOST ]type=NAME msg=audit(SECONDS.MILLIS:SERIAL): key=value …`.
///
/// Values are stored decoded: quoted strings without their quotes, hex-encoded fields (`proctitle`,
/// `name`, `cwd`, `exe`, EXECVE arguments…) as their text, and the key=values of a nested user-space
/// `msg='…'` appended after the outer ones.
public struct AuditRecord: Sendable, Equatable {
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
    /// The fields in the order they appear; keys may repeat (the outer and the nested `msg` each have a
    /// `pid`), in which case ``value(_:)`` returns the first.
    public var fields: [(key: String, value: String)]

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
        self.fields = fields
    }

    /// The first value of `key`, or nil.
    public func value(_ key: String) -> String? {
        fields.first(where: { $0.key == key })?.value
    }

    /// The event's time in nanoseconds since the Unix epoch.
    public var time: Int64 { seconds &* 1_000_000_000 &+ milliseconds &* 1_000_000 }

    public static func == (lhs: AuditRecord, rhs: AuditRecord) -> Bool {
        lhs.type == rhs.type && lhs.node == rhs.node && lhs.seconds == rhs.seconds
            && lhs.milliseconds == rhs.milliseconds && lhs.serial == rhs.serial
            && lhs.fields.elementsEqual(rhs.fields, by: { $0.key == $1.key && $0.value == $1.value })
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
        var text = line.drop(while: { $0 == " " || $0 == "\t" })
        while let last = text.last, last == "\n" || last == "\r" || last == " " || last == "\t" {
            text = text.dropLast()
        }
        if text.isEmpty { return .blank }
        var node = ""
        if text.hasPrefix("node=") {
            guard let space = text.firstIndex(of: " ") else { return .skipped(.notAuditRecord) }
            node = String(text[text.index(text.startIndex, offsetBy: 5)..<space])
            text = text[text.index(after: space)...]
        }
        guard text.hasPrefix("type="), let typeEnd = text.firstIndex(of: " ") else {
            return .skipped(text.hasPrefix("type=") ? .truncated : .notAuditRecord)
        }
        let typeName = text[text.index(text.startIndex, offsetBy: 5)..<typeEnd]
        var rest = text[text.index(after: typeEnd)...]
        guard rest.hasPrefix("msg=audit(") else {
            return .skipped(rest.hasPrefix("msg=") ? .noTimestamp : .notAuditRecord)
        }
        rest = rest.dropFirst(10)
        guard let close = rest.firstIndex(of: ")") else { return .skipped(.truncated) }
        let stamp = rest[..<close]
        rest = rest[rest.index(after: close)...]
        // Some daemon records (DAEMON_CONFIG of auditd 2.x) have no colon after the stamp.
        if rest.hasPrefix(":") { rest = rest.dropFirst() }
        guard let colon = stamp.firstIndex(of: ":"), let dot = stamp.firstIndex(of: "."), dot < colon,
            let seconds = Int64(stamp[..<dot]), let millis = Int64(stamp[stamp.index(after: dot)..<colon]),
            let serial = UInt64(stamp[stamp.index(after: colon)...])
        else { return .skipped(.truncated) }
        guard let type = AuditRecordType.number(named: typeName) else { return .skipped(.unknownRecordType) }
        var fields: [(key: String, value: String)] = []
        guard tokenize(rest, isExecve: type == AuditRecordType.execve, into: &fields, badHex: &badHexFields)
        else { return .skipped(.truncated) }
        return .record(
            AuditRecord(
                type: type, node: node, seconds: seconds, milliseconds: millis, serial: serial, fields: fields))
    }

    /// Splits `key=value` pairs; words without `=` (the `avc:  denied  { read }` prose) are ignored.
    /// Returns false when a quote is never closed.
    private static func tokenize(
        _ text: Substring, isExecve: Bool, into fields: inout [(key: String, value: String)], badHex: inout Int
    ) -> Bool {
        // Scan UTF-8 bytes, not Characters: every delimiter is ASCII, so the indices found are valid for
        // slicing `text`, and byte comparisons avoid grapheme breaking on every step.
        let utf8 = text.utf8
        let space = UInt8(ascii: " ")
        let equals = UInt8(ascii: "=")
        var index = utf8.startIndex
        while index < utf8.endIndex {
            while index < utf8.endIndex, utf8[index] == space || utf8[index] == UInt8(ascii: "\t") {
                index = utf8.index(after: index)
            }
            if index >= utf8.endIndex { break }
            var keyEnd = index
            while keyEnd < utf8.endIndex, utf8[keyEnd] != equals, utf8[keyEnd] != space {
                keyEnd = utf8.index(after: keyEnd)
            }
            guard keyEnd < utf8.endIndex, utf8[keyEnd] == equals else {
                index = keyEnd
                continue
            }
            let key = String(text[index..<keyEnd])
            var valueStart = utf8.index(after: keyEnd)
            if valueStart < utf8.endIndex,
                utf8[valueStart] == UInt8(ascii: "\"") || utf8[valueStart] == UInt8(ascii: "'")
            {
                let quote = utf8[valueStart]
                valueStart = utf8.index(after: valueStart)
                let end = utf8[valueStart...].firstIndex(of: quote) ?? utf8.endIndex
                let value = text[valueStart..<end]
                if key == "msg", quote == UInt8(ascii: "'") {
                    // A user-space message: its own key=values follow the outer ones.
                    let before = fields.count
                    if !tokenize(value, isExecve: false, into: &fields, badHex: &badHex) { return false }
                    if fields.count == before { fields.append((key, String(value))) }
                } else {
                    fields.append((key, String(value)))
                }
                index = end < utf8.endIndex ? utf8.index(after: end) : end
            } else {
                var end = valueStart
                while end < utf8.endIndex, utf8[end] != space { end = utf8.index(after: end) }
                let raw = text[valueStart..<end]
                if shouldDecode(key: key, isExecve: isExecve), raw != "(null)", raw != "?", raw != "(none)",
                    !raw.isEmpty
                {
                    if let decoded = decodeHex(raw) {
                        fields.append((key, decoded))
                    } else {
                        let alwaysEncoded = isExecve || key == "proctitle"
                        if alwaysEncoded || raw.utf8.allSatisfy({ nibble($0) != nil }) { badHex += 1 }
                        fields.append((key, String(raw)))
                    }
                } else {
                    fields.append((key, String(raw)))
                }
                index = end
            }
        }
        return true
    }

    private static func shouldDecode(key: String, isExecve: Bool) -> Bool {
        if isExecve {
            // a0, a1[2]: argument text; argc and aN_len are numbers.
            return key.first == "a" && key != "argc" && !key.hasSuffix("_len")
        }
        return encodedKeys.contains(key)
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

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

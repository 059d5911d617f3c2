// A byte-level JSON (RFC 8259) reader and writer with no dependencies.
//
// The reader decodes high-volume event logs (CloudTrail, Kubernetes audit logs), so it works directly over
// raw bytes with an index, never recurses (nesting is tracked on explicit stacks), and builds strings straight
// from the input bytes when they contain no escapes. The writer appends JSON text to a reusable byte buffer
// for JSON Lines output.

// MARK: - Values

/// A parsed JSON value. Object members keep their order.
public enum JSONValue: Sendable, Equatable {
    /// The literal `null`.
    case null
    /// The literal `true` or `false`.
    case bool(Bool)
    /// A number written without fraction or exponent that fits `Int64`.
    case integer(Int64)
    /// A number written without fraction or exponent that is larger than `Int64.max` but fits `UInt64`.
    case unsigned(UInt64)
    /// Any other number: one written with a fraction or exponent, or an integer too large for `UInt64`.
    ///
    /// Magnitudes beyond the range of `Double` become infinity (or zero), as `Double(String)` produces them.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, with its members in document order.
    case object(JSONObject)
}

/// Ordered object members; lookups are linear (objects in logs are small).
public struct JSONObject: Sendable, Equatable, Sequence {
    /// The members in document (or insertion) order. Duplicate keys are kept.
    public var members: [(key: String, value: JSONValue)]

    /// Creates an object from members, kept in the given order.
    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = members
    }

    /// The value of the first member named `key`, or `nil` if there is none.
    public subscript(key: String) -> JSONValue? {
        for member in members where member.key == key {
            return member.value
        }
        return nil
    }

    /// The number of members.
    public var count: Int { members.count }

    /// The member names, in order (duplicates included).
    public var keys: [String] { members.map(\.key) }

    /// Returns an iterator over the members, in order.
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }

    /// Two objects are equal when they have the same members (keys and values) in the same order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for (left, right) in zip(lhs.members, rhs.members) where left.key != right.key || left.value != right.value {
            return false
        }
        return true
    }
}

extension JSONValue {
    /// The string, if this is `.string`.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The Boolean, if this is `.bool`.
    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The value as `Int64`: from `.integer`, from `.unsigned` when it fits, and from `.double` only when it is
    /// integral and fits.
    public var int64: Int64? {
        switch self {
        case .integer(let value): value
        case .unsigned(let value): Int64(exactly: value)
        case .double(let value):
            // Range check then truncating conversion, avoiding `Int64(exactly:)` (which needs libm's `trunc`).
            value >= -0x1p63 && value < 0x1p63 && Double(Int64(value)) == value ? Int64(value) : nil
        default: nil
        }
    }

    /// The value as `UInt64`: from non-negative `.integer`, from `.unsigned`, and from `.double` only when it is
    /// integral and fits.
    public var uint64: UInt64? {
        switch self {
        case .integer(let value): UInt64(exactly: value)
        case .unsigned(let value): value
        case .double(let value):
            value >= 0 && value < 0x1p64 && Double(UInt64(value)) == value ? UInt64(value) : nil
        default: nil
        }
    }

    /// The value as `Double`, from any numeric case (large integers are rounded to the nearest `Double`).
    public var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .unsigned(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    /// The elements, if this is `.array`.
    public var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The object, if this is `.object`.
    public var object: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Whether this is `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value of the first member named `key` if this is an object; `nil` otherwise.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }
}

// MARK: - Errors

/// Why and where JSON text could not be parsed.
///
/// Two errors are equal when their `code` and `offset` are equal; the extra detail shown in `description`
/// (such as the unexpected character) is not compared.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem. New codes may be added in the future.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        /// A short human-readable explanation, used in `JSONParseError.description`.
        public let description: String

        private init(_ name: String, _ description: String) {
            self.name = name
            self.description = description
        }

        /// The input ended before the value was complete.
        public static let unexpectedEnd = Code("unexpectedEnd", "unexpected end of input")
        /// A character that cannot appear at this point.
        public static let unexpectedCharacter = Code("unexpectedCharacter", "unexpected character")
        /// A malformed number (leading zero, missing digits, ...).
        public static let invalidNumber = Code("invalidNumber", "invalid number")
        /// A backslash escape that is not one of `\" \\ \/ \b \f \n \r \t \uXXXX`.
        public static let invalidEscape = Code("invalidEscape", "invalid escape sequence")
        /// A `\u` escape that is an unpaired or misordered UTF-16 surrogate.
        public static let invalidUnicode = Code("invalidUnicode", "invalid Unicode escape (unpaired surrogate)")
        /// Bytes that are not well-formed UTF-8.
        public static let invalidUTF8 = Code("invalidUTF8", "invalid UTF-8")
        /// Arrays and objects nested deeper than the maximum depth.
        public static let tooDeep = Code("tooDeep", "nesting too deep")
        /// Something other than whitespace after the value.
        public static let trailingCharacters = Code("trailingCharacters", "unexpected characters after the value")
        /// A raw control character (below U+0020) inside a string.
        public static let controlCharacterInString = Code(
            "controlCharacterInString", "unescaped control character in string")
    }

    /// The kind of problem.
    public var code: Code
    /// The byte offset into the input where the problem is (the input length for `unexpectedEnd`).
    public var offset: Int
    /// Extra context for `description`, such as the unexpected character and what was expected.
    var detail: String?

    /// Creates an error with a code and a byte offset.
    public init(code: Code, offset: Int) {
        self.code = code
        self.offset = offset
        self.detail = nil
    }

    init(_ code: Code, at offset: Int, _ detail: String? = nil) {
        self.code = code
        self.offset = offset
        self.detail = detail
    }

    /// A message such as `invalid JSON at byte 17: unexpected character '}' (expected a value)`.
    public var description: String {
        var text = "invalid JSON at byte \(offset): \(code.description)"
        if let detail {
            text += " "
            text += detail
        }
        return text
    }

    /// Compares `code` and `offset` only.
    public static func == (lhs: JSONParseError, rhs: JSONParseError) -> Bool {
        lhs.code == rhs.code && lhs.offset == rhs.offset
    }
}

// MARK: - Parser

/// Parses JSON text (RFC 8259, strictly) into `JSONValue`s.
///
/// The parser rejects comments, trailing commas, `NaN`/`Infinity`, leading zeros, leading `+`, raw control
/// characters in strings, unpaired surrogate escapes and malformed UTF-8 in strings. A byte order mark is not
/// skipped. It never recurses, so hostile nesting only costs memory up to `maximumDepth` levels; note that
/// `JSONValue` itself is destroyed, compared and serialized recursively, so keep `maximumDepth` modest.
public enum JSONParser {
    /// The default limit on nested arrays and objects.
    public static let defaultMaximumDepth = 512

    /// Parses exactly one JSON value (surrounding whitespace allowed); anything else after it is an error.
    ///
    /// - Parameters:
    ///   - bytes: UTF-8 JSON text, read as `UInt8`s; it is not retained after the call.
    ///   - maximumDepth: The most arrays and objects that may be open at once; one more throws `tooDeep`.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, maximumDepth: Int = defaultMaximumDepth
    ) throws(JSONParseError) -> JSONValue {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw JSONParseError(.unexpectedEnd, at: 0)
        }
        var state = JSONParserState(
            base: base.assumingMemoryBound(to: UInt8.self), end: bytes.count, maximumDepth: maximumDepth)
        return try state.parseDocument()
    }

    /// Parses exactly one JSON value (surrounding whitespace allowed); anything else after it is an error.
    public static func parse(
        _ bytes: [UInt8], maximumDepth: Int = defaultMaximumDepth
    ) throws(JSONParseError) -> JSONValue {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONParseError) -> JSONValue in
                try parse(buffer, maximumDepth: maximumDepth)
            }
        }
        return try result.get()
    }

    /// Parses exactly one JSON value (surrounding whitespace allowed); anything else after it is an error.
    public static func parse(
        _ text: String, maximumDepth: Int = defaultMaximumDepth
    ) throws(JSONParseError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { buffer in
            Result { () throws(JSONParseError) -> JSONValue in
                try parse(UnsafeRawBufferPointer(buffer), maximumDepth: maximumDepth)
            }
        }
        return try result.get()
    }

    /// Parses exactly one JSON value (surrounding whitespace allowed); anything else after it is an error.
    /// Offsets in errors are relative to the start of the substring.
    public static func parse(
        _ text: Substring, maximumDepth: Int = defaultMaximumDepth
    ) throws(JSONParseError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { buffer in
            Result { () throws(JSONParseError) -> JSONValue in
                try parse(UnsafeRawBufferPointer(buffer), maximumDepth: maximumDepth)
            }
        }
        return try result.get()
    }
}

/// Exact powers of ten representable in a `Double` (10^0 ... 10^22), for the fast number path.
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

/// The mutable state of one parse: input bytes, position and the explicit nesting stacks.
private struct JSONParserState {
    /// An open array or object: where its elements (and, for objects, keys) start on the shared stacks.
    struct Frame {
        var isObject: Bool
        var valueStart: Int
        var keyStart: Int
    }

    let base: UnsafePointer<UInt8>
    let end: Int
    let maximumDepth: Int
    var index = 0
    var frames: [Frame] = []
    var values: [JSONValue] = []
    var keys: [String] = []
    var scratch: [UInt8] = []

    init(base: UnsafePointer<UInt8>, end: Int, maximumDepth: Int) {
        self.base = base
        self.end = end
        self.maximumDepth = maximumDepth
        frames.reserveCapacity(8)
        values.reserveCapacity(32)
        keys.reserveCapacity(32)
    }

    // MARK: Document

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        var value = JSONValue.null
        parsing: while true {
            // A value starts at `index` (whitespace already skipped).
            guard index < end else { throw JSONParseError(.unexpectedEnd, at: end) }
            switch base[index] {
            case UInt8(ascii: "{"):
                guard frames.count < maximumDepth else { throw tooDeep() }
                index += 1
                skipWhitespace()
                guard index < end else { throw JSONParseError(.unexpectedEnd, at: end) }
                if base[index] == UInt8(ascii: "}") {
                    index += 1
                    value = .object(JSONObject())
                } else {
                    frames.append(Frame(isObject: true, valueStart: values.count, keyStart: keys.count))
                    try parseKey()
                    continue parsing
                }
            case UInt8(ascii: "["):
                guard frames.count < maximumDepth else { throw tooDeep() }
                index += 1
                skipWhitespace()
                guard index < end else { throw JSONParseError(.unexpectedEnd, at: end) }
                if base[index] == UInt8(ascii: "]") {
                    index += 1
                    value = .array([])
                } else {
                    frames.append(Frame(isObject: false, valueStart: values.count, keyStart: keys.count))
                    continue parsing
                }
            case UInt8(ascii: "\""):
                value = .string(try parseString())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = try parseNumber()
            case UInt8(ascii: "t"):
                try matchLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try matchLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try matchLiteral("null")
                value = .null
            default:
                throw unexpectedCharacter(at: index, expected: "a value")
            }

            // A value is complete: add it to the innermost container and close every container that ends here.
            while let frame = frames.last {
                values.append(value)
                skipWhitespace()
                guard index < end else { throw JSONParseError(.unexpectedEnd, at: end) }
                let byte = base[index]
                if byte == UInt8(ascii: ",") {
                    index += 1
                    skipWhitespace()
                    if frame.isObject { try parseKey() }
                    continue parsing
                }
                if frame.isObject {
                    guard byte == UInt8(ascii: "}") else {
                        throw unexpectedCharacter(at: index, expected: "',' or '}'")
                    }
                    index += 1
                    let count = values.count - frame.valueStart
                    var members: [(key: String, value: JSONValue)] = []
                    members.reserveCapacity(count)
                    for offset in 0..<count {
                        members.append((key: keys[frame.keyStart + offset], value: values[frame.valueStart + offset]))
                    }
                    keys.removeLast(count)
                    values.removeLast(count)
                    value = .object(JSONObject(members))
                } else {
                    guard byte == UInt8(ascii: "]") else {
                        throw unexpectedCharacter(at: index, expected: "',' or ']'")
                    }
                    index += 1
                    value = .array(Array(values[frame.valueStart...]))
                    values.removeLast(values.count - frame.valueStart)
                }
                frames.removeLast()
            }
            break parsing
        }
        skipWhitespace()
        guard index == end else { throw JSONParseError(.trailingCharacters, at: index) }
        return value
    }

    /// Parses `"key"` `:` and the whitespace after it, pushing the key.
    mutating func parseKey() throws(JSONParseError) {
        guard index < end else { throw JSONParseError(.unexpectedEnd, at: end) }
        guard base[index] == UInt8(ascii: "\"") else {
            throw unexpectedCharacter(at: index, expected: "a string key")
        }
        keys.append(try parseString())
        skipWhitespace()
        guard index < end else { throw JSONParseError(.unexpectedEnd, at: end) }
        guard base[index] == UInt8(ascii: ":") else { throw unexpectedCharacter(at: index, expected: "':'") }
        index += 1
        skipWhitespace()
    }

    @inline(__always)
    mutating func skipWhitespace() {
        var i = index
        while i < end {
            let byte = base[i]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { break }
            i += 1
        }
        index = i
    }

    mutating func matchLiteral(_ literal: StaticString) throws(JSONParseError) {
        let expected = literal.utf8Start
        for k in 0..<literal.utf8CodeUnitCount {
            let i = index + k
            guard i < end else { throw JSONParseError(.unexpectedEnd, at: end) }
            guard base[i] == expected[k] else { throw unexpectedCharacter(at: i, expected: "\"\(literal)\"") }
        }
        index += literal.utf8CodeUnitCount
    }

    // MARK: Strings

    /// Advances `i` over string bytes that need no attention, eight at a time, stopping at the first `"`, `\\`
    /// or control character, or where fewer than eight bytes remain. The skipped bytes are OR-ed into `high`,
    /// whose bit 7 of each byte then tells whether any of them was non-ASCII.
    @inline(__always)
    func skipPlainStringBytes(_ i: inout Int, _ high: inout UInt64) {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let tops: UInt64 = 0x8080_8080_8080_8080
        let raw = UnsafeRawPointer(base)
        while i &+ 8 <= end {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            // Bit 7 of a byte is set for a zero byte in `quote`/`backslash` and for a byte below 0x20 in `word`;
            // borrows can only add false hits above the first true one, so the lowest hit is exact.
            let hits =
                ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (word &- ones &* 0x20) & ~word)
                & tops
            if hits != 0 {
                let plain = hits.trailingZeroBitCount >> 3
                high |= word & ~(UInt64.max << (plain << 3))
                i &+= plain
                return
            }
            high |= word
            i &+= 8
        }
    }

    /// Parses a string whose opening quote is at `index`.
    mutating func parseString() throws(JSONParseError) -> String {
        let start = index + 1
        var i = start
        var high: UInt64 = 0
        while true {
            skipPlainStringBytes(&i, &high)
            guard i < end else { throw JSONParseError(.unexpectedEnd, at: end) }
            let byte = base[i]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                return try parseEscapedString(start: start, firstEscape: i, high: high)
            }
            if byte < 0x20 { throw JSONParseError(.controlCharacterInString, at: i) }
            high |= UInt64(byte)
            i += 1
        }
        index = i + 1
        let bytes = UnsafeBufferPointer(start: base + start, count: i - start)
        if high & 0x8080_8080_8080_8080 == 0 { return String(decoding: bytes, as: UTF8.self) }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw JSONParseError(.invalidUTF8, at: firstInvalidUTF8(from: start, to: i))
        }
        return string
    }

    /// Finishes a string that contains escapes, decoding it into `scratch`.
    mutating func parseEscapedString(start: Int, firstEscape: Int, high: UInt64) throws(JSONParseError) -> String {
        var high = high
        scratch.removeAll(keepingCapacity: true)
        appendToScratch(from: start, to: firstEscape)
        var i = firstEscape
        var runStart = i
        while true {
            skipPlainStringBytes(&i, &high)
            guard i < end else { throw JSONParseError(.unexpectedEnd, at: end) }
            let byte = base[i]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                appendToScratch(from: runStart, to: i)
                guard i + 1 < end else { throw JSONParseError(.unexpectedEnd, at: end) }
                switch base[i + 1] {
                case UInt8(ascii: "\""): scratch.append(0x22)
                case UInt8(ascii: "\\"): scratch.append(0x5C)
                case UInt8(ascii: "/"): scratch.append(0x2F)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    i = try decodeUnicodeEscape(at: i)
                    runStart = i
                    continue
                default:
                    throw JSONParseError(.invalidEscape, at: i)
                }
                i += 2
                runStart = i
                continue
            }
            if byte < 0x20 { throw JSONParseError(.controlCharacterInString, at: i) }
            high |= UInt64(byte)
            i += 1
        }
        appendToScratch(from: runStart, to: i)
        let close = i
        index = close + 1
        if high & 0x8080_8080_8080_8080 == 0 { return String(decoding: scratch, as: UTF8.self) }
        guard let string = String(validating: scratch, as: UTF8.self) else {
            throw JSONParseError(.invalidUTF8, at: firstInvalidUTF8(from: start, to: close))
        }
        return string
    }

    /// Copies the input bytes `from..<to` to `scratch`.
    @inline(__always)
    mutating func appendToScratch(from start: Int, to limit: Int) {
        if start < limit { scratch.append(contentsOf: UnsafeBufferPointer(start: base + start, count: limit - start)) }
    }

    /// Decodes `\uXXXX` (or a surrogate pair `\uXXXX\uXXXX`) at `i`, appending UTF-8 to `scratch`.
    /// Returns the index after the escape.
    mutating func decodeUnicodeEscape(at i: Int) throws(JSONParseError) -> Int {
        let unit = try hexQuad(escapeAt: i)
        var scalar = unit
        var next = i + 6
        if unit >= 0xD800 && unit <= 0xDBFF {
            // A high surrogate must be followed directly by a `\u` escape holding a low surrogate.
            guard next < end else { throw JSONParseError(.unexpectedEnd, at: end) }
            guard base[next] == UInt8(ascii: "\\") else { throw JSONParseError(.invalidUnicode, at: i) }
            guard next + 1 < end else { throw JSONParseError(.unexpectedEnd, at: end) }
            guard base[next + 1] == UInt8(ascii: "u") else { throw JSONParseError(.invalidUnicode, at: i) }
            let low = try hexQuad(escapeAt: next)
            guard low >= 0xDC00 && low <= 0xDFFF else { throw JSONParseError(.invalidUnicode, at: i) }
            scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            next += 6
        } else if unit >= 0xDC00 && unit <= 0xDFFF {
            throw JSONParseError(.invalidUnicode, at: i)
        }
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(truncatingIfNeeded: scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(truncatingIfNeeded: 0xC0 | (scalar >> 6)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            scratch.append(UInt8(truncatingIfNeeded: 0xE0 | (scalar >> 12)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F)))
        default:
            scratch.append(UInt8(truncatingIfNeeded: 0xF0 | (scalar >> 18)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 12) & 0x3F)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F)))
        }
        return next
    }

    /// Reads the four hex digits of the `\u` escape whose backslash is at `i`.
    func hexQuad(escapeAt i: Int) throws(JSONParseError) -> UInt32 {
        var result: UInt32 = 0
        for k in (i + 2)..<(i + 6) {
            guard k < end else { throw JSONParseError(.unexpectedEnd, at: end) }
            let byte = base[k]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte &- 0x30
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte &- 0x57
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte &- 0x37
            default: throw JSONParseError(.invalidEscape, at: i)
            }
            result = result << 4 | UInt32(digit)
        }
        return result
    }

    /// The offset of the first byte in `start..<limit` that begins an ill-formed UTF-8 sequence.
    /// Only called once a string is known to be invalid; escapes are plain ASCII and pass through.
    func firstInvalidUTF8(from start: Int, to limit: Int) -> Int {
        var i = start
        while i < limit {
            let lead = base[i]
            if lead < 0x80 {
                i += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return i
            }
            guard i + length <= limit else { return i }
            let second = base[i + 1]
            guard second >= low && second <= high else { return i }
            for k in 2..<length where base[i + k] & 0xC0 != 0x80 {
                return i
            }
            i += length
        }
        return start
    }

    // MARK: Numbers

    /// Parses a number starting at `index` (a `-` or a digit).
    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        var i = index
        let negative = base[i] == UInt8(ascii: "-")
        if negative {
            i += 1
            guard i < end else { throw JSONParseError(.unexpectedEnd, at: end) }
        }
        var mantissa: UInt64 = 0
        var overflow = false
        let first = base[i] &- 0x30
        if first == 0 {
            i += 1
            if i < end && base[i] &- 0x30 <= 9 { throw JSONParseError(.invalidNumber, at: i) }
        } else if first <= 9 {
            while i < end {
                let digit = base[i] &- 0x30
                guard digit <= 9 else { break }
                if !overflow {
                    let (times10, o1) = mantissa.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
                    if o1 || o2 { overflow = true } else { mantissa = sum }
                }
                i += 1
            }
        } else {
            throw JSONParseError(.invalidNumber, at: i)
        }

        var isInteger = true
        var fractionDigits = 0
        if i < end && base[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard i < end else { throw JSONParseError(.unexpectedEnd, at: end) }
            guard base[i] &- 0x30 <= 9 else { throw JSONParseError(.invalidNumber, at: i) }
            while i < end {
                let digit = base[i] &- 0x30
                guard digit <= 9 else { break }
                if !overflow {
                    let (times10, o1) = mantissa.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
                    if o1 || o2 { overflow = true } else { mantissa = sum; fractionDigits += 1 }
                }
                i += 1
            }
        }

        var exponent = 0
        if i < end && (base[i] == UInt8(ascii: "e") || base[i] == UInt8(ascii: "E")) {
            isInteger = false
            i += 1
            guard i < end else { throw JSONParseError(.unexpectedEnd, at: end) }
            var negativeExponent = false
            if base[i] == UInt8(ascii: "+") || base[i] == UInt8(ascii: "-") {
                negativeExponent = base[i] == UInt8(ascii: "-")
                i += 1
                guard i < end else { throw JSONParseError(.unexpectedEnd, at: end) }
            }
            guard base[i] &- 0x30 <= 9 else { throw JSONParseError(.invalidNumber, at: i) }
            while i < end {
                let digit = base[i] &- 0x30
                guard digit <= 9 else { break }
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(digit) }
                i += 1
            }
            if negativeExponent { exponent = -exponent }
        }
        index = i

        if isInteger && !overflow {
            if !negative {
                return mantissa <= UInt64(Int64.max) ? .integer(Int64(mantissa)) : .unsigned(mantissa)
            }
            if mantissa <= UInt64(Int64.max) { return .integer(-Int64(mantissa)) }
            if mantissa == UInt64(Int64.max) + 1 { return .integer(.min) }
        }
        // Fast path (exact): a mantissa of at most 53 bits scaled by an exactly representable power of ten
        // is correctly rounded by a single multiplication or division.
        if !overflow && mantissa <= 1 << 53 {
            let power = exponent - fractionDigits
            if power >= -22 && power <= 22 {
                var result = Double(mantissa)
                if power < 0 { result /= exactPowersOfTen[-power] } else { result *= exactPowersOfTen[power] }
                return .double(negative ? -result : result)
            }
        }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: i - start), as: UTF8.self)
        guard let result = Double(text) else { throw JSONParseError(.invalidNumber, at: start) }
        return .double(result)
    }

    // MARK: Errors

    func tooDeep() -> JSONParseError {
        JSONParseError(.tooDeep, at: index, "(maximum depth \(maximumDepth))")
    }

    func unexpectedCharacter(at i: Int, expected: String) -> JSONParseError {
        let byte = base[i]
        let shown: String
        if byte >= 0x20 && byte < 0x7F {
            shown = "'\(Character(Unicode.Scalar(byte)))'"
        } else {
            let hex = String(byte, radix: 16, uppercase: true)
            shown = byte < 0x10 ? "0x0\(hex)" : "0x\(hex)"
        }
        return JSONParseError(.unexpectedCharacter, at: i, "\(shown) (expected \(expected))")
    }
}

// MARK: - Writer

/// Appends JSON text to a byte buffer; used for JSON Lines output, where key order is fixed by the caller.
///
/// Commas are inserted automatically. Values written at the top level (outside any array or object) are never
/// separated by commas, so several JSON Lines records can be written into one buffer with a newline appended to
/// `bytes` between them. The writer does not check that calls are balanced or that keys precede object values.
public struct JSONWriter: Sendable {
    /// The JSON text written so far, as UTF-8.
    public var bytes: [UInt8]
    /// How many arrays and objects are open.
    private var depth = 0
    /// Whether the current container already holds a value, so the next key or value needs a comma.
    private var needsComma = false
    /// Whether a key was just written, so the next value follows it directly.
    private var afterKey = false

    /// Creates a writer whose buffer has room for `capacity` bytes.
    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Writes the separator a value needs at this point.
    @inline(__always)
    private mutating func beginValue() {
        if afterKey {
            afterKey = false
        } else if needsComma && depth > 0 {
            bytes.append(UInt8(ascii: ","))
        }
        needsComma = true
    }

    /// Writes `{`.
    public mutating func beginObject() {
        beginValue()
        bytes.append(UInt8(ascii: "{"))
        depth += 1
        needsComma = false
    }

    /// Writes `}`.
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        depth = max(depth - 1, 0)
        needsComma = true
        afterKey = false
    }

    /// Writes `[`.
    public mutating func beginArray() {
        beginValue()
        bytes.append(UInt8(ascii: "["))
        depth += 1
        needsComma = false
    }

    /// Writes `]`.
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        depth = max(depth - 1, 0)
        needsComma = true
        afterKey = false
    }

    /// Writes a comma if needed, then `"name":`. The next value written belongs to this key.
    public mutating func key(_ name: String) {
        if needsComma && depth > 0 { bytes.append(UInt8(ascii: ",")) }
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = true
        afterKey = true
    }

    /// Writes a string, escaping `"`, `\` and control characters; other characters are written as UTF-8.
    public mutating func string(_ value: String) {
        beginValue()
        appendQuoted(value)
    }

    /// Writes an integer.
    public mutating func int(_ value: Int64) {
        beginValue()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude)
    }

    /// Writes an unsigned integer.
    public mutating func uint(_ value: UInt64) {
        beginValue()
        appendDecimal(value)
    }

    /// Writes a number in its shortest round-trip form (integral values may appear as `1.0`);
    /// infinities and NaN are written as `null`.
    public mutating func double(_ value: Double) {
        beginValue()
        if value.isFinite {
            bytes.append(contentsOf: value.description.utf8)
        } else {
            bytes.append(contentsOf: "null".utf8)
        }
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        beginValue()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Writes `null`.
    public mutating func null() {
        beginValue()
        bytes.append(contentsOf: "null".utf8)
    }

    /// Writes any JSON value, recursively, keeping object member order.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let bool): self.bool(bool)
        case .integer(let integer): int(integer)
        case .unsigned(let unsigned): uint(unsigned)
        case .double(let double): self.double(double)
        case .string(let string): self.string(string)
        case .array(let elements):
            beginArray()
            for element in elements { self.value(element) }
            endArray()
        case .object(let object):
            beginObject()
            for member in object.members {
                key(member.key)
                self.value(member.value)
            }
            endObject()
        }
    }

    /// Writes the validated value at `index` of `scanner`'s text, giving exactly the bytes ``value(_:)`` gives
    /// for that value once parsed: white space is dropped, plain strings and integers are copied, and only a
    /// string with escapes or a number in another form (a fraction, an exponent, `-0`, more than 18 digits) is
    /// parsed and written again. A reader that walks bytes can so copy parts of a record without building
    /// their tree.
    ///
    /// The text at `index` must have been validated (``JSONByteScanner/validValue(at:depth:)``).
    public mutating func compactValue(_ scanner: JSONByteScanner, at index: Int) {
        beginValue()
        var i = index
        var depth = 0
        repeat {
            let byte = scanner.base[i]
            switch byte {
            case 0x20, 0x0A, 0x0D, 0x09:
                i += 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                bytes.append(byte)
                depth += 1
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                bytes.append(byte)
                depth -= 1
                i += 1
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                bytes.append(byte)
                i += 1
            case UInt8(ascii: "\""):
                var escaped = false
                let after = scanner.skipString(at: i, escaped: &escaped)
                if escaped {
                    appendReparsed(scanner.bytes(i, after))
                } else {
                    bytes.append(contentsOf: scanner.bytes(i, after))
                }
                i = after
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                let literal = scanner.slot(at: i)
                bytes.append(contentsOf: scanner.bytes(literal.start, literal.end))
                i = literal.end
            default:
                let after = scanner.skip(at: i)
                if Self.isPlainInteger(scanner.bytes(i, after)) {
                    bytes.append(contentsOf: scanner.bytes(i, after))
                } else {
                    appendReparsed(scanner.bytes(i, after))
                }
                i = after
            }
        } while depth > 0
    }

    /// Appends the compact text of the one scalar value in `text` (a string or a number), as parsed.
    private mutating func appendReparsed(_ text: UnsafeRawBufferPointer) {
        // Validated text always parses; `null` keeps the output valid JSON should it not.
        let value = (try? JSONParser.parse(text, maximumDepth: 1)) ?? .null
        var scalar = JSONWriter(capacity: text.count + 8)
        scalar.value(value)
        bytes.append(contentsOf: scalar.bytes)
    }

    /// Whether `text` is an integer the parser keeps as written: an optional minus, then `0` or up to 18
    /// digits not starting with 0, and not `-0`.
    private static func isPlainInteger(_ text: UnsafeRawBufferPointer) -> Bool {
        var digits = text[...]
        if digits.first == UInt8(ascii: "-") { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 &- 0x30 <= 9 }) else { return false }
        if digits.first == UInt8(ascii: "0") { return digits.count == 1 && text.count == 1 }
        return true
    }

    /// Writes a key and a string value.
    public mutating func field(_ key: String, _ value: String) {
        self.key(key)
        string(value)
    }

    /// Writes a key and an integer value.
    public mutating func field(_ key: String, _ value: Int64) {
        self.key(key)
        int(value)
    }

    /// Writes a key and an integer value (lets integer literals and `Int` values pick an overload).
    public mutating func field(_ key: String, _ value: Int) {
        self.key(key)
        int(Int64(value))
    }

    /// Writes a key and an unsigned integer value.
    public mutating func field(_ key: String, _ value: UInt64) {
        self.key(key)
        uint(value)
    }

    /// Writes a key and a Boolean value.
    public mutating func field(_ key: String, _ value: Bool) {
        self.key(key)
        bool(value)
    }

    /// Writes a key and a number value (`null` if it is not finite).
    public mutating func field(_ key: String, _ value: Double) {
        self.key(key)
        double(value)
    }

    /// Empties the buffer, keeping its capacity, and forgets all nesting and comma state.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        depth = 0
        needsComma = false
        afterKey = false
    }

    /// The JSON text written so far.
    public var text: String {
        String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Helpers

    private mutating func appendDecimal(_ value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        let start = bytes.count
        var rest = value
        while rest > 0 {
            bytes.append(UInt8(truncatingIfNeeded: rest % 10) &+ 0x30)
            rest /= 10
        }
        var low = start
        var high = bytes.count - 1
        while low < high {
            bytes.swapAt(low, high)
            low += 1
            high -= 1
        }
    }

    private mutating func appendQuoted(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in appendEscaped(utf8) }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        for i in 0..<utf8.count {
            let byte = utf8[i]
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") { continue }
            if runStart < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
            runStart = i + 1
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            default:
                let hexDigits: StaticString = "0123456789abcdef"
                bytes.append(contentsOf: "u00".utf8)
                bytes.append(hexDigits.utf8Start[Int(byte >> 4)])
                bytes.append(hexDigits.utf8Start[Int(byte & 0x0F)])
            }
        }
        if runStart < utf8.count {
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
    }
}

extension JSONValue {
    /// The value as compact JSON text (no whitespace), with object members in order.
    public func serialized() -> String {
        var writer = JSONWriter()
        writer.value(self)
        return writer.text
    }
}

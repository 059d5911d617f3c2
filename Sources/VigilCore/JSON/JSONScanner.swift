#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A walker over JSON bytes that builds no values: it validates or skips values and reports where members are.
///
/// Validation (``validValue(at:depth:)``) accepts only what `JSONParser` accepts (grammar, escapes, surrogate
/// pairs, UTF-8, control characters) with nesting bounded by ``maximumDepth``, so text it accepts always
/// parses. The other walks (``skip(at:)``, ``nextMember(_:)``, ``slot(at:)``) assume text already validated.
/// Positions are byte offsets from `base`; -1 means invalid.
///
/// It lets a reader that needs a few members of large records find them without building a `JSONValue`
/// tree: validate the text once, then walk members and compare or copy only the bytes it needs. The buffer
/// must outlive the scanner.
public struct JSONByteScanner {
    /// The first byte.
    public let base: UnsafePointer<UInt8>
    /// The number of bytes.
    public let end: Int
    /// The most arrays and objects that may be open at once; deeper text is reported invalid (use the same
    /// limit as the parser, or a lower one, so that text validated here always parses).
    public let maximumDepth: Int

    /// A scanner over `buffer`.
    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer, maximumDepth: Int = 480) {
        // An empty buffer still needs a pointer; nothing is read through it.
        base = (buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!).assumingMemoryBound(to: UInt8.self)
        end = buffer.count
        self.maximumDepth = maximumDepth
    }

    /// The first index at or after `index` that is not JSON whitespace.
    @inlinable @inline(__always)
    public func skipSpace(_ index: Int) -> Int {
        var i = index
        while i < end {
            let byte = base[i]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { break }
            i &+= 1
        }
        return i
    }

    // MARK: - Validation

    /// The end of the valid value starting at `index` (`depth` containers already open), or -1.
    @inlinable
    public func validValue(at index: Int, depth: Int) -> Int {
        guard index < end else { return -1 }
        switch base[index] {
        case UInt8(ascii: "{"):
            guard depth < maximumDepth else { return -1 }
            var i = skipSpace(index + 1)
            guard i < end else { return -1 }
            if base[i] == UInt8(ascii: "}") { return i + 1 }
            while true {
                guard i < end, base[i] == UInt8(ascii: "\"") else { return -1 }
                var escaped = false
                i = validString(at: i, escaped: &escaped)
                guard i >= 0 else { return -1 }
                i = skipSpace(i)
                guard i < end, base[i] == UInt8(ascii: ":") else { return -1 }
                i = validValue(at: skipSpace(i + 1), depth: depth + 1)
                guard i >= 0 else { return -1 }
                i = skipSpace(i)
                guard i < end else { return -1 }
                if base[i] == UInt8(ascii: "}") { return i + 1 }
                guard base[i] == UInt8(ascii: ",") else { return -1 }
                i = skipSpace(i + 1)
            }
        case UInt8(ascii: "["):
            guard depth < maximumDepth else { return -1 }
            var i = skipSpace(index + 1)
            guard i < end else { return -1 }
            if base[i] == UInt8(ascii: "]") { return i + 1 }
            while true {
                i = validValue(at: i, depth: depth + 1)
                guard i >= 0 else { return -1 }
                i = skipSpace(i)
                guard i < end else { return -1 }
                if base[i] == UInt8(ascii: "]") { return i + 1 }
                guard base[i] == UInt8(ascii: ",") else { return -1 }
                i = skipSpace(i + 1)
            }
        case UInt8(ascii: "\""):
            var escaped = false
            return validString(at: index, escaped: &escaped)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return validNumber(at: index)
        case UInt8(ascii: "t"): return literal(at: index, "true")
        case UInt8(ascii: "f"): return literal(at: index, "false")
        case UInt8(ascii: "n"): return literal(at: index, "null")
        default: return -1
        }
    }

    @usableFromInline
    func literal(at index: Int, _ text: StaticString) -> Int {
        let count = text.utf8CodeUnitCount
        guard index + count <= end, memcmp(base + index, text.utf8Start, count) == 0 else { return -1 }
        return index + count
    }

    @usableFromInline
    func validNumber(at index: Int) -> Int {
        var i = index
        if base[i] == UInt8(ascii: "-") { i += 1 }
        guard i < end else { return -1 }
        if base[i] == UInt8(ascii: "0") {
            i += 1
            if i < end, base[i] &- 0x30 <= 9 { return -1 }
        } else if base[i] &- 0x30 <= 9 {
            while i < end, base[i] &- 0x30 <= 9 { i += 1 }
        } else {
            return -1
        }
        if i < end, base[i] == UInt8(ascii: ".") {
            i += 1
            guard i < end, base[i] &- 0x30 <= 9 else { return -1 }
            while i < end, base[i] &- 0x30 <= 9 { i += 1 }
        }
        if i < end, base[i] == UInt8(ascii: "e") || base[i] == UInt8(ascii: "E") {
            i += 1
            if i < end, base[i] == UInt8(ascii: "+") || base[i] == UInt8(ascii: "-") { i += 1 }
            guard i < end, base[i] &- 0x30 <= 9 else { return -1 }
            while i < end, base[i] &- 0x30 <= 9 { i += 1 }
        }
        return i
    }

    /// Advances `i` over ASCII string bytes that need no attention, eight at a time.
    @inlinable @inline(__always)
    func skipPlain(_ i: inout Int) {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let tops: UInt64 = 0x8080_8080_8080_8080
        let raw = UnsafeRawPointer(base)
        while i &+ 8 <= end {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            let hits =
                ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (word &- ones &* 0x20) & ~word | word)
                & tops
            if hits != 0 {
                i &+= hits.trailingZeroBitCount >> 3
                return
            }
            i &+= 8
        }
    }

    /// The end (after the closing quote) of the valid string whose opening quote is at `index`, or -1;
    /// `escaped` tells whether it holds escapes.
    @inlinable
    public func validString(at index: Int, escaped: inout Bool) -> Int {
        var i = index + 1
        while true {
            skipPlain(&i)
            guard i < end else { return -1 }
            let byte = base[i]
            if byte == UInt8(ascii: "\"") { return i + 1 }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                guard i + 1 < end else { return -1 }
                switch base[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    guard let unit = hexQuad(at: i) else { return -1 }
                    if unit >= 0xD800 && unit <= 0xDBFF {
                        guard i + 7 < end, base[i + 6] == UInt8(ascii: "\\"), base[i + 7] == UInt8(ascii: "u"),
                            let low = hexQuad(at: i + 6), low >= 0xDC00 && low <= 0xDFFF
                        else { return -1 }
                        i += 12
                    } else if unit >= 0xDC00 && unit <= 0xDFFF {
                        return -1
                    } else {
                        i += 6
                    }
                default:
                    return -1
                }
                continue
            }
            if byte < 0x20 { return -1 }
            if byte < 0x80 {
                i += 1
                continue
            }
            let length = utf8Length(at: i)
            guard length > 0 else { return -1 }
            i += length
        }
    }

    @usableFromInline
    func hexQuad(at i: Int) -> UInt32? {
        guard i + 6 <= end else { return nil }
        var result: UInt32 = 0
        for k in (i + 2)..<(i + 6) {
            let byte = base[k]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte &- 0x30
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte &- 0x57
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte &- 0x37
            default: return nil
            }
            result = result << 4 | UInt32(digit)
        }
        return result
    }

    /// The length of the well-formed UTF-8 sequence (of two or more bytes) at `i`, or 0.
    @usableFromInline
    func utf8Length(at i: Int) -> Int {
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch base[i] {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return 0
        }
        guard i + length <= end else { return 0 }
        let second = base[i + 1]
        guard second >= low && second <= high else { return 0 }
        for k in 2..<length where base[i + k] & 0xC0 != 0x80 { return 0 }
        return length
    }

    // MARK: - Walking validated text

    /// A value found in validated text.
    public struct Slot: Sendable, Equatable {
        /// The type of a value, or absent.
        public enum Kind: UInt8, Sendable {
            /// No such member.
            case absent
            /// `null`.
            case null
            /// A string.
            case string
            /// `true`.
            case trueValue
            /// `false`.
            case falseValue
            /// A number.
            case number
            /// An object.
            case object
            /// An array.
            case array
        }

        /// The type.
        public var kind: Kind
        /// For a string, where its content starts (after the quote); otherwise where the value starts.
        public var start: Int
        /// For a string, where its content ends (at the closing quote); otherwise where the value ends.
        public var end: Int
        /// Whether a string holds escapes.
        public var escaped: Bool

        /// A slot.
        @inlinable
        public init(kind: Kind = .absent, start: Int = 0, end: Int = 0, escaped: Bool = false) {
            self.kind = kind
            self.start = start
            self.end = end
            self.escaped = escaped
        }

        /// Whether the value is a string, `null` or absent.
        @inlinable
        public var isStringOrNone: Bool { kind == .absent || kind == .null || kind == .string }
        /// Whether the value is an object, `null` or absent.
        @inlinable
        public var isObjectOrNone: Bool { kind == .absent || kind == .null || kind == .object }
        /// Where the value ends in the text (after a string's closing quote).
        @inlinable
        public var after: Int { kind == .string ? end + 1 : end }

        /// Takes `value` if this slot is still absent; false when it was already filled (a duplicate member,
        /// which callers hand to the full parser).
        @inlinable
        public mutating func fill(with value: Slot) -> Bool {
            guard kind == .absent else { return false }
            self = value
            return true
        }
    }

    /// The end of the validated string whose opening quote is at `index`.
    @inlinable @inline(__always)
    public func skipString(at index: Int, escaped: inout Bool) -> Int {
        var i = index + 1
        while true {
            skipPlain(&i)
            let byte = base[i]
            if byte == UInt8(ascii: "\"") { return i + 1 }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                i += 2
            } else {
                i += 1
            }
        }
    }

    /// The end of the validated value at `index`.
    @inlinable
    public func skip(at index: Int) -> Int {
        switch base[index] {
        case UInt8(ascii: "\""):
            var escaped = false
            return skipString(at: index, escaped: &escaped)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = index
            while true {
                let byte = base[i]
                switch byte {
                case UInt8(ascii: "\""):
                    var escaped = false
                    i = skipString(at: i, escaped: &escaped)
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default:
                    break
                }
                i += 1
            }
        default:
            var i = index + 1
            while i < end {
                switch base[i] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09: return i
                default: i += 1
                }
            }
            return i
        }
    }

    /// The validated value at `index` as a slot.
    @inlinable
    public func slot(at index: Int) -> Slot {
        switch base[index] {
        case UInt8(ascii: "\""):
            var escaped = false
            let after = skipString(at: index, escaped: &escaped)
            return Slot(kind: .string, start: index + 1, end: after - 1, escaped: escaped)
        case UInt8(ascii: "{"): return Slot(kind: .object, start: index, end: skip(at: index))
        case UInt8(ascii: "["): return Slot(kind: .array, start: index, end: skip(at: index))
        case UInt8(ascii: "t"): return Slot(kind: .trueValue, start: index, end: index + 4)
        case UInt8(ascii: "f"): return Slot(kind: .falseValue, start: index, end: index + 5)
        case UInt8(ascii: "n"): return Slot(kind: .null, start: index, end: index + 4)
        default: return Slot(kind: .number, start: index, end: skip(at: index))
        }
    }

    /// Moves `cursor` (just after a validated object's `{`, or after a member's value) to the next member;
    /// returns its key (content bounds, and whether escaped) and the start of its value, or nil at the `}`.
    @inlinable @inline(__always)
    public func nextMember(_ cursor: inout Int) -> (keyStart: Int, keyEnd: Int, escaped: Bool, value: Int)? {
        var i = skipSpace(cursor)
        if base[i] == UInt8(ascii: ",") { i = skipSpace(i + 1) }
        if base[i] == UInt8(ascii: "}") {
            cursor = i + 1
            return nil
        }
        var escaped = false
        let after = skipString(at: i, escaped: &escaped)
        var colon = skipSpace(after)
        colon += 1
        let value = skipSpace(colon)
        cursor = value
        return (i + 1, after - 1, escaped, value)
    }

    /// Whether `start..<end` holds exactly `text`.
    @inlinable @inline(__always)
    public func matches(_ start: Int, _ end: Int, _ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        return end - start == count && memcmp(base + start, text.utf8Start, count) == 0
    }

    /// The members named `keys` of the already-validated object at `index`, in the order of `keys` (absent
    /// slots for keys the object lacks); nil on a duplicate or an escaped key, which callers hand to the full
    /// parser rather than guess.
    @inlinable
    public func members(ofObjectAt index: Int, named keys: [StaticString]) -> [Slot]? {
        var slots = [Slot](repeating: Slot(), count: keys.count)
        let complete = forEachMember(ofObjectAt: index) { keyStart, keyEnd, value in
            for (position, key) in keys.enumerated() where matches(keyStart, keyEnd, key) {
                return slots[position].fill(with: value)
            }
            return true
        }
        return complete ? slots : nil
    }

    /// Calls `body` with the key range and the value of each member of the already-validated object at
    /// `index`, in order. Returns false, having stopped, on an escaped key (its bytes are not its text) or
    /// when `body` returns false; true once every member was seen.
    @inlinable
    public func forEachMember(
        ofObjectAt index: Int, _ body: (_ keyStart: Int, _ keyEnd: Int, _ value: Slot) -> Bool
    )
        -> Bool
    {
        var cursor = index + 1
        while let member = nextMember(&cursor) {
            guard !member.escaped else { return false }
            let value = slot(at: member.value)
            cursor = value.after
            guard body(member.keyStart, member.keyEnd, value) else { return false }
        }
        return true
    }

    /// Whether every byte of `start..<end` is ASCII.
    @inlinable
    public func isASCII(_ start: Int, _ end: Int) -> Bool {
        var i = start
        while i < end {
            if base[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    /// The bytes `start..<end`.
    @inlinable @inline(__always)
    public func bytes(_ start: Int, _ end: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + start, count: end - start)
    }
}

/// An IPv4 or IPv6 address stored inline, so events that carry one stay trivially copyable.
///
/// IPv4 addresses are kept as IPv4-mapped IPv6 (`::ffff:a.b.c.d`) in ``bytes``; ``family`` says which
/// form to print.
@frozen
public struct IPAddress: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    /// The address family, or `none` when no address is known.
    public enum Family: UInt8, Sendable, BitwiseCopyable {
        /// No address.
        case none = 0
        /// IPv4.
        case v4 = 4
        /// IPv6.
        case v6 = 6
    }

    /// The 16 address bytes in network order, as four big-endian words.
    public var words: (UInt32, UInt32, UInt32, UInt32)
    /// The address family.
    public var family: Family

    /// No address.
    public static let none = IPAddress(words: (0, 0, 0, 0), family: .none)

    @inlinable
    init(words: (UInt32, UInt32, UInt32, UInt32), family: Family) {
        self.words = words
        self.family = family
    }

    /// An IPv4 address from its four octets.
    public init(v4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        let high: UInt32 = UInt32(a) << 24 | UInt32(b) << 16
        let low: UInt32 = UInt32(c) << 8 | UInt32(d)
        self.init(words: (0, 0, 0xffff, high | low), family: .v4)
    }

    /// An IPv4 address from its value in host order (`0x7f000001` is 127.0.0.1).
    public init(v4 value: UInt32) {
        self.init(words: (0, 0, 0xffff, value), family: .v4)
    }

    /// An IPv6 address from its 16 bytes in network order; IPv4-mapped addresses stay IPv6.
    public init<Bytes: Collection>(v6 bytes: Bytes) where Bytes.Element == UInt8 {
        precondition(bytes.count == 16, "an IPv6 address has 16 bytes")
        var words: [UInt32] = [0, 0, 0, 0]
        for (offset, byte) in bytes.enumerated() {
            words[offset / 4] = words[offset / 4] << 8 | UInt32(byte)
        }
        self.init(words: (words[0], words[1], words[2], words[3]), family: .v6)
    }

    /// Parses dotted IPv4 (`10.0.0.1`) or IPv6 text (`fe80::1`, `::ffff:1.2.3.4`); nil when invalid.
    public init?(_ text: some StringProtocol) {
        if let v4 = Self.parseV4(Substring(text)) {
            self.init(v4: v4)
        } else if let v6 = Self.parseV6(Substring(text)) {
            self.init(v6: v6)
        } else {
            return nil
        }
    }

    /// The IPv4 value in host order, when this is an IPv4 address.
    public var v4Value: UInt32? { family == .v4 ? words.3 : nil }

    /// The 16 bytes in network order (IPv4 as IPv4-mapped IPv6).
    public var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(16)
        for word in [words.0, words.1, words.2, words.3] {
            for shift: UInt32 in [24, 16, 8, 0] { result.append(UInt8(truncatingIfNeeded: word >> shift)) }
        }
        return result
    }

    /// Whether this is a loopback address (127.0.0.0/8 or ::1).
    public var isLoopback: Bool {
        switch family {
        case .none: return false
        case .v4: return words.3 >> 24 == 127
        case .v6: return words == (0, 0, 0, 1)
        }
    }

    public static func == (lhs: IPAddress, rhs: IPAddress) -> Bool {
        lhs.family == rhs.family && lhs.words == rhs.words
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(family.rawValue)
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// Conventional text: dotted quad for IPv4, RFC 5952 compressed form for IPv6, empty for none.
    public var description: String {
        switch family {
        case .none:
            return ""
        case .v4:
            let v = words.3
            return "\(v >> 24).\(v >> 16 & 0xff).\(v >> 8 & 0xff).\(v & 0xff)"
        case .v6:
            return Self.formatV6(bytes)
        }
    }

    private static func parseV4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let octet = UInt8(part) else {
                return nil
            }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    private static func parseV6(_ text: Substring) -> [UInt8]? {
        guard text.contains(":"), text.count <= 45 else { return nil }
        var groups: [UInt16] = []
        var tail: [UInt16] = []
        var seenGap = false
        let halves = text.components(separatedByDoubleColon: ())
        guard halves.count <= 2 else { return nil }
        func parseGroups(_ part: Substring, allowV4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if allowV4Tail, index == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseV4(piece) else { return nil }
                    result.append(UInt16(v4 >> 16))
                    result.append(UInt16(v4 & 0xffff))
                } else {
                    guard (1...4).contains(piece.count), let group = UInt16(piece, radix: 16) else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        if halves.count == 2 {
            seenGap = true
            guard let head = parseGroups(halves[0], allowV4Tail: false),
                let rest = parseGroups(halves[1], allowV4Tail: true)
            else { return nil }
            groups = head
            tail = rest
        } else {
            guard let all = parseGroups(halves[0], allowV4Tail: true) else { return nil }
            groups = all
        }
        let total = groups.count + tail.count
        if seenGap {
            guard total <= 7 else { return nil }
            groups += Array(repeating: 0, count: 8 - total) + tail
        } else {
            guard total == 8 else { return nil }
        }
        return groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    private static func formatV6(_ bytes: [UInt8]) -> String {
        let groups = (0..<8).map { UInt16(bytes[$0 * 2]) << 8 | UInt16(bytes[$0 * 2 + 1]) }
        // RFC 5952: compress the longest run (at least two) of zero groups, the first one on ties.
        var bestStart = -1
        var bestLength = 1
        var index = 0
        while index < 8 {
            if groups[index] == 0 {
                var end = index
                while end < 8 && groups[end] == 0 { end += 1 }
                if end - index > bestLength {
                    bestStart = index
                    bestLength = end - index
                }
                index = end
            } else {
                index += 1
            }
        }
        if groups[0...4].allSatisfy({ $0 == 0 }) && groups[5] == 0xffff {
            let v4 = "\(bytes[12]).\(bytes[13]).\(bytes[14]).\(bytes[15])"
            return "::ffff:" + v4
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}

extension Substring {
    /// Splits at the first "::" only; more than one "::" yields three or more parts (invalid IPv6).
    fileprivate func components(separatedByDoubleColon: Void) -> [Substring] {
        var parts: [Substring] = []
        var start = startIndex
        var index = startIndex
        while index < endIndex {
            let next = self.index(after: index)
            if self[index] == ":", next < endIndex, self[next] == ":" {
                parts.append(self[start..<index])
                start = self.index(after: next)
                index = start
            } else {
                index = next
            }
        }
        parts.append(self[start..<endIndex])
        return parts
    }
}

/// An IP address with a port.
@frozen
public struct SocketAddress: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    /// The address.
    public var address: IPAddress
    /// The port, or 0.
    public var port: UInt16

    /// Creates a socket address.
    @inlinable
    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// No address.
    public static let none = SocketAddress(address: .none, port: 0)

    /// `1.2.3.4:80` or `[fe80::1]:80`.
    public var description: String {
        switch address.family {
        case .none: return port == 0 ? "" : ":\(port)"
        case .v4: return "\(address):\(port)"
        case .v6: return "[\(address)]:\(port)"
        }
    }
}

import Glibc

/// An IPv4 or IPv6 address prefix (`10.0.0.0/8`, `::1/128`), as the network quarantine's allowlist holds it.
///
/// The bits past the prefix length are cleared, so `10.1.2.3/8` equals `10.0.0.0/8`.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public let address: [UInt8]
    /// How many leading bits of ``address`` count: 0...32 for IPv4, 0...128 for IPv6.
    public let length: Int

    /// Parses `address/length`, or a bare address meaning the host alone (`127.0.0.1` is `127.0.0.1/32`).
    /// Returns nil for anything else, such as a length beyond the family's bits or a host name.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let addressText = parts.first else { return nil }
        var bytes: [UInt8]
        if addressText.contains(":") {
            bytes = [UInt8](repeating: 0, count: 16)
        } else {
            bytes = [UInt8](repeating: 0, count: 4)
        }
        let parsed = bytes.withUnsafeMutableBytes { buffer in
            inet_pton(buffer.count == 4 ? AF_INET : AF_INET6, String(addressText), buffer.baseAddress)
        }
        guard parsed == 1 else { return nil }
        let maximum = bytes.count * 8
        var length = maximum
        if parts.count == 2 {
            let lengthText = parts[1]
            guard !lengthText.isEmpty, lengthText.count <= 3, lengthText.allSatisfy(\.isASCII),
                lengthText.allSatisfy(\.isNumber), let value = Int(lengthText), value <= maximum
            else { return nil }
            length = value
        }
        // Clear the host bits.
        for index in bytes.indices {
            let kept = min(8, max(0, length - index * 8))
            bytes[index] &= kept == 8 ? 0xff : ~(0xff >> kept)
        }
        self.address = bytes
        self.length = length
    }

    /// Whether this is an IPv4 prefix.
    public var isIPv4: Bool { address.count == 4 }

    /// `address/length`, as ``init(_:)`` reads it.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        address.withUnsafeBytes { bytes in
            _ = inet_ntop(isIPv4 ? AF_INET : AF_INET6, bytes.baseAddress, &buffer, socklen_t(buffer.count))
        }
        return String(cString: buffer) + "/\(length)"
    }

    /// The 16-byte address the BPF allowlist is keyed by: IPv4 as IPv4-mapped IPv6 (`::ffff:a.b.c.d`), with
    /// the prefix length counted in those 128 bits.
    var mappedAddress: (bytes: [UInt8], length: Int) {
        guard isIPv4 else { return (address, length) }
        return ([UInt8](repeating: 0, count: 10) + [0xff, 0xff] + address, 96 + length)
    }
}

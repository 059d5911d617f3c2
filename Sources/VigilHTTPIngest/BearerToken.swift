import HTTPTypes

/// A bearer token that a request must carry in `Authorization: Bearer <token>`, compared in constant time.
package struct BearerToken: Sendable {
    private let bytes: [UInt8]

    /// Creates the token to look for.
    package init(_ token: String) {
        self.bytes = Array(token.utf8)
    }

    /// Whether an `Authorization` header carries `Bearer <token>` (the scheme in any case, then any spaces).
    ///
    /// Every `Authorization` header is compared, so that the time taken does not say which one matched.
    package func isPresent(in headers: HTTPFields) -> Bool {
        var found = false
        for value in headers[values: .authorization] {
            let utf8 = Array(value.utf8)
            guard utf8.count > 7, Self.isBearerScheme(utf8) else { continue }
            var start = 7
            while start < utf8.count, utf8[start] == 0x20 { start += 1 }
            if constantTimeEqual(utf8[start...], bytes) { found = true }
        }
        return found
    }

    /// Whether the header starts with `Bearer ` (the scheme is case-insensitive).
    private static func isBearerScheme(_ utf8: [UInt8]) -> Bool {
        let scheme = Array("bearer ".utf8)
        for index in scheme.indices where utf8[index] | 0x20 != scheme[index] { return false }
        return true
    }
}

/// Whether `given` equals `expected`, compared in time that depends only on the lengths, never on where the bytes
/// differ: for secrets a client sends.
package func constantTimeEqual(_ given: ArraySlice<UInt8>, _ expected: [UInt8]) -> Bool {
    var difference = UInt(bitPattern: given.count ^ expected.count)
    let base = given.startIndex
    for index in expected.indices {
        let byte = index < given.count ? given[base + index] : 0
        difference |= UInt(byte ^ expected[index])
    }
    return difference == 0
}

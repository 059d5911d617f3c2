// The file name a profile gets in a files store: readable, reversible by eye, and always one safe file name.

/// Maps a profile name to the single file name that holds it in a ``FileProfileStore``.
///
/// The mapping is injective, so two names never share a file:
/// - Most characters are kept as they are, so `shop/Deployment/web/web` is easy to find by eye.
/// - `/`, `%`, `~`, control characters (C0, DEL, C1) and a leading `.` are percent-encoded (`%2F`, `%25`,
///   `%7E`, …), so a name is never a path, never hidden, and never `.` or `..`.
/// - The empty name is `%`, which no other name produces (a literal `%` is always `%25`).
/// - A name whose encoding does not fit in a file name (255 bytes on Linux) keeps a readable prefix and
///   ends with `~` and the SHA-256 of the name in hex. No other encoding contains a `~`, and the store
///   checks the full name inside the file, so even a collision could not return the wrong profile.
enum ProfileFileName {
    /// The extension of every profile file.
    static let suffix = ".json"
    /// Temporary files start with this; like every name starting with `.`, they are never profiles.
    static let temporaryPrefix = ".tmp-"
    /// Linux's NAME_MAX.
    private static let maximumLength = 255
    /// How much of a long name's encoding is kept before the hash; leaves ample room for `~`, the hash and
    /// the suffix.
    private static let hashedPrefixLength = 120

    /// The file name (with `.json`) for a profile named `name`.
    static func fileName(for name: String) -> String {
        if name.isEmpty { return "%" + suffix }
        var encoded: [UInt8] = []
        var prefixEnd = 0
        var first = true
        for scalar in name.unicodeScalars {
            append(scalar, isFirst: first, to: &encoded)
            first = false
            // Remember where the last whole piece ended within the prefix budget, so the prefix of a long name
            // never cuts an escape or a UTF-8 sequence in two.
            if encoded.count <= hashedPrefixLength { prefixEnd = encoded.count }
        }
        if encoded.count + suffix.utf8.count <= maximumLength {
            return String(decoding: encoded, as: UTF8.self) + suffix
        }
        var hashed = Array(encoded[..<prefixEnd])
        hashed.append(UInt8(ascii: "~"))
        // Lowercase, as sha256sum prints it.
        for byte in sha256(Array(name.utf8)) {
            hashed.append(hexDigit(byte >> 4, uppercase: false))
            hashed.append(hexDigit(byte & 0x0F, uppercase: false))
        }
        return String(decoding: hashed, as: UTF8.self) + suffix
    }

    private static func append(_ scalar: Unicode.Scalar, isFirst: Bool, to encoded: inout [UInt8]) {
        let value = scalar.value
        let escape =
            value < 0x20 || (0x7F...0x9F).contains(value) || scalar == "/" || scalar == "%" || scalar == "~"
            || (isFirst && scalar == ".")
        if escape {
            for byte in String(scalar).utf8 {
                encoded.append(UInt8(ascii: "%"))
                encoded.append(hexDigit(byte >> 4))
                encoded.append(hexDigit(byte & 0x0F))
            }
        } else {
            encoded.append(contentsOf: String(scalar).utf8)
        }
    }

    private static func hexDigit(_ nibble: UInt8, uppercase: Bool = true) -> UInt8 {
        nibble < 10 ? nibble + 0x30 : nibble - 10 + (uppercase ? UInt8(ascii: "A") : UInt8(ascii: "a"))
    }

    // MARK: SHA-256 (FIPS 180-4)

    /// The SHA-256 digest of `message`: standard, so `printf %s NAME | sha256sum` finds a long name's file.
    /// Only names, so no streaming.
    static func sha256(_ message: [UInt8]) -> [UInt8] {
        var state: [UInt32] = [
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
        ]
        var padded = message
        padded.append(0x80)
        while padded.count % 64 != 56 { padded.append(0) }
        let bitLength = UInt64(message.count) &* 8
        for shift in stride(from: 56, through: 0, by: -8) {
            padded.append(UInt8(truncatingIfNeeded: bitLength >> shift))
        }

        var schedule = [UInt32](repeating: 0, count: 64)
        for blockStart in stride(from: 0, to: padded.count, by: 64) {
            for i in 0..<16 {
                let at = blockStart + i * 4
                schedule[i] =
                    UInt32(padded[at]) << 24 | UInt32(padded[at + 1]) << 16 | UInt32(padded[at + 2]) << 8
                    | UInt32(padded[at + 3])
            }
            for i in 16..<64 {
                let s0 = rotate(schedule[i - 15], 7) ^ rotate(schedule[i - 15], 18) ^ (schedule[i - 15] >> 3)
                let s1 = rotate(schedule[i - 2], 17) ^ rotate(schedule[i - 2], 19) ^ (schedule[i - 2] >> 10)
                schedule[i] = schedule[i - 16] &+ s0 &+ schedule[i - 7] &+ s1
            }
            var (a, b, c, d) = (state[0], state[1], state[2], state[3])
            var (e, f, g, h) = (state[4], state[5], state[6], state[7])
            for i in 0..<64 {
                let s1 = rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)
                let choice = (e & f) ^ (~e & g)
                let t1 = h &+ s1 &+ choice &+ roundConstants[i] &+ schedule[i]
                let s0 = rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)
                let majority = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ majority
                (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            for (i, value) in [a, b, c, d, e, f, g, h].enumerated() { state[i] = state[i] &+ value }
        }
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for word in state {
            for shift in stride(from: 24, through: 0, by: -8) {
                digest.append(UInt8(truncatingIfNeeded: word >> shift))
            }
        }
        return digest
    }

    private static func rotate(_ value: UInt32, _ count: UInt32) -> UInt32 {
        (value >> count) | (value << (32 - count))
    }

    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]
}

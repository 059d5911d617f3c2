/// The question of a DNS query message: the queried name and type (RFC 1035 section 4.1).
struct DNSQuery: Equatable {
    /// The name, lowercased as sent, without the trailing dot.
    var name: String
    /// The query type (1 = A, 28 = AAAA, ...).
    var type: UInt16

    /// Parses the first question of a query message; nil when the bytes are not a well-formed query
    /// (a response, no question, a label past the end, a compression pointer in a question).
    init?(message: UnsafeRawBufferPointer) {
        guard message.count >= 12 else { return nil }
        let flags = UInt16(message[2]) << 8 | UInt16(message[3])
        let questions = UInt16(message[4]) << 8 | UInt16(message[5])
        // QR bit set: a response, not a query.
        guard flags & 0x8000 == 0, questions > 0 else { return nil }
        var offset = 12
        var labels: [String] = []
        var nameLength = 0
        while true {
            guard offset < message.count else { return nil }
            let length = Int(message[offset])
            offset += 1
            if length == 0 { break }
            // 0xC0: a compression pointer, which a question's first name never needs.
            guard length <= 63, offset + length <= message.count else { return nil }
            nameLength += length + 1
            guard nameLength <= 255 else { return nil }
            labels.append(
                String(decoding: UnsafeRawBufferPointer(rebasing: message[offset..<offset + length]), as: UTF8.self))
            offset += length
        }
        guard offset + 4 <= message.count else { return nil }
        self.name = labels.joined(separator: ".")
        self.type = UInt16(message[offset]) << 8 | UInt16(message[offset + 1])
    }
}

// The JSON document a files store writes for one profile, and its reading back.

import VigilCore

/// Encodes a ``StoredProfile`` as the human-readable JSON document of a ``FileProfileStore`` file, and decodes
/// it back.
///
/// ```json
/// {
///   "subject": "workload",
///   "name": "shop/Deployment/web/web",
///   "state": "completed",
///   "updated_at": "2026-11-29T18:09:50.123456789Z",
///   "profile": { … }
/// }
/// ```
///
/// The body is embedded as `profile` when it is JSON that can be given back unchanged except for whitespace:
/// compact JSON as `JSONWriter` writes it (which is how the profile model encodes profiles), possibly with
/// whitespace between tokens. Anything else, even JSON that would come back with other escapes or number
/// spellings, is kept exactly as `body_base64`, so no body ever changes meaning.
enum ProfileEnvelope {
    /// Why a document is not a profile; the message names the offending member.
    struct Invalid: Error {
        var message: String
    }

    /// The document for `profile`: pretty-printed, with a final newline.
    static func encode(_ profile: StoredProfile) -> [UInt8] {
        var members: [(key: String, value: JSONValue)] = [
            ("subject", .string(profile.key.subject.rawValue)),
            ("name", .string(profile.key.name)),
            ("state", .string(profile.state.rawValue)),
            ("updated_at", .string(RFC3339.format(nanoseconds: profile.updatedAt))),
        ]
        if let body = embeddableJSON(profile.body) {
            members.append(("profile", body))
        } else {
            members.append(("body_base64", .string(Base64.encode(profile.body))))
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(profile.body.count * 2 + 256)
        appendPretty(.object(JSONObject(members)), depth: 0, to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// The profile in `bytes`. An embedded body comes back as compact JSON.
    static func decode(_ bytes: [UInt8]) throws(Invalid) -> StoredProfile {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw Invalid(message: "not JSON (\(error.description))")
        }
        guard let object = document.object else { throw Invalid(message: "not a JSON object") }
        func string(_ key: String) throws(Invalid) -> String {
            guard let member = object[key] else { throw Invalid(message: "no '\(key)' member") }
            guard let value = member.string else { throw Invalid(message: "'\(key)' is not a string") }
            return value
        }
        let subjectName = try string("subject")
        guard let subject = ProfileSubject(rawValue: subjectName) else {
            throw Invalid(message: "unknown subject '\(subjectName)'")
        }
        let name = try string("name")
        let stateName = try string("state")
        guard let state = ProfileState(rawValue: stateName) else {
            throw Invalid(message: "unknown state '\(stateName)'")
        }
        let time = try string("updated_at")
        guard let updatedAt = RFC3339.parse(time) else {
            throw Invalid(message: "'updated_at' is not an RFC 3339 time: '\(time)'")
        }
        let body: [UInt8]
        switch (object["profile"], object["body_base64"]) {
        case (let embedded?, nil):
            var writer = JSONWriter(capacity: bytes.count)
            writer.value(embedded)
            body = writer.bytes
        case (nil, .some):
            guard let decoded = Base64.decode(try string("body_base64")) else {
                throw Invalid(message: "'body_base64' is not base64")
            }
            body = decoded
        case (nil, nil):
            throw Invalid(message: "neither 'profile' nor 'body_base64'")
        case (.some, .some):
            throw Invalid(message: "both 'profile' and 'body_base64'")
        }
        return StoredProfile(
            key: ProfileKey(subject: subject, name: name), state: state, updatedAt: updatedAt, body: body)
    }

    /// The body as a JSON value, when writing that value compactly gives the body back without its whitespace.
    static func embeddableJSON(_ body: [UInt8]) -> JSONValue? {
        // One level less than the reader allows, since the document around it adds one.
        guard let value = try? JSONParser.parse(body, maximumDepth: JSONParser.defaultMaximumDepth - 1) else {
            return nil
        }
        var writer = JSONWriter(capacity: body.count)
        writer.value(value)
        return writer.bytes == withoutWhitespace(body) ? value : nil
    }

    /// `json` without the whitespace between its tokens (whitespace inside strings is kept).
    private static func withoutWhitespace(_ json: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(json.count)
        var inString = false
        var escaped = false
        for byte in json {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                continue
            }
            result.append(byte)
        }
        return result
    }

    // MARK: Pretty printing

    /// Appends `value` with two-space indentation, one member or element per line, keys in their order.
    private static func appendPretty(_ value: JSONValue, depth: Int, to bytes: inout [UInt8]) {
        func newline(_ depth: Int) {
            bytes.append(UInt8(ascii: "\n"))
            bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
        }
        switch value {
        case .array(let elements) where !elements.isEmpty:
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                appendPretty(element, depth: depth + 1, to: &bytes)
            }
            newline(depth)
            bytes.append(UInt8(ascii: "]"))
        case .object(let object) where object.count > 0:
            bytes.append(UInt8(ascii: "{"))
            for (index, member) in object.members.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                appendScalar(.string(member.key), to: &bytes)
                bytes.append(contentsOf: ": ".utf8)
                appendPretty(member.value, depth: depth + 1, to: &bytes)
            }
            newline(depth)
            bytes.append(UInt8(ascii: "}"))
        default:
            appendScalar(value, to: &bytes)
        }
    }

    /// Appends a scalar (or an empty array or object) exactly as `JSONWriter` writes it.
    private static func appendScalar(_ value: JSONValue, to bytes: inout [UInt8]) {
        var writer = JSONWriter(capacity: 32)
        writer.value(value)
        bytes.append(contentsOf: writer.bytes)
    }
}

extension ProfileEnvelope {
    /// Standard base64 (RFC 4648 §4) with padding, for bodies that are not JSON.
    enum Base64 {
        private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

        /// The base64 text of `bytes`.
        static func encode(_ bytes: [UInt8]) -> String {
            var text: [UInt8] = []
            text.reserveCapacity((bytes.count + 2) / 3 * 4)
            var index = 0
            while index < bytes.count {
                let remaining = bytes.count - index
                let b0 = UInt32(bytes[index])
                let b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
                let b2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
                let group = b0 << 16 | b1 << 8 | b2
                text.append(alphabet[Int(group >> 18 & 0x3F)])
                text.append(alphabet[Int(group >> 12 & 0x3F)])
                text.append(remaining > 1 ? alphabet[Int(group >> 6 & 0x3F)] : UInt8(ascii: "="))
                text.append(remaining > 2 ? alphabet[Int(group & 0x3F)] : UInt8(ascii: "="))
                index += 3
            }
            return String(decoding: text, as: UTF8.self)
        }

        /// The bytes of base64 `text`, or nil unless it is well-formed padded base64 (no whitespace).
        static func decode(_ text: String) -> [UInt8]? {
            let characters = Array(text.utf8)
            guard characters.count % 4 == 0 else { return nil }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(characters.count / 4 * 3)
            for start in stride(from: 0, to: characters.count, by: 4) {
                let isLast = start + 4 == characters.count
                var group: UInt32 = 0
                var padding = 0
                for offset in 0..<4 {
                    let character = characters[start + offset]
                    let sextet: UInt32
                    if character == UInt8(ascii: "=") && isLast && offset >= 2 {
                        padding += 1
                        sextet = 0
                    } else if padding == 0, let value = value(of: character) {
                        sextet = value
                    } else {
                        return nil
                    }
                    group = group << 6 | sextet
                }
                bytes.append(UInt8(truncatingIfNeeded: group >> 16))
                if padding < 2 { bytes.append(UInt8(truncatingIfNeeded: group >> 8)) }
                if padding < 1 { bytes.append(UInt8(truncatingIfNeeded: group)) }
            }
            return bytes
        }

        private static func value(of character: UInt8) -> UInt32? {
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(character - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(character - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(character - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): 62
            case UInt8(ascii: "/"): 63
            default: nil
            }
        }
    }
}

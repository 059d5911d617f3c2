import VigilCore

/// Typed access to a record's members that reports wrong types as ``CloudRecordError``s naming the field.
///
/// A missing member and a JSON `null` both read as absent: exports (Panther, BigQuery) write `null` for
/// fields the provider left out.
struct JSONFields {
    let object: JSONObject
    /// The path of this object in the record (`userIdentity.`), to name fields in errors.
    let path: String

    init(_ object: JSONObject, path: String = "") {
        self.object = object
        self.path = path
    }

    /// A string member, or nil when absent; any other type is an error.
    func string(_ key: String) throws(CloudRecordError) -> String? {
        switch object[key] {
        case .none, .null?: return nil
        case .string(let value)?: return value
        case let value?:
            throw CloudRecordError(
                code: .invalidField, field: path + key, message: "expected a string, found \(kind(value))")
        }
    }

    /// The first of `keys` present as a string, or nil.
    func firstString(_ keys: String...) throws(CloudRecordError) -> String? {
        for key in keys {
            if let value = try string(key) { return value }
        }
        return nil
    }

    /// A string member that must be present.
    func requiredString(_ key: String) throws(CloudRecordError) -> String {
        guard let value = try string(key), !value.isEmpty else {
            throw CloudRecordError(code: .missingField, field: path + key, message: "the record has no \(key)")
        }
        return value
    }

    /// A string, number or Boolean member as text (hand-written records mix them), or nil when absent.
    func text(_ key: String) throws(CloudRecordError) -> String? {
        switch object[key] {
        case .none, .null?: return nil
        case .string(let value)?: return value
        case .bool(let value)?: return value ? "true" : "false"
        case .integer(let value)?: return String(value)
        case .unsigned(let value)?: return String(value)
        case .double(let value)?: return String(value)
        case let value?:
            throw CloudRecordError(
                code: .invalidField, field: path + key, message: "expected a scalar, found \(kind(value))")
        }
    }

    /// An object member, or nil when absent; any other type is an error.
    func object(_ key: String) throws(CloudRecordError) -> JSONFields? {
        switch object[key] {
        case .none, .null?: return nil
        case .object(let value)?: return JSONFields(value, path: path + key + ".")
        case let value?:
            throw CloudRecordError(
                code: .invalidField, field: path + key, message: "expected an object, found \(kind(value))")
        }
    }

    /// A member, whatever its type.
    subscript(key: String) -> JSONValue? { object[key] }

    private func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a Boolean"
        case .integer, .unsigned, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Parses an RFC 3339 time field into nanoseconds since the epoch.
///
/// Also accepts the zone-less UTC form that Panther and BigQuery exports write (`2024-01-19 13:47:18.279921000`,
/// optionally followed by ` UTC`): those exports normalise every time to UTC and drop the designator.
func parseTime(_ text: String, field: String) throws(CloudRecordError) -> Int64 {
    if let time = RFC3339.parse(text) { return time }
    var utc = text.hasSuffix(" UTC") ? String(text.dropLast(4)) : text
    utc += "Z"
    guard let time = RFC3339.parse(utc) else {
        throw CloudRecordError(
            code: .invalidField, field: field, message: "'\(text.prefix(64))' is not an RFC 3339 time")
    }
    return time
}

/// Compact JSON text of a value, for security details that are structured (policy documents, selectors).
func compactJSON(_ value: JSONValue) -> String {
    if case .string(let text) = value { return text }
    var writer = JSONWriter(capacity: 128)
    writer.value(value)
    return writer.text
}

import VigilCore
import Yams

/// Reads a YAML document into a ``JSONValue``, for tests and tools that read YAML files other than rule files
/// (Falco's test case lists) without depending on Yams themselves.
package enum YAMLValue {
    /// The value of the one document in `text`: mappings become objects (keys as text, in order), sequences
    /// arrays, and plain scalars booleans, integers, numbers or null where YAML reads them so (quoted ones stay
    /// strings). Tags such as `!mux` are ignored; an empty document is null.
    package static func parse(_ text: String, name: String) throws(RuleError) -> JSONValue {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw RuleError(code: .unreadableFile, token: name, message: "not YAML: \(error)")
        }
        return root.map(value) ?? .null
    }

    private static func value(_ node: Node) -> JSONValue {
        switch node {
        case .mapping(let mapping):
            return .object(JSONObject(mapping.map { (key: $0.key.string ?? "", value: value($0.value)) }))
        case .sequence(let sequence):
            return .array(sequence.map(value))
        case .scalar(let scalar):
            // Only plain scalars are typed; a quoted `"true"` stays text.
            guard scalar.style == .plain else { return .string(scalar.string) }
            if node.null != nil { return .null }
            if let flag = node.bool { return .bool(flag) }
            if let integer = node.int { return .integer(Int64(integer)) }
            if let number = node.float { return .double(number) }
            return .string(scalar.string)
        case .alias:
            return .null
        }
    }
}

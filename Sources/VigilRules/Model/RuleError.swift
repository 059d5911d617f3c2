/// Why a rule, macro, list or rule file could not be loaded: which rule, where, and the offending token.
public struct RuleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; a struct so that codes can be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The condition does not parse.
        public static let syntax = Code("syntax error")
        /// A field name no event carries, in Vigil's names or Falco's.
        public static let unknownField = Code("unknown field")
        /// A field Falco has but Vigil's events do not carry: the rule is reported, not loaded.
        public static let unsupportedField = Code("unsupported field")
        /// A macro that is not defined.
        public static let unknownMacro = Code("unknown macro")
        /// A value that does not fit its field (a number, an address) or its operator.
        public static let invalidValue = Code("invalid value")
        /// An operator the field cannot take, or one Vigil does not evaluate (`regex`).
        public static let unsupportedOperator = Code("unsupported operator")
        /// A rule file entry that is not a rule, macro or list, or lacks a required key.
        public static let invalidEntry = Code("invalid entry")
        /// The file is not YAML, or cannot be read.
        public static let unreadableFile = Code("unreadable file")
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// The rule, macro or list it happened in, or empty.
    public var rule: String
    /// Where, when known.
    public var location: SourceLocation?
    /// The offending token, or empty.
    public var token: String
    /// Details in plain words.
    public var message: String

    /// Creates an error.
    public init(code: Code, rule: String = "", location: SourceLocation? = nil, token: String = "", message: String) {
        self.code = code
        self.rule = rule
        self.location = location
        self.token = token
        self.message = message
    }

    /// `rule 'X', line 3, column 14: unknown field 'proc.nme': ...`.
    public var description: String {
        var parts: [String] = []
        if !rule.isEmpty { parts.append("rule '\(rule)'") }
        if let location { parts.append(location.description) }
        let head = parts.isEmpty ? "" : parts.joined(separator: ", ") + ": "
        let tokenText = token.isEmpty ? "" : " '\(token)'"
        return "\(head)\(code)\(tokenText): \(message)"
    }
}

/// Why a response policy could not be loaded; the message names the file, the line and the key.
public struct ResponsePolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; a struct so that codes can be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The file could not be read.
        public static let unreadableFile = Code("unreadable file")
        /// The text is not YAML.
        public static let invalidYAML = Code("invalid YAML")
        /// A mapping has a key the format does not define (often a misspelling).
        public static let unknownKey = Code("unknown key")
        /// A key has a value of the wrong shape or an unknown name (an action, a severity, a technique id).
        public static let invalidValue = Code("invalid value")
        /// A required key is missing.
        public static let missingKey = Code("missing key")
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// The policy file's path, or the name given to a policy read from a string.
    public var file: String
    /// The line (from 1) of the offending key or value, or 0 when it has none.
    public var line: Int
    /// The offending key as a path (`rules[2].match.min_severity`), or empty for the whole document.
    public var key: String
    /// What is wrong and what is expected instead.
    public var message: String

    /// Creates an error.
    public init(code: Code, file: String, line: Int, key: String, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// `file:line: key: message`, leaving out the parts that are absent.
    public var description: String {
        var text = file
        if line > 0 { text += ":\(line)" }
        if !key.isEmpty { text += ": \(key)" }
        return text + ": " + message
    }
}

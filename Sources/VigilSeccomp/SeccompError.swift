import Glibc

/// Why a seccomp profile could not be read, built or loaded.
public struct SeccompError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; a struct so that codes can be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The profile text is not valid JSON.
        public static let invalidJSON = Code("invalid JSON")
        /// The profile is JSON but not a seccomp profile: a field is missing or has the wrong type or value.
        public static let invalidProfile = Code("invalid profile")
        /// The profile is valid but says something an allow list of whole syscalls cannot hold without widening
        /// or narrowing it (argument conditions, an allow-by-default action, an architecture Vigil does not
        /// support).
        public static let unsupportedProfile = Code("unsupported profile")
        /// The profile does not cover the architecture this process runs on.
        public static let architectureMismatch = Code("architecture mismatch")
        /// The profile file could not be read.
        public static let unreadableFile = Code("unreadable file")
        /// libseccomp could not build or export the filter.
        public static let filterFailed = Code("filter failed")
        /// The kernel refused to load the filter.
        public static let loadFailed = Code("load failed")
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// The offending profile field's path (`syscalls[2].args`), or empty.
    public var field: String
    /// Details in plain words, saying what to do.
    public var message: String
    /// The errno of the failing call, for operating-system and libseccomp failures.
    public var errno: Int32?
    /// The call that failed (`seccomp_load`, `open`), for operating-system and libseccomp failures.
    public var call: String?

    /// Creates an error.
    public init(code: Code, field: String = "", message: String, errno: Int32? = nil, call: String? = nil) {
        self.code = code
        self.field = field
        self.message = message
        self.errno = errno
        self.call = call
    }

    /// `code 'field': message (call: strerror, errno N)`, leaving out the parts that are absent.
    public var description: String {
        var text = field.isEmpty ? "\(code): \(message)" : "\(code) '\(field)': \(message)"
        switch (call, errno) {
        case (let call?, let errno?): text += " (\(call): \(Self.errorText(errno)), errno \(errno))"
        case (let call?, nil): text += " (\(call))"
        case (nil, let errno?): text += " (\(Self.errorText(errno)), errno \(errno))"
        case (nil, nil): break
        }
        return text
    }

    /// The C library's text for an errno value.
    static func errorText(_ errno: Int32) -> String {
        String(cString: strerror(errno))
    }
}

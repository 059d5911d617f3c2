import Glibc
import VigilCore

// The seccomp profile format of the OCI runtime spec (`linux.seccomp` in config.json), which Kubernetes
// (`localhostProfile`), Docker and Podman read from files.

extension SeccompProfile {
    /// The largest profile file ``init(ociFile:)`` reads. A profile lists a few hundred names; anything much
    /// larger is not a profile, and reading it whole would only cost memory.
    public static let maximumOCIFileSize = 16 << 20

    /// The profile as an OCI / Kubernetes seccomp profile for `mode`, as compact JSON.
    ///
    /// `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": [...], "syscalls":
    /// [{"names": [...], "action": "SCMP_ACT_ALLOW"}]}` in enforce mode; in log mode the default action is
    /// `SCMP_ACT_LOG` and there is no `defaultErrnoRet`. A profile that allows nothing has no syscall entry.
    public func ociJSON(mode: SeccompMode) -> String {
        var writer = JSONWriter(capacity: 64 + 24 * allowedSyscalls.count)
        writer.beginObject()
        writer.field("defaultAction", mode.ociDefaultAction)
        if mode == .enforce { writer.field("defaultErrnoRet", Int(SeccompMode.deniedErrno)) }
        writer.key("architectures")
        writer.beginArray()
        for architecture in architectures { writer.string(architecture.rawValue) }
        writer.endArray()
        writer.key("syscalls")
        writer.beginArray()
        if !allowedSyscalls.isEmpty {
            writer.beginObject()
            writer.key("names")
            writer.beginArray()
            for name in allowedSyscalls { writer.string(name) }
            writer.endArray()
            writer.field("action", OCIAction.allow)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.text
    }

    /// Reads an OCI / Kubernetes seccomp profile.
    ///
    /// The allowed syscalls are the union of the entries whose action is `SCMP_ACT_ALLOW`. Anything that would
    /// change the meaning of an allow list of whole syscalls is an error rather than silently widened or
    /// narrowed: entries restricted by `args` (or Docker's `includes` / `excludes`), entries that log, trace or
    /// notify, a name both allowed and denied, members of an entry Vigil does not know, a default action that
    /// allows, and architectures other than x86_64 and aarch64. Entries that deny (`SCMP_ACT_ERRNO`,
    /// `SCMP_ACT_KILL*`, `SCMP_ACT_TRAP`) only restate the default and are skipped. The default action is
    /// checked but not kept: the mode is chosen when the profile is loaded. Unknown top-level members (`flags`,
    /// `listenerPath`) are ignored, since they do not change which syscalls run.
    public init(ociJSON: String) throws(SeccompError) {
        try self.init(ociBytes: Array(ociJSON.utf8))
    }

    /// Reads an OCI / Kubernetes seccomp profile file (see ``init(ociJSON:)``); errors name the file.
    public init(ociFile path: String) throws(SeccompError) {
        let bytes = try Self.readFile(path)
        do {
            try self.init(ociBytes: bytes)
        } catch {
            throw SeccompError(code: error.code, field: error.field, message: "\(path): \(error.message)")
        }
    }

    init(ociBytes: [UInt8]) throws(SeccompError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(ociBytes, maximumDepth: 16)
        } catch {
            throw SeccompError(code: .invalidJSON, message: "\(error.description); a profile is one JSON object")
        }
        guard let top = value.object else {
            throw SeccompError(code: .invalidProfile, message: "a seccomp profile is a JSON object")
        }
        try Self.rejectDuplicateKeys(top, path: "")

        let defaultAction = try OCIObject(top, path: "").string("defaultAction")
        if defaultAction == OCIAction.allow {
            throw SeccompError(
                code: .unsupportedProfile, field: "defaultAction",
                message: "a profile that allows by default lists what is denied, not what is allowed; "
                    + "Vigil profiles are allow lists: use SCMP_ACT_ERRNO (enforce) or SCMP_ACT_LOG (log)")
        } else if OCIAction.unsupported.contains(defaultAction) {
            throw SeccompError(
                code: .unsupportedProfile, field: "defaultAction",
                message: "'\(defaultAction)' hands syscalls to another program, which Vigil does not do; "
                    + "use SCMP_ACT_ERRNO (enforce) or SCMP_ACT_LOG (log)")
        } else if defaultAction != OCIAction.log && !OCIAction.denials.contains(defaultAction) {
            throw SeccompError(
                code: .invalidProfile, field: "defaultAction",
                message: "'\(defaultAction)' is not a seccomp action; "
                    + "use SCMP_ACT_ERRNO (enforce) or SCMP_ACT_LOG (log)")
        }
        if let errnoRet = top["defaultErrnoRet"], !errnoRet.isNull, errnoRet.uint64 == nil {
            throw SeccompError(
                code: .invalidProfile, field: "defaultErrnoRet", message: "must be a non-negative integer errno")
        }

        var architectures: [SeccompArchitecture] = []
        for (index, element) in try OCIObject(top, path: "").array("architectures").enumerated() {
            let field = "architectures[\(index)]"
            guard let name = element.string else {
                throw SeccompError(code: .invalidProfile, field: field, message: "must be a string (SCMP_ARCH_…)")
            }
            guard let architecture = SeccompArchitecture(rawValue: name) else {
                let supported = SeccompArchitecture.allCases.map(\.rawValue).joined(separator: ", ")
                throw SeccompError(
                    code: .unsupportedProfile, field: field,
                    message: "Vigil supports \(supported), not '\(name)'; remove it from the profile")
            }
            architectures.append(architecture)
        }

        var allowed = Set<String>()
        var denied = Set<String>()
        for (index, element) in try OCIObject(top, path: "").array("syscalls").enumerated() {
            let path = "syscalls[\(index)]"
            guard let entry = element.object else {
                throw SeccompError(code: .invalidProfile, field: path, message: "a syscall entry is a JSON object")
            }
            let rule = try Self.readEntry(entry, path: path)
            if rule.allows {
                allowed.formUnion(rule.names)
            } else {
                denied.formUnion(rule.names)
            }
        }
        if let both = allowed.intersection(denied).min() {
            throw SeccompError(
                code: .unsupportedProfile, field: "syscalls",
                message: "'\(both)' is both allowed and denied; keep it in one entry only")
        }
        self.init(allowedSyscalls: allowed, architectures: architectures)
    }

    /// Reads one entry of `syscalls`: its names and whether it allows them.
    private static func readEntry(_ entry: JSONObject, path: String) throws(SeccompError) -> OCIRule {
        try rejectDuplicateKeys(entry, path: path)
        for key in entry.keys where !OCIAction.entryMembers.contains(key) {
            throw SeccompError(
                code: .unsupportedProfile, field: "\(path).\(key)",
                message: "Vigil does not know how '\(key)' changes this rule, so it cannot keep the rule's meaning; "
                    + "remove it")
        }
        var names: [String] = []
        for (index, element) in try OCIObject(entry, path: path).array("names").enumerated() {
            guard let name = element.string, !name.isEmpty else {
                throw SeccompError(
                    code: .invalidProfile, field: "\(path).names[\(index)]", message: "must be a syscall name")
            }
            names.append(name)
        }
        // `name` (one string) is the older spelling, still found in Docker-era profiles.
        if let single = entry["name"], !single.isNull {
            guard let name = single.string, !name.isEmpty else {
                throw SeccompError(code: .invalidProfile, field: "\(path).name", message: "must be a syscall name")
            }
            names.append(name)
        }
        guard !names.isEmpty else {
            throw SeccompError(
                code: .invalidProfile, field: "\(path).names", message: "the entry names no syscall; add 'names'")
        }
        let action = try OCIObject(entry, path: path).string("action")

        if let args = entry["args"], !args.isNull {
            guard let conditions = args.array else {
                throw SeccompError(
                    code: .invalidProfile, field: "\(path).args", message: "must be an array of conditions")
            }
            if !conditions.isEmpty && action == OCIAction.allow {
                throw SeccompError(
                    code: .unsupportedProfile, field: "\(path).args",
                    message: "the entry allows \(names.joined(separator: ", ")) only for some argument values; "
                        + "Vigil profiles allow whole syscalls, so this would widen it: remove 'args' to allow "
                        + "the syscalls outright, or remove the entry to deny them")
            }
            if !conditions.isEmpty {
                throw SeccompError(
                    code: .unsupportedProfile, field: "\(path).args",
                    message: "the entry denies \(names.joined(separator: ", ")) only for some argument values; "
                        + "Vigil profiles deny whole syscalls, so this would narrow it: remove 'args' to deny "
                        + "the syscalls outright, or remove the entry and allow them in another")
            }
        }
        for key in ["includes", "excludes"] {
            guard let condition = entry[key] else { continue }
            guard isEmptyCondition(condition) else {
                throw SeccompError(
                    code: .unsupportedProfile, field: "\(path).\(key)",
                    message: "the entry applies only under some conditions (capabilities, architectures or "
                        + "kernel versions), which a Vigil profile cannot express; remove '\(key)'")
            }
        }
        if let errnoRet = entry["errnoRet"], !errnoRet.isNull, errnoRet.uint64 == nil {
            throw SeccompError(
                code: .invalidProfile, field: "\(path).errnoRet", message: "must be a non-negative integer errno")
        }
        if let comment = entry["comment"], !comment.isNull, comment.string == nil {
            throw SeccompError(code: .invalidProfile, field: "\(path).comment", message: "must be a string")
        }

        if action == OCIAction.allow { return OCIRule(names: names, allows: true) }
        if OCIAction.denials.contains(action) { return OCIRule(names: names, allows: false) }
        if action == OCIAction.log || OCIAction.unsupported.contains(action) {
            throw SeccompError(
                code: .unsupportedProfile, field: "\(path).action",
                message: "Vigil profiles only allow or deny; '\(action)' would be neither: "
                    + "use SCMP_ACT_ALLOW or remove the entry")
        }
        throw SeccompError(
            code: .invalidProfile, field: "\(path).action",
            message: "'\(action)' is not a seccomp action; use SCMP_ACT_ALLOW")
    }

    /// Whether Docker's `includes` / `excludes` condition is absent in effect (null, or only empty members).
    private static func isEmptyCondition(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return true
        case .object(let object):
            return object.allSatisfy { member in
                switch member.value {
                case .null: true
                case .array(let elements): elements.isEmpty
                case .string(let text): text.isEmpty
                case .integer(0): true
                default: false
                }
            }
        default: return false
        }
    }

    /// Duplicate members would let two readers see two different profiles in one file.
    private static func rejectDuplicateKeys(_ object: JSONObject, path: String) throws(SeccompError) {
        var seen = Set<String>()
        for key in object.keys where !seen.insert(key).inserted {
            throw SeccompError(
                code: .invalidProfile, field: path.isEmpty ? key : "\(path).\(key)",
                message: "appears twice; keep one")
        }
    }

    /// Reads a whole file, up to ``maximumOCIFileSize`` bytes.
    private static func readFile(_ path: String) throws(SeccompError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let error = errno
            throw SeccompError(
                code: .unreadableFile,
                message: "cannot open the profile file \(path); check the path and its permissions",
                errno: error, call: "open")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            if count < 0 {
                let error = errno
                if error == EINTR { continue }
                throw SeccompError(
                    code: .unreadableFile, message: "cannot read the profile file \(path); give a regular file",
                    errno: error, call: "read")
            }
            bytes.append(contentsOf: chunk[..<count])
            guard bytes.count <= maximumOCIFileSize else {
                throw SeccompError(
                    code: .unreadableFile,
                    message: "\(path) is larger than \(maximumOCIFileSize >> 20) MiB, far too large for a seccomp "
                        + "profile; check that it is the right file")
            }
        }
    }
}

/// A JSON object of a profile and where it is, for errors that name the field.
struct OCIObject {
    let object: JSONObject
    /// The object's own path (`syscalls[2]`), or empty for the profile itself.
    let path: String

    init(_ object: JSONObject, path: String) {
        self.object = object
        self.path = path
    }

    /// The path of the member `key`.
    func field(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// The string under `key`, which must be there.
    func string(_ key: String) throws(SeccompError) -> String {
        guard let value = object[key], !value.isNull else {
            throw SeccompError(code: .invalidProfile, field: field(key), message: "is missing")
        }
        guard let text = value.string else {
            throw SeccompError(code: .invalidProfile, field: field(key), message: "must be a string")
        }
        return text
    }

    /// The array under `key`; an absent or null member is an empty array, as the OCI spec omits empty lists.
    func array(_ key: String) throws(SeccompError) -> [JSONValue] {
        guard let value = object[key], !value.isNull else { return [] }
        guard let elements = value.array else {
            throw SeccompError(code: .invalidProfile, field: field(key), message: "must be an array")
        }
        return elements
    }
}

/// One entry of a profile's `syscalls`, as far as an allow list of whole syscalls is concerned.
struct OCIRule {
    /// The syscalls the entry is about.
    var names: [String]
    /// Whether it allows them (otherwise it denies them).
    var allows: Bool
}

/// The action names of OCI seccomp profiles.
enum OCIAction {
    static let allow = "SCMP_ACT_ALLOW"
    static let log = "SCMP_ACT_LOG"
    /// Actions that stop a syscall from running.
    static let denials: Set<String> = [
        "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
    ]
    /// Actions that hand the decision to a tracer or a supervisor.
    static let unsupported: Set<String> = ["SCMP_ACT_TRACE", "SCMP_ACT_NOTIFY"]
    /// The members a syscall entry may have: the OCI spec's, plus Docker's `comment`, `includes`, `excludes` and
    /// the older `name`.
    static let entryMembers: Set<String> = [
        "names", "name", "action", "args", "errnoRet", "comment", "includes", "excludes",
    ]
}

import VigilCore

/// Why a stored profile body could not be read.
public struct ProfileCodingError: Error, Sendable, CustomStringConvertible {
    /// What went wrong; a struct so that codes can be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The body is not JSON.
        public static let invalidJSON = Code("invalid JSON")
        /// A member is missing or has the wrong type or value.
        public static let invalidField = Code("invalid field")
        /// The body was written by a newer format version.
        public static let unsupportedVersion = Code("unsupported version")
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// Details, naming the member.
    public var message: String

    public var description: String { "\(code): \(message)" }
}

/// The stored form of a ``Profile``: a JSON document with readable entries, so a `files:` store can be
/// read and reviewed by people.
public enum ProfileCoding {
    /// The format version written.
    public static let version: Int64 = 1

    /// Encodes a profile as UTF-8 JSON.
    public static func encode(_ profile: Profile) -> [UInt8] {
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.field("version", version)
        w.field("subject", profile.subject.rawValue)
        w.field("name", profile.name)
        if let workload = profile.workload {
            w.key("workload")
            w.beginObject()
            w.field("kind", workload.kind.rawValue)
            for (key, value) in [
                ("namespace", workload.namespace), ("owner_kind", workload.ownerKind), ("owner", workload.ownerName),
                ("container", workload.containerName), ("image", workload.image), ("cgroup", workload.cgroup),
                ("executable", workload.executable),
            ] where !value.isEmpty {
                w.field(key, value)
            }
            w.endObject()
        }
        let lifecycle = profile.lifecycle
        w.field("state", lifecycle.state.rawValue)
        w.field("partial", lifecycle.partial)
        w.field("first_seen", lifecycle.firstSeen)
        w.field("last_seen", lifecycle.lastSeen)
        w.field("last_new_entry", lifecycle.lastNewEntry)
        w.field("events", lifecycle.events)
        w.key("overflowed")
        w.beginArray()
        for part in profile.overflowedParts { w.string(part.rawValue) }
        w.endArray()
        w.key("executables")
        w.beginObject()
        for (executable, patterns) in profile.executables.sorted(by: { $0.key < $1.key }) {
            w.key(executable)
            w.beginArray()
            for pattern in patterns.sorted { w.string(pattern) }
            w.endArray()
        }
        w.endObject()
        w.key("files")
        w.beginObject()
        for (path, access) in profile.files.entries { w.field(path, access.letters) }
        w.endObject()
        for part in ProfilePart.allCases where part != .executables && part != .files {
            let entries = profile.entries(part)
            if entries.isEmpty { continue }
            w.key(part.rawValue)
            w.beginArray()
            for entry in entries { w.string(entry) }
            w.endArray()
        }
        w.endObject()
        return w.bytes
    }

    /// Decodes a profile written by ``encode(_:)``.
    public static func decode(
        _ body: [UInt8], limits: ProfileLimits = ProfileLimits()
    ) throws(ProfileCodingError)
        -> Profile
    {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw ProfileCodingError(code: .invalidJSON, message: error.description)
        }
        guard let object = value.object else { throw invalid("the profile is not a JSON object") }
        guard let version = object["version"]?.int64 else { throw invalid("'version' is missing") }
        guard version <= Self.version else {
            throw ProfileCodingError(
                code: .unsupportedVersion, message: "version \(version) is newer than \(Self.version)")
        }
        guard let subjectName = object["subject"]?.string, let subject = ProfileSubject(rawValue: subjectName) else {
            throw invalid("'subject' must be workload or principal")
        }
        guard let name = object["name"]?.string else { throw invalid("'name' is missing") }
        var workload: Workload?
        if let w = object["workload"]?.object {
            guard let kindName = w["kind"]?.string, let kind = Workload.Kind(rawValue: kindName) else {
                throw invalid("'workload.kind' is not a workload kind")
            }
            func text(_ key: String) -> String { w[key]?.string ?? "" }
            workload = Workload(
                kind: kind, namespace: text("namespace"), ownerKind: text("owner_kind"), ownerName: text("owner"),
                containerName: text("container"), image: text("image"), cgroup: text("cgroup"),
                executable: text("executable"))
        }
        var profile = Profile(subject: subject, name: name, workload: workload, limits: limits)
        guard let stateName = object["state"]?.string, let state = ProfileState(rawValue: stateName) else {
            throw invalid("'state' must be learning, ready or completed")
        }
        profile.lifecycle.state = state
        profile.lifecycle.partial = object["partial"]?.bool ?? false
        profile.lifecycle.firstSeen = object["first_seen"]?.int64 ?? 0
        profile.lifecycle.lastSeen = object["last_seen"]?.int64 ?? 0
        profile.lifecycle.lastNewEntry = object["last_new_entry"]?.int64 ?? 0
        profile.lifecycle.events = object["events"]?.uint64 ?? 0
        var overflowed = Set<ProfilePart>()
        for item in object["overflowed"]?.array ?? [] {
            guard let partName = item.string, let part = ProfilePart(rawValue: partName) else {
                throw invalid("'overflowed' names an unknown part")
            }
            overflowed.insert(part)
        }
        if let executables = object["executables"]?.object {
            for (executable, patterns) in executables {
                guard let list = patterns.array?.compactMap(\.string), list.count == patterns.array?.count else {
                    throw invalid("'executables.\(executable)' must be a list of strings")
                }
                profile.restoreExecutable(executable, patterns: list, overflowed: false)
            }
        }
        if overflowed.contains(.executables) { profile.markExecutablesOverflowed() }
        var files: [(String, FileAccess)] = []
        for (path, letters) in object["files"]?.object ?? JSONObject() {
            guard let text = letters.string, let access = FileAccess(letters: text) else {
                throw invalid("'files.\(path)' must be access letters such as r-- or rw-")
            }
            files.append((path, access))
        }
        profile.restoreFiles(files, overflowed: overflowed.contains(.files))
        for part in ProfilePart.allCases where part != .executables && part != .files {
            guard let list = object[part.rawValue] else { continue }
            guard let entries = list.array?.compactMap(\.string), entries.count == list.array?.count else {
                throw invalid("'\(part.rawValue)' must be a list of strings")
            }
            profile.restore(part, entries: entries, overflowed: overflowed.contains(part))
        }
        return profile
    }

    private static func invalid(_ message: String) -> ProfileCodingError {
        ProfileCodingError(code: .invalidField, message: message)
    }
}

import VigilCore

/// What the renderers read from a finding's alert line beyond the record's own members: the triggering
/// event's kind-specific fields, its workload and user id, and the process's start time and ancestry.
///
/// A ``FindingRecord`` keeps the whole line so that outputs can reach every member; this parses it once.
struct RecordDetails {
    /// One ancestor of the finding's process, parent first.
    struct Ancestor {
        var pid: Int64
        var startTime: Int64
        var executable: String
        var arguments: [String]
    }

    /// The triggering event's `fields` object (`{}` when the line has none).
    var fields: JSONValue
    /// The `workload` object of the finding.
    var workload: JSONValue
    /// The triggering event's Linux user id, when known.
    var uid: Int64?
    /// The process's start time (nanoseconds since boot), when the finding has a process.
    var processStartTime: Int64?
    /// The process's known ancestors, parent first.
    var ancestry: [Ancestor]

    init(_ record: FindingRecord) {
        let line = (try? JSONParser.parse(record.json)) ?? .null
        let event = line["evidence"]?.array?.first ?? .null
        fields = event["fields"] ?? .object(JSONObject())
        workload = line["workload"] ?? .null
        uid = event["uid"]?.int64
        processStartTime = line["process"]?["start_time"]?.int64
        ancestry = (line["process"]?["ancestry"]?.array ?? []).map { ancestor in
            Ancestor(
                pid: ancestor["pid"]?.int64 ?? 0, startTime: ancestor["start_time"]?.int64 ?? 0,
                executable: ancestor["exe"]?.string ?? "",
                arguments: ancestor["args"]?.array?.compactMap(\.string) ?? [])
        }
    }

    /// A string member of the event's fields, or empty.
    func string(_ key: String) -> String { fields[key]?.string ?? "" }

    /// An integer member of the event's fields.
    func integer(_ key: String) -> Int64? { fields[key]?.int64 }

    /// A string member of the workload, or empty.
    func workload(_ key: String) -> String { workload[key]?.string ?? "" }

    /// The process's entity id (`pid@start_time`), as the correlator names it, or empty without a process.
    func processEntityID(pid: Int32) -> String {
        guard pid != 0, let start = processStartTime else { return "" }
        return "\(pid)@\(start)"
    }

    /// Every string value of the line, and the entity ids of its processes: what an incident's entities are
    /// matched against to find the findings they appear in.
    static func mentions(_ record: FindingRecord) -> Set<String> {
        var found: Set<String> = []
        var pending = [(try? JSONParser.parse(record.json)) ?? .null]
        while let value = pending.popLast() {
            switch value {
            case .string(let text): found.insert(text)
            case .array(let elements): pending += elements
            case .object(let object):
                if let pid = object["pid"]?.int64, let start = object["start_time"]?.int64 {
                    found.insert("\(pid)@\(start)")
                }
                pending += object.members.map(\.value)
            default: break
            }
        }
        return found
    }
}

/// Display names for ATT&CK tactics, which the alert stream carries by short name (`credential-access`).
enum TacticNames {
    /// The tactic's id (`TA0006`), or empty for an unknown name.
    static func id(_ name: String) -> String { MITRETactic(name)?.id ?? "" }

    /// The tactic's ATT&CK display name (`Credential Access`, `Command and Control`).
    static func title(_ name: String) -> String {
        name.split(separator: "-").enumerated().map { index, word in
            // ATT&CK writes "and" in lower case inside a name.
            index > 0 && word == "and" ? "and" : word.prefix(1).uppercased() + word.dropFirst()
        }.joined(separator: " ")
    }

    /// The Falco tag of the tactic (`mitre_credential_access`).
    static func falcoTag(_ name: String) -> String {
        "mitre_" + String(name.map { $0 == "-" ? "_" : $0 })
    }
}

extension String {
    /// The last path component (`sh` for `/bin/sh`).
    var baseName: String {
        guard let slash = lastIndex(of: "/") else { return self }
        return String(self[index(after: slash)...])
    }
}

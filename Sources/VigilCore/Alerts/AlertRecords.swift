/// A finding as the alert stream carries it: plain strings, no symbols, so it outlives the engine that made
/// it (stores, reports, other processes). Read back from a `finding` line of the alert stream.
public struct FindingRecord: Sendable, Equatable {
    /// The finding's id (`f-…`).
    public var id: String
    /// When it happened, in nanoseconds since the epoch.
    public var time: Int64
    /// Its severity.
    public var severity: Severity
    /// The id of the rule or profile check that fired.
    public var ruleID: String
    /// The rule's short name.
    public var ruleName: String
    /// The ATT&CK tactic's name (`credential-access`).
    public var tactic: String
    /// The ATT&CK technique id (`T1552.005`).
    public var technique: String
    /// The layer of the triggering event.
    public var layer: Layer
    /// The triggering event's kind name (`process.exec`).
    public var kind: String
    /// The workload's name (`host` for the host).
    public var workload: String
    /// The container id, or empty.
    public var containerID: String
    /// The process's pid, or 0 for events without a process.
    public var pid: Int32
    /// The process's executable, or empty.
    public var executable: String
    /// The process's arguments.
    public var arguments: [String]
    /// The principal (user, Kubernetes user, cloud identity), or empty.
    public var principal: String
    /// Why it fired, in plain words.
    public var explanation: String
    /// The whole `finding` line, for outputs that want every field.
    public var json: String

    /// Reads a `finding` line of the alert stream; nil when the line is not one.
    public init?(line: String) {
        guard let value = try? JSONParser.parse(line), value["type"]?.string == "finding",
            let id = value["id"]?.string, let time = value["time"]?.string.flatMap(RFC3339.parse)
        else { return nil }
        self.id = id
        self.time = time
        self.severity = value["severity"]?.string.flatMap(Severity.init(name:)) ?? .info
        self.ruleID = value["rule"]?["id"]?.string ?? ""
        self.ruleName = value["rule"]?["name"]?.string ?? ""
        self.tactic = value["mitre"]?["tactic"]?.string ?? ""
        self.technique = value["mitre"]?["technique"]?.string ?? ""
        self.layer = value["layer"]?.string.flatMap(Layer.init(name:)) ?? .workload
        self.kind = value["kind"]?.string ?? ""
        self.workload = value["workload"]?["name"]?.string ?? ""
        self.containerID = value["container_id"]?.string ?? ""
        self.pid = Int32(truncatingIfNeeded: value["process"]?["pid"]?.int64 ?? 0)
        self.executable = value["process"]?["exe"]?.string ?? ""
        self.arguments = value["process"]?["args"]?.array?.compactMap(\.string) ?? []
        self.principal = value["principal"]?.string ?? ""
        self.explanation = value["explanation"]?.string ?? ""
        self.json = line
    }

    /// Encodes `finding` and reads it back.
    public init(_ finding: Finding, symbols: SymbolTable) {
        var encoder = AlertEncoder(symbols: symbols)
        // The encoder's output always parses: it is the alert stream's own writer.
        self.init(line: encoder.line(for: .finding(finding)))!
    }
}

/// An incident as the alert stream carries it, with the records of its findings: plain strings, no
/// symbols. Read back from an `incident` line of the alert stream.
public struct IncidentRecord: Sendable, Equatable {
    /// One step of the story.
    public struct Step: Sendable, Equatable {
        /// When it happened, in nanoseconds since the epoch.
        public var time: Int64
        /// Its layer.
        public var layer: Layer
        /// The ATT&CK tactic's name.
        public var tactic: String
        /// The ATT&CK technique id.
        public var technique: String
        /// One line saying what happened.
        public var summary: String
        /// The findings behind it.
        public var findingIDs: [String]
    }

    /// One action taken in response.
    public struct Response: Sendable, Equatable {
        /// The action (`kill`, `quarantine`).
        public var action: String
        /// How it went (`done`, `dry_run`, `failed`).
        public var outcome: String
        /// When it was taken, in nanoseconds since the epoch.
        public var time: Int64
        /// The pid it acted on, or 0.
        public var pid: Int32
        /// What the actuator said.
        public var detail: String
    }

    /// The incident's id (`i-…`).
    public var id: String
    /// The combined severity.
    public var severity: Severity
    /// A one-line title.
    public var title: String
    /// The id of the finding that started the story.
    public var rootCause: String
    /// The layers the steps span, in order of first appearance.
    public var layers: [Layer]
    /// The steps, in time order.
    public var steps: [Step]
    /// The entities involved.
    public var entities: [Entity]
    /// The ids of the findings the incident holds.
    public var findingIDs: [String]
    /// The records of those findings that are known (an incident line lists ids only; a store or a reader
    /// of the whole stream adds the records).
    public var findings: [FindingRecord]
    /// The story in plain words.
    public var narrative: String
    /// Actions taken in response.
    public var response: [Response]
    /// The whole `incident` line.
    public var json: String

    /// The time of the first step, or 0 without steps.
    public var firstTime: Int64 { steps.first?.time ?? 0 }
    /// The time of the last step, or 0 without steps.
    public var lastTime: Int64 { steps.map(\.time).max() ?? 0 }

    /// Reads an `incident` line of the alert stream; nil when the line is not one.
    public init?(line: String, findings: [FindingRecord] = []) {
        guard let value = try? JSONParser.parse(line), value["type"]?.string == "incident",
            let id = value["id"]?.string
        else { return nil }
        self.id = id
        self.severity = value["severity"]?.string.flatMap(Severity.init(name:)) ?? .info
        self.title = value["title"]?.string ?? ""
        self.rootCause = value["root_cause"]?.string ?? ""
        self.layers = value["layers"]?.array?.compactMap { $0.string.flatMap(Layer.init(name:)) } ?? []
        self.steps = (value["steps"]?.array ?? []).compactMap { step in
            guard let time = step["time"]?.string.flatMap(RFC3339.parse) else { return nil }
            return Step(
                time: time, layer: step["layer"]?.string.flatMap(Layer.init(name:)) ?? .workload,
                tactic: step["tactic"]?.string ?? "", technique: step["technique"]?.string ?? "",
                summary: step["summary"]?.string ?? "",
                findingIDs: step["finding_ids"]?.array?.compactMap(\.string) ?? [])
        }
        self.entities = (value["entities"]?.array ?? []).compactMap { entity in
            guard let kind = entity["kind"]?.string, let id = entity["id"]?.string else { return nil }
            return Entity(kind: kind, id: id)
        }
        let findingIDs = value["findings"]?.array?.compactMap(\.string) ?? []
        self.findingIDs = findingIDs
        self.findings = findings.filter { findingIDs.contains($0.id) }
        self.narrative = value["narrative"]?.string ?? ""
        self.response = (value["response"]?.array ?? []).map { record in
            Response(
                action: record["action"]?.string ?? "", outcome: record["outcome"]?.string ?? "",
                time: record["time"]?.string.flatMap(RFC3339.parse) ?? 0,
                pid: Int32(truncatingIfNeeded: record["target"]?["pid"]?.int64 ?? 0),
                detail: record["detail"]?.string ?? "")
        }
        self.json = line
    }

    /// Encodes `incident` and its findings and reads them back.
    public init(_ incident: Incident, symbols: SymbolTable) {
        var encoder = AlertEncoder(symbols: symbols)
        let findings = incident.findings.map { FindingRecord($0, symbols: symbols) }
        // The encoder's output always parses: it is the alert stream's own writer.
        self.init(line: encoder.line(for: .incident(incident)), findings: findings)!
    }

    /// The root cause's record, when known.
    public var rootCauseFinding: FindingRecord? { findings.first { $0.id == rootCause } }
}

import VigilCore

/// What a policy looks at in an alert, resolved to strings once.
///
/// For a finding: its own rule, technique, tactic, layer and severity, and its event's workload. For an
/// incident: the rules, techniques, tactics and layers of all its findings and steps (a condition holds when
/// any of them satisfies it), the incident's severity, and the workload of the finding the response would
/// act on (``VigilCore/Alert/responseFinding``).
public struct AlertFacts: Sendable, Equatable {
    /// Whether the alert is an incident.
    public var isIncident: Bool
    /// The alert's severity.
    public var severity: Severity
    /// The ids of the rules that fired.
    public var ruleIDs: [String]
    /// The ATT&CK technique ids.
    public var techniques: [String]
    /// The ATT&CK tactics.
    public var tactics: [MITRETactic]
    /// The layers.
    public var layers: [Layer]
    /// The name of the workload a response would act on (``VigilCore/Workload/name``).
    public var workload: String
    /// The executable of the process a response would act on, when known (empty otherwise).
    public var executable: String

    /// Creates facts from their parts.
    public init(
        isIncident: Bool, severity: Severity, ruleIDs: [String], techniques: [String], tactics: [MITRETactic],
        layers: [Layer], workload: String, executable: String = ""
    ) {
        self.isIncident = isIncident
        self.severity = severity
        self.ruleIDs = ruleIDs
        self.techniques = techniques
        self.tactics = tactics
        self.layers = layers
        self.workload = workload
        self.executable = executable
    }

    /// The facts of `alert`, with workload names resolved in `symbols`.
    public init(_ alert: Alert, symbols: SymbolTable) {
        let target = alert.responseFinding
        let workload = target.map { symbols.workload($0.event.workload).name } ?? Workload.host.name
        // The event's own executable first: the process may have exec'd something else since.
        let executable = target.map { Self.executable(of: $0, symbols: symbols) } ?? ""
        switch alert {
        case .finding(let finding):
            self.init(
                isIncident: false, severity: finding.severity, ruleIDs: [finding.rule.id],
                techniques: [finding.mitre.technique], tactics: [finding.mitre.tactic], layers: [finding.layer],
                workload: workload, executable: executable)
        case .incident(let incident):
            let mappings = incident.findings.map(\.mitre) + incident.steps.map(\.mitre)
            self.init(
                isIncident: true, severity: incident.severity, ruleIDs: incident.findings.map(\.rule.id),
                techniques: mappings.map(\.technique), tactics: mappings.map(\.tactic),
                layers: incident.findings.map(\.layer) + incident.layers, workload: workload, executable: executable)
        }
    }
}

extension AlertFacts {
    /// What `finding`'s process was running: the event's executable, else an exec's new program, else the
    /// engine's process summary.
    private static func executable(of finding: Finding, symbols: SymbolTable) -> String {
        if !finding.event.executable.isNone { return symbols.string(finding.event.executable) }
        if case .process(let fields) = finding.event.fields, !fields.executable.isNone {
            return symbols.string(fields.executable)
        }
        return finding.process?.executable ?? ""
    }
}

extension Alert {
    /// The finding's or incident's id.
    var alertID: String {
        switch self {
        case .finding(let finding): return finding.id
        case .incident(let incident): return incident.id
        }
    }

    /// The finding whose event's process a response acts on.
    ///
    /// For a finding, the finding itself. For an incident, its root-cause finding (the entry point of the
    /// attack: stopping it stops what follows); when the root cause has no process (a cloud or cluster step),
    /// the earliest finding that has one; nil when none has.
    public var responseFinding: Finding? {
        switch self {
        case .finding(let finding):
            return finding
        case .incident(let incident):
            if let root = incident.findings.first(where: { $0.id == incident.rootCause }),
                root.event.process.pid != 0
            {
                return root
            }
            return incident.findings.filter { $0.event.process.pid != 0 }.min { $0.time < $1.time }
                ?? incident.findings.first { $0.id == incident.rootCause }
        }
    }
}

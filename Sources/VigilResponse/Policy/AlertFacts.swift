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

    /// Creates facts from their parts.
    public init(
        isIncident: Bool, severity: Severity, ruleIDs: [String], techniques: [String], tactics: [MITRETactic],
        layers: [Layer], workload: String
    ) {
        self.isIncident = isIncident
        self.severity = severity
        self.ruleIDs = ruleIDs
        self.techniques = techniques
        self.tactics = tactics
        self.layers = layers
        self.workload = workload
    }

    /// The facts of `alert`, with workload names resolved in `symbols`.
    public init(_ alert: Alert, symbols: SymbolTable) {
        let workload = alert.responseFinding.map { symbols.workload($0.event.workload).name } ?? Workload.host.name
        switch alert {
        case .finding(let finding):
            self.init(
                isIncident: false, severity: finding.severity, ruleIDs: [finding.rule.id],
                techniques: [finding.mitre.technique], tactics: [finding.mitre.tactic], layers: [finding.layer],
                workload: workload)
        case .incident(let incident):
            let mappings = incident.findings.map(\.mitre) + incident.steps.map(\.mitre)
            self.init(
                isIncident: true, severity: incident.severity, ruleIDs: incident.findings.map(\.rule.id),
                techniques: mappings.map(\.technique), tactics: mappings.map(\.tactic),
                layers: incident.findings.map(\.layer) + incident.layers, workload: workload)
        }
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

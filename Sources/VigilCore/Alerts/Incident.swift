/// One step of an attack story.
public struct IncidentStep: Sendable, Equatable {
    /// When the step happened, in nanoseconds since the epoch.
    public var time: Int64
    /// The layer it happened in.
    public var layer: Layer
    /// The ATT&CK technique of the step.
    public var mitre: MITREMapping
    /// One line saying what happened.
    public var summary: String
    /// The findings behind this step.
    public var findingIDs: [String]

    /// Creates a step.
    public init(time: Int64, layer: Layer, mitre: MITREMapping, summary: String, findingIDs: [String]) {
        self.time = time
        self.layer = layer
        self.mitre = mitre
        self.summary = summary
        self.findingIDs = findingIDs
    }
}

/// Something an incident involves: a process, a container, a principal, an address, a resource.
public struct Entity: Hashable, Sendable {
    /// What sort of thing it is (`process`, `container`, `workload`, `principal`, `access_key`, `address`).
    public var kind: String
    /// Its identifier in that sort (`1234@5678`, `arn:aws:iam::1:user/x`).
    public var id: String

    /// Creates an entity.
    public init(kind: String, id: String) {
        self.kind = kind
        self.id = id
    }
}

/// An attack story: related findings joined through shared entities, ordered, with a root cause.
public struct Incident: Sendable {
    /// A unique id (`i-` and 16 hex digits).
    public var id: String
    /// The combined severity.
    public var severity: Severity
    /// A one-line title.
    public var title: String
    /// The id of the finding that started the story (its entry point).
    public var rootCause: String
    /// The steps, in time order.
    public var steps: [IncidentStep]
    /// The entities involved.
    public var entities: [Entity]
    /// The findings the incident holds.
    public var findings: [Finding]
    /// The story in plain words.
    public var narrative: String
    /// Actions taken in response.
    public var response: [ResponseRecord]

    /// Creates an incident.
    public init(
        id: String = FindingID.nextIncident(),
        severity: Severity,
        title: String,
        rootCause: String,
        steps: [IncidentStep],
        entities: [Entity],
        findings: [Finding],
        narrative: String = ""
    ) {
        self.id = id
        self.severity = severity
        self.title = title
        self.rootCause = rootCause
        self.steps = steps
        self.entities = entities
        self.findings = findings
        self.narrative = narrative
        self.response = []
    }

    /// The layers the steps span, in order of first appearance.
    public var layers: [Layer] {
        var seen: [Layer] = []
        for step in steps where !seen.contains(step.layer) { seen.append(step.layer) }
        return seen
    }
}

/// What the engine hands to responders and outputs.
public enum Alert: Sendable {
    /// A single detection.
    case finding(Finding)
    /// An attack story.
    case incident(Incident)
}

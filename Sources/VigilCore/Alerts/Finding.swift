/// What a process looked like when a finding was raised: the event's process and its known ancestors.
public struct ProcessSummary: Sendable, Equatable {
    /// The process's identity.
    public var key: ProcessKey
    /// The executable's path, or empty when not known.
    public var executable: String
    /// The arguments, `argv[0]` first.
    public var arguments: [String]

    /// Creates a summary.
    public init(key: ProcessKey, executable: String, arguments: [String]) {
        self.key = key
        self.executable = executable
        self.arguments = arguments
    }
}

/// Names the rule or profile check that produced a finding.
public struct RuleReference: Hashable, Sendable {
    /// A stable id (`vigil.workload.shell-in-server`, `profile.unexpected-process`).
    public var id: String
    /// A short human name.
    public var name: String

    /// Creates a reference.
    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

/// One detection: an event that broke a rule or left a learned profile, with the why in plain words.
public struct Finding: Sendable {
    /// A unique id (`f-` and 16 hex digits).
    public var id: String
    /// When it happened (the time of the triggering event), in nanoseconds since the epoch.
    public var time: Int64
    /// How urgent it is.
    public var severity: Severity
    /// The rule or profile check that fired.
    public var rule: RuleReference
    /// The ATT&CK tactic and technique.
    public var mitre: MITREMapping
    /// The event that triggered it.
    public var event: Event
    /// Further events that support it (the triggering event is not repeated here).
    public var evidence: [Event]
    /// Why it fired, in plain words: what happened and what was expected instead.
    public var explanation: String
    /// The process and its ancestry, filled by the engine where the event has a process.
    public var process: ProcessSummary?
    /// Known ancestors of the process, parent first.
    public var ancestry: [ProcessSummary]
    /// How many events this finding's shard dropped since its previous finding: non-zero means events
    /// were lost around it and the story may be incomplete. Of several findings raised from one batch,
    /// the first carries the count, so the counts of a stream add up to the events lost.
    public var eventsLostBefore: UInt64
    /// Actions taken in response, filled by the engine's responders.
    public var response: [ResponseRecord]

    /// Creates a finding about `event`.
    public init(
        id: String = FindingID.next(),
        severity: Severity,
        rule: RuleReference,
        mitre: MITREMapping,
        event: Event,
        evidence: [Event] = [],
        explanation: String
    ) {
        self.id = id
        self.time = event.time
        self.severity = severity
        self.rule = rule
        self.mitre = mitre
        self.event = event
        self.evidence = evidence
        self.explanation = explanation
        self.process = nil
        self.ancestry = []
        self.eventsLostBefore = 0
        self.response = []
    }

    /// The layer of the triggering event.
    public var layer: Layer { event.layer }
}

/// Issues unique ids for findings and incidents within a process.
public enum FindingID {
    private static let counter = IDCounter()

    /// A new finding id.
    public static func next() -> String { counter.next("f") }

    /// A new incident id.
    public static func nextIncident() -> String { counter.next("i") }
}

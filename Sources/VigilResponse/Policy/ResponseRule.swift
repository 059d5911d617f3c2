import VigilCore

/// Whether an action is aimed at the process alone or at its whole container.
public enum ResponseScope: String, Sendable, CaseIterable {
    /// The process (the default): signals go to it alone.
    case process
    /// Every process of the target's container, through its cgroup (kill: `cgroup.kill`; pause: the freezer).
    /// Applies to kill and pause, and only to targets in a container.
    case container
}

/// The conditions a rule puts on an alert. Each condition that is given must hold; a list holds when any of
/// its items does; a condition that is not given always holds.
public struct ResponseMatch: Sendable, Equatable {
    /// Rule id patterns (`vigil.workload.crypto-*`): one of the alert's rules must match one.
    public var rules: [Glob]
    /// ATT&CK technique ids: the alert's technique must be one of them or a sub-technique of one (`T1059`
    /// covers `T1059.004`).
    public var techniques: [String]
    /// ATT&CK tactics: the alert's tactic must be one of them.
    public var tactics: [MITRETactic]
    /// The least severity the alert must have.
    public var minimumSeverity: Severity?
    /// Layers: the alert's layer must be one of them.
    public var layers: [Layer]
    /// Workload name patterns (``VigilCore/Workload/name``: `host`, `host:/system.slice/x.service:/usr/bin/x`,
    /// `prod/Deployment/web/web`, `container/name`): the target's workload must match one.
    public var workloads: [Glob]
    /// Executable path patterns (`/tmp/*`, `/usr/bin/xmrig`): the target process's executable must match one.
    public var executables: [Glob]
    /// Whether the rule applies to incidents (true) or to single findings (false, the default).
    public var incident: Bool

    /// Creates a match; with no arguments it matches every finding.
    public init(
        rules: [Glob] = [], techniques: [String] = [], tactics: [MITRETactic] = [], minimumSeverity: Severity? = nil,
        layers: [Layer] = [], workloads: [Glob] = [], executables: [Glob] = [], incident: Bool = false
    ) {
        self.rules = rules
        self.techniques = techniques
        self.tactics = tactics
        self.minimumSeverity = minimumSeverity
        self.layers = layers
        self.workloads = workloads
        self.executables = executables
        self.incident = incident
    }

    /// Whether `facts` satisfy every condition.
    public func matches(_ facts: AlertFacts) -> Bool {
        guard incident == facts.isIncident else { return false }
        if let minimumSeverity, facts.severity < minimumSeverity { return false }
        if !rules.isEmpty, !facts.ruleIDs.contains(where: { id in rules.contains { $0.matches(id) } }) {
            return false
        }
        if !techniques.isEmpty,
            !facts.techniques.contains(where: { id in techniques.contains { Self.technique(id, isWithin: $0) } })
        {
            return false
        }
        if !tactics.isEmpty, !facts.tactics.contains(where: tactics.contains) { return false }
        if !layers.isEmpty, !facts.layers.contains(where: layers.contains) { return false }
        if !workloads.isEmpty, !workloads.contains(where: { $0.matches(facts.workload) }) { return false }
        if !executables.isEmpty, !executables.contains(where: { $0.matches(facts.executable) }) { return false }
        return true
    }

    /// Whether technique `id` is `parent` or one of its sub-techniques (`T1059.004` is within `T1059`).
    static func technique(_ id: String, isWithin parent: String) -> Bool {
        id == parent || (id.hasPrefix(parent) && id.dropFirst(parent.count).first == ".")
    }
}

/// One rule of a response policy: the alerts it matches and the action it asks for.
public struct ResponseRule: Sendable, Equatable {
    /// The rule's name, for records and logs (`rules[2]` when the file gives none).
    public var name: String
    /// Which alerts it applies to.
    public var match: ResponseMatch
    /// What to do.
    public var action: ResponseActionKind
    /// For `stop`: how long to wait after SIGTERM before SIGKILL.
    public var grace: Duration
    /// Whether to act on the process or its container.
    public var scope: ResponseScope

    /// Creates a rule.
    public init(
        name: String, match: ResponseMatch, action: ResponseActionKind, grace: Duration = .seconds(5),
        scope: ResponseScope = .process
    ) {
        self.name = name
        self.match = match
        self.action = action
        self.grace = grace
        self.scope = scope
    }
}

/// What a policy decided for one alert.
public struct ResponseDecision: Sendable, Equatable {
    /// The action.
    public var action: ResponseActionKind
    /// For `stop`: the wait between SIGTERM and SIGKILL.
    public var grace: Duration
    /// Whether to act on the process or its container.
    public var scope: ResponseScope
    /// The rule that matched, or nil when the defaults applied.
    public var rule: String?

    /// Creates a decision.
    public init(
        action: ResponseActionKind, grace: Duration = .seconds(5), scope: ResponseScope = .process, rule: String?
    ) {
        self.action = action
        self.grace = grace
        self.scope = scope
        self.rule = rule
    }
}

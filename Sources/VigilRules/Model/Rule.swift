import VigilCore

/// How a rule relates to the workload's or principal's behavioral profile.
public enum ProfileDependency: String, Sendable, CaseIterable {
    /// The rule fires whatever the profile says.
    case none
    /// The rule fires only once the profile is completed (a rule about "new" behavior).
    case completed
    /// What the profile learned suppresses the rule: a match the profile already holds is not reported.
    case suppressed
}

/// An exception of a rule: matches of the listed field values are not reported (Falco's `exceptions`).
public struct RuleException: Sendable, Equatable {
    /// The exception's name.
    public var name: String
    /// The fields compared.
    public var fields: [String]
    /// The operator per field (`=`, `in`, `startswith`…).
    public var comparisons: [String]
    /// Tuples of values, one per field.
    public var values: [[String]]

    /// Creates an exception.
    public init(name: String, fields: [String], comparisons: [String], values: [[String]]) {
        self.name = name
        self.fields = fields
        self.comparisons = comparisons
        self.values = values
    }
}

/// A loaded rule: what it detects, where, and how it is reported.
public struct Rule: Sendable {
    /// A stable id (`vigil.workload.shell-from-server`, or `falco.<name>` for Falco rules).
    public var id: String
    /// The rule's name.
    public var name: String
    /// What it detects and why it matters.
    public var description: String
    /// Its ATT&CK tactic and technique (the technique may be empty when a rule file gives only a tactic).
    public var mitre: MITREMapping
    /// How serious a match is.
    public var severity: Severity
    /// The event kinds it is checked against.
    public var kinds: Set<EventKind>
    /// The condition as written.
    public var condition: String
    /// The condition with macros, lists and fields resolved (exceptions included).
    public var resolved: ResolvedCondition
    /// How it relates to profiles.
    public var profile: ProfileDependency
    /// The output template: text with `%field` placeholders.
    public var output: String
    /// Tags.
    public var tags: [String]
    /// Whether it is checked.
    public var enabled: Bool
    /// Its exceptions (already part of ``resolved``).
    public var exceptions: [RuleException]
    /// The rule source it was written for (`syscall`, `k8s_audit`, `aws_cloudtrail`, `vigil`).
    public var source: String
    /// The file and line it came from.
    public var origin: String

    /// Creates a rule.
    public init(
        id: String, name: String, description: String, mitre: MITREMapping, severity: Severity, kinds: Set<EventKind>,
        condition: String, resolved: ResolvedCondition, profile: ProfileDependency = .none, output: String,
        tags: [String] = [], enabled: Bool = true, exceptions: [RuleException] = [], source: String = "vigil",
        origin: String = ""
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.mitre = mitre
        self.severity = severity
        self.kinds = kinds
        self.condition = condition
        self.resolved = resolved
        self.profile = profile
        self.output = output
        self.tags = tags
        self.enabled = enabled
        self.exceptions = exceptions
        self.source = source
        self.origin = origin
    }
}

import VigilCore

/// How a rule relates to the behavioral profile of the event's subject: its workload's profile, or its
/// principal's for cloud and Kubernetes events.
///
/// The rule detector consults the profile only when it is given a ``ProfileView`` (the agent gives it the
/// profile book's) and only after the rule's condition matched. It reads the profile as it stood before
/// the event's batch was learned: the rule detector runs before the profile detector on each batch (a
/// `ProfileReadingChain`), so during learning the first occurrence of a behavior is not yet held when
/// the rule looks, although the profile learns it right after. "Held" means what the profile detector
/// means: nothing in the event is new to the profile (a part that overflowed its bound holds everything).
/// Without a view, every match is reported, whatever the dependency.
public enum ProfileDependency: String, Sendable, CaseIterable {
    /// The rule fires whatever the profile says.
    case none
    /// The rule is about new behavior: it fires only once the profile is completed, and only for a match
    /// the completed profile does not hold. While the profile learns (or when the subject has none yet) it
    /// stays quiet: the profile detector learns the behavior instead.
    case completed
    /// What the profile learned suppresses the rule: a match the profile already holds is not reported.
    /// It applies in every state of the profile, so learned entries suppress even before completion; a
    /// match the profile does not hold fires, during learning too (including the first occurrence of a
    /// behavior the profile is about to learn: nothing is known yet to suppress it).
    case suppressed

    /// Whether a match on `event` of a rule with this dependency is reported, as `profiles` say.
    @inlinable
    public func admits(_ event: Event, _ profiles: some ProfileView) -> Bool {
        switch self {
        case .none: return true
        case .completed: return profiles.isCompleted(event) && !profiles.holds(event)
        case .suppressed: return !profiles.holds(event)
        }
    }
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

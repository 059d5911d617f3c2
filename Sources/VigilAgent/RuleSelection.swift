import VigilCore
import VigilCorrelation
import VigilProfiles
import VigilRules

/// Which rules the agent runs beside the behavioral profiles: Vigil's built-in pack, rule files, or both.
///
/// `vigil-agent run` and `vigil-agent replay` take it from `--rules FILE...` and `--no-builtin-rules`. The
/// agent runs a rule set only when every rule in it loads: a rule that does not load is a detection the
/// operator believes is on and is not, so the agent refuses to start and says which rules failed.
public struct RuleSelection: Sendable {
    /// Rule files (Vigil's or Falco's format), loaded in order after the built-in pack.
    public var files: [String]
    /// Whether the built-in pack is loaded.
    public var builtin: Bool

    /// Creates a selection; by default the built-in pack alone.
    public init(files: [String] = [], builtin: Bool = true) {
        self.files = files
        self.builtin = builtin
    }

    /// The built-in pack alone.
    public static let builtinPack = RuleSelection()

    /// No rules at all: only the profiles detect.
    public static let noRules = RuleSelection(builtin: false)

    /// How many failed rules the refusal lists before it says how many more there are.
    static let listedFailures = 20

    /// Loads and compiles the selected rules.
    ///
    /// - Throws: ``AgentError`` when a file cannot be read or any rule or entry does not load; the message
    ///   lists them (rule, location, token) and points to `vigil-agent rules check`.
    public func load() throws(AgentError) -> RuleSet {
        let rules: RuleSet
        let compiled: RuleLoader.Compiled
        do {
            (rules, compiled) = try RuleSet.load(files: files, builtin: builtin)
        } catch {
            throw AgentError("cannot load the rules: \(error)")
        }
        let problems = compiled.failures + compiled.entryErrors
        guard problems.isEmpty else {
            var lines = [
                "\(problems.count) \(problems.count == 1 ? "rule does" : "rules do") not load; "
                    + "vigil-agent starts only when every rule loads:"
            ]
            lines += problems.prefix(Self.listedFailures).map { "  \($0)" }
            if problems.count > Self.listedFailures {
                lines.append("  … and \(problems.count - Self.listedFailures) more")
            }
            lines.append(
                "Run `vigil-agent rules check FILE...` to see every rule and why it fails; fix or disable those "
                    + "rules, or leave their file out.")
            throw AgentError(lines.joined(separator: "\n"))
        }
        return rules
    }

    /// The engine's detectors: the profiles' detector and the rules' detector, both run on every batch.
    ///
    /// The rules' detector consults `book` for rules with a profile dependency, so it inspects each batch
    /// before the profiles' detector learns it (a ``ProfileReadingChain``): a rule sees each profile as it
    /// stood before the batch, and during learning the first occurrence of a behavior is not yet held when
    /// the rule looks. Findings keep their order: the profiles' first, then the rules'. With no enabled rule
    /// the profiles' factory is returned as it is, with no chain around it. With the node's identity, a
    /// ``NodeCredentialDetector`` flags its role's credentials used from elsewhere.
    ///
    /// With the built-in pack (`builtin`), its two detections that need state beside the rules run too: a
    /// ``ContainerDriftDetector`` (a file written in a container, then executed there) and a
    /// ``SecretReadBurstDetector`` (one principal reading many distinct secrets within minutes).
    static func detectors(
        profiles book: ProfileBook, rules: RuleSet, builtin: Bool, node: NodeIdentity? = nil
    ) -> DetectorFactory {
        let profiles = book.detectorFactory
        var readers: [DetectorFactory] = []
        if !rules.rules.isEmpty { readers.append(rules.detectorFactory(profiles: book.viewFactory)) }
        if builtin { readers += [ContainerDriftDetector.factory(), SecretReadBurstDetector.factory()] }
        if let nodeFactory = NodeCredentialDetector.factory(node: node) { readers.append(nodeFactory) }
        guard !readers.isEmpty else { return profiles }
        let factories = readers
        return { shard in ProfileReadingChain(profiles: profiles(shard), readers: factories.map { $0(shard) }) }
    }
}

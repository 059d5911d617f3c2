import Foundation
import VigilCore
import VigilLinux

/// Which alerts get which action, which processes and workloads are never touched, and how often Vigil may
/// act: the operator's response policy, usually loaded from YAML.
///
/// The format (every key optional; unknown keys are errors):
///
/// ```yaml
/// mode: dry-run            # off | dry-run | on (default dry-run; the command line may override)
/// defaults: { action: report }
/// rules:                   # the first rule that matches decides; none matching: the defaults
///   - name: kill crypto miners
///     match: { rule: ["vigil.workload.crypto-*"], min_severity: high }
///     action: kill
///   - match: { technique: [T1611, T1068], layer: [workload], workload: ["host:*", "prod/*"] }
///     action: quarantine
///   - match: { incident: true, min_severity: critical }
///     action: stop
///     grace: 5s            # stop only: SIGTERM, this long, then SIGKILL (default 5s)
///   - match: { rule: ["vigil.workload.container-escape*"] }
///     action: kill
///     scope: container     # kill and pause only: the whole container through its cgroup
/// allow:                   # never acted on
///   executables: [/usr/sbin/sshd, "/usr/lib/systemd/*"]
///   workloads: ["kube-system/*"]
/// limits: { per_minute: 30, per_target_per_minute: 3 }
/// ```
///
/// Match keys: `rule` (rule id patterns), `technique` (ATT&CK ids; `T1059` also matches `T1059.004`),
/// `tactic` (ids or names: `TA0004`, `privilege-escalation`), `min_severity` (info, low, medium, high,
/// critical), `layer` (cloud, cluster, workload, application), `workload` (patterns over
/// ``VigilCore/Workload/name``), `incident` (true: the rule applies to incidents, false or absent: to
/// single findings). Lists may be written as a single value. Patterns use `*` and `?` (see ``Glob``).
/// Actions: report, kill, stop, pause, quarantine, enforce_seccomp; resume and release undo earlier actions
/// and are not policy actions.
public struct ResponsePolicy: Sendable, Equatable {
    /// Whether responders act, unless the command line says otherwise.
    public var mode: ResponseMode
    /// The action, grace and scope for alerts no rule matches.
    public var defaults: ResponseDecision
    /// The rules, in order: the first that matches decides.
    public var rules: [ResponseRule]
    /// What is never acted on.
    public var allow: ResponseAllowlist
    /// How often responders may act.
    public var limits: ResponseLimits

    /// Creates a policy.
    public init(
        mode: ResponseMode = .dryRun, defaultAction: ResponseActionKind = .report, rules: [ResponseRule] = [],
        allow: ResponseAllowlist = ResponseAllowlist(), limits: ResponseLimits = ResponseLimits()
    ) {
        self.mode = mode
        self.defaults = ResponseDecision(action: defaultAction, rule: nil)
        self.rules = rules
        self.allow = allow
        self.limits = limits
    }

    /// The policy when none is given: every alert is reported, nothing is acted on.
    public static let reportOnly = ResponsePolicy()

    /// Reads a policy from YAML text; `file` names it in errors.
    ///
    /// - Throws: ``ResponsePolicyError`` naming the line and key of the first problem.
    public init(yaml: String, file: String = "<policy>") throws(ResponsePolicyError) {
        self = try PolicyParser(file: file).parse(yaml)
    }

    /// Reads a policy from the YAML file at `path`.
    ///
    /// - Throws: ``ResponsePolicyError`` when the file cannot be read, or naming the line and key of the first
    ///   problem in it.
    public init(contentsOf path: String) throws(ResponsePolicyError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ResponsePolicyError(
                code: .unreadableFile, file: path, line: 0, key: "",
                message: "cannot read the response policy: \(error); check the path (--response-policy PATH)")
        }
        try self.init(yaml: text, file: path)
    }

    /// What to do about an alert with `facts`: the first matching rule's action, or the defaults.
    public func decide(_ facts: AlertFacts) -> ResponseDecision {
        guard let rule = rules.first(where: { $0.match.matches(facts) }) else { return defaults }
        return ResponseDecision(action: rule.action, grace: rule.grace, scope: rule.scope, rule: rule.name)
    }
}

/// Processes and workloads a responder never acts on, whatever the rules say.
public struct ResponseAllowlist: Sendable, Equatable {
    /// Executable paths, exact or patterns (`/usr/sbin/sshd`, `/usr/lib/systemd/*`).
    public var executables: [Glob]
    /// Workload name patterns (`kube-system/*`).
    public var workloads: [Glob]
    /// Networks a quarantined process may still reach (`127.0.0.0/8`, `10.0.0.53/32`): the quarantine cuts
    /// every other address.
    public var networks: [IPPrefix]

    /// Creates an allowlist.
    public init(executables: [Glob] = [], workloads: [Glob] = [], networks: [IPPrefix] = []) {
        self.executables = executables
        self.workloads = workloads
        self.networks = networks
    }

    /// The pattern that allows `executable`, if one does.
    public func allowing(executable: String) -> Glob? {
        executable.isEmpty ? nil : executables.first { $0.matches(executable) }
    }

    /// The pattern that allows `workload`, if one does.
    public func allowing(workload: String) -> Glob? {
        workloads.first { $0.matches(workload) }
    }
}

/// How many actions responders may take, so that a flood of findings (or a bad rule) cannot take a node
/// down. Reports are not counted.
public struct ResponseLimits: Sendable, Equatable {
    /// Actions in any 60 seconds, across all targets.
    public var perMinute: Int
    /// Actions on one target (one process) in any 60 seconds.
    public var perTargetPerMinute: Int

    /// Creates limits.
    public init(perMinute: Int = 30, perTargetPerMinute: Int = 3) {
        self.perMinute = perMinute
        self.perTargetPerMinute = perTargetPerMinute
    }
}

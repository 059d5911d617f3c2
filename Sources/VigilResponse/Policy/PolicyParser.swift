import VigilCore
import VigilLinux
import Yams

/// Reads the YAML form of a ``ResponsePolicy``, naming the line and key of the first problem.
struct PolicyParser {
    /// The file's name, for errors.
    let file: String

    private static let topKeys = ["mode", "defaults", "rules", "allow", "limits"]
    private static let ruleKeys = ["name", "match", "action", "grace", "scope"]
    private static let matchKeys = [
        "rule", "technique", "tactic", "min_severity", "layer", "workload", "executable", "incident",
    ]
    private static let policyActions: [ResponseActionKind] = [
        .report, .kill, .stop, .pause, .quarantine, .enforceSeccomp,
    ]

    func parse(_ text: String) throws(ResponsePolicyError) -> ResponsePolicy {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ResponsePolicyError(
                code: .invalidYAML, file: file, line: Self.line(of: error), key: "", message: "not YAML: \(error)")
        }
        var policy = ResponsePolicy.reportOnly
        guard let root, root.null == nil else { return policy }
        let keys = try mapping(root, key: "", allowed: Self.topKeys)
        if let node = keys["mode"] {
            let name = try string(node, key: "mode")
            guard let mode = ResponseMode(argument: name) else {
                throw invalid(node, "mode", "'\(name)' is not a mode; use off, dry-run or on")
            }
            policy.mode = mode
        }
        if let node = keys["defaults"] {
            let defaults = try mapping(node, key: "defaults", allowed: ["action", "grace", "scope"])
            let action = try defaults["action"].map { node throws(ResponsePolicyError) in
                try self.action(node, key: "defaults.action")
            }
            policy.defaults = try decision(
                defaults, action: action ?? .report, rule: nil, key: "defaults", at: node)
        }
        if let node = keys["rules"] {
            guard let items = node.sequence else { throw invalid(node, "rules", "expected a list of rules") }
            policy.rules = []
            for (index, item) in items.enumerated() {
                policy.rules.append(try rule(item, key: "rules[\(index)]"))
            }
        }
        if let node = keys["allow"] {
            let allow = try mapping(node, key: "allow", allowed: ["executables", "workloads", "networks"])
            policy.allow = ResponseAllowlist(
                executables: try allow["executables"].map { node throws(ResponsePolicyError) in
                    try strings(node, key: "allow.executables").map(Glob.init)
                } ?? [],
                workloads: try allow["workloads"].map { node throws(ResponsePolicyError) in
                    try strings(node, key: "allow.workloads").map(Glob.init)
                } ?? [],
                networks: try allow["networks"].map { node throws(ResponsePolicyError) in
                    try networks(node, key: "allow.networks")
                } ?? [])
        }
        if let node = keys["limits"] {
            let limits = try mapping(node, key: "limits", allowed: ["per_minute", "per_target_per_minute"])
            if let value = limits["per_minute"] {
                policy.limits.perMinute = try count(value, key: "limits.per_minute")
            }
            if let value = limits["per_target_per_minute"] {
                policy.limits.perTargetPerMinute = try count(value, key: "limits.per_target_per_minute")
            }
        }
        return policy
    }

    private func rule(_ node: Node, key: String) throws(ResponsePolicyError) -> ResponseRule {
        let keys = try mapping(node, key: key, allowed: Self.ruleKeys)
        guard let actionNode = keys["action"] else {
            throw ResponsePolicyError(
                code: .missingKey, file: file, line: Self.line(of: node), key: key + ".action",
                message: "a rule needs an action (\(Self.policyActions.map(\.rawValue).joined(separator: ", ")))")
        }
        let action = try self.action(actionNode, key: key + ".action")
        let name = try keys["name"].map { node throws(ResponsePolicyError) in try string(node, key: key + ".name") }
        let match = try keys["match"].map { node throws(ResponsePolicyError) in
            try self.match(node, key: key + ".match")
        }
        let decision = try self.decision(keys, action: action, rule: name ?? key, key: key, at: node)
        return ResponseRule(
            name: name ?? key, match: match ?? ResponseMatch(), action: action, grace: decision.grace,
            scope: decision.scope)
    }

    /// Reads `grace` and `scope` next to an action, refusing them where the action does not use them.
    private func decision(
        _ keys: [String: Node], action: ResponseActionKind, rule: String?, key: String, at node: Node
    ) throws(ResponsePolicyError) -> ResponseDecision {
        var decision = ResponseDecision(action: action, rule: rule)
        if let grace = keys["grace"] {
            guard action == .stop else { throw invalid(grace, key + ".grace", "grace applies to stop only") }
            decision.grace = try duration(grace, key: key + ".grace")
        }
        if let scopeNode = keys["scope"] {
            let name = try string(scopeNode, key: key + ".scope")
            guard let scope = ResponseScope(rawValue: name) else {
                throw invalid(scopeNode, key + ".scope", "'\(name)' is not a scope; use process or container")
            }
            guard scope == .process || action == .kill || action == .pause else {
                throw invalid(scopeNode, key + ".scope", "scope container applies to kill and pause only")
            }
            decision.scope = scope
        }
        return decision
    }

    private func match(_ node: Node, key: String) throws(ResponsePolicyError) -> ResponseMatch {
        let keys = try mapping(node, key: key, allowed: Self.matchKeys)
        var match = ResponseMatch()
        if let value = keys["rule"] { match.rules = try strings(value, key: key + ".rule").map(Glob.init) }
        if let value = keys["technique"] {
            match.techniques = try strings(value, key: key + ".technique")
            if let bad = match.techniques.first(where: { !MITREMapping.isTechniqueID($0) }) {
                throw invalid(value, key + ".technique", "'\(bad)' is not an ATT&CK technique id (T1059, T1059.004)")
            }
        }
        if let value = keys["tactic"] {
            match.tactics = []
            for name in try strings(value, key: key + ".tactic") {
                guard let tactic = MITRETactic(name) else {
                    throw invalid(value, key + ".tactic", "'\(name)' is not an ATT&CK tactic (TA0004, execution)")
                }
                match.tactics.append(tactic)
            }
        }
        if let value = keys["min_severity"] {
            let name = try string(value, key: key + ".min_severity")
            guard let severity = Severity(name: name) else {
                throw invalid(
                    value, key + ".min_severity", "'\(name)' is not a severity; use info, low, medium, high or critical"
                )
            }
            match.minimumSeverity = severity
        }
        if let value = keys["layer"] {
            match.layers = []
            for name in try strings(value, key: key + ".layer") {
                guard let layer = Layer(name: name) else {
                    throw invalid(
                        value, key + ".layer", "'\(name)' is not a layer; use cloud, cluster, workload or application")
                }
                match.layers.append(layer)
            }
        }
        if let value = keys["workload"] { match.workloads = try strings(value, key: key + ".workload").map(Glob.init) }
        if let value = keys["executable"] {
            match.executables = try strings(value, key: key + ".executable").map(Glob.init)
        }
        if let value = keys["incident"] {
            guard value.scalar != nil, let flag = value.bool else {
                throw invalid(value, key + ".incident", "expected true or false")
            }
            match.incident = flag
        }
        return match
    }

    // MARK: - Values

    /// The keys of a mapping, refusing keys outside `allowed` and keys given twice.
    private func mapping(_ node: Node, key: String, allowed: [String]) throws(ResponsePolicyError) -> [String: Node] {
        guard let mapping = node.mapping else {
            throw invalid(node, key, "expected a mapping with keys \(allowed.joined(separator: ", "))")
        }
        var keys: [String: Node] = [:]
        for (keyNode, value) in mapping {
            let name = keyNode.string ?? ""
            let path = key.isEmpty ? name : key + "." + name
            guard allowed.contains(name) else {
                throw ResponsePolicyError(
                    code: .unknownKey, file: file, line: Self.line(of: keyNode), key: path,
                    message: "unknown key; expected one of \(allowed.joined(separator: ", "))")
            }
            guard keys[name] == nil else { throw invalid(keyNode, path, "given twice") }
            keys[name] = value
        }
        return keys
    }

    private func action(_ node: Node, key: String) throws(ResponsePolicyError) -> ResponseActionKind {
        let name = try string(node, key: key)
        guard let action = ResponseActionKind(rawValue: name), Self.policyActions.contains(action) else {
            let undo = name == "resume" || name == "release" ? " (\(name) undoes an earlier action)" : ""
            throw invalid(
                node, key,
                "'\(name)' is not a policy action\(undo); use "
                    + Self.policyActions.map(\.rawValue).joined(separator: ", "))
        }
        return action
    }

    private func string(_ node: Node, key: String) throws(ResponsePolicyError) -> String {
        guard let scalar = node.scalar else { throw invalid(node, key, "expected a single value") }
        return scalar.string
    }

    /// A list of scalars, or one scalar taken as a list of one.
    private func strings(_ node: Node, key: String) throws(ResponsePolicyError) -> [String] {
        if let scalar = node.scalar { return [scalar.string] }
        guard let items = node.sequence else { throw invalid(node, key, "expected a value or a list of values") }
        var values: [String] = []
        for item in items {
            guard let scalar = item.scalar else { throw invalid(item, key, "expected a list of single values") }
            values.append(scalar.string)
        }
        return values
    }

    private func networks(_ node: Node, key: String) throws(ResponsePolicyError) -> [IPPrefix] {
        var prefixes: [IPPrefix] = []
        for text in try strings(node, key: key) {
            guard let prefix = IPPrefix(text) else {
                throw invalid(node, key, "'\(text)' is not an address or a network (10.0.0.0/8, ::1/128)")
            }
            prefixes.append(prefix)
        }
        return prefixes
    }

    private func count(_ node: Node, key: String) throws(ResponsePolicyError) -> Int {
        guard node.scalar != nil, let value = node.int, value > 0 else {
            throw invalid(node, key, "expected a whole number above 0")
        }
        return value
    }

    /// `5s`, `500ms`, `2m`, or a bare number of seconds.
    private func duration(_ node: Node, key: String) throws(ResponsePolicyError) -> Duration {
        let text = try string(node, key: key)
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        let unit = units.first { text.hasSuffix($0.suffix) } ?? ("", 1)
        guard let number = Double(text.dropLast(unit.suffix.count)), number >= 0, number <= 3600 else {
            throw invalid(node, key, "'\(text)' is not a duration up to an hour (5s, 500ms, 1m)")
        }
        return .milliseconds(Int64((number * unit.seconds * 1000).rounded()))
    }

    private func invalid(_ node: Node, _ key: String, _ message: String) -> ResponsePolicyError {
        ResponsePolicyError(code: .invalidValue, file: file, line: Self.line(of: node), key: key, message: message)
    }

    private static func line(of node: Node) -> Int { node.mark?.line ?? 0 }

    private static func line(of error: any Error) -> Int {
        if let error = error as? YamlError {
            switch error {
            case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
                return mark.line
            default: return 0
            }
        }
        return 0
    }
}

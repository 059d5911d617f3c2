import Foundation
import VigilCore
import Yams

/// Loads rule files: Falco's format (`- rule:`, `- macro:`, `- list:` entries with `append`, `override`,
/// `exceptions`, `priority`, `tags`, `enabled`, `source`), which Vigil's own files use too, with Vigil's
/// extra keys on rules: `id`, `mitre: {tactic, technique}`, `severity`, `kinds`, `profile`.
///
/// Files are added in order; a later file may append to or override what an earlier one defined, as in
/// Falco. ``compile()`` then resolves every rule: a rule that cannot be compiled (a field Vigil's events
/// do not carry, a syntax error) is reported with its name, line and token, and the others load.
public struct RuleLoader {
    private struct MacroEntry {
        var condition: String
        var line: Int
        var origin: String
    }

    private struct RuleEntry {
        var name: String
        var keys: [String: Node]
        var condition: String
        var output: String
        var exceptions: [RuleException]
        var enabled: Bool
        var line: Int
        var origin: String
        var failure: RuleError?
    }

    private var lists: [String: [String]] = [:]
    private var macros: [String: MacroEntry] = [:]
    private var rules: [RuleEntry] = []
    private var ruleIndex: [String: Int] = [:]
    /// Entries that could not be read (not rules: those are reported by ``compile()``).
    public private(set) var entryErrors: [RuleError] = []

    /// Creates an empty loader.
    public init() {}

    /// Adds the rule file at `path`.
    public mutating func addFile(at path: String) throws(RuleError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RuleError(code: .unreadableFile, token: path, message: "cannot read the rule file: \(error)")
        }
        try addFile(text: text, name: path)
    }

    /// Adds rule-file text; `name` names it in messages.
    public mutating func addFile(text: String, name: String) throws(RuleError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw RuleError(code: .unreadableFile, token: name, message: "not YAML: \(error)")
        }
        guard let root else { return }
        guard let entries = root.sequence else {
            throw RuleError(code: .invalidEntry, token: name, message: "a rule file is a YAML list of entries")
        }
        for entry in entries {
            let line = entry.mark?.line ?? 0
            guard let mapping = entry.mapping else {
                entryErrors.append(
                    RuleError(
                        code: .invalidEntry, location: SourceLocation(line: line, column: 1), token: name,
                        message: "an entry is a mapping with a rule, macro or list key"))
                continue
            }
            var keys: [String: Node] = [:]
            for (key, value) in mapping { if let text = key.string { keys[text] = value } }
            let origin = "\(name):\(line)"
            if let listName = keys["list"]?.string {
                addList(listName, keys, line: line, origin: origin)
            } else if let macroName = keys["macro"]?.string {
                addMacro(macroName, keys, line: line, origin: origin)
            } else if let ruleName = keys["rule"]?.string {
                addRule(ruleName, keys, line: line, origin: origin)
            } else if keys["required_engine_version"] != nil || keys["required_plugin_versions"] != nil {
                continue  // Falco engine and plugin requirements do not apply to Vigil.
            } else {
                entryErrors.append(
                    RuleError(
                        code: .invalidEntry, location: SourceLocation(line: line, column: 1),
                        token: keys.keys.sorted().first ?? "", message: "\(origin): not a rule, macro or list entry"))
            }
        }
    }

    /// Whether an entry appends to an earlier definition of the same name, for `key` (`items`,
    /// `condition`, `exceptions`): Falco's `append: true`, or `override: {key: append}`.
    private func appends(_ keys: [String: Node], _ key: String) -> Bool {
        if keys["append"]?.bool == true { return true }
        return keys["override"]?.mapping?[key]?.string == "append"
    }

    private mutating func addList(_ name: String, _ keys: [String: Node], line: Int, origin: String) {
        let items = (keys["items"]?.sequence ?? []).compactMap { $0.string }
        if appends(keys, "items") {
            lists[name, default: []] += items
        } else {
            lists[name] = items
        }
    }

    private mutating func addMacro(_ name: String, _ keys: [String: Node], line: Int, origin: String) {
        let condition = keys["condition"]?.string ?? ""
        if appends(keys, "condition"), let existing = macros[name] {
            macros[name] = MacroEntry(
                condition: existing.condition + " " + condition, line: existing.line, origin: origin)
        } else {
            macros[name] = MacroEntry(
                condition: condition, line: (keys["condition"]?.mark?.line ?? line), origin: origin)
        }
    }

    private mutating func addRule(_ name: String, _ keys: [String: Node], line: Int, origin: String) {
        let exceptions = readExceptions(keys["exceptions"])
        if let index = ruleIndex[name] {
            // A later entry for a rule changes it: append, override, or toggle `enabled`.
            var rule = rules[index]
            if let condition = keys["condition"]?.string {
                rule.condition = appends(keys, "condition") ? rule.condition + " " + condition : condition
            }
            if appends(keys, "exceptions") || keys["override"] == nil {
                rule.exceptions += exceptions
            } else if keys["override"]?.mapping?["exceptions"]?.string == "replace" {
                rule.exceptions = exceptions
            }
            if let output = keys["output"]?.string { rule.output = output }
            if let enabled = keys["enabled"]?.bool { rule.enabled = enabled }
            for (key, value) in keys where !["rule", "condition", "exceptions", "append", "override"].contains(key) {
                rule.keys[key] = value
            }
            rules[index] = rule
            return
        }
        guard let condition = keys["condition"]?.string else {
            if keys["enabled"] != nil { return }  // Toggling a rule that is not loaded (another source's).
            rules.append(
                RuleEntry(
                    name: name, keys: keys, condition: "", output: "", exceptions: [], enabled: false, line: line,
                    origin: origin,
                    failure: RuleError(
                        code: .invalidEntry, rule: name, location: SourceLocation(line: line, column: 1),
                        message: "a rule needs a condition")))
            ruleIndex[name] = rules.count - 1
            return
        }
        rules.append(
            RuleEntry(
                name: name, keys: keys, condition: condition, output: keys["output"]?.string ?? "",
                exceptions: exceptions, enabled: keys["enabled"]?.bool ?? true,
                line: keys["condition"]?.mark?.line ?? line, origin: origin, failure: nil))
        ruleIndex[name] = rules.count - 1
    }

    private func readExceptions(_ node: Node?) -> [RuleException] {
        guard let sequence = node?.sequence else { return [] }
        return sequence.compactMap { item -> RuleException? in
            guard let mapping = item.mapping, let name = mapping["name"]?.string else { return nil }
            let fields =
                mapping["fields"]?.sequence?.compactMap(\.string) ?? mapping["fields"]?.string.map { [$0] } ?? []
            let single = mapping["fields"]?.string != nil
            let comparisons =
                mapping["comps"]?.sequence?.compactMap(\.string) ?? mapping["comps"]?.string.map { [$0] }
                ?? Array(repeating: single ? "in" : "=", count: fields.count)
            let values: [[String]] = (mapping["values"]?.sequence ?? []).map { value in
                if single { return [value.string ?? ""] }
                return value.sequence?.map {
                    $0.string ?? $0.sequence?.compactMap(\.string).joined(separator: ",") ?? ""
                }
                    ?? [value.string ?? ""]
            }
            return RuleException(name: name, fields: fields, comparisons: comparisons, values: values)
        }
    }

    // MARK: Compiling

    /// The outcome of compiling: the rules that loaded, and one error per rule that did not.
    public struct Compiled: Sendable {
        /// Rules that compiled, in file order (disabled ones included, with `enabled` false).
        public var rules: [Rule]
        /// Rules that did not, and why.
        public var failures: [RuleError]
        /// Entries that could not be read.
        public var entryErrors: [RuleError]
    }

    /// Compiles every rule against the macros and lists defined by all files added.
    public func compile() -> Compiled {
        var parsedMacros: [String: ConditionNode] = [:]
        var macroErrors: [String: RuleError] = [:]
        for (name, macro) in macros {
            do throws(RuleError) {
                parsedMacros[name] = try ConditionParser.parse(macro.condition, line: macro.line, rule: "macro \(name)")
            } catch {
                macroErrors[name] = error
            }
        }
        let compiler = ConditionCompiler(macros: parsedMacros, lists: lists)
        var compiled: [Rule] = []
        var failures: [RuleError] = []
        for entry in rules {
            if let failure = entry.failure {
                failures.append(failure)
                continue
            }
            do throws(RuleError) {
                compiled.append(try compileRule(entry, compiler: compiler))
            } catch {
                var error = error
                if error.code == .unknownMacro, let macroError = macroErrors[error.token] {
                    error.message = "its macro does not compile: \(macroError)"
                }
                error.rule = entry.name
                failures.append(error)
            }
        }
        return Compiled(rules: compiled, failures: failures, entryErrors: entryErrors)
    }

    private func compileRule(_ entry: RuleEntry, compiler: ConditionCompiler) throws(RuleError) -> Rule {
        var node = try ConditionParser.parse(entry.condition, line: entry.line, rule: entry.name)
        if !entry.exceptions.isEmpty { node = .and([node, .not(try exceptionNode(entry))]) }
        let resolved = try compiler.resolve(node, rule: entry.name)
        let keys = entry.keys
        let source = keys["source"]?.string ?? (keys["id"] != nil ? "vigil" : "syscall")
        var kinds = resolved.possibleKinds ?? Set(EventKind.allCases)
        if let declared = keys["kinds"]?.sequence?.compactMap(\.string), !declared.isEmpty {
            var named: Set<EventKind> = []
            for name in declared {
                guard let kind = EventKind(name: name) else {
                    throw RuleError(
                        code: .invalidEntry, rule: entry.name, location: SourceLocation(line: entry.line, column: 1),
                        token: name, message: "not an event kind")
                }
                named.insert(kind)
            }
            kinds = kinds.intersection(named)
        }
        switch source {
        case "k8s_audit": kinds = kinds.intersection([.kubernetesRequest])
        case "aws_cloudtrail": kinds = kinds.intersection([.cloudAPICall])
        case "syscall": kinds = kinds.filter { $0.layer == .workload }
        default: break
        }
        // Process snapshots record no activity: no rule fires on one.
        kinds.remove(.processSnapshot)
        let tags = keys["tags"]?.sequence?.compactMap(\.string) ?? []
        let profile = try keys["profile"]?.string.map { text throws(RuleError) in
            guard let value = ProfileDependency(rawValue: text) else {
                throw RuleError(
                    code: .invalidEntry, rule: entry.name, token: text,
                    message: "profile is none, completed or suppressed")
            }
            return value
        }
        return Rule(
            id: keys["id"]?.string ?? Self.falcoID(entry.name),
            name: keys["name"]?.string ?? entry.name,
            description: keys["desc"]?.string ?? keys["description"]?.string ?? "",
            mitre: try Self.mitre(keys["mitre"], tags: tags, rule: entry.name),
            severity: Self.severity(keys["severity"]?.string ?? keys["priority"]?.string),
            kinds: kinds, condition: entry.condition, resolved: resolved, profile: profile ?? .none,
            output: entry.output, tags: tags, enabled: entry.enabled, exceptions: entry.exceptions, source: source,
            origin: entry.origin)
    }

    /// `(f1 = v1 and f2 = v2) or (...)` for the exception tuples.
    private func exceptionNode(_ entry: RuleEntry) throws(RuleError) -> ConditionNode {
        var alternatives: [ConditionNode] = []
        let location = SourceLocation(line: entry.line, column: 1)
        for exception in entry.exceptions {
            for tuple in exception.values {
                var terms: [ConditionNode] = []
                for (index, field) in exception.fields.enumerated() where index < tuple.count {
                    let spelling = index < exception.comparisons.count ? exception.comparisons[index] : "="
                    guard let comparison = ComparisonOperator(spelling: spelling) else {
                        throw RuleError(
                            code: .syntax, rule: entry.name, location: location, token: spelling,
                            message: "exception \(exception.name) has an unknown operator")
                    }
                    let value = tuple[index]
                    let operand: Operand =
                        comparison.takesList ? .list(value.split(separator: ",").map(String.init)) : .value(value)
                    terms.append(
                        .comparison(
                            FieldReference(name: field, argument: nil, location: location), comparison, operand,
                            location))
                }
                if !terms.isEmpty { alternatives.append(terms.count == 1 ? terms[0] : .and(terms)) }
            }
        }
        return alternatives.isEmpty ? .or([]) : .or(alternatives)
    }

    /// `falco.write-below-etc` from `Write below etc`.
    static func falcoID(_ name: String) -> String {
        var id = "falco."
        var lastDash = true
        for character in name.lowercased() {
            if character.isLetter || character.isNumber {
                id.append(character)
                lastDash = false
            } else if !lastDash {
                id.append("-")
                lastDash = true
            }
        }
        return lastDash && id.hasSuffix("-") ? String(id.dropLast()) : id
    }

    /// Falco priorities and Vigil severities.
    static func severity(_ text: String?) -> Severity {
        switch text?.lowercased() {
        case "emergency", "alert", "critical": return .critical
        case "error", "high": return .high
        case "warning", "medium": return .medium
        case "notice", "low": return .low
        case "informational", "info", "debug": return .info
        default: return .medium
        }
    }

    /// The mapping from a `mitre:` key, or else from Falco tags (`mitre_execution`, `T1059.004`), or else, for
    /// a rule with no MITRE tag at all, from ``FalcoMITRE`` (Falco's plugin rules carry none). A rule needs both
    /// a tactic and a technique: findings always carry them.
    static func mitre(_ node: Node?, tags: [String], rule: String) throws(RuleError) -> MITREMapping {
        var tactic: MITRETactic?
        var technique: String?
        if let mapping = node?.mapping {
            tactic = mapping["tactic"]?.string.flatMap { MITRETactic($0) }
            technique = mapping["technique"]?.string
        } else {
            tactic = tags.lazy.compactMap { $0.hasPrefix("mitre_") ? MITRETactic($0) : nil }.first
            technique = tags.first { MITREMapping.isTechniqueID($0) }
            if tactic == nil, technique == nil, let known = FalcoMITRE.mapping(forRule: rule) { return known }
        }
        guard let tactic, let technique, MITREMapping.isTechniqueID(technique) else {
            throw RuleError(
                code: .invalidEntry, rule: rule, token: technique ?? "",
                message:
                    "the rule has no ATT&CK mapping: give mitre: {tactic, technique}, or mitre_<tactic> and T<id> tags")
        }
        return MITREMapping(tactic: tactic, technique: technique)
    }
}

import Foundation
import VigilCore

/// Compiled rules ready to run: the engine's detector factory builds one ``RuleDetector`` per shard from it.
public struct RuleSet: Sendable {
    /// The enabled rules.
    public let rules: [Rule]

    /// Creates a set from loaded rules; disabled ones are left out.
    public init(rules: [Rule]) {
        self.rules = rules.filter(\.enabled)
    }

    /// Loads Vigil's built-in rule pack (shipped with the library) plus `files`, in that order.
    public static func load(files: [String], builtin: Bool = true) throws(RuleError) -> (RuleSet, RuleLoader.Compiled) {
        var loader = RuleLoader()
        if builtin {
            for url in BuiltinRules.files { try loader.addFile(at: url.path) }
        }
        for file in files { try loader.addFile(at: file) }
        let compiled = loader.compile()
        return (RuleSet(rules: compiled.rules), compiled)
    }

    /// A factory of per-shard detectors over the engine's symbol table, with no profiles to consult: every
    /// match is reported, whatever the rule's ``Rule/profile`` dependency.
    public var detectorFactory: DetectorFactory {
        let rules = self.rules
        return { shard in RuleDetector(rules: rules, symbols: shard.symbols) }
    }

    /// A factory of per-shard detectors that honour each rule's ``Rule/profile`` dependency, asking the
    /// shard's view from `profiles` (see ``ProfileDependency``).
    ///
    /// Run each detector before the shard's profile detector, in a `ProfileReadingChain`, so that it sees
    /// the profiles as they were before the batch was learned.
    public func detectorFactory(profiles: @escaping ProfileViewFactory) -> DetectorFactory {
        let rules = self.rules
        return { shard in RuleDetector(rules: rules, symbols: shard.symbols, profiles: profiles(shard)) }
    }
}

/// Vigil's built-in rule pack: the YAML files in the library's resources.
public enum BuiltinRules {
    /// The pack's files, in load order.
    public static var files: [URL] {
        guard let folder = Bundle.module.url(forResource: "BuiltinRules", withExtension: nil),
            let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path)
        else { return [] }
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { folder.appendingPathComponent($0) }
    }
}

/// Checks every event of one shard against the rules for its kind and raises a finding per match.
///
/// Rules are indexed by event kind when the detector is made; evaluating an event allocates nothing unless
/// a rule matches (the finding) or the event brings text the shard has not seen (interned once).
///
/// Given a shard's ``ProfileView``, the detector honours each rule's ``Rule/profile`` dependency (see
/// ``ProfileDependency``): it asks the view only after a rule with a dependency matched, so rules without
/// one, and events that match nothing, never reach the profiles. Without a view every match is reported.
public struct RuleDetector: Detector {
    /// What is needed once a rule matched; kept apart from the predicates so the per-event loop touches
    /// only those.
    private struct Report {
        let rule: Rule
        let output: OutputTemplate
    }

    private let index: KindIndex
    private let reports: [Report]
    private let reader: FieldReader
    private let profiles: (any ProfileView)?

    /// Compiles `rules` for one shard; `profiles` is the shard's view of the profiles that rules with a
    /// ``Rule/profile`` dependency consult (nil: report every match).
    public init(rules: [Rule], symbols: SymbolTable, profiles: (any ProfileView)? = nil) {
        reader = FieldReader(symbols: symbols)
        self.profiles = profiles
        var predicatesByKind = [[Predicate]](repeating: [], count: EventKind.counterSlots)
        var reportsByKind = [[Int]](repeating: [], count: EventKind.counterSlots)
        var reports: [Report] = []
        // Each kind gets the condition as it reads on that kind (`evt.type` tests decided), and none when it
        // cannot hold there; terms the rules share are built once.
        var conditions: [(kind: EventKind, report: Int, condition: ResolvedCondition)] = []
        let builder = PredicateBuilder(symbols: symbols, sharing: true)
        for rule in rules where rule.enabled {
            reports.append(Report(rule: rule, output: OutputTemplate(rule.output)))
            for kind in rule.kinds.sorted(by: { $0.rawValue < $1.rawValue }) {
                let condition = rule.resolved.specialised(for: kind)
                if case .constant(false) = condition { continue }
                conditions.append((kind, reports.count - 1, condition))
                builder.count(condition)
            }
        }
        var conditionsByKind = [[ResolvedCondition]](repeating: [], count: EventKind.counterSlots)
        for (kind, report, condition) in conditions {
            predicatesByKind[Int(kind.rawValue)].append(builder.predicate(for: condition))
            reportsByKind[Int(kind.rawValue)].append(report)
            conditionsByKind[Int(kind.rawValue)].append(condition)
        }
        var groupsByKind: [[GuardGroup]] = []
        var unguardedByKind: [UInt64] = []
        for list in conditionsByKind {
            let (groups, unguarded) = Self.guards(list, builder)
            groupsByKind.append(groups)
            unguardedByKind.append(unguarded)
        }
        reader.reserveSlots(builder.slotCount)
        self.index = KindIndex(
            predicates: predicatesByKind, reports: reportsByKind, groups: groupsByKind, unguarded: unguardedByKind)
        self.reports = reports
    }

    /// Groups the conditions of one kind by a text field each requires a test of (see ``GuardGroup``): each
    /// rule joins the group of the field most of the kind's rules test, so that one lookup clears many rules.
    /// Returns the groups and the bits of the positions of the rules no group guards.
    private static func guards(
        _ conditions: [ResolvedCondition], _ builder: PredicateBuilder
    ) -> ([GuardGroup], UInt64) {
        guard conditions.count <= GuardGroup.capacity else { return ([], .max) }
        let candidates = conditions.map { condition in
            GuardGroup.conjuncts(condition).compactMap { term in term.singleTextField.map { (field: $0, term: term) } }
        }
        var counts: [String: Int] = [:]
        for list in candidates {
            for key in Set(list.map { "\($0.field)" }) { counts[key, default: 0] += 1 }
        }
        var order: [String] = []
        var members: [String: (field: FieldID, tests: [Predicate], positions: [Int])] = [:]
        var unguarded: UInt64 = 0
        for (position, list) in candidates.enumerated() {
            // The field most rules test; a group of one saves nothing.
            let best = list.enumerated().max { a, b in
                let (countA, countB) = (counts["\(a.element.field)"] ?? 0, counts["\(b.element.field)"] ?? 0)
                return countA != countB ? countA < countB : a.offset > b.offset
            }?.element
            guard let best, counts["\(best.field)", default: 0] > 1 else {
                unguarded |= 1 << UInt64(position)
                continue
            }
            let key = "\(best.field)"
            if members[key] == nil {
                order.append(key)
                members[key] = (best.field, [], [])
            }
            members[key]?.tests.append(builder.predicate(for: best.term))
            members[key]?.positions.append(position)
        }
        let groups = order.compactMap { key in
            members[key].map {
                GuardGroup(field: $0.field, slot: builder.slot(for: $0.field), tests: $0.tests, positions: $0.positions)
            }
        }
        return (groups, unguarded)
    }

    public mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
        reader.observe(events)
        for event in events.events {
            reader.countEvent()
            let candidates = index.candidates(event.kind)
            if candidates.count > GuardGroup.capacity {
                // Too many rules for a mask: no guards, every rule checked.
                for position in candidates { check(position, event, into: &findings) }
                continue
            }
            // The rules that may match, by position: the unguarded ones and those whose guard passed.
            var pending = index.pending(event, reader)
            while pending != 0 {
                let position = candidates.lowerBound + pending.trailingZeroBitCount
                pending &= pending &- 1
                if position < candidates.upperBound { check(position, event, into: &findings) }
            }
        }
    }

    /// Checks the rule at `position` of the index against `event` and raises its finding when it matches.
    @inline(__always)
    private func check(_ position: Int, _ event: Event, into findings: inout [Finding]) {
        guard index.predicates.evaluate(position, event, reader) else { return }
        let report = reports[index.report(position)]
        let rule = report.rule
        if rule.profile != .none, let profiles, !rule.profile.admits(event, profiles) { return }
        findings.append(
            Finding(
                severity: rule.severity, rule: RuleReference(id: rule.id, name: rule.name),
                mitre: rule.mitre, event: event,
                explanation: report.output.render(event, reader, fallback: rule.description)))
    }
}

/// Each kind's predicates, in rule order, laid out one kind after another in raw memory, with the report each
/// belongs to: finding an event's candidates is two loads, and running them costs no reference counting.
private final class KindIndex {
    /// Keeps the predicates alive: ``predicates`` holds them unretained.
    private let owned: [[Predicate]]
    let predicates: PredicateList
    private let reports: UnsafeMutablePointer<Int>
    /// Where each kind's predicates start; kind k's run to the start of kind k + 1.
    private let starts: UnsafeMutablePointer<Int>
    /// Every kind's guard groups, one kind after another; kind k's start at `groupStarts[k]`.
    private let groups: [GuardGroup]
    private let groupStarts: UnsafeMutablePointer<Int>
    /// Per kind, the positions (bits) of the predicates no group guards.
    private let unguarded: UnsafeMutablePointer<UInt64>

    init(predicates: [[Predicate]], reports: [[Int]], groups: [[GuardGroup]], unguarded: [UInt64]) {
        owned = predicates
        self.groups = Array(groups.joined())
        let groupStarts = UnsafeMutablePointer<Int>.allocate(capacity: groups.count + 1)
        var groupStart = 0
        for (kind, list) in groups.enumerated() {
            groupStarts[kind] = groupStart
            groupStart += list.count
        }
        groupStarts[groups.count] = groupStart
        self.groupStarts = groupStarts
        self.unguarded = .allocate(capacity: max(1, unguarded.count))
        self.unguarded.initialize(from: unguarded, count: unguarded.count)
        self.predicates = PredicateList(predicates.joined())
        let all = Array(reports.joined())
        self.reports = .allocate(capacity: max(1, all.count))
        self.reports.initialize(from: all, count: all.count)
        starts = .allocate(capacity: predicates.count + 1)
        var start = 0
        for (kind, list) in predicates.enumerated() {
            starts[kind] = start
            start += list.count
        }
        starts[predicates.count] = start
    }

    deinit {
        predicates.deallocate()
        reports.deallocate()
        starts.deallocate()
        groupStarts.deallocate()
        unguarded.deallocate()
    }

    /// The positions (bits, from the kind's first predicate) of the event's kind's predicates that may match:
    /// those no group guards, and those whose group's test passed. A kind has at most 64 predicates with
    /// guards; one with more has none, and every bit set.
    @inline(__always)
    func pending(_ event: Event, _ reader: FieldReader) -> UInt64 {
        let kind = Int(event.kind.rawValue)
        var pending = unguarded[kind]
        for group in groupStarts[kind]..<groupStarts[kind + 1] { pending |= groups[group].mask(event, reader) }
        return pending
    }

    @inline(__always)
    func candidates(_ kind: EventKind) -> Range<Int> {
        let slot = Int(kind.rawValue)
        return starts[slot]..<starts[slot + 1]
    }

    @inline(__always)
    func report(_ position: Int) -> Int { reports[position] }
}

/// A rule's output text with its `%field` placeholders resolved once.
struct OutputTemplate {
    private enum Part {
        case text(String)
        case field(FieldID)
        /// A Falco field Vigil's events do not carry: printed as `<NA>`, as Falco prints a missing value.
        case unavailable
    }

    private let parts: [Part]

    init(_ template: String) {
        var parts: [Part] = []
        var text = ""
        var index = template.startIndex
        while index < template.endIndex {
            let character = template[index]
            guard character == "%" else {
                text.append(character)
                index = template.index(after: index)
                continue
            }
            var end = template.index(after: index)
            while end < template.endIndex,
                template[end].isLetter || template[end].isNumber || "._".contains(template[end])
            {
                end = template.index(after: end)
            }
            // An argument runs to its `]`, whatever it holds (`%jevt.value[/requestObject/spec/volumes]`).
            if end < template.endIndex, template[end] == "[",
                let close = template[end...].firstIndex(of: "]")
            {
                end = template.index(after: close)
            }
            var name = String(template[template.index(after: index)..<end])
            var argument: String?
            if let open = name.firstIndex(of: "["), name.hasSuffix("]") {
                argument = String(name[name.index(after: open)..<name.index(before: name.endIndex)])
                name = String(name[..<open])
            }
            switch FieldCatalog.resolve(
                FieldReference(name: name, argument: argument, location: SourceLocation(line: 0, column: 0)))
            {
            case .success(let definition):
                if !text.isEmpty { parts.append(.text(text)) }
                text = ""
                parts.append(.field(definition.id))
            case .failure(let error) where error.code == .unsupportedField:
                if !text.isEmpty { parts.append(.text(text)) }
                text = ""
                parts.append(.unavailable)
            case .failure:
                text += String(template[index..<end])
            }
            index = end
        }
        if !text.isEmpty { parts.append(.text(text)) }
        self.parts = parts
    }

    /// The text for a match; a field the event lacks prints as `<NA>`, as in Falco.
    func render(_ event: Event, _ reader: FieldReader, fallback: String) -> String {
        if parts.isEmpty { return fallback }
        var result = ""
        for part in parts {
            switch part {
            case .text(let text): result += text
            case .unavailable: result += "<NA>"
            case .field(let field):
                switch reader.value(field, in: event) {
                case .missing: result += "<NA>"
                case .symbol(let symbol): result += reader.symbols.string(symbol)
                case .symbols(let list):
                    // Falco prints a list field as `(a,b)`.
                    result += "(" + list.map { reader.symbols.string($0) }.joined(separator: ",") + ")"
                case .number(let number): result += NumberText.text(number, field: field, kind: event.kind)
                case .address(let address): result += address.description
                case .bool(let value): result += value ? "true" : "false"
                }
            }
        }
        return result.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

import VigilCore

/// Tells an incident as short plain sentences, layer by layer in time order.
///
/// Consecutive steps by the same actor in the same layer become one clause ("the node's role created IAM
/// user x from 203.0.113.7 and attached AdministratorAccess to x"); a pause of ten seconds or more between
/// clauses is said ("40 s later"), a shorter one reads "then".
public struct Narrative: Sendable {
    private let symbols: SymbolTable
    private let node: NodeIdentity?

    /// Creates a renderer resolving symbols through `symbols`; `node` names the node's role as such.
    public init(symbols: SymbolTable, node: NodeIdentity? = nil) {
        self.symbols = symbols
        self.node = node
    }

    /// The incident in plain words. `repeats[i]`, when given, is how many findings step `i` stands for
    /// (by default the number of its finding ids); a step without findings is told by its summary.
    public func render(_ incident: Incident, repeats: [Int]? = nil) -> String {
        var writer = PhraseWriter(symbols: symbols, node: node)
        var byID: [String: Finding] = [:]
        for finding in incident.findings { byID[finding.id] = finding }
        var story = NarrativeText()
        for (index, step) in incident.steps.enumerated() {
            let count = repeats.flatMap { index < $0.count ? $0[index] : nil } ?? max(1, step.findingIDs.count)
            let phrase =
                step.findingIDs.first.flatMap { byID[$0] }.map { writer.phrase($0, count: count) }
                ?? Phrase(actor: "", predicate: step.summary, origin: "")
            story.tell(phrase, layer: step.layer, time: step.time)
        }
        return story.text
    }

    /// A title: the root technique's name, where it happened, and how the story ends.
    public func title(_ incident: Incident) -> String {
        var writer = PhraseWriter(symbols: symbols, node: node)
        return title(incident, writer: &writer)
    }

    /// A title, naming places through `writer`.
    func title(_ incident: Incident, writer: inout PhraseWriter) -> String {
        guard let first = incident.steps.first else { return "empty incident" }
        let root = incident.findings.first { $0.id == incident.rootCause }
        return Self.title(head: titleHead(first, root: root, writer: &writer), steps: incident.steps)
    }

    /// What a title says before its end: the technique of the `first` step and where the `root` finding
    /// happened.
    func titleHead(_ first: IncidentStep, root: Finding?, writer: inout PhraseWriter) -> String {
        let name = Self.techniqueNames[first.mitre.technique] ?? root?.rule.name ?? first.mitre.technique
        var place = ""
        if let root {
            switch root.event.fields {
            case .cloud, .kubernetes: place = writer.who(symbols.string(root.event.principal))
            default: place = writer.place(root.event.workload)
            }
        }
        return place.isEmpty ? name : "\(name) on \(place)"
    }

    /// The title of `steps`, which are not empty, from its `head`: and how the story ends.
    static func title(head: String, steps: [IncidentStep]) -> String {
        guard steps.count > 1, let last = steps.last else { return head }
        return head + " → " + last.summary
    }

    /// `40 s`, `3 min`, `2 h`.
    static func duration(_ nanoseconds: Int64) -> String {
        let seconds = nanoseconds / 1_000_000_000
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7_200 { return "\(seconds / 60) min" }
        return "\(seconds / 3_600) h"
    }

    /// Names of the techniques cloud and workload attacks use most, for titles.
    public static let techniqueNames: [String: String] = [
        "T1190": "Exploit of a public-facing application",
        "T1059": "Command interpreter",
        "T1059.004": "Unix shell",
        "T1105": "Tool transfer",
        "T1552": "Unsecured credentials",
        "T1552.001": "Credentials in files",
        "T1552.005": "Cloud instance metadata access",
        "T1550.001": "Stolen application access token",
        "T1078": "Valid accounts",
        "T1078.004": "Cloud account use",
        "T1136.003": "Cloud account creation",
        "T1098": "Account manipulation",
        "T1098.001": "Additional cloud credentials",
        "T1098.003": "Additional cloud roles",
        "T1530": "Data from cloud storage",
        "T1537": "Transfer to a cloud account",
        "T1562.008": "Cloud logs disabled",
        "T1580": "Cloud infrastructure discovery",
        "T1613": "Container and resource discovery",
        "T1609": "Container administration command",
        "T1610": "Container deployment",
        "T1611": "Escape to host",
        "T1496": "Resource hijacking",
        "T1068": "Privilege escalation exploit",
        "T1003": "Credential dumping",
        "T1071": "Command-and-control traffic",
    ]
}

/// A story told one step at a time, in time order: ``Narrative/render(_:repeats:)`` tells every step; the
/// correlator keeps one per open story and tells only the steps added since its last report, when they come
/// after those already told.
struct NarrativeText {
    // The clauses before the last one, trimmed and joined; how many they are; the last clause, which the next
    // step may extend.
    private var head = ""
    private var closed = 0
    private var last: String?
    private var previous: (actor: String, layer: Layer, time: Int64)?
    // The predicates said in the current run of one actor in one layer: the first, then the others (most runs
    // have one, and a story keeps its text: no list for it).
    private var saidFirst = ""
    private var saidMore: [String] = []

    /// Adds one step, told by `phrase`.
    mutating func tell(_ phrase: Phrase, layer: Layer, time: Int64) {
        if let before = previous, !phrase.actor.isEmpty, before.actor == phrase.actor, before.layer == layer,
            time - before.time < 10_000_000_000
        {
            // Same actor, same layer, close in time: one clause, each thing said once (a rule and a
            // profile often flag the same act).
            if saidFirst != phrase.predicate && !saidMore.contains(phrase.predicate) {
                saidMore.append(phrase.predicate)
                last = (last ?? "").trimmingCharacters() + " and " + phrase.predicate
            }
        } else if let before = previous {
            let gap = time - before.time
            if gap >= 10_000_000_000 {
                append("\(Narrative.duration(gap)) later \(phrase.line)")
            } else if phrase.actor.isEmpty {
                append("then " + phrase.predicate)
            } else {
                append("\(phrase.actor) then \([phrase.predicate, phrase.origin].joined(separator: " "))")
            }
        } else {
            append(phrase.line)
        }
        if previous?.actor != phrase.actor || previous?.layer != layer {
            saidFirst = phrase.predicate
            saidMore.removeAll(keepingCapacity: true)
        }
        previous = (phrase.actor, layer, time)
    }

    /// The story so far.
    var text: String {
        guard let last else { return "" }
        let text = closed == 0 ? last.trimmingCharacters() : head + "; " + last.trimmingCharacters()
        // Not capitalised: clauses start with names (`python3`, `christophe`) whose case matters.
        return text.isEmpty ? "" : text + "."
    }

    private mutating func append(_ clause: String) {
        if let last {
            if closed > 0 { head += "; " }
            head += last.trimmingCharacters()
            closed += 1
        }
        last = clause
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        // Most clauses have nothing to trim: the string itself, not a copy.
        // Only a string that starts or ends with a space byte can start or end with a space.
        guard utf8.first == UInt8(ascii: " ") || utf8.last == UInt8(ascii: " ") else { return self }
        var text = Substring(self)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}

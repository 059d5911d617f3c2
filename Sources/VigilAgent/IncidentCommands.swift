import VigilCore
import VigilCorrelation

/// What `vigil-agent incidents` does: list, show and report the incidents a store keeps.
public struct IncidentCommands: Sendable {
    /// The store.
    public let store: any IncidentStore

    /// Creates the commands over a store.
    public init(store: any IncidentStore) { self.store = store }

    /// The incidents, the most recently active first, one line each. In text: id, severity, the time of the first
    /// step, layers, the number of steps and the title. In JSON: the stored `incident` lines (JSON Lines).
    ///
    /// - Parameters:
    ///   - since: only incidents whose last step is at or after this time (nanoseconds since the epoch).
    ///   - limit: at most this many incidents.
    public func list(since: Int64? = nil, limit: Int = 100, format: AlertFormat = .text) async throws -> [String] {
        let incidents = try await store.incidents(since: since, limit: limit)
        switch format {
        case .json: return incidents.map(\.json)
        case .text: return incidents.map(Self.line)
        case .ocsf: return incidents.map { OCSFDetectionFinding(hostname: AlertFormat.hostname).render($0) }
        case .falco: throw Self.noFalcoForm
        }
    }

    /// The incident with id `id`. In text: its title, severity, layers, root cause, narrative, steps in order,
    /// entities, findings and response. In JSON: its stored `incident` line.
    ///
    /// - Throws: ``AgentError`` when the store holds no incident with that id.
    public func show(_ id: String, format: AlertFormat = .text) async throws -> String {
        guard let incident = try await store.incident(id: id) else {
            throw AgentError(
                "no incident with id '\(id)' in the store: `vigil-agent incidents list` shows the ids it holds")
        }
        switch format {
        case .json: return incident.json
        case .text: return Self.text(incident)
        case .ocsf: return OCSFDetectionFinding(hostname: AlertFormat.hostname).render(incident)
        case .falco: throw Self.noFalcoForm
        }
    }

    static let noFalcoForm = AgentError(
        "an incident has no Falco form (Falco alerts are single findings): use text, json or ocsf")

    /// The incidents, the most recently active first, as one self-contained HTML page (``HTMLIncidentReport``).
    ///
    /// - Parameters:
    ///   - since: only incidents whose last step is at or after this time (nanoseconds since the epoch).
    ///   - limit: at most this many incidents.
    ///   - generatedAt: the time the page says it was made (nanoseconds since the epoch).
    public func report(
        since: Int64? = nil, limit: Int = 100, generatedAt: Int64
    ) async throws -> (
        page: String, incidents: Int
    ) {
        let incidents = try await store.incidents(since: since, limit: limit)
        return (HTMLIncidentReport(generatedAt: generatedAt).render(incidents), incidents.count)
    }

    /// One line of `incidents list`; the time is to the second.
    static func line(_ incident: IncidentRecord) -> String {
        let layers = incident.layers.map(\.name).joined(separator: ",")
        let steps = incident.steps.count == 1 ? "1 step" : "\(incident.steps.count) steps"
        let first = incident.firstTime - incident.firstTime % 1_000_000_000
        return [
            incident.id, incident.severity.name.uppercased().padded(8), time(first), layers.padded(20),
            steps.padded(9), incident.title,
        ].joined(separator: "  ")
    }

    /// The text of `incidents show`.
    static func text(_ incident: IncidentRecord) -> String {
        var lines = ["incident \(incident.id)", "title: \(incident.title)"]
        lines.append("severity: \(incident.severity.name)")
        lines.append("layers: \(incident.layers.map(\.name).joined(separator: ", "))")
        lines.append("time: \(time(incident.firstTime)) to \(time(incident.lastTime))")
        let root = incident.rootCauseFinding.map { "\($0.id) (\($0.ruleID))" } ?? incident.rootCause
        lines.append("root cause: \(root.isEmpty ? "-" : root)")
        if !incident.narrative.isEmpty { lines.append("narrative: \(incident.narrative)") }
        lines.append("steps:")
        for (number, step) in incident.steps.enumerated() {
            let root = step.findingIDs.contains(incident.rootCause) ? " (root cause)" : ""
            lines.append(
                "  \(number + 1). \(time(step.time)) \(step.layer.name) \(step.technique) \(step.tactic): "
                    + "\(step.summary)\(root)")
        }
        lines.append("entities:")
        for entity in incident.entities { lines.append("  \(entity.kind) \(entity.id)") }
        lines.append("findings:")
        for finding in incident.findings {
            lines.append(
                "  \(finding.id) \(time(finding.time)) \(finding.severity.name.uppercased()) \(finding.ruleID): "
                    + finding.explanation)
        }
        let missing = incident.findingIDs.count - incident.findings.count
        if missing > 0 { lines.append("  and \(missing) more that the store holds no record of") }
        lines.append("response:" + (incident.response.isEmpty ? " none" : ""))
        for record in incident.response {
            let target = record.pid == 0 ? "" : " pid \(record.pid)"
            lines.append("  \(time(record.time)) \(record.action) \(record.outcome)\(target): \(record.detail)")
        }
        return lines.joined(separator: "\n")
    }

    private static func time(_ nanoseconds: Int64) -> String {
        nanoseconds == 0 ? "-" : RFC3339.formatCompact(nanoseconds: nanoseconds)
    }
}

extension String {
    fileprivate func padded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

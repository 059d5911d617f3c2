/// Writes the alert stream as JSON Lines: one `finding` or `incident` object per line.
///
/// The field names are a stable contract (documented in `Documentation/alert-schema.md`): fields may be
/// added, never renamed or removed.
public struct AlertEncoder: Sendable {
    /// The table the alerts' symbols come from.
    public let symbols: SymbolTable
    private let events: EventEncoder
    private var writer = JSONWriter(capacity: 4096)

    /// Creates an encoder resolving symbols in `symbols`.
    public init(symbols: SymbolTable) {
        self.symbols = symbols
        self.events = EventEncoder(symbols: symbols)
    }

    /// One alert as a JSON line, without the trailing newline.
    public mutating func line(for alert: Alert) -> String {
        writer.reset()
        switch alert {
        case .finding(let finding): write(finding, to: &writer)
        case .incident(let incident): write(incident, to: &writer)
        }
        return writer.text
    }

    /// Writes a finding object.
    public func write(_ finding: Finding, to writer: inout JSONWriter) {
        let event = finding.event
        writer.beginObject()
        writer.field("type", "finding")
        writer.field("id", finding.id)
        writer.field("time", RFC3339.format(nanoseconds: finding.time))
        writer.field("severity", finding.severity.name)
        writer.key("rule")
        writer.beginObject()
        writer.field("id", finding.rule.id)
        writer.field("name", finding.rule.name)
        writer.endObject()
        writeMITRE(finding.mitre, to: &writer)
        writer.field("layer", finding.layer.name)
        writer.field("kind", event.kind.name)
        writer.key("workload")
        events.writeWorkload(event.workload, to: &writer)
        if !event.container.isNone { writer.field("container_id", symbols.string(event.container)) }
        if let process = finding.process {
            writer.key("process")
            writer.beginObject()
            writeProcessMembers(process, to: &writer)
            writer.key("ancestry")
            writer.beginArray()
            for ancestor in finding.ancestry {
                writer.beginObject()
                writeProcessMembers(ancestor, to: &writer)
                writer.endObject()
            }
            writer.endArray()
            writer.endObject()
        }
        if !event.principal.isNone { writer.field("principal", symbols.string(event.principal)) }
        writer.field("explanation", finding.explanation)
        if finding.eventsLostBefore > 0 { writer.field("events_lost_before", finding.eventsLostBefore) }
        writer.key("evidence")
        writer.beginArray()
        events.write(event, to: &writer)
        for evidence in finding.evidence { events.write(evidence, to: &writer) }
        writer.endArray()
        writeResponse(finding.response, to: &writer)
        writer.endObject()
    }

    /// Writes an incident object.
    public func write(_ incident: Incident, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("type", "incident")
        writer.field("id", incident.id)
        if let first = incident.steps.first { writer.field("time", RFC3339.format(nanoseconds: first.time)) }
        writer.field("severity", incident.severity.name)
        writer.field("title", incident.title)
        writer.field("root_cause", incident.rootCause)
        writer.key("layers")
        writer.beginArray()
        for layer in incident.layers { writer.string(layer.name) }
        writer.endArray()
        writer.key("steps")
        writer.beginArray()
        for step in incident.steps {
            writer.beginObject()
            writer.field("time", RFC3339.format(nanoseconds: step.time))
            writer.field("layer", step.layer.name)
            writer.field("tactic", step.mitre.tactic.name)
            writer.field("technique", step.mitre.technique)
            writer.field("summary", step.summary)
            writer.key("finding_ids")
            writer.beginArray()
            for id in step.findingIDs { writer.string(id) }
            writer.endArray()
            writer.endObject()
        }
        writer.endArray()
        writer.key("entities")
        writer.beginArray()
        for entity in incident.entities {
            writer.beginObject()
            writer.field("kind", entity.kind)
            writer.field("id", entity.id)
            writer.endObject()
        }
        writer.endArray()
        writer.key("findings")
        writer.beginArray()
        for finding in incident.findings { writer.string(finding.id) }
        writer.endArray()
        if !incident.narrative.isEmpty { writer.field("narrative", incident.narrative) }
        writeResponse(incident.response, to: &writer)
        writer.endObject()
    }

    private func writeMITRE(_ mitre: MITREMapping, to writer: inout JSONWriter) {
        writer.key("mitre")
        writer.beginObject()
        writer.field("tactic", mitre.tactic.name)
        writer.field("tactic_id", mitre.tactic.id)
        writer.field("technique", mitre.technique)
        writer.endObject()
    }

    /// Writes a process's members into the object the caller opened.
    private func writeProcessMembers(_ process: ProcessSummary, to writer: inout JSONWriter) {
        writer.field("pid", Int64(process.key.pid))
        writer.field("start_time", process.key.startTime)
        if !process.executable.isEmpty { writer.field("exe", process.executable) }
        writer.key("args")
        writer.beginArray()
        for argument in process.arguments { writer.string(argument) }
        writer.endArray()
    }

    private func writeResponse(_ records: [ResponseRecord], to writer: inout JSONWriter) {
        writer.key("response")
        writer.beginArray()
        for record in records {
            writer.beginObject()
            writer.field("action", record.action.kind.rawValue)
            writer.field("outcome", record.outcome.rawValue)
            writer.field("time", RFC3339.format(nanoseconds: record.time))
            writer.field("reason", record.action.reason)
            if record.action.target.process.pid != 0 {
                writer.key("target")
                events.writeProcessKey(record.action.target.process, to: &writer)
            }
            if !record.detail.isEmpty { writer.field("detail", record.detail) }
            writer.endObject()
        }
        writer.endArray()
    }
}

import Foundation
import VigilCore

/// What the demo saw: the incidents that involve its actors, and the checks around them.
struct Summary {
    var related: [IncidentRecord]
    var unrelatedCount: Int
    var findings: [FindingRecord]
    var attack: Demo.AttackResult?
    var check: Demo.QuarantineCheck?
    var shopPID: Int32

    /// The story as the demo prints it.
    var text: String {
        var lines: [String] = []
        let actions = self.actions
        if related.isEmpty {
            lines.append("No incident involves the shop, the node's role or the users it created.")
        }
        for incident in related {
            lines.append(
                "INCIDENT \(incident.id)  severity \(incident.severity.name.uppercased())  layers "
                    + incident.layers.map(\.name).joined(separator: " → "))
            lines.append("  \(incident.title)")
            if let root = incident.rootCauseFinding {
                lines.append("  root cause: \(root.id) \(root.ruleID) (\(root.technique)): \(root.explanation)")
            }
            lines.append("  story: \(incident.narrative)")
            lines.append("  steps:")
            for (index, step) in incident.steps.enumerated() {
                let time = RFC3339.format(nanoseconds: step.time).dropFirst(11).prefix(12)
                lines.append(
                    "    \(index + 1). \(time) \(step.layer.name.padding(toLength: 11, withPad: " ", startingAt: 0)) "
                        + "\(step.technique.padding(toLength: 9, withPad: " ", startingAt: 0)) \(step.summary)")
            }
            if incident.response.isEmpty && actions.isEmpty {
                lines.append("  response: none (report only)")
            }
            for record in incident.response {
                lines.append("  response: \(record.action) \(record.outcome) on pid \(record.pid) for the incident")
            }
            for action in actions {
                lines.append("  response: \(action)")
            }
        }
        if let check {
            lines.append(
                "after the response: the shop fetching the metadata service again got \(check.status) "
                    + "(\(check.body.prefix(100)))")
        }
        if unrelatedCount > 0 {
            lines.append(
                "(\(unrelatedCount) other incident(s) from other processes on this machine are not part of the demo)")
        }
        return lines.joined(separator: "\n")
    }

    /// The response actions recorded on the shop's findings: `quarantine done on pid 1234 (…)`.
    var actions: [String] {
        var seen: [String] = []
        for finding in findings {
            guard let value = try? JSONParser.parse(finding.json), let records = value["response"]?.array else {
                continue
            }
            for record in records {
                let action = record["action"]?.string ?? ""
                let outcome = record["outcome"]?.string ?? ""
                guard action != "report" else { continue }
                let pid = record["target"]?["pid"]?.int64 ?? 0
                let line = "\(action) \(outcome) on pid \(pid) for \(finding.ruleID)"
                if !seen.contains(line) { seen.append(line) }
            }
        }
        return seen
    }

    /// A JSON summary for tests and scripts.
    var json: String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("shop_pid", Int64(shopPID))
        writer.field("unrelated_incidents", unrelatedCount)
        writer.key("incidents")
        writer.beginArray()
        for incident in related {
            writer.beginObject()
            writer.field("id", incident.id)
            writer.field("severity", incident.severity.name)
            writer.field("root_cause", incident.rootCause)
            writer.field("root_cause_rule", incident.rootCauseFinding?.ruleID ?? "")
            writer.field("narrative", incident.narrative)
            writer.key("steps")
            writer.beginArray()
            for step in incident.steps {
                writer.beginObject()
                writer.field("time", RFC3339.format(nanoseconds: step.time))
                writer.field("layer", step.layer.name)
                writer.field("technique", step.technique)
                writer.field("summary", step.summary)
                writer.endObject()
            }
            writer.endArray()
            writer.endObject()
        }
        writer.endArray()
        writer.key("actions")
        writer.beginArray()
        for action in actions { writer.string(action) }
        writer.endArray()
        if let attack {
            writer.field("attack_request", attack.request)
            writer.field("stolen_key", attack.stolen)
        }
        if let check {
            writer.key("after_response")
            writer.beginObject()
            writer.field("status", Int64(check.status))
            writer.field("body", String(check.body.prefix(500)))
            writer.endObject()
        }
        writer.endObject()
        return writer.text
    }
}

import VigilCore

/// A deliberately plain correlator for tests of the engine's wiring: it groups findings by workload (or
/// by principal for control-plane findings) and reports each group as one incident when the engine
/// finishes. The real correlator lives in `VigilCorrelation`.
public struct GroupingCorrelator: Correlator {
    private var groups: [UInt64: [Finding]] = [:]
    private var order: [UInt64] = []

    /// Creates an empty correlator.
    public init() {}

    public mutating func correlate(_ findings: [Finding], into incidents: inout [Incident]) {
        for finding in findings {
            let key = UInt64(finding.layer.rawValue) << 32 | UInt64(finding.event.shardKey)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(finding)
        }
    }

    public mutating func finish(into incidents: inout [Incident]) {
        for key in order {
            let findings = groups[key]!.sorted { $0.time < $1.time }
            let steps = findings.map {
                IncidentStep(
                    time: $0.time, layer: $0.layer, mitre: $0.mitre, summary: $0.rule.name, findingIDs: [$0.id])
            }
            incidents.append(
                Incident(
                    severity: findings.map(\.severity).max()!, title: "\(findings.count) related findings",
                    rootCause: findings[0].id, steps: steps, entities: [], findings: findings))
        }
        groups.removeAll()
        order.removeAll()
    }
}

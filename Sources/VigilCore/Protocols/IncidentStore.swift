/// Keeps incidents (attack stories) across restarts, so that an operator can list and read them after the run
/// that raised them.
///
/// The engine reports an incident when it opens and again, under the same id, each time it grows: the latest
/// report is the incident's current state. ``save(_:)`` therefore replaces an earlier report with the same id.
/// A correlator may also merge two stories: the older one absorbs the newer one's findings. A store removes an
/// incident once every finding it held belongs to a later report of another incident, so that one attack is
/// listed once.
///
/// Stores are bounded: each keeps at most a fixed number of incidents and removes the least recently active
/// first. Implementations: ``MemoryIncidentStore`` here, and the SQLite store in `VigilSQLite`.
public protocol IncidentStore: Sendable {
    /// Saves `incident` with the records of its findings, replacing an earlier report with the same id.
    func save(_ incident: IncidentRecord) async throws
    /// The incident with id `id`, with the records of its findings, or nil when the store does not hold it.
    func incident(id: String) async throws -> IncidentRecord?
    /// At most `limit` incidents, the most recently active first (by the time of their last step, then by id).
    /// With `since` (nanoseconds since the epoch), only the incidents whose last step is at or after it.
    func incidents(since: Int64?, limit: Int) async throws -> [IncidentRecord]
}

/// An incident store in memory: nothing survives the process. It keeps at most `maximumIncidents` incidents
/// and removes the least recently active first, so a long run cannot grow it without limit.
///
/// It behaves as the SQLite store does: a finding belongs to the incident that last reported it, and a report
/// that lists a finding without its record keeps the record saved before.
public actor MemoryIncidentStore: IncidentStore {
    /// The latest report of each incident, by id, without its finding records.
    private var reports: [String: IncidentRecord] = [:]
    /// Each finding's record and the incident that last reported it, by finding id.
    private var findings: [String: (owner: String, record: FindingRecord)] = [:]
    /// How many incidents it keeps.
    public let maximumIncidents: Int

    /// Creates an empty store that keeps at most `maximumIncidents` incidents.
    public init(maximumIncidents: Int = 10_000) {
        precondition(maximumIncidents > 0, "an incident store keeps at least one incident")
        self.maximumIncidents = maximumIncidents
    }

    /// Saves `incident`, replacing an earlier report with the same id, removing the incidents it absorbed and,
    /// when the store is full, the least recently active ones.
    public func save(_ incident: IncidentRecord) {
        let id = incident.id
        let listed = Set(incident.findingIDs)
        let absorbed = Set(incident.findingIDs.compactMap { findings[$0]?.owner }).subtracting([id])
        for finding in reports[id]?.findingIDs ?? [] where !listed.contains(finding) && findings[finding]?.owner == id {
            findings[finding] = nil
        }
        for finding in incident.findingIDs { findings[finding]?.owner = id }
        for record in incident.findings where listed.contains(record.id) { findings[record.id] = (id, record) }
        var report = incident
        report.findings = []
        reports[id] = report
        for other in absorbed.sorted() where !owns(other) { remove(other) }
        while reports.count > maximumIncidents,
            let oldest = reports.values.min(by: { ($0.lastTime, $0.id) < ($1.lastTime, $1.id) })
        {
            remove(oldest.id)
        }
    }

    /// The incident with id `id`, or nil.
    public func incident(id: String) -> IncidentRecord? { reports[id].map(withFindings) }

    /// At most `limit` incidents, the most recently active first; with `since`, only those whose last step
    /// is at or after it.
    public func incidents(since: Int64?, limit: Int) -> [IncidentRecord] {
        let since = since ?? .min
        let selected = reports.values.filter { $0.lastTime >= since }
            .sorted { ($0.lastTime, $0.id) > ($1.lastTime, $1.id) }
        return selected.prefix(max(0, limit)).map(withFindings)
    }

    /// `report` with the records of the findings it owns, in its order.
    private func withFindings(_ report: IncidentRecord) -> IncidentRecord {
        var incident = report
        incident.findings = report.findingIDs.compactMap { id in
            findings[id].flatMap { $0.owner == report.id ? $0.record : nil }
        }
        return incident
    }

    /// Whether the incident `id` still owns one of the findings it lists.
    private func owns(_ id: String) -> Bool {
        reports[id]?.findingIDs.contains { findings[$0]?.owner == id } ?? false
    }

    private func remove(_ id: String) {
        guard let report = reports.removeValue(forKey: id) else { return }
        for finding in report.findingIDs where findings[finding]?.owner == id { findings[finding] = nil }
    }
}

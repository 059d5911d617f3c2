import GRDB
import VigilCore

/// The incident store in Vigil's SQLite database: the latest report of each incident, kept across restarts.
///
/// Two tables hold it. `incidents(id, severity, title, first_time, last_time, layers, root_cause, step_count,
/// finding_count, json)` has one row per incident: its `incident` line of the alert stream in `json`, and some
/// of its fields beside it for queries and for people reading the file with `sqlite3` (times in nanoseconds
/// since the epoch, `layers` comma-separated); it is indexed on `last_time`. `incident_findings(id,
/// incident_id, json)` has the `finding` line of each finding, keyed by finding id, with the incident that
/// last reported it.
///
/// A save is one transaction. It replaces the row of an earlier report with the same id (`first_time` keeps
/// the earliest first step of any report) and makes the incident the owner of the findings it lists; a
/// finding it lists without a record keeps the line saved before. An incident left owning none of its
/// findings, because a later report of another incident took them all (the correlator merged the two
/// stories), is removed.
///
/// Growth is bounded: the store keeps at most ``maximumIncidents`` incidents, and each save beyond that
/// removes the least recently active ones (the smallest `last_time`) with their findings.
///
/// Loading parses the stored lines again with `IncidentRecord(line:findings:)`. A row that does not parse (a
/// damaged file, another program's rows) is an error with ``SQLiteStoreError/Code/invalidRow``, never a
/// crash. Queries run on GRDB's own dispatch queues, never blocking a thread of Swift's cooperative pool.
public struct SQLiteIncidentStore: IncidentStore {
    /// How many incidents a store keeps unless told otherwise.
    public static let defaultMaximumIncidents = 10_000

    /// The database the incidents live in.
    public let database: VigilDatabase
    /// How many incidents the store keeps; the least recently active are removed first.
    public let maximumIncidents: Int

    /// A store in an open database, sharing it with the database's other stores.
    public init(database: VigilDatabase, maximumIncidents: Int = defaultMaximumIncidents) {
        precondition(maximumIncidents > 0, "an incident store keeps at least one incident")
        self.database = database
        self.maximumIncidents = maximumIncidents
    }

    /// Opens (or creates) the database at `path`, with its parent directory.
    ///
    /// - Throws: ``SQLiteStoreError`` when the directory or the database cannot be made or opened.
    public init(path: String, maximumIncidents: Int = defaultMaximumIncidents) throws(SQLiteStoreError) {
        self.init(database: try VigilDatabase(path: path), maximumIncidents: maximumIncidents)
    }

    /// Saves `incident` and its findings, replacing an earlier report with the same id.
    ///
    /// - Throws: ``SQLiteStoreError/Code/queryFailed`` when SQLite fails (a full disk, a read-only file).
    public func save(_ incident: IncidentRecord) async throws {
        let id = incident.id
        let row: StatementArguments = [
            id, incident.severity.name, incident.title, incident.firstTime, incident.lastTime,
            incident.layers.map(\.name).joined(separator: ","), incident.rootCause, incident.steps.count,
            incident.findingIDs.count, incident.json,
        ]
        let listed = incident.findingIDs
        let records = incident.findings.filter { listed.contains($0.id) }.map { (id: $0.id, json: $0.json) }
        let maximum = maximumIncidents
        try await database.query("saving incident \(id)", write: true) { db in
            try db.execute(
                sql: """
                    INSERT INTO incidents
                        (id, severity, title, first_time, last_time, layers, root_cause, step_count, finding_count, json)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET
                        severity = excluded.severity, title = excluded.title,
                        first_time = min(first_time, excluded.first_time), last_time = excluded.last_time,
                        layers = excluded.layers, root_cause = excluded.root_cause, step_count = excluded.step_count,
                        finding_count = excluded.finding_count, json = excluded.json
                    """,
                arguments: row)

            // The findings it no longer lists are dropped; those it lists become its own.
            let owned = try Row.fetchAll(
                db, sql: "SELECT CAST(id AS TEXT) FROM incident_findings WHERE incident_id = ?", arguments: [id]
            ).compactMap { $0[0] as String? }
            for finding in owned where !listed.contains(finding) {
                try db.execute(sql: "DELETE FROM incident_findings WHERE id = ?", arguments: [finding])
            }
            // A finding that another incident owned moves here: that incident was merged into this one.
            var absorbed: Set<String> = []
            for finding in listed {
                let owner = try Row.fetchOne(
                    db, sql: "SELECT CAST(incident_id AS TEXT) FROM incident_findings WHERE id = ?",
                    arguments: [finding])
                guard let owner = owner?[0] as String?, owner != id else { continue }
                absorbed.insert(owner)
                try db.execute(
                    sql: "UPDATE incident_findings SET incident_id = ? WHERE id = ?", arguments: [id, finding])
            }
            for record in records {
                try db.execute(
                    sql: """
                        INSERT INTO incident_findings (id, incident_id, json) VALUES (?, ?, ?)
                        ON CONFLICT (id) DO UPDATE SET incident_id = excluded.incident_id, json = excluded.json
                        """,
                    arguments: [record.id, id, record.json])
            }
            for other in absorbed.sorted() {
                try db.execute(
                    sql: """
                        DELETE FROM incidents
                        WHERE id = ? AND NOT EXISTS (SELECT 1 FROM incident_findings WHERE incident_id = ?)
                        """,
                    arguments: [other, other])
            }

            // Retention: beyond the bound, the least recently active go, with their findings.
            let excess = "SELECT id FROM incidents ORDER BY last_time DESC, id DESC LIMIT -1 OFFSET ?"
            try db.execute(
                sql: "DELETE FROM incident_findings WHERE incident_id IN (\(excess))", arguments: [maximum])
            try db.execute(sql: "DELETE FROM incidents WHERE id IN (\(excess))", arguments: [maximum])
        }
    }

    /// The incident with id `id`, with the records of the findings it owns, or nil.
    ///
    /// - Throws: ``SQLiteStoreError/Code/invalidRow`` when its stored lines do not parse,
    ///   ``SQLiteStoreError/Code/queryFailed`` when SQLite fails.
    public func incident(id: String) async throws -> IncidentRecord? {
        let rows = try await database.query("loading incident \(id)") { db in
            try Self.fetch(db, sql: "SELECT \(Self.columns) FROM incidents WHERE id = ?", arguments: [id])
        }
        return try rows.first.map(decode)
    }

    /// At most `limit` incidents, the most recently active first; with `since`, only those whose last step is at
    /// or after it.
    ///
    /// - Throws: ``SQLiteStoreError/Code/invalidRow`` when the stored lines of one of them do not parse,
    ///   ``SQLiteStoreError/Code/queryFailed`` when SQLite fails.
    public func incidents(since: Int64?, limit: Int) async throws -> [IncidentRecord] {
        let rows = try await database.query("listing incidents") { db in
            try Self.fetch(
                db,
                sql: """
                    SELECT \(Self.columns) FROM incidents WHERE last_time >= ?
                    ORDER BY last_time DESC, id DESC LIMIT ?
                    """,
                arguments: [since ?? .min, max(0, limit)])
        }
        return try rows.map(decode)
    }

    /// Read as text whatever the stored type, so that a value of another type is a row that does not parse
    /// rather than a failed conversion.
    private static let columns = "CAST(id AS TEXT), CAST(json AS TEXT)"

    /// An incident's row and its findings' lines, read inside the transaction (GRDB's rows cannot leave it).
    private struct StoredIncident: Sendable {
        var id: String?
        var json: String?
        var findings: [String?]
    }

    private static func fetch(_ db: Database, sql: String, arguments: StatementArguments) throws -> [StoredIncident] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            let id = row[0] as String?
            let findings = try Row.fetchAll(
                db, sql: "SELECT CAST(json AS TEXT) FROM incident_findings WHERE incident_id = ?", arguments: [id]
            ).map { $0[0] as String? }
            return StoredIncident(id: id, json: row[1], findings: findings)
        }
    }

    /// The record a stored row holds, its findings in the order the incident lists them.
    private func decode(_ stored: StoredIncident) throws(SQLiteStoreError) -> IncidentRecord {
        let id = stored.id ?? "(no id)"
        guard let json = stored.json, var record = IncidentRecord(line: json), record.id == stored.id else {
            throw invalidRow(id, "its stored line is not an incident line of the alert stream")
        }
        var findings: [FindingRecord] = []
        for line in stored.findings {
            guard let line, let finding = FindingRecord(line: line) else {
                throw invalidRow(id, "one of its stored findings is not a finding line of the alert stream")
            }
            findings.append(finding)
        }
        let byID = Dictionary(findings.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        record.findings = record.findingIDs.compactMap { byID[$0] }
        return record
    }

    private func invalidRow(_ id: String, _ problem: String) -> SQLiteStoreError {
        SQLiteStoreError(
            code: .invalidRow, path: database.path,
            message: "SQLite store: incident \(id) in \(database.path) cannot be read: \(problem) (the file is "
                + "damaged, or another program wrote it); delete the row (sqlite3 \(database.path) \"DELETE FROM "
                + "incidents WHERE id = '\(id)'\"), or move the database aside and Vigil will create a new one")
    }

}

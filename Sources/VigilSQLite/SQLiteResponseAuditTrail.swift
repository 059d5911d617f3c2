import GRDB
import VigilCore

/// The response audit trail in Vigil's SQLite database: one row per record, kept across restarts.
///
/// The table is `response_audit(seq, alert_id, time, kind, outcome, pid, start_time, workload, container,
/// reason, detail)`; `seq` keeps the order of appends, `time` is in nanoseconds since the epoch, and
/// `start_time` holds the process's start time (an unsigned value) bit for bit in SQLite's signed integer.
/// `workload` and `container` are the raw values of symbols of the run that wrote the row, meaningful only
/// within that run; the `detail` text names the process, its executable and its workload in words.
///
/// Queries run on GRDB's own dispatch queues, never blocking a thread of Swift's cooperative pool.
public struct SQLiteResponseAuditTrail: ResponseAuditTrail {
    /// The database the trail lives in.
    public let database: VigilDatabase

    /// A trail in an open database, sharing it with the database's other stores.
    public init(database: VigilDatabase) {
        self.database = database
    }

    /// Opens (or creates) the database at `path`, with its parent directory.
    ///
    /// - Throws: ``SQLiteStoreError`` when the directory or the database cannot be made or opened.
    public init(path: String) throws(SQLiteStoreError) {
        self.init(database: try VigilDatabase(path: path))
    }

    /// Appends `record` for the alert `alertID`.
    ///
    /// - Throws: ``SQLiteStoreError/Code/queryFailed`` when SQLite fails (a full disk, a read-only file).
    public func record(_ record: ResponseRecord, alertID: String) async throws {
        let action = record.action
        let arguments: StatementArguments = [
            alertID, record.time, action.kind.rawValue, record.outcome.rawValue, Int64(action.target.process.pid),
            Int64(bitPattern: action.target.process.startTime), Int64(action.target.workload.rawValue),
            Int64(action.target.container.rawValue), action.reason, record.detail,
        ]
        try await database.query("recording a response to \(alertID)", write: true) { db in
            try db.execute(
                sql: """
                    INSERT INTO response_audit
                        (alert_id, time, kind, outcome, pid, start_time, workload, container, reason, detail)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: arguments)
        }
    }

    /// The records for the alert `id`, in the order they were appended.
    ///
    /// - Throws: ``SQLiteStoreError/Code/invalidRow`` for a row whose action or outcome this version does not
    ///   know, ``SQLiteStoreError/Code/queryFailed`` when SQLite fails.
    public func records(forAlert id: String) async throws -> [ResponseRecord] {
        let rows = try await database.query("reading the responses to \(id)") { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.columns) FROM response_audit WHERE alert_id = ? ORDER BY seq",
                arguments: [id]
            ).map(StoredRow.init)
        }
        return try rows.map { try decode($0).record }
    }

    /// The last `limit` entries, oldest first.
    ///
    /// - Throws: ``SQLiteStoreError/Code/invalidRow`` for a row whose action or outcome this version does not
    ///   know, ``SQLiteStoreError/Code/queryFailed`` when SQLite fails.
    public func latest(_ limit: Int) async throws -> [ResponseAuditEntry] {
        let rows = try await database.query("reading the last \(limit) responses") { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.columns) FROM response_audit ORDER BY seq DESC LIMIT ?",
                arguments: [max(0, limit)]
            ).map(StoredRow.init)
        }
        return try rows.reversed().map(decode)
    }

    private static let columns = "alert_id, time, kind, outcome, pid, start_time, workload, container, reason, detail"

    /// A row selected with ``columns``, read inside the transaction (GRDB's rows cannot leave it).
    private struct StoredRow: Sendable {
        var alertID: String
        var time: Int64
        var kind: String
        var outcome: String
        var pid: Int64
        var startTime: Int64
        var workload: Int64
        var container: Int64
        var reason: String
        var detail: String

        init(_ row: Row) {
            (alertID, time, kind, outcome, pid) = (row[0], row[1], row[2], row[3], row[4])
            (startTime, workload, container, reason, detail) = (row[5], row[6], row[7], row[8], row[9])
        }
    }

    /// The entry a stored row holds.
    private func decode(_ row: StoredRow) throws(SQLiteStoreError) -> ResponseAuditEntry {
        guard let kind = ResponseActionKind(rawValue: row.kind), let outcome = ResponseOutcome(rawValue: row.outcome)
        else {
            throw SQLiteStoreError(
                code: .invalidRow, path: database.path,
                message: "SQLite store: a response to \(row.alertID) in \(database.path) has action '\(row.kind)' and "
                    + "outcome '\(row.outcome)', which this version does not know (written by a newer Vigil?); "
                    + "upgrade Vigil to read the trail")
        }
        let target = ResponseTarget(
            process: ProcessKey(
                pid: Int32(truncatingIfNeeded: row.pid), startTime: UInt64(bitPattern: row.startTime)),
            workload: WorkloadID(rawValue: UInt32(truncatingIfNeeded: row.workload)),
            container: Symbol(rawValue: UInt32(truncatingIfNeeded: row.container)))
        let record = ResponseRecord(
            action: ResponseAction(kind: kind, target: target, reason: row.reason), outcome: outcome,
            detail: row.detail, time: row.time)
        return ResponseAuditEntry(alertID: row.alertID, record: record)
    }
}

import Testing
import VigilCore
import VigilSQLite

@Suite("Response audit trail in SQLite")
struct ResponseAuditTrailTests {
    private func record(
        _ kind: ResponseActionKind, _ outcome: ResponseOutcome, pid: Int32, reason: String, time: Int64
    ) -> ResponseRecord {
        let target = ResponseTarget(
            process: ProcessKey(pid: pid, startTime: UInt64.max - 7), workload: WorkloadID(rawValue: 3),
            container: Symbol(rawValue: 9))
        return ResponseRecord(
            action: ResponseAction(kind: kind, target: target, reason: reason), outcome: outcome,
            detail: "\(kind) on \(pid): détail ✓", time: time)
    }

    @Test("records survive closing and reopening the database, whole and in order")
    func survivesReopen() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/db/vigil.sqlite"
            let pause = record(.pause, .done, pid: 41, reason: "f-1", time: 1_795_910_400_123_456_789)
            let kill = record(.kill, .refused, pid: 42, reason: "f-2", time: 1_795_910_401_000_000_000)
            let resume = record(.resume, .done, pid: 41, reason: "f-1", time: 1_795_910_402_000_000_000)
            let seccomp = record(.enforceSeccomp, .failed, pid: 43, reason: "i-3", time: 3)
            let dry = record(.quarantine, .dryRun, pid: 44, reason: "i-4", time: 4)
            do {
                let trail = try SQLiteResponseAuditTrail(path: path)
                for (entry, alert) in [(pause, "f-1"), (kill, "f-2"), (resume, "f-1"), (seccomp, "i-3"), (dry, "i-4")] {
                    try await trail.record(entry, alertID: alert)
                }
            }
            let reopened = try SQLiteResponseAuditTrail(path: path)
            #expect(try await reopened.records(forAlert: "f-1") == [pause, resume])
            #expect(try await reopened.records(forAlert: "f-2") == [kill])
            #expect(try await reopened.records(forAlert: "nope").isEmpty)
            #expect(
                try await reopened.latest(3)
                    == [
                        ResponseAuditEntry(alertID: "f-1", record: resume),
                        ResponseAuditEntry(alertID: "i-3", record: seccomp),
                        ResponseAuditEntry(alertID: "i-4", record: dry),
                    ])
            #expect(try await reopened.latest(100).count == 5)
        }
    }

    @Test("the trail shares its database with the profile store")
    func sharesDatabase() async throws {
        try await withTemporaryDirectory { directory in
            let database = try VigilDatabase(path: directory + "/vigil.sqlite")
            let profiles = SQLiteProfileStore(database: database)
            let trail = SQLiteResponseAuditTrail(database: database)
            try await profiles.save([workload("web")])
            try await trail.record(record(.kill, .done, pid: 1, reason: "f-9", time: 9), alertID: "f-9")
            #expect(try await profiles.keys().map(\.name) == ["web"])
            #expect(try await trail.records(forAlert: "f-9").count == 1)
        }
    }
}

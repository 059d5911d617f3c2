import Foundation
import GRDB
import Testing
import VigilCore
import VigilSQLite

/// A `finding` line of the alert stream.
func findingLine(_ id: String, time: Int64, rule: String = "profile.unexpected-process") -> String {
    """
    {"type":"finding","id":"\(id)","time":"\(RFC3339.format(nanoseconds: time))","severity":"medium",\
    "rule":{"id":"\(rule)","name":"Unexpected process"},"mitre":{"tactic":"execution","technique":"T1059"},\
    "layer":"workload","kind":"process.exec","workload":{"name":"shop/Deployment/web/web"},\
    "process":{"pid":3001,"exe":"/bin/sh","args":["sh","-c","id"]},"explanation":"web executed /bin/sh ✓"}
    """
}

/// An incident record with one step per finding, at the given times, and the records of those findings.
func incidentRecord(
    _ id: String, findings: [(id: String, time: Int64)], severity: String = "high", title: String? = nil,
    withRecords: Bool = true
) -> IncidentRecord {
    let steps = findings.map { finding in
        """
        {"time":"\(RFC3339.format(nanoseconds: finding.time))","layer":"workload","tactic":"execution",\
        "technique":"T1059","summary":"step \(finding.id)","finding_ids":["\(finding.id)"]}
        """
    }
    let ids = findings.map { "\"\($0.id)\"" }.joined(separator: ",")
    let line = """
        {"type":"incident","id":"\(id)","severity":"\(severity)","title":"\(title ?? "story \(id)")",\
        "root_cause":"\(findings.first?.id ?? "")","layers":["workload"],"steps":[\(steps.joined(separator: ","))],\
        "entities":[{"kind":"container","id":"3f2a9c1d5e7b"}],"findings":[\(ids)],"narrative":"It happened.",\
        "response":[]}
        """
    let records = withRecords ? findings.compactMap { FindingRecord(line: findingLine($0.id, time: $0.time)) } : []
    return IncidentRecord(line: line, findings: records)!
}

/// The incident stores every conformance test runs against.
enum IncidentStoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory
    case sqlite

    /// Opens the store kept in `directory` (a fresh, empty store for `memory`).
    func open(in directory: String, maximumIncidents: Int = 10_000) throws -> any IncidentStore {
        switch self {
        case .memory: MemoryIncidentStore(maximumIncidents: maximumIncidents)
        case .sqlite: try SQLiteIncidentStore(path: directory + "/db/vigil.sqlite", maximumIncidents: maximumIncidents)
        }
    }

    var testDescription: String { rawValue }
}

private let t0: Int64 = 1_795_910_400_000_000_000
private let second: Int64 = 1_000_000_000

@Suite("Incident stores")
struct IncidentStoreConformanceTests {
    @Test(
        "the latest report replaces the earlier one, with the records of its findings",
        arguments: IncidentStoreKind.allCases)
    func upsert(kind: IncidentStoreKind) async throws {
        try await withTemporaryDirectory { directory in
            let store = try kind.open(in: directory)
            let opened = incidentRecord("i-1", findings: [("f-1", t0)], severity: "medium")
            let grown = incidentRecord("i-1", findings: [("f-1", t0), ("f-2", t0 + second)], severity: "high")
            try await store.save(opened)
            #expect(try await store.incident(id: "i-1") == opened)
            try await store.save(grown)
            let loaded = try #require(try await store.incident(id: "i-1"))
            #expect(loaded == grown)
            #expect(loaded.findings.map(\.id) == ["f-1", "f-2"])
            #expect(loaded.findings.last?.explanation == "web executed /bin/sh ✓")
            #expect(try await store.incidents(since: nil, limit: 10).count == 1)
            #expect(try await store.incident(id: "i-nope") == nil)
        }
    }

    @Test("lists the most recently active first, with since and limit", arguments: IncidentStoreKind.allCases)
    func listing(kind: IncidentStoreKind) async throws {
        try await withTemporaryDirectory { directory in
            let store = try kind.open(in: directory)
            // i-old started first but is still active; i-mid is done.
            try await store.save(incidentRecord("i-old", findings: [("f-1", t0), ("f-2", t0 + 50 * second)]))
            try await store.save(incidentRecord("i-mid", findings: [("f-3", t0 + 10 * second)]))
            try await store.save(incidentRecord("i-new", findings: [("f-4", t0 + 20 * second)]))
            let all = try await store.incidents(since: nil, limit: 10).map(\.id)
            #expect(all == ["i-old", "i-new", "i-mid"])
            #expect(try await store.incidents(since: nil, limit: 2).map(\.id) == ["i-old", "i-new"])
            #expect(try await store.incidents(since: t0 + 20 * second, limit: 10).map(\.id) == ["i-old", "i-new"])
            #expect(try await store.incidents(since: t0 + 51 * second, limit: 10).isEmpty)
            #expect(try await store.incidents(since: nil, limit: 0).isEmpty)
            #expect(try await store.incidents(since: nil, limit: 10).first?.findings.count == 2)
        }
    }

    @Test("beyond the bound, the least recently active incidents go", arguments: IncidentStoreKind.allCases)
    func retention(kind: IncidentStoreKind) async throws {
        try await withTemporaryDirectory { directory in
            let store = try kind.open(in: directory, maximumIncidents: 3)
            for number in [3, 1, 5, 2, 4] {
                try await store.save(
                    incidentRecord("i-\(number)", findings: [("f-\(number)", t0 + Int64(number) * second)]))
            }
            #expect(try await store.incidents(since: nil, limit: 10).map(\.id) == ["i-5", "i-4", "i-3"])
            #expect(try await store.incident(id: "i-1") == nil)
            // A report that grows an incident makes it the most recently active again.
            try await store.save(
                incidentRecord("i-3", findings: [("f-3", t0 + 3 * second), ("f-9", t0 + 9 * second)]))
            try await store.save(incidentRecord("i-6", findings: [("f-6", t0 + 6 * second)]))
            #expect(try await store.incidents(since: nil, limit: 10).map(\.id) == ["i-3", "i-6", "i-5"])
        }
    }

    @Test("an incident whose findings all moved into another is removed", arguments: IncidentStoreKind.allCases)
    func merged(kind: IncidentStoreKind) async throws {
        try await withTemporaryDirectory { directory in
            let store = try kind.open(in: directory)
            try await store.save(incidentRecord("i-1", findings: [("f-1", t0)]))
            try await store.save(incidentRecord("i-2", findings: [("f-2", t0 + second), ("f-3", t0 + 2 * second)]))
            try await store.save(incidentRecord("i-3", findings: [("f-4", t0 + 3 * second)]))
            // The correlator linked them: i-1, the oldest, absorbed i-2's steps.
            try await store.save(
                incidentRecord("i-1", findings: [("f-1", t0), ("f-2", t0 + second), ("f-3", t0 + 2 * second)]))
            #expect(try await store.incident(id: "i-2") == nil)
            #expect(try await store.incidents(since: nil, limit: 10).map(\.id) == ["i-3", "i-1"])
            #expect(try await store.incident(id: "i-1")?.findings.map(\.id) == ["f-1", "f-2", "f-3"])
        }
    }

    @Test(
        "a report that lists a finding without its record keeps the record saved before",
        arguments: IncidentStoreKind.allCases)
    func keepsKnownFindings(kind: IncidentStoreKind) async throws {
        try await withTemporaryDirectory { directory in
            let store = try kind.open(in: directory)
            let full = incidentRecord("i-1", findings: [("f-1", t0), ("f-2", t0 + second)])
            try await store.save(full)
            // Read back from the alert stream alone: the line lists the ids, without the finding lines.
            try await store.save(
                incidentRecord("i-1", findings: [("f-1", t0), ("f-2", t0 + second)], withRecords: false))
            #expect(try await store.incident(id: "i-1") == full)
            // A later report that no longer lists f-2 drops it.
            let shorter = incidentRecord("i-1", findings: [("f-1", t0)])
            try await store.save(shorter)
            #expect(try await store.incident(id: "i-1") == shorter)
        }
    }
}

@Suite("Incident store in SQLite")
struct SQLiteIncidentStoreTests {
    @Test("incidents survive closing and reopening the database, whole")
    func survivesReopen() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/db/vigil.sqlite"
            let first = incidentRecord("i-1", findings: [("f-1", t0 + 5 * second)], severity: "medium")
            let grown = incidentRecord("i-1", findings: [("f-0", t0), ("f-1", t0 + 5 * second)], severity: "critical")
            let other = incidentRecord("i-2", findings: [("f-2", t0 + 7 * second)], title: "quote \\\" and ✓")
            do {
                let store = try SQLiteIncidentStore(path: path)
                try await store.save(first)
                try await store.save(other)
                try await store.save(grown)
            }
            let reopened = try SQLiteIncidentStore(path: path)
            #expect(try await reopened.incident(id: "i-1") == grown)
            #expect(try await reopened.incident(id: "i-2") == other)
            #expect(try await reopened.incident(id: "i-2")?.title == "quote \" and ✓")
            #expect(try await reopened.incidents(since: nil, limit: 10).map(\.id) == ["i-2", "i-1"])

            // The columns beside the line, for queries and for people reading the file.
            let db = try DatabaseQueue(path: path)
            let row = try #require(
                try await db.read { db in
                    try Row.fetchOne(
                        db,
                        sql: """
                            SELECT severity, title, first_time, last_time, layers, root_cause, step_count,
                                finding_count FROM incidents WHERE id = 'i-1'
                            """)
                })
            #expect(row[0] as String == "critical")
            #expect(row[1] as String == "story i-1")
            #expect(row[2] as Int64 == t0)
            #expect(row[3] as Int64 == t0 + 5 * second)
            #expect(row[4] as String == "workload")
            #expect(row[5] as String == "f-0")
            #expect(row[6] as Int == 2)
            #expect(row[7] as Int == 2)
            let findings = try await db.read { db in
                try Row.fetchAll(db, sql: "SELECT id, incident_id FROM incident_findings ORDER BY id").map {
                    "\($0[0] as String)>\($0[1] as String)"
                }
            }
            #expect(findings == ["f-0>i-1", "f-1>i-1", "f-2>i-2"])
        }
    }

    @Test("the first step time of any report is kept")
    func keepsFirstTime() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/vigil.sqlite"
            let store = try SQLiteIncidentStore(path: path)
            try await store.save(incidentRecord("i-1", findings: [("f-1", t0), ("f-2", t0 + second)]))
            // A report whose earliest step was cut (steps are bounded) keeps the start the store saw.
            try await store.save(incidentRecord("i-1", findings: [("f-2", t0 + second), ("f-3", t0 + 2 * second)]))
            let db = try DatabaseQueue(path: path)
            let times = try await db.read { db in
                try Row.fetchOne(db, sql: "SELECT first_time, last_time FROM incidents").map {
                    [$0[0] as Int64, $0[1] as Int64]
                }
            }
            #expect(times == [t0, t0 + 2 * second])
        }
    }

    @Test("retention removes the findings of the incidents it removes")
    func retentionRemovesFindings() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/vigil.sqlite"
            let store = try SQLiteIncidentStore(path: path, maximumIncidents: 2)
            for number in 1...4 {
                try await store.save(
                    incidentRecord(
                        "i-\(number)",
                        findings: [
                            ("f-\(number)a", t0 + Int64(number) * second),
                            ("f-\(number)b", t0 + Int64(number) * second + 1),
                        ]))
            }
            let db = try DatabaseQueue(path: path)
            let counts = try await db.read { db in
                [
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM incidents"),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM incident_findings"),
                ]
            }
            #expect(counts == [2, 4])
        }
    }

    @Test("the store shares its database with the profile store and the audit trail")
    func sharesDatabase() async throws {
        try await withTemporaryDirectory { directory in
            let database = try VigilDatabase(path: directory + "/vigil.sqlite")
            let profiles = SQLiteProfileStore(database: database)
            let incidents = SQLiteIncidentStore(database: database)
            try await profiles.save([workload("web")])
            try await incidents.save(incidentRecord("i-1", findings: [("f-1", t0)]))
            #expect(try await profiles.keys().map(\.name) == ["web"])
            #expect(try await incidents.incident(id: "i-1") != nil)
        }
    }

    @Test(
        "a damaged row is an invalid-row error naming the incident, never a crash",
        arguments: [
            "UPDATE incidents SET json = 'not json'",
            "UPDATE incidents SET json = x'00ff7b'",
            "UPDATE incidents SET json = 42",
            "UPDATE incidents SET json = '{\"type\":\"finding\",\"id\":\"i-1\"}'",
            "UPDATE incidents SET json = replace(json, '\"id\":\"i-1\"', '\"id\":\"i-2\"')",
            "UPDATE incident_findings SET json = '{\"type\":\"incident\"}'",
            "UPDATE incident_findings SET json = x''",
        ])
    func corruptRow(damage: String) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/vigil.sqlite"
            try await SQLiteIncidentStore(path: path).save(incidentRecord("i-1", findings: [("f-1", t0)]))
            let db = try DatabaseQueue(path: path)
            try await db.write { db in try db.execute(sql: damage) }
            let store = try SQLiteIncidentStore(path: path)
            let reads: [@Sendable () async throws -> Void] = [
                { _ = try await store.incident(id: "i-1") }, { _ = try await store.incidents(since: nil, limit: 5) },
            ]
            for read in reads {
                do {
                    try await read()
                    Issue.record("a damaged row was read without an error (\(damage))")
                } catch let error as SQLiteStoreError {
                    #expect(error.code == .invalidRow, "\(error)")
                    #expect(error.message.contains("incident i-1"), "\(error)")
                    #expect(error.message.contains(path), "\(error)")
                }
            }
        }
    }
}

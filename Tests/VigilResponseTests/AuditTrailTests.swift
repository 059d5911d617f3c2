import Testing
import VigilCore
import VigilResponse

@Suite("Response audit trail in memory")
struct MemoryAuditTrailTests {
    private func record(_ kind: ResponseActionKind, _ pid: Int32, reason: String) -> ResponseRecord {
        ResponseRecord(
            action: ResponseAction(
                kind: kind, target: ResponseTarget(process: ProcessKey(pid: pid, startTime: 5)), reason: reason),
            outcome: .done, detail: "\(kind) \(pid)", time: Int64(pid))
    }

    @Test("records come back per alert and in order; latest gives the newest, oldest first")
    func perAlert() async throws {
        let trail: any ResponseAuditTrail = MemoryResponseAuditTrail()
        try await trail.record(record(.pause, 1, reason: "f-a"), alertID: "f-a")
        try await trail.record(record(.kill, 2, reason: "f-b"), alertID: "f-b")
        try await trail.record(record(.resume, 1, reason: "f-a"), alertID: "f-a")
        #expect(try await trail.records(forAlert: "f-a").map(\.action.kind) == [.pause, .resume])
        #expect(try await trail.records(forAlert: "f-none").isEmpty)
        #expect(try await trail.latest(2).map(\.alertID) == ["f-b", "f-a"])
        #expect(try await trail.latest(0).isEmpty)
    }

    @Test("a full trail drops its oldest entries")
    func bounded() async throws {
        let trail: any ResponseAuditTrail = MemoryResponseAuditTrail(capacity: 3)
        for pid in Int32(1)...5 { try await trail.record(record(.kill, pid, reason: "f-\(pid)"), alertID: "f-\(pid)") }
        #expect(try await trail.latest(10).map(\.alertID) == ["f-3", "f-4", "f-5"])
    }
}

import Foundation
import Testing
import VigilCore
import VigilTestKit

@Suite("Test kit")
struct TestKitTests {
    @Test("the in-memory sensor reads a JSON Lines file and replays it through an engine")
    func sensorFromFile() async throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let events = (0..<10).map { builder.open(pid: Int32($0), path: "/srv/\($0)") }
        var encoder = EventEncoder(symbols: symbols)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("testkit-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try (events.map { encoder.line(for: $0) }.joined(separator: "\n") + "\n\n").write(
            to: url, atomically: true, encoding: .utf8)

        let readSymbols = SymbolTable()
        let sensor = try InMemorySensor(contentsOf: url, symbols: readSymbols, batchSize: 3)
        #expect(sensor.events.count == 10)
        let output = CollectingOutput()
        let engine = Engine(
            configuration: EngineConfiguration(shards: 1), symbols: readSymbols, sensors: [sensor],
            detectors: { _ in EveryEventDetector() }, outputs: [output])
        try await engine.run()
        #expect(output.findings.count == 10)
        #expect(output.findings.map(\.event.process.pid) == (0..<10).map(Int32.init))
        #expect(output.isFinished)
    }

    @Test("a malformed line in an event file is reported with its line number")
    func malformedFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("testkit-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try "{\"time\":\"2026-01-01T00:00:00Z\",\"kind\":\"bpf\",\"fields\":{\"command\":5}}\n{oops\n"
            .write(to: url, atomically: true, encoding: .utf8)
        #expect {
            _ = try InMemorySensor(contentsOf: url, symbols: SymbolTable())
        } throws: { error in
            guard let error = error as? InMemorySensorError else { return false }
            return error.line == 2 && error.error.code == .invalidJSON
        }
    }

    @Test("the in-memory profile store saves, replaces, lists and removes")
    func profileStore() async throws {
        let store: any ProfileStore = InMemoryProfileStore()
        let web = ProfileKey(subject: .workload, name: "shop/Deployment/web/web")
        let role = ProfileKey(subject: .principal, name: "arn:aws:iam::1:role/app")
        try await store.save([
            StoredProfile(key: web, state: .learning, updatedAt: 1, body: [1]),
            StoredProfile(key: role, state: .completed, updatedAt: 2, body: [2]),
        ])
        try await store.save([StoredProfile(key: web, state: .completed, updatedAt: 3, body: [3])])
        #expect(try await store.load(web)?.body == [3])
        #expect(try await store.load(web)?.state == .completed)
        #expect(try await store.keys() == [role, web])
        try await store.remove(role)
        try await store.remove(role)
        #expect(try await store.keys() == [web])
        #expect(try await store.load(role) == nil)
    }

    @Test("the recording responder records every alert and answers with a report")
    func recordingResponder() async {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let finding = Finding(
            severity: .low, rule: RuleReference(id: "r", name: "R"),
            mitre: MITREMapping(tactic: .discovery, technique: "T1082"),
            event: builder.exec(pid: 4, executable: "/bin/uname"),
            explanation: "uname")
        let responder = RecordingResponder(outcome: .dryRun)
        let records = await responder.respond(to: .finding(finding))
        #expect(records.count == 1)
        #expect(records.first?.action.kind == .report)
        #expect(records.first?.outcome == .dryRun)
        #expect(records.first?.action.target.process == EventBuilder.process(4))
        #expect(responder.alerts.count == 1)
    }
}

/// Raises a finding for every event.
struct EveryEventDetector: Detector {
    mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
        for event in events {
            findings.append(
                Finding(
                    severity: .info, rule: RuleReference(id: "every", name: "Every event"),
                    mitre: MITREMapping(tactic: .collection, technique: "T1005"), event: event, explanation: "seen"))
        }
    }
}

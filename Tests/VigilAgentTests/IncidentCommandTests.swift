import Foundation
import Metrics
import Synchronization
import Testing
import VigilAgent
import VigilCore
import VigilTestKit

/// The alert stream's incident lines in a file: the latest line of each incident, by id, and the ids in the
/// order they first appeared.
func latestIncidentLines(_ url: URL) throws -> (lines: [String: String], order: [String]) {
    var lines: [String: String] = [:]
    var order: [String] = []
    for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init) {
        guard let record = IncidentRecord(line: line) else { continue }
        if lines[record.id] == nil { order.append(record.id) }
        lines[record.id] = line
    }
    return (lines, order)
}

@Suite("vigil-agent incidents")
struct IncidentCommandTests {
    /// Third-party data (see ../shared/data/README.md): a Stratus Red Team detonation (DataDog/stratus-red-team,
    /// Apache-2.0) whose three CloudTrail calls make one admin backdoor user; the `arp -a` atomic as auditd
    /// records (OTRF/Security-Datasets, MIT), learned against go-libaudit's benign logs (elastic/go-libaudit,
    /// Apache-2.0); and two Kubernetes audit events from Falco's tests (falcosecurity/falco, Apache-2.0).
    @Test("replay over mixed real data keeps its incidents; list, show and report read them after it exited")
    func replayThenRead() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("state/vigil.sqlite").path
        let store = "sqlite:" + database
        let alerts = directory.appendingPathComponent("alerts.jsonl")
        let benign = ["normal.log", "out_of_order.log", "lost_messages.log", "rollover.log"].map {
            sharedData.appendingPathComponent("linux-audit/go-libaudit/testdata/\($0)").path
        }
        let cloud = sharedData.appendingPathComponent(
            "cloudtrail/stratus-red-team/detonation-logs/aws.persistence.iam-create-admin-user.json"
        ).path
        let detect = [
            cloud, sharedData.appendingPathComponent("linux-audit/otrf/sh_arp_cache_2020-11-10074812.log").path,
            sharedData.appendingPathComponent("k8s-audit/falco/k8s_audit/attach_cluster_admin_role.json").path,
            sharedData.appendingPathComponent("k8s-audit/falco/k8s_audit/attach_pod.json").path,
        ]
        let replay = try runAgent(
            ["replay", "--learn"] + benign + ["--detect"] + detect + ["--store", store, "--alerts", alerts.path])
        #expect(replay.status == 0, "stderr: \(replay.stderr)")

        // The stream: one incident per story, across three layers.
        let (lines, _) = try latestIncidentLines(alerts)
        let streamed = lines.values.compactMap { IncidentRecord(line: $0) }
        #expect(streamed.count == 4, "\(lines.keys)")
        #expect(Set(streamed.flatMap(\.layers)) == [.cloud, .workload, .cluster])
        // The admin backdoor: the user, its policy and its access key, one story of three cloud steps.
        let backdoor = try #require(streamed.first { $0.layers == [.cloud] })
        #expect(backdoor.steps.count == 3)
        #expect(backdoor.findingIDs.count == 3)
        #expect(backdoor.entities.contains(Entity(kind: "principal", id: "arn:aws:iam::229654561268:user/christophe")))
        let newestFirst = streamed.sorted { ($0.lastTime, $0.id) > ($1.lastTime, $1.id) }.map(\.id)

        // `list`, in a new process: every incident, the most recently active first.
        let list = try runAgent(["incidents", "list", "--store", store])
        #expect(list.status == 0, "stderr: \(list.stderr)")
        let listed = list.stdout.split(separator: "\n").map(String.init)
        #expect(listed.map { String($0.prefix { $0 != " " }) } == newestFirst, "\(list.stdout)")
        let backdoorLine = try #require(listed.first { $0.hasPrefix(backdoor.id) })
        #expect(backdoorLine.contains(backdoor.severity.name.uppercased()))
        #expect(backdoorLine.contains("2024-08-01T13:33:28Z"))
        #expect(backdoorLine.contains("cloud"))
        #expect(backdoorLine.contains("3 steps"))
        #expect(backdoorLine.hasSuffix(backdoor.title))

        // In JSON, the stored lines are the stream's latest lines, byte for byte.
        let json = try runAgent(["incidents", "list", "--format", "json", "--store", store])
        #expect(json.stdout.split(separator: "\n").map(String.init) == newestFirst.compactMap { lines[$0] })

        // --since and --limit.
        let since = try runAgent(["incidents", "list", "--since", "2020-01-01T00:00:00Z", "--store", store])
        #expect(since.stdout.split(separator: "\n").count == 2, "\(since.stdout)")
        let recent = try runAgent(["incidents", "list", "--since", "1h", "--store", store])
        #expect(recent.status == 0 && recent.stdout.isEmpty, "\(recent.stdout)\(recent.stderr)")
        let one = try runAgent(["incidents", "list", "--limit", "1", "--store", store])
        #expect(one.stdout.split(separator: "\n").map { String($0.prefix { $0 != " " }) } == [newestFirst[0]])

        // `show`: the whole story, with each finding's rule and explanation.
        let show = try runAgent(["incidents", "show", backdoor.id, "--store", store])
        #expect(show.status == 0, "stderr: \(show.stderr)")
        #expect(show.stdout.hasPrefix("incident \(backdoor.id)\ntitle: \(backdoor.title)\n"))
        #expect(show.stdout.contains("severity: \(backdoor.severity.name)\nlayers: cloud\n"))
        #expect(show.stdout.contains("root cause: \(backdoor.rootCause) (vigil.cloud."))
        #expect(show.stdout.contains("narrative: \(backdoor.narrative)"))
        for (number, step) in backdoor.steps.enumerated() {
            #expect(show.stdout.contains("  \(number + 1). 2024-08-01T13:33:28Z cloud \(step.technique) "))
            #expect(show.stdout.contains(step.summary))
        }
        let findings = try String(contentsOf: alerts, encoding: .utf8).split(separator: "\n")
            .compactMap { FindingRecord(line: String($0)) }.filter { backdoor.findingIDs.contains($0.id) }
        #expect(findings.count == 3)
        for finding in findings {
            #expect(show.stdout.contains("  \(finding.id) 2024-08-01T13:33:28Z "))
            #expect(show.stdout.contains(" \(finding.ruleID): \(finding.explanation)"))
        }
        #expect(show.stdout.contains("access_key AKIA"))
        #expect(show.stdout.hasSuffix("response: none\n"))
        let shown = try runAgent(["incidents", "show", backdoor.id, "--format", "json", "--store", store])
        #expect(shown.stdout == lines[backdoor.id].map { $0 + "\n" })

        // `report --html`: one page holding every incident.
        let page = directory.appendingPathComponent("report.html")
        let report = try runAgent(["incidents", "report", "--html", page.path, "--store", store])
        #expect(report.status == 0, "stderr: \(report.stderr)")
        #expect(report.stderr.contains("wrote 4 incidents to \(page.path)"))
        let html = try String(contentsOf: page, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for id in newestFirst { #expect(html.contains("data-incident-id=\"\(id)\""), "\(id) is not in the report") }
        let limited = try runAgent(["incidents", "report", "--html", "-", "--limit", "1", "--store", store])
        #expect(limited.stdout.contains("data-incident-id=\"\(newestFirst[0])\""))
        #expect(!limited.stdout.contains("data-incident-id=\"\(newestFirst[1])\""))
    }

    @Test("an unknown id, a missing database and a store that keeps no incidents are clear errors")
    func errors() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("vigil.sqlite").path
        let missing = try runAgent(["incidents", "list", "--store", "sqlite:" + database])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no Vigil database at \(database)"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: database), "reading created the database")
        let memory = try runAgent(["incidents", "show", "i-1", "--store", "memory"])
        #expect(memory.status != 0)
        #expect(memory.stderr.contains("incidents are kept only in a SQLite store"), "\(memory.stderr)")

        // A replay that finds nothing still creates the database: then the id is what is unknown.
        let events = directory.appendingPathComponent("events.jsonl")
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        try writeEvents([b.open(pid: 1, path: "/etc/hosts")], symbols: symbols, to: events)
        let replay = try runAgent(["replay", "--detect", events.path, "--store", "sqlite:" + database])
        #expect(replay.status == 0, "stderr: \(replay.stderr)")
        let unknown = try runAgent(["incidents", "show", "i-00000000deadbeef", "--store", "sqlite:" + database])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no incident with id 'i-00000000deadbeef'"), "\(unknown.stderr)")
        let empty = try runAgent(["incidents", "list", "--store", "sqlite:" + database])
        #expect(empty.status == 0 && empty.stdout.isEmpty)
        let badSince = try runAgent(["incidents", "list", "--since", "yesterday", "--store", "sqlite:" + database])
        #expect(badSince.status != 0)
        #expect(badSince.stderr.contains("--since takes an RFC 3339 time"))
    }

    @Test("replay --no-correlate writes and keeps no incident")
    func noCorrelate() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = "sqlite:" + directory.appendingPathComponent("vigil.sqlite").path
        let cloud = sharedData.appendingPathComponent(
            "cloudtrail/stratus-red-team/detonation-logs/aws.persistence.iam-create-admin-user.json"
        ).path
        let replay = try runAgent(["replay", "--detect", cloud, "--no-correlate", "--store", store])
        #expect(replay.status == 0, "stderr: \(replay.stderr)")
        #expect(replay.stderr.contains("3 findings, 0 incidents"), "\(replay.stderr)")
        #expect(!replay.stdout.contains("\"type\":\"incident\""))
        let list = try runAgent(["incidents", "list", "--store", store])
        #expect(list.status == 0 && list.stdout.isEmpty, "\(list.stdout)")
    }

    @Test("run keeps the incidents it reports: they survive its shutdown")
    func liveRun() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("audit.log")
        try (kubernetesAuditLine(user: "alice", verb: "get", resource: "pods", second: 1) + "\n")
            .write(to: log, atomically: true, encoding: .utf8)
        let store = "sqlite:" + directory.appendingPathComponent("vigil.sqlite").path
        let alerts = directory.appendingPathComponent("alerts.jsonl")
        let agent = try BackgroundAgent(
            [
                "run", "--no-ebpf", "--k8s-audit", log.path, "--learn-for", "0s", "--store", store, "--alerts",
                alerts.path, "--log-level", "warning",
            ], in: directory)
        defer { if agent.process.isRunning { kill(agent.process.processIdentifier, SIGKILL) } }

        // Let it learn alice's first request, then append an exec into a pod: a story on alice.
        try await Task.sleep(for: .seconds(1))
        let handle = try FileHandle(forWritingTo: log)
        try handle.seekToEnd()
        try handle.write(
            contentsOf: Data(
                (kubernetesAuditLine(
                    user: "alice", verb: "create", resource: "pods", subresource: "exec", second: 2) + "\n").utf8))
        try handle.close()
        var incidents: [String: String] = [:]
        for _ in 0..<100 where incidents.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            incidents = (try? latestIncidentLines(alerts).lines) ?? [:]
        }
        #expect(try await agent.stop() == 0, "stderr: \(agent.stderr)")

        let (lines, order) = try latestIncidentLines(alerts)
        let id = try #require(order.first, "run reported no incident")
        let shown = try runAgent(["incidents", "show", id, "--format", "json", "--store", store])
        #expect(shown.status == 0, "stderr: \(shown.stderr)")
        #expect(shown.stdout == lines[id].map { $0 + "\n" })
        let list = try runAgent(["incidents", "list", "--store", store])
        #expect(list.stdout.hasPrefix(id), "\(list.stdout)")
        #expect(list.stdout.contains("cluster"), "\(list.stdout)")
    }

    @Test("the incident output saves the latest report and counts reports by severity and their steps")
    func outputAndMetrics() async throws {
        let metrics = RecordingMetrics()
        let store = MemoryIncidentStore()
        let output = IncidentStoreOutput(store: store, symbols: SymbolTable())
        let step = { (second: Int64) in
            IncidentStep(
                time: 1_795_910_400_000_000_000 + second * 1_000_000_000, layer: .cloud,
                mitre: MITREMapping(tactic: .persistence, technique: "T1136.003"), summary: "step \(second)",
                findingIDs: [])
        }
        let opened = Incident(
            id: "i-1", severity: .medium, title: "opened", rootCause: "", steps: [step(1)], entities: [], findings: [])
        var grown = opened
        grown.severity = .high
        grown.title = "grown"
        grown.steps.append(step(2))
        try await withMetricsFactory(metrics) {
            try await output.write(.incident(opened))
            try await output.write(.incident(grown))
            try await output.finish()
        }
        #expect(try await store.incident(id: "i-1")?.title == "grown")
        #expect(try await store.incident(id: "i-1")?.steps.count == 2)
        #expect(metrics.counter("vigil_incidents_reported_total", severity: "medium") == 1)
        #expect(metrics.counter("vigil_incidents_reported_total", severity: "high") == 1)
        #expect(metrics.recorded("vigil_incident_steps") == [1, 2])
    }
}

/// Keeps the counters' totals and the recorders' values, for the metrics tests.
final class RecordingMetrics: MetricsFactory, Sendable {
    private let counters = Mutex<[String: Int64]>([:])
    private let recorders = Mutex<[String: [Int64]]>([:])

    func counter(_ label: String, severity: String) -> Int64? {
        counters.withLock { $0[label + "{severity=\(severity)}"] }
    }

    func recorded(_ label: String) -> [Int64] { recorders.withLock { $0[label] ?? [] } }

    private static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        dimensions.isEmpty ? label : label + "{" + dimensions.map { "\($0)=\($1)" }.joined(separator: ",") + "}"
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Handler(metrics: self, key: Self.key(label, dimensions))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handler(metrics: self, key: Self.key(label, dimensions))
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Handler(metrics: self, key: Self.key(label, dimensions))
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    private final class Handler: CounterHandler, RecorderHandler, TimerHandler, Sendable {
        let metrics: RecordingMetrics
        let key: String

        init(metrics: RecordingMetrics, key: String) {
            self.metrics = metrics
            self.key = key
        }

        func increment(by amount: Int64) { metrics.counters.withLock { $0[key, default: 0] += amount } }
        func reset() { metrics.counters.withLock { $0[key] = 0 } }
        func record(_ value: Int64) { metrics.recorders.withLock { $0[key, default: []].append(value) } }
        func record(_ value: Double) { record(Int64(value)) }
        func recordNanoseconds(_ duration: Int64) {}
    }
}

import Foundation
import Testing
import VigilCore

/// A Kubernetes audit event (audit.k8s.io/v1) as one JSON line.
func kubernetesAuditLine(
    user: String, verb: String, resource: String, subresource: String? = nil, second: Int
) -> String {
    let sub = subresource.map { ",\"subresource\":\"\($0)\"" } ?? ""
    return """
        {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-\(second)","stage":"ResponseComplete",\
        "requestURI":"/api/v1/namespaces/default/\(resource)","verb":"\(verb)","user":{"username":"\(user)","groups":["dev"]},\
        "sourceIPs":["10.0.0.9"],"userAgent":"kubectl/v1.30.0",\
        "objectRef":{"resource":"\(resource)","namespace":"default","name":"web-1"\(sub)},\
        "responseStatus":{"code":200},"requestReceivedTimestamp":"2026-11-29T10:00:\(String(format: "%02d", second)).000000Z",\
        "stageTimestamp":"2026-11-29T10:00:\(String(format: "%02d", second)).100000Z"}
        """
}

@Suite("vigil-agent run")
struct LiveRunTests {
    @Test("follows a Kubernetes audit log live: learns, reports a new request, saves profiles on SIGTERM")
    func followKubernetesAudit() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("audit.log")
        try (kubernetesAuditLine(user: "alice", verb: "get", resource: "pods", second: 1) + "\n")
            .write(to: log, atomically: true, encoding: .utf8)
        let store = "sqlite:" + directory.appendingPathComponent("vigil.sqlite").path
        let alerts = directory.appendingPathComponent("alerts.jsonl")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("vigil-agent")
        process.arguments = [
            "run", "--k8s-audit", log.path, "--learn-for", "0s", "--store", store, "--alerts", alerts.path,
            "--log-level", "warning",
        ]
        let errors = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // Let it learn alice's first request, then append one she never made.
        try await Task.sleep(for: .seconds(1))
        let handle = try FileHandle(forWritingTo: log)
        try handle.seekToEnd()
        try handle.write(
            contentsOf: Data(
                (kubernetesAuditLine(
                    user: "alice", verb: "create", resource: "pods", subresource: "exec", second: 2) + "\n").utf8))
        try handle.close()

        var lines: [Substring] = []
        for _ in 0..<100 where lines.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            lines = ((try? String(contentsOf: alerts, encoding: .utf8)) ?? "").split(separator: "\n")
        }
        process.interrupt()  // SIGINT: graceful shutdown
        for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning, "the agent did not stop on SIGINT")
        #expect(process.terminationStatus == 0, "stderr: \((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")
        // Nothing more may appear at shutdown: the alert was written when it was raised.
        #expect(((try? String(contentsOf: alerts, encoding: .utf8)) ?? "").split(separator: "\n") == lines)

        #expect(lines.count == 1)
        let finding = try #require(try JSONParser.parse(String(lines.first ?? "")).object)
        #expect(finding["rule"]?["id"]?.string == "profile.unexpected-k8s-request")
        #expect(finding["mitre"]?["technique"]?.string == "T1609")
        #expect(finding["principal"]?.string == "alice")

        let list = try runAgent(["profiles", "list", "--store", store])
        #expect(list.stdout.contains("principal alice"), "profiles: \(list.stdout)")
    }

    @Test("run without a sensor says so; an unknown --learn-for is refused")
    func noSensor() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = "sqlite:" + directory.appendingPathComponent("v.sqlite").path
        let bare = try runAgent(["run", "--store", store])
        #expect(bare.status == 0)
        #expect(bare.stderr.contains("no live sensor is configured"))
        let bad = try runAgent(["run", "--k8s-audit", "/dev/null", "--learn-for", "soon", "--store", store])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--learn-for takes a number and a unit"))
    }
}

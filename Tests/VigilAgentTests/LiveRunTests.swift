import Foundation
import Testing
import VigilCore
import VigilTestKit

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
            "run", "--no-ebpf", "--k8s-audit", log.path, "--learn-for", "0s", "--store", store, "--alerts", alerts.path,
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

        // Two findings: the profile's (a request alice never made) and the built-in pack's (exec into a pod).
        var findings: [JSONObject] = []
        for _ in 0..<100 where findings.count < 2 {
            try await Task.sleep(for: .milliseconds(100))
            findings = try alertObjects(alerts)
        }
        process.interrupt()  // SIGINT: graceful shutdown
        for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning, "the agent did not stop on SIGINT")
        #expect(process.terminationStatus == 0, "stderr: \((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")
        // Nothing more may appear at shutdown: the alerts were written when they were raised.
        #expect(try alertObjects(alerts) == findings)

        let ids = findings.compactMap { $0["rule"]?["id"]?.string }
        #expect(ids.count == 2, "alerts: \(ids)")
        #expect(ids.contains { $0.hasPrefix("vigil.k8s.") }, "alerts: \(ids)")
        let finding = try #require(findings.first { $0["rule"]?["id"]?.string == "profile.unexpected-k8s-request" })
        #expect(finding["mitre"]?["technique"]?.string == "T1609")
        #expect(finding["principal"]?.string == "alice")

        let list = try runAgent(["profiles", "list", "--store", store])
        #expect(list.stdout.contains("principal alice"), "profiles: \(list.stdout)")
    }

    @Test("follows an application's event file as it grows; a malformed line is counted, the SSRF request flagged")
    func followEventStream() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let events = directory.appendingPathComponent("app-events.jsonl")
        _ = FileManager.default.createFile(atPath: events.path, contents: nil)
        let alerts = directory.appendingPathComponent("alerts.jsonl")
        let agent = try BackgroundAgent(
            [
                "run", "--no-ebpf", "--events-follow", events.path, "--learn-for", "1h", "--store", "memory",
                "--alerts", alerts.path, "--log-level", "warning",
            ], in: directory)
        defer { if agent.process.isRunning { kill(agent.process.processIdentifier, SIGKILL) } }

        // Written after the agent started: it must follow the file, not read it once.
        try await Task.sleep(for: .milliseconds(500))
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        var encoder = EventEncoder(symbols: symbols)
        let lines = [
            encoder.line(for: builder.httpRequest(pid: 42, route: "/products/{id}", path: "/products/3")),
            "{not an event",
            encoder.line(
                for: builder.httpRequest(
                    pid: 42, route: "/preview", path: "/preview",
                    parameters: "url=http://169.254.169.254/latest/meta-data/iam/security-credentials/")),
        ]
        let handle = try FileHandle(forWritingTo: events)
        try handle.write(contentsOf: Data((lines.joined(separator: "\n") + "\n").utf8))
        try handle.close()

        var findings: [JSONObject] = []
        for _ in 0..<100 where findings.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            findings = try alertObjects(alerts).filter { $0["type"]?.string == "finding" }
        }
        #expect(try await agent.stop() == 0, "stderr: \(agent.stderr)")
        let stderr = agent.stderr
        #expect(
            findings.map { $0["rule"]?["id"]?.string } == ["vigil.application.ssrf-metadata-parameter"], "\(stderr)")
        #expect(findings.first?["layer"]?.string == "application")
        #expect(stderr.contains("skipped a line that is not a Vigil event"), "\(stderr)")
    }

    @Test("run with the eBPF sensor turned off and no other sensor says so; an unknown --learn-for is refused")
    func noSensor() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = "sqlite:" + directory.appendingPathComponent("v.sqlite").path
        let bare = try runAgent(["run", "--no-ebpf", "--store", store])
        #expect(bare.status != 0)
        #expect(bare.stderr.contains("no live sensor is configured"))
        let bad = try runAgent(["run", "--k8s-audit", "/dev/null", "--learn-for", "soon", "--store", store])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--learn-for takes a number and a unit"))
    }
}

/// A CloudTrail record (as an EventBridge API destination would push it) by an assumed role.
func cloudTrailRecord(action: String, service: String, second: Int) -> [UInt8] {
    let record = """
        {"detail-type":"AWS API Call via CloudTrail","source":"aws.\(service)","detail":{"eventVersion":"1.08",\
        "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/App/i-0abc",\
        "accountId":"111122223333","accessKeyId":"ASIAEXAMPLE"},"eventTime":"2026-11-29T10:00:0\(second)Z",\
        "eventSource":"\(service).amazonaws.com","eventName":"\(action)","awsRegion":"us-east-1",\
        "sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15.3","eventID":"e-\(second)",\
        "eventType":"AwsApiCall","recipientAccountId":"111122223333"}}
        """
    return Array(record.utf8)
}

@Suite("vigil-agent run with pushed cloud records")
struct LivePushTests {
    @Test("receives pushed CloudTrail records on loopback, refuses a wrong token, and reports a role's new action")
    func cloudPush() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = 20_000 + Int(getpid() % 20_000)
        let alerts = directory.appendingPathComponent("alerts.jsonl")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("vigil-agent")
        process.arguments = [
            "run", "--no-ebpf", "--cloud-push", "127.0.0.1:\(port)", "--cloud-push-token", "s3cret", "--learn-for",
            "0s",
            "--store", "sqlite:" + directory.appendingPathComponent("vigil.sqlite").path, "--alerts", alerts.path,
            "--log-level", "warning",
        ]
        let errors = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var listening = false
        for _ in 0..<200 where !listening {
            try await Task.sleep(for: .milliseconds(50))
            listening = await RawHTTPClient.accepts(port: port)
        }
        #expect(
            listening,
            "the push endpoint never listened; stderr: \((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")

        let refused = try await RawHTTPClient.post(
            port: port, headers: [("Authorization", "Bearer wrong")],
            body: cloudTrailRecord(action: "CreateUser", service: "iam", second: 1))
        #expect(refused.status == 401)
        let learned = try await RawHTTPClient.post(
            port: port, headers: [("Authorization", "Bearer s3cret")],
            body: cloudTrailRecord(action: "GetObject", service: "s3", second: 2))
        #expect(learned.status == 202)
        try await Task.sleep(for: .milliseconds(300))
        let suspicious = try await RawHTTPClient.post(
            port: port, headers: [("Authorization", "Bearer s3cret")],
            body: cloudTrailRecord(action: "CreateUser", service: "iam", second: 3))
        #expect(suspicious.status == 202)

        // Two findings: the profile's (a new action) and the built-in pack's (an IAM user was created).
        var findings: [JSONObject] = []
        for _ in 0..<100 where findings.count < 2 {
            try await Task.sleep(for: .milliseconds(100))
            findings = try alertObjects(alerts)
        }
        process.interrupt()
        for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(process.terminationStatus == 0)
        let ids = findings.compactMap { $0["rule"]?["id"]?.string }
        #expect(ids.count == 2, "alerts: \(ids)")
        #expect(ids.contains { $0.hasPrefix("vigil.cloud.") }, "alerts: \(ids)")
        let finding = try #require(findings.first { $0["rule"]?["id"]?.string == "profile.unexpected-cloud-action" })
        #expect(finding["mitre"]?["technique"]?.string == "T1136.003")
        #expect(finding["principal"]?.string == "arn:aws:iam::111122223333:role/App")
    }
}

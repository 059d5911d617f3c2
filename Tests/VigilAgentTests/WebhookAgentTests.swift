import Foundation
import Testing
import VigilCore
import VigilTestKit

/// Posts a body over HTTPS with Debian's python3 (its TLS client checks the server against the test CA) and
/// returns the HTTP status.
private func postOverTLS(url: String, body: String, token: String, ca: String, in directory: URL) throws -> Int {
    let bodyFile = directory.appendingPathComponent("body-\(UUID().uuidString).json")
    try body.write(to: bodyFile, atomically: true, encoding: .utf8)
    let script = """
        import ssl, sys, urllib.request, urllib.error
        context = ssl.create_default_context(cafile=sys.argv[1])
        request = urllib.request.Request(sys.argv[2], data=open(sys.argv[3], 'rb').read(),
            headers={'Authorization': 'Bearer ' + sys.argv[4], 'Content-Type': 'application/json'})
        try:
            print(urllib.request.urlopen(request, context=context, timeout=10).status)
        except urllib.error.HTTPError as error:
            print(error.code)
        """
    let result = try runBinaryAt("/usr/bin/python3", ["-c", script, ca, url, bodyFile.path, token])
    guard let status = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        throw WebhookAgentFailure("the HTTPS client failed: \(result.stderr)")
    }
    return status
}

private struct WebhookAgentFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a program to completion, its output in files.
private func runBinaryAt(
    _ path: String, _ arguments: [String]
) throws -> (status: Int32, stdout: String, stderr: String) {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let out = directory.appendingPathComponent("out")
    let err = directory.appendingPathComponent("err")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    process.waitUntilExit()
    return (
        process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "",
        (try? String(contentsOf: err, encoding: .utf8)) ?? ""
    )
}

@Suite("vigil-agent run with the Kubernetes audit webhook")
struct WebhookAgentTests {
    @Test("receives the API server's audit webhook over TLS, refuses a wrong token, and reports a user's new request")
    func webhook() async throws {
        let certificates: TestCertificates
        do {
            certificates = try TestCertificates.forThisRun()
        } catch let error as TestCertificates.Unavailable {
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("\(error)") }
            return
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                Issue.record("needs Debian's python3 as the HTTPS client: apt-get install -y python3")
            }
            return
        }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = 20_000 + Int((getpid() + 7) % 20_000)
        let alerts = directory.appendingPathComponent("alerts.jsonl")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("vigil-agent")
        process.arguments = [
            "run", "--no-ebpf", "--k8s-audit-webhook", "127.0.0.1:\(port)",
            "--k8s-audit-webhook-cert", certificates.serverChainPath,
            "--k8s-audit-webhook-key", certificates.serverKeyPath, "--k8s-audit-webhook-token", "api-server-token",
            "--learn-for", "0s", "--store", "memory", "--alerts", alerts.path, "--log-level", "warning",
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
        try #require(
            listening, "the webhook never listened: \((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")

        let url = "https://127.0.0.1:\(port)/audit"
        func eventList(_ lines: [String]) -> String {
            #"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":["# + lines.joined(separator: ",") + "]}"
        }
        let learned = kubernetesAuditLine(user: "alice", verb: "get", resource: "pods", second: 1)
        let refused = try postOverTLS(
            url: url, body: eventList([learned]), token: "wrong", ca: certificates.caPath, in: directory)
        #expect(refused == 401)
        #expect(
            try postOverTLS(
                url: url, body: eventList([learned]), token: "api-server-token", ca: certificates.caPath, in: directory)
                == 200)
        let exec = kubernetesAuditLine(user: "alice", verb: "create", resource: "pods", subresource: "exec", second: 2)
        #expect(
            try postOverTLS(
                url: url, body: eventList([exec]), token: "api-server-token", ca: certificates.caPath, in: directory)
                == 200)

        // Two findings: the profile's (a request alice never made) and the built-in rule on exec into a pod.
        var findings: [JSONValue] = []
        var incidents: [JSONValue] = []
        for _ in 0..<100 where findings.count < 2 {
            try await Task.sleep(for: .milliseconds(100))
            let alertLines = ((try? String(contentsOf: alerts, encoding: .utf8)) ?? "").split(separator: "\n")
                .compactMap { try? JSONParser.parse(String($0)) }
            findings = alertLines.filter { $0["type"]?.string == "finding" }
            incidents = alertLines.filter { $0["type"]?.string == "incident" }
        }
        process.interrupt()
        for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(process.terminationStatus == 0, "stderr: \((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")
        let rules = findings.compactMap { $0["rule"]?["id"]?.string }
        #expect(findings.count == 2, "findings: \(rules)")
        #expect(rules.contains("profile.unexpected-k8s-request"))
        #expect(rules.contains { $0.hasPrefix("vigil.k8s.") })
        #expect(findings.allSatisfy { $0["principal"]?.string == "alice" })
        // Both are alice's: the correlator tells them as one story (read again: the last report comes at stop).
        incidents = ((try? String(contentsOf: alerts, encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { try? JSONParser.parse(String($0)) }.filter { $0["type"]?.string == "incident" }
        let ids = Set(findings.compactMap { $0["id"]?.string })
        #expect(
            incidents.contains { incident in
                Set((incident["steps"]?.array ?? []).flatMap { $0["finding_ids"]?.array ?? [] }.compactMap(\.string))
                    == ids
            }, "incidents: \(incidents)")
    }

    @Test("the webhook needs a certificate, a key and a way to authenticate the API server")
    func incompleteConfiguration() throws {
        let noKey = try runAgent([
            "run", "--no-ebpf", "--k8s-audit-webhook", "127.0.0.1:1", "--k8s-audit-webhook-cert", "c.pem",
        ])
        #expect(noKey.status != 0)
        #expect(noKey.stderr.contains("--k8s-audit-webhook-key"))
        let noAuth = try runAgent([
            "run", "--no-ebpf", "--k8s-audit-webhook", "127.0.0.1:1", "--k8s-audit-webhook-cert", "c.pem",
            "--k8s-audit-webhook-key", "k.pem",
        ])
        #expect(noAuth.status != 0)
        #expect(noAuth.stderr.contains("--k8s-audit-webhook-token"))
    }
}

import Foundation
import Testing
import VigilCore
import VigilLinux
import VigilSQLite
import VigilTestKit

/// A copy of /bin/sleep in the test's own directory under /tmp: running it trips the built-in rule
/// `vigil.workload.exec-from-temp-dir`, and the policy names its exact path, so the agent acts on nothing else.
private func tripwire(in directory: URL) throws -> String {
    let path = URL(fileURLWithPath: directory.path).resolvingSymlinksInPath().appendingPathComponent("tripwire").path
    try FileManager.default.copyItem(
        atPath: URL(fileURLWithPath: "/bin/sleep").resolvingSymlinksInPath().path, toPath: path)
    return path
}

/// A policy that answers the tripwire's exec with `action`.
private func writePolicy(_ action: String, for program: String, in directory: URL) throws -> String {
    let path = directory.appendingPathComponent("policy.yaml").path
    let policy = """
        rules:
          - name: answer the test's tripwire
            match:
              rule: [vigil.workload.exec-from-temp-dir]
              executable: ["\(program)"]
            action: \(action)
        """
    try policy.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Starts `program 30` with its output discarded.
private func startTripwire(_ program: String) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = ["30"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// The alerts written so far about `pid`'s exec from a temporary directory.
private func tripwireFindings(_ alerts: URL, pid: Int32) -> [JSONValue] {
    let lines = ((try? String(contentsOf: alerts, encoding: .utf8)) ?? "").split(separator: "\n")
    return lines.compactMap { try? JSONParser.parse(String($0)) }.filter {
        $0["rule"]?["id"]?.string == "vigil.workload.exec-from-temp-dir"
            && $0["process"]?["pid"]?.int64 == Int64(pid)
    }
}

/// Polls `condition` every 50 ms for up to `seconds`.
private func eventually(seconds: Double, _ condition: () -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return condition()
}

/// A webhook receiver on 127.0.0.1 (Python's http.server): it appends each POST body, one line each, to
/// `file` and prints its port.
private let receiverScript = """
    import http.server, sys
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with open(sys.argv[1], "ab") as out:
                out.write(body.strip() + b"\\n")
            self.send_response(200)
            self.end_headers()
        def log_message(self, *arguments):
            pass
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """

/// Starts the receiver; returns it and the URL to post to.
private func startReceiver(writingTo file: URL, in directory: URL) async throws -> (Process, String) {
    let portFile = directory.appendingPathComponent("receiver.port")
    _ = FileManager.default.createFile(atPath: portFile.path, contents: nil)
    let receiver = Process()
    receiver.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    receiver.arguments = ["-c", receiverScript, file.path]
    receiver.standardOutput = try FileHandle(forWritingTo: portFile)
    try receiver.run()
    for _ in 0..<200 {
        let text = (try? String(contentsOf: portFile, encoding: .utf8)) ?? ""
        if let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return (receiver, "http://127.0.0.1:\(port)/alerts")
        }
        try await Task.sleep(for: .milliseconds(25))
    }
    kill(receiver.processIdentifier, SIGKILL)
    throw AgentTestFailure("the webhook receiver did not start")
}

/// Runs `body` as root, alone among the kernel-tracing tests, with a fresh directory holding the tripwire,
/// a policy answering it with `action`, and the path for the agent's alerts.
private func withTripwire(
    answeredBy action: String, _ body: (URL, String, String, URL) async throws -> Void
) async throws {
    guard rootAvailable() else { return }
    try await ExclusiveGate.kernelTracing.withExclusiveAccess {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let program = try tripwire(in: directory)
        let policy = try writePolicy(action, for: program, in: directory)
        try await body(directory, program, policy, directory.appendingPathComponent("alerts.jsonl"))
    }
}

@Suite("vigil-agent responding", .serialized)
struct ResponseAgentTests {
    @Test("run --respond on with a policy kills the process that trips a rule, keeps the record, posts the alert")
    func killsOnRuleHit() async throws {
        try await withTripwire(answeredBy: "kill") { directory, program, policy, alerts in
            let database = directory.appendingPathComponent("vigil.sqlite").path
            let posted = directory.appendingPathComponent("posted.jsonl")
            let (receiver, url) = try await startReceiver(writingTo: posted, in: directory)
            defer {
                kill(receiver.processIdentifier, SIGKILL)
                receiver.waitUntilExit()
            }
            let agent = try BackgroundAgent(
                [
                    "run", "--store", "sqlite:\(database)", "--alerts", alerts.path, "--respond", "on", "--policy",
                    policy, "--webhook", url, "--log-level", "info",
                ], in: directory)
            try await agent.waitUntilAttached()
            let victim = try startTripwire(program)
            defer { if victim.isRunning { kill(victim.processIdentifier, SIGKILL) } }
            let killed = try await eventually(seconds: 15) { !victim.isRunning }
            #expect(try await agent.stop() == 0, "stderr: \(agent.stderr)")
            #expect(killed, "the tripwire is still running: \(agent.stderr)")
            if killed {
                #expect(victim.terminationReason == .uncaughtSignal && victim.terminationStatus == SIGKILL)
            }
            let finding = try #require(tripwireFindings(alerts, pid: victim.processIdentifier).first)
            let response = finding["response"]?.array ?? []
            #expect(response.first?["action"]?.string == "kill", "\(finding)")
            #expect(response.first?["outcome"]?.string == "done", "\(finding)")
            // The audit trail in the store has it too.
            let trail = try SQLiteResponseAuditTrail(path: database)
            let kills = try await trail.latest(100).filter {
                $0.record.action.kind == .kill && $0.record.action.target.process.pid == victim.processIdentifier
            }
            #expect(kills.map(\.record.outcome) == [.done])
            // The correlator joined the finding into an incident. (Its root cause is the finding only when nothing
            // earlier shares its process tree: run from a checkout under /tmp, the test process's other children
            // trip the same rule first.)
            let lines = ((try? String(contentsOf: alerts, encoding: .utf8)) ?? "").split(separator: "\n")
            let incidents = lines.compactMap { try? JSONParser.parse(String($0)) }.filter { incident in
                incident["type"]?.string == "incident"
                    && incident["findings"]?.array?.contains { $0.string == finding["id"]?.string } == true
            }
            #expect(!incidents.isEmpty, "no incident holds the kill's finding")
            #expect(incidents.first?["narrative"]?.string?.isEmpty == false)
            // The webhook got the same alert, with its response.
            let delivered = try #require(
                tripwireFindings(posted, pid: victim.processIdentifier).first, "the webhook got no alert for the kill")
            #expect(delivered["response"]?.array?.first?["outcome"]?.string == "done")
        }
    }

    @Test("run --respond dry-run says what it would do and leaves the process running")
    func dryRunChangesNothing() async throws {
        try await withTripwire(answeredBy: "kill") { directory, program, policy, alerts in
            let agent = try BackgroundAgent(
                [
                    "run", "--store", "memory", "--alerts", alerts.path, "--respond", "dry-run", "--policy", policy,
                    "--log-level", "info",
                ], in: directory)
            try await agent.waitUntilAttached()
            let victim = try startTripwire(program)
            defer { if victim.isRunning { kill(victim.processIdentifier, SIGKILL) } }
            let answered = try await eventually(seconds: 15) {
                !tripwireFindings(alerts, pid: victim.processIdentifier).isEmpty
            }
            // Time for a kill to land, had one been sent.
            try await Task.sleep(for: .milliseconds(500))
            let stillRunning = victim.isRunning
            #expect(try await agent.stop() == 0, "stderr: \(agent.stderr)")
            #expect(answered, "no finding for the tripwire: \(agent.stderr)")
            #expect(stillRunning, "dry-run killed the process")
            let response = tripwireFindings(alerts, pid: victim.processIdentifier).first?["response"]?.array ?? []
            #expect(response.first?["action"]?.string == "kill")
            #expect(response.first?["outcome"]?.string == "dry_run")
        }
    }

    @Test("a quarantined process is listed by `quarantine list` and `quarantine release` puts it back")
    func quarantineListAndRelease() async throws {
        try await withTripwire(answeredBy: "quarantine") { directory, program, policy, alerts in
            let store = "sqlite:" + directory.appendingPathComponent("vigil.sqlite").path
            let agent = try BackgroundAgent(
                [
                    "run", "--store", store, "--alerts", alerts.path, "--respond", "on", "--policy", policy,
                    "--log-level", "info",
                ], in: directory)
            try await agent.waitUntilAttached()
            let victim = try startTripwire(program)
            defer { if victim.isRunning { kill(victim.processIdentifier, SIGKILL) } }
            let pid = victim.processIdentifier
            let origin = try ProcFS.snapshot(pid: pid).cgroupPath
            let confined = try await eventually(seconds: 15) {
                (try? ProcFS.snapshot(pid: pid).cgroupPath) == NetworkQuarantine.defaultPath
            }
            #expect(confined, "the tripwire was not moved into quarantine: \(agent.stderr)")

            let listed = try runAgent(["quarantine", "list", "--store", store])
            #expect(listed.status == 0, "\(listed.stderr)")
            let line = listed.stdout.split(separator: "\n").first { $0.hasPrefix("\(pid)\t") }
            #expect(line?.contains(program) == true, "\(listed.stdout)")
            #expect(line?.contains("from \(origin)") == true, "\(listed.stdout)")

            let released = try runAgent(["quarantine", "release", "\(pid)", "--store", store])
            #expect(released.status == 0, "\(released.stderr)")
            #expect(try ProcFS.snapshot(pid: pid).cgroupPath == origin)
            let again = try runAgent(["quarantine", "release", "\(pid)", "--store", store])
            #expect(again.status != 0, "releasing a process not in quarantine should fail")
            #expect(try await agent.stop() == 0, "stderr: \(agent.stderr)")
        }
    }
}

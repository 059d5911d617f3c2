import Foundation
import Testing
import VigilCore
import VigilLinux
import VigilTestKit

/// The alert lines of a file (or an agent's standard output) that are findings of `rule`.
private func findings(of rule: String, in text: String) -> [JSONValue] {
    text.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }.filter {
        $0["type"]?.string == "finding" && $0["rule"]?["id"]?.string == rule
    }
}

/// The events the engine says it dropped, from its "engine stopped" log line (`dropped=N`); 0 while it runs.
private func droppedEvents(in log: String) -> Int {
    guard let line = log.split(separator: "\n").last(where: { $0.contains("dropped=") }),
        let field = line.split(separator: " ").first(where: { $0.hasPrefix("dropped=") })
    else { return 0 }
    return Int(field.dropFirst("dropped=".count)) ?? 0
}

@Suite("vigil-agent's built-in stateful detections")
struct BuiltinDetectorAgentTests {
    /// Stratus Red Team (DataDog/stratus-red-team, Apache-2.0): one user reads 20 Secrets Manager secrets.
    @Test("replay --detect on the Stratus secrets detonation raises the secret-read burst; without the pack, not")
    func secretBurstReplay() throws {
        let file = sharedData.appendingPathComponent(
            "cloudtrail/stratus-red-team/detonation-logs/aws.credential-access.secretsmanager-retrieve-secrets.json"
        ).path
        let replay = try runAgent(["replay", "--detect", file, "--store", "memory"])
        #expect(replay.status == 0, "stderr: \(replay.stderr)")
        let bursts = findings(of: "vigil.cloud.secret-read-burst", in: replay.stdout)
        #expect(bursts.count == 1, "stdout: \(replay.stdout)")
        #expect(bursts.first?["severity"]?.string == "high", "\(bursts)")
        #expect(bursts.first?["mitre"]?["technique"]?.string == "T1555.006", "\(bursts)")

        let bare = try runAgent(["replay", "--detect", file, "--store", "memory", "--no-builtin-rules"])
        #expect(bare.status == 0, "stderr: \(bare.stderr)")
        #expect(findings(of: "vigil.cloud.secret-read-burst", in: bare.stdout).isEmpty, "stdout: \(bare.stdout)")
    }

    @Test("run with the eBPF sensor flags a binary copied and executed in a container-like cgroup")
    func containerDriftLive() async throws {
        guard rootAvailable() else { return }
        try await ExclusiveGate.kernelTracing.withExclusiveAccess { try await containerDriftLiveAlone() }
    }

    private func containerDriftLiveAlone() async throws {
        let directory = URL(fileURLWithPath: try temporaryDirectory().path).resolvingSymlinksInPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A docker-like cgroup: /vigil-test-<random>/docker-<64 hex>.scope.
        let filesystem = try CgroupFilesystem.locateV2()
        let containerID = (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: 1...UInt64.max)) }.joined()
        let parentGroup = try Cgroup.create("/vigil-test-\(UInt32.random(in: 0...UInt32.max))", in: filesystem)
        let group = try Cgroup.create(parentGroup.path + "/docker-\(containerID).scope", in: filesystem)
        defer {
            try? group.remove()
            try? parentGroup.remove()
        }
        let alerts = directory.appendingPathComponent("alerts.jsonl")
        let agent = try BackgroundAgent(
            ["run", "--store", "memory", "--alerts", alerts.path, "--log-level", "info"], in: directory)
        try await agent.waitUntilAttached()

        // In the container: copy /bin/true to a new path and run it. A loaded machine may make the (debug) agent
        // shed file events; the drop is repeated then, under a new name, and only when the agent says so.
        var drift: JSONValue?
        var attempts = 0
        var dropped: [String] = []
        while drift == nil && attempts < 3 {
            attempts += 1
            let program = directory.appendingPathComponent("dropped-\(attempts)").path
            dropped.append(program)
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/bin/sh")
            shell.arguments = [
                "-c", "echo $$ > \(group.absolutePath)/cgroup.procs && cp /bin/true \(program) && \(program)",
            ]
            try shell.run()
            shell.waitUntilExit()
            #expect(shell.terminationStatus == 0)
            for _ in 0..<50 where drift == nil {
                try await Task.sleep(for: .milliseconds(100))
                let text = (try? String(contentsOf: alerts, encoding: .utf8)) ?? ""
                drift = findings(of: "vigil.workload.container-drift", in: text).first {
                    $0["process"]?["exe"]?.string == program
                }
            }
            if drift == nil, droppedEvents(in: agent.stderr) == 0 { break }
        }
        #expect(try await agent.stop() == 0, "stderr: \(agent.stderr)")
        let text = (try? String(contentsOf: alerts, encoding: .utf8)) ?? ""
        let others = findings(of: "vigil.workload.container-drift", in: text)
        let found = try #require(
            drift, "no drift finding for \(dropped) after \(attempts) runs; drift findings: \(others)")
        #expect(found["severity"]?.string == "high")
        #expect(found["mitre"]?["technique"]?.string == "T1105")
        let explanation = found["explanation"]?.string ?? ""
        #expect(
            explanation.hasPrefix("\(dropped.last!) was written by cp (pid "), "explanation: \(explanation)")
        #expect(explanation.contains("in container \(containerID.prefix(12))"), "explanation: \(explanation)")
        // The alert's evidence: the exec, then the write.
        #expect(
            found["evidence"]?.array?.compactMap { $0["kind"]?.string } == ["process.exec", "file.open"], "\(found)")
    }
}

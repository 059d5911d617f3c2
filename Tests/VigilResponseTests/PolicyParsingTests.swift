import Foundation
import Testing
import VigilCore
import VigilResponse

@Suite("Response policy: parsing")
struct PolicyParsingTests {
    static let example = """
        mode: on
        defaults: { action: report }
        rules:
          - name: kill crypto miners
            match: { rule: ["vigil.workload.crypto-*"], min_severity: high }
            action: kill
          - match: { technique: [T1611, T1068], layer: [workload], workload: ["host:*", "prod/*"] }
            action: quarantine
          - match: { incident: true, min_severity: critical, tactic: [privilege-escalation, TA0002] }
            action: stop
            grace: 1500ms
          - match: { rule: vigil.workload.escape }
            action: pause
            scope: container
        allow:
          executables: [/usr/sbin/sshd, "/usr/lib/systemd/*"]
          workloads: ["kube-system/*"]
          networks: [127.0.0.0/8, "::1/128", 10.0.0.53]
        limits: { per_minute: 10, per_target_per_minute: 2 }
        """

    @Test("a complete policy file loads with every field")
    func goodFile() throws {
        let directory = NSTemporaryDirectory() + "vigil-policy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/response.yaml"
        try Self.example.write(toFile: path, atomically: true, encoding: .utf8)

        let policy = try ResponsePolicy(contentsOf: path)
        #expect(policy.mode == .on)
        #expect(policy.defaults.action == .report)
        #expect(policy.rules.count == 4)
        #expect(policy.rules[0].name == "kill crypto miners")
        #expect(policy.rules[0].action == .kill)
        #expect(policy.rules[0].match.rules == [Glob("vigil.workload.crypto-*")])
        #expect(policy.rules[0].match.minimumSeverity == .high)
        #expect(policy.rules[1].name == "rules[1]")
        #expect(policy.rules[1].match.techniques == ["T1611", "T1068"])
        #expect(policy.rules[1].match.layers == [.workload])
        #expect(policy.rules[1].match.workloads.map(\.pattern) == ["host:*", "prod/*"])
        #expect(policy.rules[2].match.incident)
        #expect(policy.rules[2].match.tactics == [.privilegeEscalation, .execution])
        #expect(policy.rules[2].grace == .milliseconds(1500))
        #expect(policy.rules[3].match.rules == [Glob("vigil.workload.escape")])
        #expect(policy.rules[3].scope == .container)
        #expect(policy.allow.executables.map(\.pattern) == ["/usr/sbin/sshd", "/usr/lib/systemd/*"])
        #expect(policy.allow.workloads.map(\.pattern) == ["kube-system/*"])
        #expect(policy.allow.networks.map(\.description) == ["127.0.0.0/8", "::1/128", "10.0.0.53/32"])
        #expect(policy.limits == ResponseLimits(perMinute: 10, perTargetPerMinute: 2))
    }

    @Test("an empty document, and no policy at all, mean report only in dry-run")
    func defaults() throws {
        for policy in [try ResponsePolicy(yaml: ""), try ResponsePolicy(yaml: "# nothing\n"), .reportOnly] {
            #expect(policy.mode == .dryRun)
            #expect(policy.rules.isEmpty)
            #expect(policy.defaults.action == .report)
            #expect(policy.limits == ResponseLimits(perMinute: 30, perTargetPerMinute: 3))
        }
    }

    /// The error `yaml` raises.
    private func failure(_ yaml: String) throws -> ResponsePolicyError {
        do {
            _ = try ResponsePolicy(yaml: yaml, file: "policy.yaml")
        } catch {
            return error
        }
        Issue.record("expected an error for:\n\(yaml)")
        throw TestCannotRun(description: "no error")
    }

    @Test("errors name the file, the line and the key")
    func errors() throws {
        let cases: [(yaml: String, code: ResponsePolicyError.Code, line: Int, key: String, says: String)] = [
            ("mode: on\nrulez: []\n", .unknownKey, 2, "rulez", "unknown key"),
            (
                "rules:\n  - action: kill\n    match:\n      rule: [a]\n      severity: high\n", .unknownKey, 5,
                "rules[0].match.severity", "min_severity"
            ),
            ("rules:\n  - match: { rule: a }\n    action: explode\n", .invalidValue, 3, "rules[0].action", "'explode'"),
            (
                "rules:\n  - match: { rule: a }\n    action: resume\n", .invalidValue, 3, "rules[0].action",
                "undoes an earlier action"
            ),
            ("rules:\n  - match: { rule: a }\n", .missingKey, 2, "rules[0].action", "needs an action"),
            (
                "rules:\n  - action: kill\n    match: { min_severity: severe }\n", .invalidValue, 3,
                "rules[0].match.min_severity", "'severe'"
            ),
            (
                "rules:\n  - action: kill\n    match: { technique: [T1059, X42] }\n", .invalidValue, 3,
                "rules[0].match.technique", "'X42'"
            ),
            (
                "rules:\n  - action: kill\n    match: { tactic: sneaking }\n", .invalidValue, 3,
                "rules[0].match.tactic", "'sneaking'"
            ),
            (
                "rules:\n  - action: kill\n    match: { layer: kernel }\n", .invalidValue, 3, "rules[0].match.layer",
                "'kernel'"
            ),
            ("rules:\n  - action: kill\n    grace: 5s\n", .invalidValue, 3, "rules[0].grace", "stop only"),
            ("rules:\n  - action: stop\n    grace: soon\n", .invalidValue, 3, "rules[0].grace", "'soon'"),
            ("rules:\n  - action: stop\n    scope: container\n", .invalidValue, 3, "rules[0].scope", "kill and pause"),
            ("mode: maybe\n", .invalidValue, 1, "mode", "'maybe'"),
            ("defaults: { action: nuke }\n", .invalidValue, 1, "defaults.action", "'nuke'"),
            ("limits: { per_minute: 0 }\n", .invalidValue, 1, "limits.per_minute", "above 0"),
            ("allow:\n  executables: [/bin/a]\n  users: [root]\n", .unknownKey, 3, "allow.users", "unknown key"),
            ("allow:\n  networks: [10.0.0.0/33]\n", .invalidValue, 2, "allow.networks", "'10.0.0.0/33'"),
            ("rules: { action: kill }\n", .invalidValue, 1, "rules", "list of rules"),
            (
                "rules:\n  - action: kill\n    match: { incident: maybe }\n", .invalidValue, 3,
                "rules[0].match.incident", "true or false"
            ),
            ("mode: on\n  rules: [\n", .invalidYAML, 2, "", "not YAML"),
        ]
        for item in cases {
            let error = try failure(item.yaml)
            #expect(error.code == item.code, "\(item.yaml)")
            #expect(error.file == "policy.yaml")
            #expect(error.line == item.line, "\(error)")
            #expect(error.key == item.key, "\(error)")
            #expect(error.message.contains(item.says), "\(error)")
            #expect(error.description.hasPrefix("policy.yaml:\(item.line): "), "\(error)")
        }
    }

    @Test("a missing file is an error that names it")
    func missingFile() {
        #expect {
            try ResponsePolicy(contentsOf: "/nonexistent/vigil/response.yaml")
        } throws: { error in
            guard let error = error as? ResponsePolicyError else { return false }
            return error.code == .unreadableFile && error.description.hasPrefix("/nonexistent/vigil/response.yaml: ")
        }
    }

    @Test("glob patterns: * spans any characters, slashes included; ? one; the rest exactly")
    func globs() {
        #expect(Glob("vigil.workload.crypto-*").matches("vigil.workload.crypto-miner"))
        #expect(!Glob("vigil.workload.crypto-*").matches("vigil.workload.cryptominer"))
        #expect(Glob("kube-system/*").matches("kube-system/Deployment/coredns/coredns"))
        #expect(!Glob("kube-system/*").matches("kube-systemx/Deployment/a/a"))
        #expect(Glob("/usr/sbin/sshd").matches("/usr/sbin/sshd"))
        #expect(!Glob("/usr/sbin/sshd").matches("/usr/sbin/sshd2"))
        #expect(Glob("/usr/*/ss?d").matches("/usr/local/sbin/sshd"))
        #expect(Glob("*").matches(""))
        #expect(Glob("a*b*c").matches("aXXbYYbZc"))
        #expect(!Glob("a*b*c").matches("aXXbYY"))
    }
}

@Suite("Response policy: the README's example")
struct ReadmePolicyTests {
    @Test("the policy shown in the README's Response section loads, and decides as it says")
    func readmePolicyLoads() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## Response\n").dropFirst().first)
        let block = try #require(section.components(separatedBy: "```yaml\n").dropFirst().first)
        let yaml = try #require(block.components(separatedBy: "```").first)
        let policy = try ResponsePolicy(yaml: yaml, file: "README.md")
        #expect(policy.mode == .dryRun)
        #expect(policy.rules.map(\.action) == [.kill, .quarantine, .stop])
        #expect(policy.rules.last?.grace == .seconds(5))
        #expect(policy.limits == ResponseLimits(perMinute: 30, perTargetPerMinute: 3))
        var alerts = Alerts()
        let miner = alerts.finding(
            process: ProcessKey(pid: 10, startTime: 1), rule: "vigil.workload.mining-pool-dns", severity: .high)
        #expect(policy.decide(AlertFacts(.finding(miner), symbols: alerts.symbols)).action == .kill)
        let dropped = alerts.finding(process: ProcessKey(pid: 10, startTime: 1), executable: "/tmp/x")
        #expect(policy.decide(AlertFacts(.finding(dropped), symbols: alerts.symbols)).action == .stop)
    }
}

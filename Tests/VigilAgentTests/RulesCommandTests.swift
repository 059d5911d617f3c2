import Foundation
import Testing
import VigilCore
import VigilTestKit

/// Two rules that load: one in Vigil's keys (`id`, `severity`, `mitre`), one in Falco's (`priority`, MITRE
/// tags), with a list.
let goodRules = """
    - list: credential_files
      items: [/etc/shadow, /etc/gshadow]
    - rule: Credential file read
      id: test.credential-file-read
      desc: A process read a password hash file.
      condition: evt.type in (open, openat) and fd.name in (credential_files)
      output: "%proc.name read %fd.name"
      severity: high
      mitre: {tactic: credential-access, technique: T1003.008}
    - rule: Program run from tmp
      desc: A program was executed from /tmp.
      condition: evt.type = execve and proc.exepath startswith /tmp/
      output: "%proc.exepath ran from /tmp"
      priority: CRITICAL
      tags: [host, mitre_execution, T1059.004]

    """

/// A file with one rule that loads and one whose condition names a field no event has (line 9).
let brokenRules = """
    - rule: Good rule
      desc: d
      condition: evt.type = openat and fd.name = /etc/hosts
      output: x
      priority: WARNING
      tags: [mitre_discovery, T1016]
    - rule: Broken rule
      desc: d
      condition: evt.type = openat and proc.nmae = cat
      output: x
      priority: WARNING
      tags: [mitre_execution, T1059]

    """

/// Writes `text` to `name` in `directory`.
func writeFile(_ text: String, _ name: String, in directory: URL) throws -> URL {
    let url = directory.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
}

/// The complete alert lines of a JSON Lines alert file, parsed; a last line still being written is left out.
func alertObjects(_ url: URL) throws -> [JSONObject] {
    let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    lines.removeLast()  // Empty when the file ends with a newline; otherwise a line not yet complete.
    return try lines.map { try #require(try JSONParser.parse(String($0)).object) }
}

@Suite("vigil-agent rules")
struct RulesCommandTests {
    @Test("rules check on a good file exits 0 and lists each rule with its id")
    func checkGoodFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try writeFile(goodRules, "good.yaml", in: directory)
        let result = try runAgent(["rules", "check", file.path, "--no-builtin-rules"])
        #expect(result.status == 0, "stdout: \(result.stdout) stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("loaded  test.credential-file-read  Credential file read  [file.open]") })
        #expect(lines.contains { $0.hasPrefix("loaded  falco.program-run-from-tmp  Program run from tmp") })
        #expect(lines.last == "2 rules loaded, 0 failed, 0 entries unreadable")
    }

    @Test("the built-in pack alone loads completely, or run and replay would refuse to start")
    func builtinPackLoads() throws {
        let result = try runAgent(["rules", "check"])
        #expect(result.status == 0, "stdout: \(result.stdout)")
        #expect(!result.stdout.contains("FAILED"))
    }

    @Test("rules check on a broken rule exits non-zero and names the rule, its line and the token")
    func checkBrokenFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try writeFile(brokenRules, "broken.yaml", in: directory)
        let result = try runAgent(["rules", "check", file.path, "--no-builtin-rules"])
        #expect(result.status != 0)
        let failed = result.stdout.split(separator: "\n").filter { $0.hasPrefix("FAILED") }
        #expect(failed.count == 1)
        let line = String(failed.first ?? "")
        #expect(line.contains("rule 'Broken rule'"), "\(line)")
        #expect(line.contains("line 9"), "\(line)")
        #expect(line.contains("unknown field 'proc.nmae'"), "\(line)")
        #expect(result.stdout.contains("loaded  falco.good-rule  Good rule"))
        #expect(result.stdout.contains("1 rules loaded, 1 failed"))
    }

    @Test("rules check on a missing file or a file that is not a rule list exits non-zero with the reason")
    func checkUnreadableFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = try runAgent(["rules", "check", directory.appendingPathComponent("nope.yaml").path])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("cannot read the rule file"), "\(missing.stderr)")
        let mapping = try writeFile("rule: not a list\n", "mapping.yaml", in: directory)
        let notList = try runAgent(["rules", "check", mapping.path])
        #expect(notList.status != 0)
        #expect(notList.stderr.contains("a rule file is a YAML list of entries"), "\(notList.stderr)")
    }

    @Test("rules check on Falco's stable rules prints loaded or FAILED for every rule and finishes")
    func checkFalcoRules() throws {
        let path = sharedData.appendingPathComponent("rules/falco/falco_rules.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let names = text.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("- rule: ") else { return nil }
            return String(line.dropFirst("- rule: ".count)).trimmingCharacters(in: .whitespaces)
        }
        #expect(names.count >= 20)
        let result = try runAgent(["rules", "check", path, "--no-builtin-rules"])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let loaded = lines.filter { $0.hasPrefix("loaded  ") }
        let failed = lines.filter { $0.hasPrefix("FAILED  ") }
        for name in names {
            let reported =
                loaded.contains { $0.contains("  \(name)  [") } || failed.contains { $0.contains("rule '\(name)'") }
            #expect(reported, "rule '\(name)' is neither loaded nor FAILED")
        }
        // The summary is the last line: the command ran to its end.
        #expect(lines.last?.hasPrefix("\(loaded.count) rules loaded, \(failed.count) failed") == true)
        #expect(loaded.count + failed.count == names.count)
        #expect(result.status == (failed.isEmpty ? 0 : 1))
    }

    @Test("replay --rules raises the rules' findings, with their id, severity and MITRE mapping, as alert JSON")
    func replayRaisesRuleFindings() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rules = try writeFile(goodRules, "rules.yaml", in: directory)
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let events = [
            b.exec(pid: 40, executable: "/usr/bin/cat", arguments: ["cat", "/etc/shadow"]),
            b.open(pid: 40, path: "/etc/shadow"),
            b.open(pid: 40, path: "/etc/hosts"),
            b.exec(pid: 41, executable: "/tmp/.x/miner", arguments: ["miner"]),
            b.exec(pid: 42, executable: "/usr/bin/tmp-cleaner"),
        ]
        let eventsFile = directory.appendingPathComponent("events.jsonl")
        try writeEvents(events, symbols: symbols, to: eventsFile)
        let alerts = directory.appendingPathComponent("alerts.jsonl")

        let result = try runAgent([
            "replay", "--rules", rules.path, "--no-builtin-rules", "--detect", eventsFile.path, "--alerts",
            alerts.path, "--store", "memory",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("checked 5 events: 2 findings"), "\(result.stderr)")
        let findings = try alertObjects(alerts).filter { $0["type"]?.string == "finding" }
        #expect(findings.count == 2)

        let read = try #require(findings.first { $0["rule"]?["id"]?.string == "test.credential-file-read" })
        #expect(read["rule"]?["name"]?.string == "Credential file read")
        #expect(read["severity"]?.string == "high")
        #expect(read["mitre"]?["tactic"]?.string == "credential-access")
        #expect(read["mitre"]?["technique"]?.string == "T1003.008")
        #expect(read["explanation"]?.string == "cat read /etc/shadow")
        #expect(read["process"]?["pid"]?.int64 == 40)
        #expect(read["evidence"]?.array?.first?["kind"]?.string == "file.open")

        let tmp = try #require(findings.first { $0["rule"]?["id"]?.string == "falco.program-run-from-tmp" })
        #expect(tmp["severity"]?.string == "critical")
        #expect(tmp["mitre"]?["tactic"]?.string == "execution")
        #expect(tmp["mitre"]?["technique"]?.string == "T1059.004")
        #expect(tmp["process"]?["exe"]?.string == "/tmp/.x/miner")
    }

    @Test("replay runs the built-in pack unless --no-builtin-rules is given")
    func builtinPackByDefault() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let eventsFile = directory.appendingPathComponent("events.jsonl")
        // A program run from /tmp: no profile has learned anything, so only a rule can report it.
        try writeEvents([b.exec(pid: 2, executable: "/tmp/x")], symbols: symbols, to: eventsFile)
        let alerts = directory.appendingPathComponent("alerts.jsonl")
        let result = try runAgent([
            "replay", "--detect", eventsFile.path, "--alerts", alerts.path, "--store", "memory",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let ids = try alertObjects(alerts).compactMap { $0["rule"]?["id"]?.string }
        #expect(!ids.isEmpty && ids.allSatisfy { $0.hasPrefix("vigil.workload.") }, "\(ids)")
        let without = try runAgent(["replay", "--detect", eventsFile.path, "--store", "memory", "--no-builtin-rules"])
        #expect(without.status == 0, "stderr: \(without.stderr)")
        #expect(without.stdout.isEmpty)
    }

    @Test("rule findings go to the text output too")
    func replayTextOutput() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rules = try writeFile(goodRules, "rules.yaml", in: directory)
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let eventsFile = directory.appendingPathComponent("events.jsonl")
        try writeEvents(
            [b.exec(pid: 7, executable: "/usr/bin/cat"), b.open(pid: 7, path: "/etc/gshadow")], symbols: symbols,
            to: eventsFile)
        let result = try runAgent([
            "replay", "--rules", rules.path, "--no-builtin-rules", "--detect", eventsFile.path, "--format", "text",
            "--store", "memory",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        // The finding's line, then the block of the incident it opens: title, narrative, its one step.
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 4, "\(result.stdout)")
        #expect(lines.first?.contains("HIGH test.credential-file-read") == true, "\(result.stdout)")
        #expect(lines.first?.contains("cat read /etc/gshadow") == true, "\(result.stdout)")
        #expect(lines.dropFirst().first?.hasPrefix("INCIDENT i-") == true, "\(result.stdout)")
        #expect(lines.last?.hasPrefix("  1. ") == true, "\(result.stdout)")
    }

    @Test("with learned profiles, the profile detector and the rules both report on the same batch")
    func profilesAndRulesTogether() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rules = try writeFile(goodRules, "rules.yaml", in: directory)
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let web = b.workload(namespace: "shop", deployment: "web")
        let learn = (0..<20).flatMap { round in
            [
                b.exec(
                    pid: 100 + Int32(round), executable: "/usr/bin/python3", arguments: ["python3", "app.py"],
                    workload: web),
                b.open(pid: 100 + Int32(round), path: "/srv/app.py", workload: web),
            ]
        }
        let detect = [
            b.exec(pid: 500, executable: "/usr/bin/python3", arguments: ["python3", "app.py"], workload: web),
            b.exec(pid: 501, parent: 500, executable: "/usr/bin/cat", arguments: ["cat"], workload: web),
            b.open(pid: 501, path: "/etc/shadow", workload: web),
        ]
        let learnFile = directory.appendingPathComponent("learn.jsonl")
        let detectFile = directory.appendingPathComponent("detect.jsonl")
        let alerts = directory.appendingPathComponent("alerts.jsonl")
        try writeEvents(learn, symbols: symbols, to: learnFile)
        try writeEvents(detect, symbols: symbols, to: detectFile)
        let result = try runAgent([
            "replay", "--learn", learnFile.path, "--detect", detectFile.path, "--rules", rules.path,
            "--no-builtin-rules", "--alerts", alerts.path, "--store", "memory",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let ids = Set(try alertObjects(alerts).compactMap { $0["rule"]?["id"]?.string })
        #expect(ids.contains("profile.unexpected-process"), "\(ids)")
        #expect(ids.contains("test.credential-file-read"), "\(ids)")
    }

    @Test("replay with a rule file that does not load refuses to start and names the failed rule")
    func replayRefusesBrokenRules() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rules = try writeFile(brokenRules, "broken.yaml", in: directory)
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let eventsFile = directory.appendingPathComponent("events.jsonl")
        try writeEvents([b.open(pid: 1, path: "/etc/hosts")], symbols: symbols, to: eventsFile)
        let alerts = directory.appendingPathComponent("alerts.jsonl")
        let result = try runAgent([
            "replay", "--rules", rules.path, "--detect", eventsFile.path, "--alerts", alerts.path, "--store", "memory",
        ])
        #expect(result.status != 0)
        #expect(result.stderr.contains("1 rule does not load"), "\(result.stderr)")
        #expect(result.stderr.contains("rule 'Broken rule', line 9"), "\(result.stderr)")
        #expect(result.stderr.contains("'proc.nmae'"), "\(result.stderr)")
        #expect(result.stderr.contains("vigil-agent rules check"), "\(result.stderr)")
        #expect(!result.stderr.contains("checked"), "it replayed events: \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: alerts.path))
    }

    @Test("run with a rule file that does not load refuses before starting any sensor")
    func runRefusesBrokenRules() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rules = try writeFile(brokenRules, "broken.yaml", in: directory)
        // No sensor is configured either: the rules are checked first, so their refusal is what is reported.
        let result = try runAgent(["run", "--no-ebpf", "--rules", rules.path, "--store", "memory"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("rule 'Broken rule', line 9"), "\(result.stderr)")
        #expect(result.stderr.contains("vigil-agent rules check"), "\(result.stderr)")
        let missing = try runAgent([
            "run", "--no-ebpf", "--rules", directory.appendingPathComponent("nope.yaml").path, "--store", "memory",
        ])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("cannot read the rule file"), "\(missing.stderr)")
    }

    @Test("run --rules reports a rule's match live, while the profiles are still learning")
    func runRaisesRuleFindings() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rules = try writeFile(
            """
            - rule: Exec into pod
              desc: Someone opened a shell in a pod.
              condition: ka.verb = create and ka.target.subresource = exec
              output: "%ka.user.name exec'd into %ka.target.name"
              priority: NOTICE
              source: k8s_audit
              tags: [k8s, mitre_execution, T1609]

            """, "k8s.yaml", in: directory)
        let log = directory.appendingPathComponent("audit.log")
        try
            ([
                kubernetesAuditLine(user: "alice", verb: "get", resource: "pods", second: 1),
                kubernetesAuditLine(user: "alice", verb: "create", resource: "pods", subresource: "exec", second: 2),
            ].joined(separator: "\n") + "\n").write(to: log, atomically: true, encoding: .utf8)
        let alerts = directory.appendingPathComponent("alerts.jsonl")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("vigil-agent")
        process.arguments = [
            "run", "--no-ebpf", "--k8s-audit", log.path, "--learn-for", "1d", "--store", "memory", "--alerts",
            alerts.path, "--rules", rules.path, "--no-builtin-rules", "--log-level", "warning",
        ]
        let errors = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        var findings: [JSONObject] = []
        for _ in 0..<100 where findings.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            findings = try alertObjects(alerts)
        }
        process.interrupt()
        for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(process.terminationStatus == 0, "stderr: \((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")
        // Profiles learn for a day: the only finding is the rule's.
        #expect(findings.count == 1)
        #expect(findings.first?["rule"]?["id"]?.string == "falco.exec-into-pod")
        #expect(findings.first?["severity"]?.string == "low")
        #expect(findings.first?["mitre"]?["technique"]?.string == "T1609")
        #expect(findings.first?["principal"]?.string == "alice")
        #expect(findings.first?["explanation"]?.string == "alice exec'd into web-1")
    }
}

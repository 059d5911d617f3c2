import Testing
import VigilCore
import VigilRules
import VigilTestKit

/// Runs one rule file's rules over events and returns the ids of the rules that matched, per event.
func matches(_ yaml: String, _ events: [Event], symbols: SymbolTable) throws -> [[String]] {
    var loader = RuleLoader()
    try loader.addFile(text: yaml, name: "test.yaml")
    let compiled = loader.compile()
    #expect(compiled.failures.isEmpty, "failures: \(compiled.failures)")
    var detector = RuleDetector(rules: compiled.rules, symbols: symbols)
    return events.map { event in
        var findings: [Finding] = []
        detector.inspect(EventBatch([event]), into: &findings)
        return findings.map(\.rule.id)
    }
}

@Suite("Condition language")
struct ConditionLanguageTests {
    @Test("a syntax error names the rule, the line and the offending token")
    func syntaxErrors() throws {
        var loader = RuleLoader()
        try loader.addFile(
            text: """
                - rule: Broken
                  desc: d
                  condition: proc.name = bash and (fd.name startswith /etc
                  output: x
                  priority: WARNING
                  tags: [mitre_execution, T1059]
                """, name: "broken.yaml")
        let failures = loader.compile().failures
        #expect(failures.count == 1)
        #expect(failures.first?.rule == "Broken")
        #expect(failures.first?.code == .syntax)
        #expect(failures.first?.location?.line == 3)
        #expect(failures.first?.description.contains("expected ')'") == true)
    }

    @Test("an unknown field and a Falco field Vigil lacks are told apart, by rule and field")
    func unknownFields() throws {
        var loader = RuleLoader()
        try loader.addFile(
            text: """
                - rule: Typo
                  desc: d
                  condition: proc.nmae = bash
                  output: x
                  priority: WARNING
                  tags: [mitre_execution, T1059]
                - rule: Terminal
                  desc: d
                  condition: proc.tty != 0
                  output: x
                  priority: WARNING
                  tags: [mitre_execution, T1059]
                """, name: "fields.yaml")
        let failures = loader.compile().failures
        #expect(failures.map(\.code) == [.unknownField, .unsupportedField])
        #expect(failures.map(\.token) == ["proc.nmae", "proc.tty"])
        #expect(failures.map(\.rule) == ["Typo", "Terminal"])
    }

    @Test("macros, lists, in, startswith, glob, pmatch, not and exists evaluate on events")
    func evaluation() throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let shell = builder.exec(pid: 10, executable: "/bin/bash", arguments: ["bash", "-c", "id"])
        let tmp = builder.exec(pid: 11, executable: "/tmp/x/payload", arguments: ["payload"])
        let shadow = builder.open(pid: 12, path: "/etc/shadow")
        let hosts = builder.open(pid: 13, path: "/etc/hosts")
        let yaml = """
            - list: shells
              items: [bash, sh]
            - macro: spawned_process
              condition: evt.type in (execve, execveat) and evt.dir = <
            - rule: Shell
              desc: d
              condition: spawned_process and proc.name in (shells)
              output: shell %proc.name ran %proc.cmdline
              priority: WARNING
              tags: [mitre_execution, T1059.004]
            - rule: Tmp exec
              desc: d
              condition: spawned_process and (proc.exepath startswith /tmp/ or proc.exepath glob '/dev/shm/*')
              output: x
              priority: ERROR
              tags: [mitre_execution, T1059]
            - rule: Shadow
              desc: d
              condition: evt.type = openat and fd.name pmatch (/etc/shadow, /etc/gshadow) and not fd.name exists and 1 = 1
              output: x
              priority: ERROR
              tags: [mitre_credential_access, T1003.008]
            - rule: Shadow read
              desc: d
              condition: evt.type = openat and fd.name pmatch (/etc/shadow, /etc/gshadow)
              output: x
              priority: ERROR
              tags: [mitre_credential_access, T1003.008]
            """
        var loader = RuleLoader()
        try loader.addFile(text: yaml, name: "t.yaml")
        let compiled = loader.compile()
        // `1 = 1` names no field: the third rule does not load, the others do.
        #expect(compiled.failures.map(\.rule) == ["Shadow"])
        var detector = RuleDetector(rules: compiled.rules, symbols: symbols)
        var findings: [Finding] = []
        detector.inspect(EventBatch([shell, tmp, shadow, hosts]), into: &findings)
        #expect(findings.map(\.rule.name) == ["Shell", "Tmp exec", "Shadow read"])
        #expect(findings.first?.explanation == "shell bash ran bash -c id")
        #expect(findings.first?.mitre == MITREMapping(tactic: .execution, technique: "T1059.004"))
    }
}

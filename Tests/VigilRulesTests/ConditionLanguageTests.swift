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

/// Whether `condition` holds on each event, checked in order by one rule detector (so the process fields
/// of a later event see the execs before it), with `lists` and `macros` defined as a rule file would.
func holds(
    _ condition: String, on events: [Event], symbols: SymbolTable, lists: [String: [String]] = [:],
    macros: [String: String] = [:]
) throws -> [Bool] {
    let resolved = try resolve(condition, lists: lists, macros: macros)
    let rule = Rule(
        id: "test.condition", name: "Condition", description: "",
        mitre: MITREMapping(tactic: .execution, technique: "T1059"), severity: .low,
        kinds: resolved.possibleKinds ?? Set(EventKind.allCases), condition: condition, resolved: resolved,
        output: "")
    var detector = RuleDetector(rules: [rule], symbols: symbols)
    return events.map { event in
        var findings: [Finding] = []
        detector.inspect(EventBatch([event]), into: &findings)
        return !findings.isEmpty
    }
}

/// Parses and resolves `condition` as the loader does.
func resolve(
    _ condition: String, lists: [String: [String]] = [:], macros: [String: String] = [:]
) throws(RuleError) -> ResolvedCondition {
    var parsed: [String: ConditionNode] = [:]
    for (name, text) in macros { parsed[name] = try ConditionParser.parse(text, rule: "macro \(name)") }
    let compiler = ConditionCompiler(macros: parsed, lists: lists)
    return try compiler.resolve(try ConditionParser.parse(condition, rule: "test"), rule: "test")
}

/// A rule file entry with the boilerplate every rule needs, around `condition` (YAML-quoted by the caller
/// when it needs to be).
func ruleEntry(_ name: String, _ condition: String, output: String = "x", extra: String = "") -> String {
    """
    - rule: \(name)
      desc: d
      condition: \(condition)
      output: \(output)
      priority: WARNING
      tags: [mitre_execution, T1059]
    \(extra)
    """
}

/// Events with names, for the operator tests: execs (one with quotes, a tab and an apostrophe in its
/// arguments), file opens with and without write flags, and connects to IPv4 and IPv6 peers.
struct OperatorFixture {
    let symbols = SymbolTable()
    let names: [String]
    let events: [Event]

    init() {
        var b = EventBuilder(symbols: symbols)
        let labelled: [(String, Event)] = [
            ("bash", b.exec(pid: 10, executable: "/bin/bash", arguments: ["bash", "-c", "echo a b"])),
            ("sh", b.exec(pid: 11, parent: 10, executable: "/bin/sh", arguments: ["sh"])),
            ("python", b.exec(pid: 12, executable: "/usr/bin/python3", arguments: ["python3", "-m", "http.server"])),
            ("echo", b.exec(pid: 13, executable: "/bin/echo", arguments: ["echo", #"say "hi""#, "it's", "a\tb"])),
            ("hosts", b.open(pid: 12, path: "/etc/hosts")),
            // O_WRONLY | O_CREAT | O_TRUNC
            ("nginx", b.open(pid: 12, path: "/etc/nginx/nginx.conf", flags: 0x241)),
            ("etcetera", b.open(pid: 12, path: "/etcetera/x")),
            ("ten", b.connect(pid: 12, to: "10.1.2.3", port: 443)),
            ("lan", b.connect(pid: 12, to: "192.168.1.5", port: 22)),
            ("v6", b.connect(pid: 12, to: "fd00::1", port: 8080)),
            ("doc6", b.connect(pid: 12, to: "2001:db8::7", port: 53)),
        ]
        names = labelled.map(\.0)
        events = labelled.map(\.1)
    }

    /// The names of the events `condition` holds on.
    func matching(_ condition: String) throws -> [String] {
        zip(names, try holds(condition, on: events, symbols: symbols)).filter(\.1).map(\.0)
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

    /// Each condition and the fixture events it holds on.
    static let operatorCases: [(String, [String])] = [
        ("proc.name = bash", ["bash"]),
        ("proc.name == bash", ["bash"]),
        ("evt.type = execve and proc.name != bash", ["sh", "python", "echo"]),
        // A comparison on a field the event does not carry is false, `!=` included.
        ("fd.name != /etc/hosts", ["nginx", "etcetera", "ten", "lan", "v6", "doc6"]),
        ("evt.type = execve and proc.pid < 11", ["bash"]),
        ("evt.type = execve and proc.pid <= 11", ["bash", "sh"]),
        ("evt.type = execve and proc.pid > 12", ["echo"]),
        ("evt.type = execve and proc.pid >= 12", ["python", "echo"]),
        ("fd.rport < 1024", ["ten", "lan", "doc6"]),
        ("fd.rport >= 1024", ["v6"]),
        ("proc.name in (bash, sh)", ["bash", "sh"]),
        ("fd.rport in (22, 53)", ["lan", "doc6"]),
        ("proc.name intersects (sh, zsh)", ["sh"]),
        ("fd.name contains nginx", ["nginx"]),
        ("fd.name icontains NGINX", ["nginx"]),
        ("fd.name startswith /etc/", ["hosts", "nginx"]),
        ("fd.name endswith .conf", ["nginx"]),
        ("fd.name glob '/etc/*/*.conf'", ["nginx"]),
        ("fd.name glob /etc/h?sts", ["hosts"]),
        ("fd.name glob /ETC/HOSTS", []),
        ("fd.name iglob '/ETC/NGINX/*.CONF'", ["nginx"]),
        // A path matches a prefix when it is the prefix or lies below it: /etcetera is not below /etc.
        ("fd.name pmatch (/etc, /var/log)", ["hosts", "nginx"]),
        ("fd.name pmatch (/etcetera/x)", ["etcetera"]),
        ("proc.pname exists", ["sh"]),
        ("evt.type = execve and not proc.pname exists", ["bash", "python", "echo"]),
        // Hex numbers.
        ("proc.pid = 0xA", ["bash"]),
        ("evt.arg.flags = 0x241", ["nginx"]),
        ("evt.arg.flags in (0, 0x241)", ["hosts", "nginx", "etcetera"]),
        // Addresses and CIDR ranges, IPv4 and IPv6; an IPv4 range never holds an IPv6 address.
        ("fd.rip = 192.168.1.5", ["lan"]),
        ("fd.rip != 192.168.1.5", ["ten", "v6", "doc6"]),
        ("fd.rip in (10.0.0.0/8)", ["ten"]),
        ("fd.rip in (10.0.0.0/8, 192.168.0.0/16)", ["ten", "lan"]),
        ("fd.rip in (0.0.0.0/0)", ["ten", "lan"]),
        ("fd.rip in (fd00::/8)", ["v6"]),
        ("fd.rip in (2001:db8::/32, 10.1.2.3)", ["ten", "doc6"]),
        ("fd.rip in (::/0)", ["v6", "doc6"]),
        // Booleans.
        ("evt.is_open_write = true", ["nginx"]),
        ("evt.is_open_write = TRUE", ["nginx"]),
        ("evt.is_open_write = false", ["hosts", "etcetera"]),
        ("evt.is_open_write != true", ["hosts", "etcetera"]),
        ("evt.is_open_read = true", ["hosts", "etcetera"]),
    ]

    @Test("each comparison operator holds on exactly the events it should", arguments: operatorCases)
    func comparisonOperators(condition: String, expected: [String]) throws {
        #expect(try OperatorFixture().matching(condition) == expected)
    }

    /// `and` binds tighter than `or`, `not` tighter than both; parentheses group.
    static let precedenceCases: [(String, [String])] = [
        // bash or (sh and pid 12): left to right it would be nothing.
        ("proc.name = bash or proc.name = sh and proc.pid = 12", ["bash"]),
        ("proc.name = bash or proc.name = sh and proc.pid = 11", ["bash", "sh"]),
        ("(proc.name = bash or proc.name = sh) and proc.pid = 11", ["sh"]),
        ("(proc.name = bash or proc.name = sh) and (proc.pid = 11)", ["sh"]),
        // (not bash) and pid 10: nothing; not (bash and pid 10) would be every other exec.
        ("not proc.name = bash and proc.pid = 10", []),
        ("not (proc.name = bash and proc.pid = 10) and evt.type = execve", ["sh", "python", "echo"]),
        ("not not proc.name = sh", ["sh"]),
        ("proc.name = bash and not proc.pid = 11 or proc.name = sh and not proc.pid = 10", ["bash", "sh"]),
        ("((proc.name = bash))", ["bash"]),
    ]

    @Test("not, and, or precedence and parentheses", arguments: precedenceCases)
    func precedence(condition: String, expected: [String]) throws {
        #expect(try OperatorFixture().matching(condition) == expected)
    }

    /// Quoted values keep spaces, commas and parentheses; backslash escapes quotes, `\t` and `\n`.
    static let quotingCases: [(String, [String])] = [
        ("proc.cmdline = 'bash -c echo a b'", ["bash"]),
        (#"proc.cmdline = "bash -c echo a b""#, ["bash"]),
        (#"proc.cmdline contains "say \"hi\"""#, ["echo"]),
        (#"proc.cmdline contains 'it\'s'"#, ["echo"]),
        (#"proc.cmdline endswith 'a\tb'"#, ["echo"]),
        (#"proc.name in ("x,y", 'a (b)', "echo")"#, ["echo"]),
    ]

    @Test("quoted values with spaces and escapes", arguments: quotingCases)
    func quotedValues(condition: String, expected: [String]) throws {
        #expect(try OperatorFixture().matching(condition) == expected)
    }

    /// A condition that does not compile, the error's code and the offending token (empty: not checked).
    struct BadCondition: Sendable, CustomTestStringConvertible {
        var condition: String
        var code: RuleError.Code
        var token: String
        init(_ condition: String, _ code: RuleError.Code, _ token: String) {
            self.condition = condition
            self.code = code
            self.token = token
        }
        var testDescription: String { condition }
    }

    static let errorCases: [BadCondition] = [
        BadCondition("proc.name = 'bash", .syntax, "'"),
        BadCondition("proc.name =", .syntax, ""),
        BadCondition("(proc.name = bash", .syntax, ""),
        BadCondition("proc.name = bash )", .syntax, ")"),
        BadCondition("proc.name in (bash, sh", .syntax, "("),
        BadCondition("proc.name < 3", .unsupportedOperator, "proc.name"),
        BadCondition("proc.pid = ten", .invalidValue, "ten"),
        BadCondition("evt.arg.flags = 0xZZ", .invalidValue, "0xZZ"),
        BadCondition("fd.rip in (10.0.0.0/33)", .invalidValue, "10.0.0.0/33"),
        BadCondition("fd.rip in (10.0.0.300)", .invalidValue, "10.0.0.300"),
        BadCondition("fd.rip startswith 10.", .unsupportedOperator, "fd.rip"),
        BadCondition("evt.is_open_write = yes", .invalidValue, "yes"),
        BadCondition("fd.rip contains 10", .unsupportedOperator, "fd.rip"),
        BadCondition("evt.is_open_write startswith t", .unsupportedOperator, "evt.is_open_write"),
        BadCondition("proc.name = a or undefined_macro", .unknownMacro, "undefined_macro"),
    ]

    @Test("a condition that does not compile is an error with its code and token", arguments: errorCases)
    func compileErrors(_ bad: BadCondition) throws {
        do {
            _ = try resolve(bad.condition)
            Issue.record("\(bad.condition) compiled")
        } catch {
            #expect(error.code == bad.code, "\(error)")
            if !bad.token.isEmpty { #expect(error.token == bad.token, "\(error)") }
            #expect(error.rule == "test")
        }
    }

    @Test("regex is refused with a clear error that names the rule, the field and what to use instead")
    func regexRefused() throws {
        var loader = RuleLoader()
        try loader.addFile(
            text: ruleEntry("Regex", "proc.name regex 'ba.*'") + ruleEntry("Fine", "proc.name = bash"),
            name: "regex.yaml")
        let compiled = loader.compile()
        #expect(compiled.rules.map(\.name) == ["Fine"])
        let failure = try #require(compiled.failures.first)
        #expect(compiled.failures.count == 1)
        #expect(failure.rule == "Regex")
        #expect(failure.code == .unsupportedOperator)
        #expect(failure.token == "proc.name")
        #expect(failure.location?.line == 3)
        #expect(failure.message.contains("regular expressions"))
        #expect(failure.message.contains("glob"))
    }

    @Test("a list may name other lists, even ones appended to later; they expand recursively")
    func listsOfLists() throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let events = ["bash", "zsh", "dash", "fish", "python3"].enumerated().map { index, name in
            b.exec(pid: 20 + Int32(index), executable: "/bin/\(name)")
        }
        let yaml =
            """
            - list: base_shells
              items: [bash, sh]
            - list: more_shells
              items: [base_shells, zsh]
            - list: all_shells
              items: [more_shells, "fish"]
            - list: base_shells
              items: [dash]
              append: true

            """ + ruleEntry("Shell", "evt.type = execve and proc.name in (all_shells)")
        let ids = try matches(yaml, events, symbols: symbols)
        #expect(ids.map { !$0.isEmpty } == [true, true, true, true, false])
    }

    @Test("a macro that refers to itself, directly or through another, fails its rules instead of looping")
    func macroRecursion() throws {
        var loader = RuleLoader()
        try loader.addFile(
            text: """
                - macro: first
                  condition: second and proc.name = x
                - macro: second
                  condition: first
                - macro: itself
                  condition: itself or proc.name = y

                """ + ruleEntry("Mutual", "first") + ruleEntry("Direct", "evt.type = execve and itself")
                    + ruleEntry("Unaffected", "proc.name = z"),
            name: "macros.yaml")
        let compiled = loader.compile()
        #expect(compiled.rules.map(\.name) == ["Unaffected"])
        #expect(compiled.failures.map(\.rule) == ["Mutual", "Direct"])
        #expect(compiled.failures.map(\.token) == ["first", "itself"])
        #expect(compiled.failures.first?.message.contains("first → second → first") == true)
        #expect(compiled.failures.last?.message.contains("itself → itself") == true)
    }

    @Test("output templates render fields, print <NA> for a field the event lacks and keep unknown names")
    func outputTemplate() throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        var loader = RuleLoader()
        try loader.addFile(
            text: ruleEntry(
                "Hosts", "fd.name = /etc/hosts",
                output: #""%proc.name (pid %proc.pid) opened %fd.name in %container.image, %nosuch.field""#)
                + ruleEntry("Silent", "fd.name = /etc/hosts", output: "''"),
            name: "output.yaml")
        let compiled = loader.compile()
        #expect(compiled.failures.isEmpty)
        var detector = RuleDetector(rules: compiled.rules, symbols: symbols)
        var findings: [Finding] = []
        // pid 77 was never seen executing: its name is unknown; the host has no container image.
        detector.inspect(EventBatch([b.open(pid: 77, path: "/etc/hosts")]), into: &findings)
        #expect(findings.map(\.explanation) == ["<NA> (pid 77) opened /etc/hosts in <NA>, %nosuch.field", "d"])
        findings.removeAll()
        detector.inspect(
            EventBatch([b.exec(pid: 78, executable: "/usr/bin/cat"), b.open(pid: 78, path: "/etc/hosts")]),
            into: &findings)
        #expect(findings.first?.explanation == "cat (pid 78) opened /etc/hosts in <NA>, %nosuch.field")
    }

    @Test("Falco exceptions (fields, comps, values) suppress the matches they describe, and only those")
    func exceptions() throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let events = [
            b.exec(pid: 30, executable: "/usr/sbin/sshd"),
            b.open(pid: 30, path: "/etc/ssh/sshd_config"),  // excepted: sshd below /etc/ssh/
            b.open(pid: 30, path: "/etc/shadow"),  // reported: sshd, but not below /etc/ssh/
            b.exec(pid: 31, executable: "/usr/sbin/cron"),
            b.open(pid: 31, path: "/etc/crontab"),  // excepted: cron, /etc/cron*
            b.exec(pid: 32, executable: "/lib/systemd/systemd"),
            b.open(pid: 32, path: "/etc/passwd"),  // excepted: systemd, any file
            b.exec(pid: 33, executable: "/usr/bin/cat"),
            b.open(pid: 33, path: "/etc/ssh/sshd_config"),  // reported: cat is not excepted
            b.exec(pid: 34, executable: "/usr/bin/login"),
            b.open(pid: 34, path: "/etc/login.defs"),  // excepted: login with a listed file
            b.open(pid: 34, path: "/etc/group"),  // reported: login, file not listed
        ]
        let yaml = ruleEntry(
            "Read below etc", "evt.type = openat and fd.name startswith /etc/",
            extra: """
                  exceptions:
                    - name: known_readers
                      fields: [proc.name, fd.name]
                      comps: [=, startswith]
                      values:
                        - [sshd, /etc/ssh/]
                        - [cron, /etc/cron]
                    - name: login_files
                      fields: [proc.name, fd.name]
                      comps: [=, in]
                      values:
                        - [login, [/etc/login.defs, /etc/securetty]]
                    - name: init
                      fields: proc.name
                      values: [systemd, init]
                """)
        let reported = try matches(yaml, events, symbols: symbols).enumerated().filter { !$0.element.isEmpty }
        #expect(reported.map(\.offset) == [2, 8, 11])
    }
}

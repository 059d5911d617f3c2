import Foundation
import Testing
import VigilAuditLog
import VigilCloudEvents
import VigilCore
import VigilRules
import VigilTestKit

/// Falco's rule files and test data, read from the shared data (`../shared/data/`): the default rules
/// (falcosecurity/rules), the Kubernetes audit and CloudTrail plugin rules (falcosecurity/plugins), Falco's own
/// Kubernetes audit test cases (falcosecurity/falco), and Stratus Red Team's CloudTrail detonations — all
/// Apache-2.0.
private enum FalcoData {
    static let root: String = {
        if let override = ProcessInfo.processInfo.environment["VIGIL_TEST_DATA"] { return override }
        // #filePath is …/main/Tests/VigilRulesTests/FalcoCompatibilityTests.swift; the data is …/shared/data.
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)
        return parts.joined(separator: "/") + "/shared/data"
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }

    static func rules(_ file: String) -> String { path("rules/falco/" + file) }

    static func bytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path(relative))))
    }
}

/// Compiles rule files (paths) and rule texts, in order.
private func compile(files: [String] = [], texts: [(name: String, text: String)] = []) throws -> RuleLoader.Compiled {
    var loader = RuleLoader()
    for file in files { try loader.addFile(at: file) }
    for (name, text) in texts { try loader.addFile(text: text, name: name) }
    return loader.compile()
}

/// The findings of `rules` over `events`, in one batch.
private func findings(_ rules: [Rule], _ events: [Event], symbols: SymbolTable) -> [Finding] {
    var detector = RuleDetector(rules: rules, symbols: symbols)
    var found: [Finding] = []
    detector.inspect(EventBatch(events), into: &found)
    return found
}

/// Kubernetes audit events from JSON lines.
private func kubernetesEvents(_ lines: [String], symbols: SymbolTable) -> [Event] {
    var parser = KubernetesAuditParser(symbols: symbols)
    var batch = EventBatch()
    for line in lines { parser.parse(line: line, into: &batch) }
    return Array(batch.events)
}

@Suite("Falco compatibility")
struct FalcoCompatibilityTests {
    // MARK: Loading Falco's rule files

    /// How many rules of each file load; the others fail only for a field Vigil's events lack or a macro built
    /// on one.
    static let expectedLoads = [
        ("falco_rules.yaml", 15), ("k8s_audit_rules.yaml", 48), ("aws_cloudtrail_rules.yaml", 22),
    ]

    /// The rules of falco_rules.yaml that do not load, with the field each one lacks.
    static let expectedFalcoRuleFailures: [String: String] = [
        "Directory traversal monitored file read": "fd.nameraw",
        "Read sensitive file trusted after startup": "proc.duration",
        "Terminal shell in container": "proc.tty",
        "Contact K8S API Server From Container": "fd.sip.name",
        "Linux Kernel Module Injection Detected": "thread.cap_effective",
        "Debugfs Launched in Privileged Container": "container.privileged",
        "Detect release_agent File Container Escapes": "thread.cap_effective",
        "Drop and execute new binary in container": "proc.is_exe_upper_layer",
        "Disallowed SSH Connection Non Standard Port": "fd.connected",
        "Fileless execution via memfd_create": "proc.is_exe_from_memfd",
    ]

    @Test("every rule of Falco's three rule files loads, or fails naming the Falco field or macro Vigil lacks")
    func falcoRuleFilesLoad() throws {
        for (file, loaded) in Self.expectedLoads {
            let compiled = try compile(files: [FalcoData.rules(file)])
            #expect(compiled.entryErrors.isEmpty, "\(file): \(compiled.entryErrors)")
            #expect(compiled.rules.count == loaded, "\(file): \(compiled.rules.count) loaded")
            for failure in compiled.failures {
                #expect(
                    failure.code == .unsupportedField || failure.code == .unknownMacro, "\(file): \(failure)")
                #expect(!failure.rule.isEmpty && !failure.token.isEmpty, "\(file): \(failure)")
            }
            if file == "falco_rules.yaml" {
                let failed = Dictionary(uniqueKeysWithValues: compiled.failures.map { ($0.rule, $0.token) })
                #expect(failed == Self.expectedFalcoRuleFailures)
            } else {
                #expect(compiled.failures.isEmpty, "\(file): \(compiled.failures)")
            }
        }
    }

    @Test("Falco's plugin rules take a real ATT&CK technique of their tactic from FalcoMITRE")
    func pluginRulesHaveMITREMappings() throws {
        // technique id → its tactics, for techniques neither deprecated nor revoked (ATT&CK v18.1).
        var tactics: [String: Set<String>] = [:]
        let table = try String(contentsOfFile: FalcoData.path("mitre/enterprise_techniques.tsv"), encoding: .utf8)
        for line in table.split(separator: "\n").dropFirst() {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard columns.count >= 6, columns[4] == "False", columns[5] == "False" else { continue }
            tactics[columns[0]] = Set(columns[2].split(separator: ",").map(String.init))
        }
        #expect(tactics.count > 600)
        var names: Set<String> = []
        for file in ["k8s_audit_rules.yaml", "aws_cloudtrail_rules.yaml"] {
            for rule in try compile(files: [FalcoData.rules(file)]).rules {
                names.insert(rule.name)
                #expect(rule.mitre == FalcoMITRE.mapping(forRule: rule.name), "\(rule.name)")
            }
        }
        #expect(names.count == 70)
        // No stale entries, and each is a live technique that serves its tactic.
        #expect(Set(FalcoMITRE.ruleNames) == names)
        for name in FalcoMITRE.ruleNames {
            let mapping = try #require(FalcoMITRE.mapping(forRule: name))
            #expect(tactics[mapping.technique]?.contains(mapping.tactic.name) == true, "\(name): \(mapping)")
        }
    }

    @Test("a rule's own MITRE tags win over the table, and a rule with neither does not load")
    func mitreTagsWin() throws {
        let compiled = try compile(texts: [
            (
                "mitre.yaml",
                """
                - rule: Attach/Exec Pod
                  desc: d
                  condition: ka.verb = create
                  output: x
                  priority: NOTICE
                  source: k8s_audit
                  tags: [mitre_discovery, T1613]
                - rule: Something Else
                  desc: d
                  condition: ka.verb = create
                  output: x
                  priority: NOTICE
                  source: k8s_audit
                """
            )
        ])
        #expect(compiled.rules.map(\.mitre) == [MITREMapping(tactic: .discovery, technique: "T1613")])
        #expect(compiled.failures.map(\.rule) == ["Something Else"])
        #expect(compiled.failures.map(\.code) == [.invalidEntry])
    }

    // MARK: Falco's Kubernetes audit test cases

    /// Falco's test rule files that the shared data does not hold, as they were in falcosecurity/falco
    /// (`test/rules/k8s_audit/`), by the end of the path the cases name.
    static let testRuleFiles: [String: String] = [
        "/allow_namespace_foo.yaml": "- list: allowed_namespaces\n  items: [foo]\n  append: true\n",
        "/allow_user_some-user.yaml": "- list: allowed_k8s_users\n  items: [some-user]\n  append: true\n",
        "/disallow_kactivity.yaml": "- macro: consider_activity_events\n  condition: (not jevt.rawtime exists)\n",
        "k8s_audit/allow_nginx_container.yaml":
            "- macro: allowed_k8s_containers\n  condition: (ka.req.pod.containers.image.repository in (nginx))\n",
        "k8s_audit/allow_only_apache_container.yaml":
            "- macro: allowed_k8s_containers\n  condition: (ka.req.pod.containers.image.repository in (thisdoesnotwork))\n",
        "engine_v4/allow_nginx_container.yaml":
            "- macro: allowed_k8s_containers\n  condition: (ka.req.container.image.repository=nginx)\n",
        "engine_v4/allow_only_apache_container.yaml":
            "- macro: allowed_k8s_containers\n  condition: (ka.req.container.image=apache)\n",
        // Falco's file appended nginx to the image lists the rules of its day read (falco_privileged_images…);
        // today's k8s_audit_rules.yaml reads these.
        "/trust_nginx_container.yaml": """
        - list: k8s_audit_privileged_images
          items: [nginx]
          append: true
        - list: k8s_audit_sensitive_mount_images
          items: [nginx]
          append: true
        - list: k8s_audit_hostnetwork_images
          items: [nginx]
          append: true
        """,
        // Falco's test rule, with a MITRE mapping (Vigil's loader needs one).
        "/single_rule_with_json_pointer.yaml": """
        - rule: json_pointer_example
          desc: A rule example using JSON Pointer (RFC 6901)
          condition: jevt.value[/annotations/authorization.k8s.io~1decision] exists and not (jevt.value[/a~1~0b] exists)
          output: "JSON Pointer Test Alert"
          priority: WARNING
          source: k8s_audit
          mitre: {tactic: discovery, technique: T1613}
        """,
    ]

    /// Rules the cases name that today's k8s_audit_rules.yaml splits in two; each case's event is the cluster-scoped
    /// kind.
    static let renamedRules = [
        "K8s Role/Clusterrole Created": "K8s ClusterRole Created",
        "K8s Role/Clusterrole Deleted": "K8s ClusterRole Deleted",
        "K8s Role/Clusterrolebinding Created": "K8s ClusterRoleBinding Created",
        "K8s Role/Clusterrolebinding Deleted": "K8s ClusterRoleBinding Deleted",
    ]

    /// One of Falco's cases: rule files, an input file, and the alerts expected (none when `detect` is false).
    struct AuditCase {
        var name: String
        var detect: Bool
        var counts: [String: Int]
        var ruleFiles: [String]
        var input: String
    }

    static func auditCases() throws -> [AuditCase] {
        let path = FalcoData.path("k8s-audit/falco/falco_k8s_audit_tests.yaml")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let document = try YAMLValue.parse(text, name: path)
        let cases = try #require(document["trace_files"]?.object)
        return try cases.members.map { name, value in
            var counts: [String: Int] = [:]
            for entry in value["detect_counts"]?.array ?? [] {
                for (rule, count) in entry.object ?? JSONObject() {
                    counts[renamedRules[rule] ?? rule] = Int(count.int64 ?? -1)
                }
            }
            let options = try #require(value["addl_cmdline_opts"]?.string)
            let input = try #require(options.split(separator: "trace_files/").last.map(String.init))
            let detect: Bool = try #require(value["detect"]?.bool)
            return AuditCase(
                name: name, detect: detect, counts: counts,
                ruleFiles: value["rules_file"]?.array?.compactMap(\.string) ?? [], input: input)
        }
    }

    /// The rule files of a case, in order: Falco's own from the shared data, its test files from
    /// ``testRuleFiles``. Falco's engine-v4 copy of the Kubernetes rules is today's k8s_audit_rules.yaml.
    static func ruleSources(_ files: [String]) throws -> (files: [String], texts: [(name: String, text: String)]) {
        var paths: [String] = []
        var texts: [(name: String, text: String)] = []
        for file in files {
            if file.hasSuffix("/falco_rules.yaml") {
                paths.append(FalcoData.rules("falco_rules.yaml"))
            } else if file.hasSuffix("k8s_audit_rules.yaml") {
                let rules = FalcoData.rules("k8s_audit_rules.yaml")
                if !paths.contains(rules) { paths.append(rules) }
            } else if let text = testRuleFiles.first(where: { file.hasSuffix($0.key) })?.value {
                texts.append((file, text))
            } else {
                Issue.record("no rule file for \(file)")
            }
        }
        return (paths, texts)
    }

    @Test("Falco's 66 Kubernetes audit test cases: 45 alert with the rule they name, 21 raise nothing")
    func falcoKubernetesAuditCases() throws {
        let cases = try Self.auditCases()
        #expect(cases.count == 66)
        #expect(cases.filter(\.detect).count == 45)
        var compiledBySet: [[String]: RuleLoader.Compiled] = [:]
        var passed = 0
        for auditCase in cases {
            let compiled: RuleLoader.Compiled
            if let known = compiledBySet[auditCase.ruleFiles] {
                compiled = known
            } else {
                let sources = try Self.ruleSources(auditCase.ruleFiles)
                compiled = try compile(files: sources.files, texts: sources.texts)
                compiledBySet[auditCase.ruleFiles] = compiled
            }
            let bytes = try FalcoData.bytes("k8s-audit/falco/" + auditCase.input)
            var casePassed = true
            // Both readers of audit lines, byte-level and tree, must give the same verdict.
            for fastPath in [true, false] {
                let symbols = SymbolTable()
                var parser = KubernetesAuditParser(symbols: symbols, fastPath: fastPath)
                var batch = EventBatch()
                parser.parse(document: bytes, into: &batch)
                let found = findings(compiled.rules, Array(batch.events), symbols: symbols)
                var counts: [String: Int] = [:]
                for finding in found { counts[finding.rule.name, default: 0] += 1 }
                let ok: Bool
                if auditCase.detect {
                    ok = auditCase.counts.allSatisfy { counts[$0.key] == $0.value }
                } else {
                    ok = found.isEmpty
                }
                if !ok {
                    casePassed = false
                    Issue.record(
                        "\(auditCase.name) (fast path \(fastPath)): expected \(auditCase.detect ? "\(auditCase.counts)" : "nothing"), found \(counts)"
                    )
                }
                if auditCase.name == "fal_01_003" {
                    // Falco reports "data not recognized as a k8s audit event"; Vigil counts it.
                    #expect(batch.events.isEmpty)
                    #expect(parser.statistics.skipped[.notAuditEvent] == 1)
                }
            }
            if casePassed { passed += 1 }
        }
        print("Falco k8s audit cases: \(passed) of \(cases.count) pass")
        #expect(passed == 66)
    }

    // MARK: Fields read from details

    static let pod = #"""
        {"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/namespaces/default/pods","user":{"username":"alice","groups":["system:masters","system:authenticated"]},"objectRef":{"resource":"pods","namespace":"default","name":"web"},"responseStatus":{"code":201},"annotations":{"authorization.k8s.io/decision":"allow"},"requestObject":{"kind":"Pod","metadata":{"name":"web"},"spec":{"hostNetwork":true,"containers":[{"name":"app","image":"nginx:1.25","securityContext":{"privileged":true}},{"name":"cache","image":"registry:5000/redis@sha256:0f"}],"volumes":[{"name":"root","hostPath":{"path":"/etc/kubernetes"}}]}}}
        """#
    static let exec = #"""
        {"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseStarted","verb":"create","requestURI":"/api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&container=app","user":{"username":"bob"},"objectRef":{"resource":"pods","namespace":"default","name":"web","subresource":"exec"},"responseStatus":{"code":101}}
        """#

    /// The names of the rules in `yaml` that match each event.
    static func matching(_ yaml: String, _ lines: [String]) throws -> [[String]] {
        let compiled = try compile(texts: [("test.yaml", yaml)])
        #expect(compiled.failures.isEmpty, "\(compiled.failures)")
        let symbols = SymbolTable()
        let events = kubernetesEvents(lines, symbols: symbols)
        #expect(events.count == lines.count)
        return events.map { event in findings(compiled.rules, [event], symbols: symbols).map(\.rule.name) }
    }

    static func rule(_ name: String, _ condition: String, output: String = "x") -> String {
        """
        - rule: \(name)
          desc: d
          condition: \(condition)
          output: \(output)
          priority: WARNING
          source: k8s_audit
          tags: [mitre_execution, T1610]

        """
    }

    @Test("list fields: = and intersects need one element, in needs every element, != needs none")
    func listFieldSemantics() throws {
        let yaml = [
            Self.rule("in all", "ka.req.pod.containers.image.repository in (nginx, registry:5000/redis)"),
            Self.rule("in some", "ka.req.pod.containers.image.repository in (nginx, busybox)"),
            Self.rule("intersects", "ka.req.pod.containers.image.repository intersects (busybox, nginx)"),
            Self.rule("equal one", "ka.req.pod.containers.image = nginx:1.25"),
            Self.rule("not equal", "ka.req.pod.containers.image != nginx:1.25"),
            Self.rule("contains", "ka.req.pod.containers.image contains redis"),
            Self.rule("index", "ka.req.pod.containers.image[1] startswith registry:5000/"),
            Self.rule("privileged", "ka.req.pod.containers.privileged intersects (true)"),
            Self.rule("host network", "ka.req.pod.host_network = true and ka.req.container.host_network = true"),
            Self.rule(
                "host path",
                "ka.req.pod.volumes.hostpath intersects (/etc/kubernetes) and ka.req.volume.hostpath[/etc*] = true"),
            Self.rule("groups", "ka.user.groups intersects (system:masters)"),
            Self.rule(
                "decision",
                "jevt.value[/annotations/authorization.k8s.io~1decision] = allow and ka.auth.decision = allow"),
            Self.rule("stage", "jevt.value[/stage] in (ResponseComplete) and ka.response.code startswith 2"),
            Self.rule("command", "ka.uri.param[command] = sh and ka.uri.param[container] = app"),
            Self.rule("missing", "jevt.value[/nothing/here] exists"),
        ].joined()
        let matched = try Self.matching(yaml, [Self.pod, Self.exec])
        #expect(
            matched[0] == [
                "in all", "intersects", "equal one", "contains", "index", "privileged", "host network", "host path",
                "groups", "decision", "stage",
            ])
        // The exec request has no pod spec: list fields are missing, so only `!=`… is false too.
        #expect(matched[1] == ["command"])
    }

    @Test("outputs print list fields as Falco does, pointers in brackets, and fields Vigil lacks as <NA>")
    func outputs() throws {
        let yaml = Self.rule(
            "Out", "ka.verb = create",
            output: "images=%ka.req.pod.containers.image repo=%ka.req.container.image.repository"
                + " user=%ka.user.name path=%jevt.value[/requestObject/spec/volumes/0/hostPath/path]"
                + " resp=%ka.resp.name")
        let compiled = try compile(texts: [("out.yaml", yaml)])
        let symbols = SymbolTable()
        let found = findings(compiled.rules, kubernetesEvents([Self.pod], symbols: symbols), symbols: symbols)
        #expect(
            found.map(\.explanation) == [
                "images=(nginx:1.25,registry:5000/redis@sha256:0f) repo=nginx user=alice path=/etc/kubernetes"
                    + " resp=<NA>"
            ])
    }

    @Test("a JSON pointer into parts Vigil does not keep is unsupported; one into nothing loads and never matches")
    func jsonPointers() throws {
        let compiled = try compile(texts: [
            (
                "pointers.yaml",
                Self.rule("Response", "jevt.value[/responseObject/metadata/name] exists")
                    + Self.rule("Relative", "jevt.value[stage] exists")
                    + Self.rule("Whole", "jevt.value[] contains ResponseComplete")
            )
        ])
        #expect(compiled.failures.map(\.code) == [.unsupportedField, .invalidValue])
        #expect(compiled.failures.map(\.token) == ["jevt.value[/responseObject/metadata/name]", "jevt.value[stage]"])
        let symbols = SymbolTable()
        let found = findings(
            compiled.rules, kubernetesEvents([Self.pod, Self.exec], symbols: symbols), symbols: symbols)
        #expect(found.map(\.rule.name) == ["Whole"])
    }

    @Test("an event seen again is decided from the remembered details, with the same result")
    func repeatedDetails() throws {
        let compiled = try compile(texts: [
            ("repeat.yaml", Self.rule("Privileged", "ka.req.pod.containers.privileged intersects (true)"))
        ])
        let symbols = SymbolTable()
        let events = kubernetesEvents([Self.pod, Self.exec, Self.pod, Self.pod], symbols: symbols)
        var detector = RuleDetector(rules: compiled.rules, symbols: symbols)
        var found: [Finding] = []
        for event in events { detector.inspect(EventBatch([event]), into: &found) }
        #expect(found.count == 3)
    }

    @Test("fd.snet and fd.rip match an IPv4 peer by its own prefix bits, not the IPv6 form it is kept in")
    func networks() throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let events = [
            builder.connect(pid: 12, to: "10.1.2.3", port: 443), builder.connect(pid: 12, to: "192.168.1.5", port: 22),
            builder.connect(pid: 12, to: "fd00::1", port: 80),
        ]
        let yaml = """
            - rule: Private
              desc: d
              condition: evt.type = connect and fd.snet in (10.0.0.0/8, 172.16.0.0/12)
              output: x
              priority: WARNING
              tags: [mitre_discovery, T1046]
            - rule: Host
              desc: d
              condition: evt.type = connect and fd.rip = 192.168.1.5
              output: x
              priority: WARNING
              tags: [mitre_discovery, T1046]
            - rule: Unique local
              desc: d
              condition: evt.type = connect and fd.rnet in (fd00::/8)
              output: x
              priority: WARNING
              tags: [mitre_discovery, T1046]
            """
        let compiled = try compile(texts: [("net.yaml", yaml)])
        #expect(compiled.failures.isEmpty)
        let matched = events.map { findings(compiled.rules, [$0], symbols: symbols).map(\.rule.name) }
        #expect(matched == [["Private"], ["Host"], ["Unique local"]])
    }

    @Test("numeric syscall arguments compare and print as Falco's text: open flags, modes, ptrace requests")
    func numericArgumentsAsText() throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let process = ProcessKey(pid: 12, startTime: 12)
        let events = [
            // O_WRONLY | O_CREAT | O_TRUNC, then a plain read.
            builder.open(pid: 12, path: "/var/log/auth.log", flags: 0o1101),
            builder.open(pid: 12, path: "/var/log/auth.log", flags: 0),
            Event(
                time: 1, kind: .fileChmod, process: process,
                fields: .file(FileFields(path: symbols.intern("/tmp/x"), mode: 0o4755))),
            Event(
                time: 2, kind: .ptrace, process: process,
                fields: .ptrace(PtraceFields(request: 16, target: ProcessKey(pid: 13, startTime: 13)))),
        ]
        let yaml = """
            - rule: Truncate
              desc: d
              condition: evt.type = openat and evt.arg.flags contains O_TRUNC
              output: flags=%evt.arg.flags
              priority: WARNING
              tags: [mitre_defense_evasion, T1070]
            - rule: Setuid
              desc: d
              condition: evt.type = fchmodat and evt.arg.mode contains S_ISUID
              output: mode=%evt.arg.mode
              priority: WARNING
              tags: [mitre_privilege_escalation, T1548.001]
            - rule: Attach
              desc: d
              condition: evt.type = ptrace and evt.arg.request contains PTRACE_ATTACH
              output: request=%evt.arg.request
              priority: WARNING
              tags: [mitre_privilege_escalation, T1055.008]
            """
        let compiled = try compile(texts: [("numbers.yaml", yaml)])
        #expect(compiled.failures.isEmpty)
        let explanations = events.map { findings(compiled.rules, [$0], symbols: symbols).map(\.explanation) }
        #expect(
            explanations == [
                ["flags=O_WRONLY|O_CREAT|O_TRUNC"], [],
                ["mode=4755(S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR|S_ISUID)"],
                ["request=PTRACE_ATTACH"],
            ])
    }

    @Test("Falco's packet socket rule fires on a packet socket in a container, not on a raw one or on the host")
    func packetSocketRule() throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let web = builder.workload(deployment: "web")
        let container = symbols.intern("3f4e9a0c2b7d41e6a8c95f0d7e3b2a1c4d5e6f708192a3b4c5d6e7f8091a2b3c")
        var inContainer = builder.socket(pid: 40, workload: web)
        inContainer.container = container
        var raw = builder.socket(pid: 40, transport: .raw, workload: web)
        raw.container = container
        let onHost = builder.socket(pid: 41)
        let compiled = try compile(files: [FalcoData.path("rules/falco/falco_rules.yaml")])
        let rules = compiled.rules.filter { $0.name == "Packet socket created in container" }
        try #require(rules.count == 1)
        #expect(findings(rules, [inContainer], symbols: symbols).count == 1)
        #expect(findings(rules, [raw], symbols: symbols).isEmpty)
        #expect(findings(rules, [onHost], symbols: symbols).isEmpty)
    }

    // MARK: CloudTrail

    /// The events of one Stratus Red Team detonation file.
    static func stratusEvents(_ technique: String, symbols: SymbolTable) throws -> [Event] {
        let path = FalcoData.path("cloudtrail/stratus-red-team/detonation-logs/\(technique).json")
        var decoder = try CloudEventDecoder(
            bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))), symbols: symbols, path: path)
        var batch = EventBatch()
        while decoder.fill(&batch) {}
        return Array(batch.events)
    }

    @Test("Falco's CloudTrail rules fire on Stratus Red Team's detonations, with their request details in the output")
    func cloudTrailRulesOnRealRecords() throws {
        let compiled = try compile(files: [FalcoData.rules("aws_cloudtrail_rules.yaml")])
        let rules = compiled.rules.filter(\.enabled)
        let expected: [(technique: String, rule: String, output: String)] = [
            (
                "aws.initial-access.console-login-without-mfa", "Console Login Without MFA",
                "requesting user=stratus-red-team-nmfalu-jfzdtsvchl"
            ),
            ("aws.persistence.lambda-overwrite-code", "Update Lambda Function Code", "lambda function=arn:aws:lambda:"),
            (
                "aws.defense-evasion.cloudtrail-stop", "CloudTrail Logging Disabled",
                "resource name=stratus-red-team-ct-stop-trail-"
            ),
            ("aws.persistence.iam-create-admin-user", "Create AWS user", "new user created=malicious-iam-user"),
        ]
        for (technique, rule, output) in expected {
            let symbols = SymbolTable()
            let found = findings(rules, try Self.stratusEvents(technique, symbols: symbols), symbols: symbols)
            let matches = found.filter { $0.rule.name == rule }
            #expect(matches.count == 1, "\(technique): \(found.map(\.rule.name))")
            #expect(matches.first?.explanation.contains(output) == true, "\(matches.first?.explanation ?? "")")
            // The console login was an IAM user's, without MFA: neither the assumed-role nor the root rule.
            #expect(!found.contains { $0.rule.name == "Console Login Through Assume Role" })
            #expect(!found.contains { $0.rule.name == "Console Root Login Without MFA" })
        }
    }

    @Test("ct.user is Falco's user name, ct.user.arn the caller's ARN, ct.name matches any API version")
    func cloudTrailFields() throws {
        let yaml = """
            - rule: User
              desc: d
              condition: ct.user = malicious-iam-user or (ct.name = "UpdateFunctionCode20150331v2" and ct.user.identitytype = IAMUser)
              output: "%ct.user %ct.user.arn %ct.info"
              priority: WARNING
              source: aws_cloudtrail
              tags: [mitre_persistence, T1136.003]
            """
        let compiled = try compile(texts: [("ct.yaml", yaml)])
        #expect(compiled.failures.isEmpty)
        let symbols = SymbolTable()
        let events = try Self.stratusEvents("aws.persistence.lambda-overwrite-code", symbols: symbols)
        let found = findings(compiled.rules, events, symbols: symbols)
        #expect(found.count == 1)
        // ct.info: the user, from where, a write (→), the action.
        #expect(
            found.first?.explanation
                == "christophe arn:aws:iam::266106314375:user/christophe christophe via 253.8.50.132 → UpdateFunctionCode"
        )
    }
}

import Testing
import VigilCore
import VigilResponse

@Suite("Response policy: matching")
struct PolicyMatchingTests {
    /// The action `policy` picks for `alert`.
    private func action(_ policy: ResponsePolicy, _ alert: Alert, _ symbols: SymbolTable) -> ResponseActionKind {
        policy.decide(AlertFacts(alert, symbols: symbols)).action
    }

    @Test("a parent technique matches its sub-techniques; a sub-technique does not match its parent or siblings")
    func techniques() throws {
        var alerts = Alerts()
        let policy = try parsePolicy("rules:\n  - match: { technique: T1059 }\n    action: kill\n")
        let child = alerts.finding(process: ProcessKey(pid: 10, startTime: 1), technique: "T1059.004")
        let parent = alerts.finding(process: ProcessKey(pid: 10, startTime: 1), technique: "T1059")
        let other = alerts.finding(process: ProcessKey(pid: 10, startTime: 1), technique: "T1595")
        let prefix = alerts.finding(process: ProcessKey(pid: 10, startTime: 1), technique: "T1105")
        #expect(action(policy, .finding(child), alerts.symbols) == .kill)
        #expect(action(policy, .finding(parent), alerts.symbols) == .kill)
        #expect(action(policy, .finding(other), alerts.symbols) == .report)
        #expect(action(policy, .finding(prefix), alerts.symbols) == .report)

        let narrow = try parsePolicy("rules:\n  - match: { technique: T1059.004 }\n    action: kill\n")
        #expect(action(narrow, .finding(child), alerts.symbols) == .kill)
        #expect(action(narrow, .finding(parent), alerts.symbols) == .report)
        let sibling = alerts.finding(process: ProcessKey(pid: 10, startTime: 1), technique: "T1059.006")
        #expect(action(narrow, .finding(sibling), alerts.symbols) == .report)
    }

    @Test("rule id and workload globs; workload names come from the symbol table")
    func globs() throws {
        var alerts = Alerts()
        let policy = try parsePolicy(
            """
            rules:
              - match: { rule: "vigil.workload.crypto-*", workload: "prod/*" }
                action: kill
            """)
        let prod = alerts.workload(namespace: "prod", deployment: "web")
        let staging = alerts.workload(namespace: "staging", deployment: "web")
        let key = ProcessKey(pid: 10, startTime: 1)
        #expect(
            action(
                policy, .finding(alerts.finding(process: key, rule: "vigil.workload.crypto-miner", workload: prod)),
                alerts.symbols) == .kill)
        #expect(
            action(
                policy, .finding(alerts.finding(process: key, rule: "vigil.workload.crypto-miner", workload: staging)),
                alerts.symbols) == .report)
        #expect(
            action(
                policy, .finding(alerts.finding(process: key, rule: "vigil.workload.shell", workload: prod)),
                alerts.symbols) == .report)
    }

    @Test("executable globs match the target process's executable")
    func executables() throws {
        var alerts = Alerts()
        let policy = try parsePolicy(
            "rules:\n  - match: { executable: [\"/tmp/*\", /usr/bin/xmrig] }\n    action: kill\n")
        let key = ProcessKey(pid: 10, startTime: 1)
        #expect(
            action(policy, .finding(alerts.finding(process: key, executable: "/tmp/x/miner")), alerts.symbols) == .kill)
        #expect(
            action(policy, .finding(alerts.finding(process: key, executable: "/usr/bin/xmrig")), alerts.symbols)
                == .kill)
        #expect(
            action(policy, .finding(alerts.finding(process: key, executable: "/usr/bin/sleep")), alerts.symbols)
                == .report)
        #expect(throws: ResponsePolicyError.self) {
            try parsePolicy("rules:\n  - match: { executables: /tmp/* }\n    action: kill\n")
        }
    }

    @Test("min_severity is inclusive; layer and tactic must match")
    func severityLayerTactic() throws {
        var alerts = Alerts()
        let policy = try parsePolicy(
            """
            rules:
              - match: { min_severity: high, layer: workload, tactic: [execution] }
                action: stop
            """)
        let key = ProcessKey(pid: 10, startTime: 1)
        #expect(action(policy, .finding(alerts.finding(process: key, severity: .medium)), alerts.symbols) == .report)
        #expect(action(policy, .finding(alerts.finding(process: key, severity: .high)), alerts.symbols) == .stop)
        #expect(action(policy, .finding(alerts.finding(process: key, severity: .critical)), alerts.symbols) == .stop)
        #expect(
            action(policy, .finding(alerts.finding(process: key, tactic: .persistence)), alerts.symbols) == .report)
        #expect(action(policy, .finding(alerts.cloudFinding()), alerts.symbols) == .report)
    }

    @Test("the first matching rule wins; no match gives the defaults")
    func firstMatchWins() throws {
        var alerts = Alerts()
        let policy = try parsePolicy(
            """
            defaults: { action: pause }
            rules:
              - name: first
                match: { min_severity: high }
                action: kill
              - name: second
                match: { min_severity: medium }
                action: quarantine
            """)
        let key = ProcessKey(pid: 10, startTime: 1)
        let critical = policy.decide(
            AlertFacts(.finding(alerts.finding(process: key, severity: .critical)), symbols: alerts.symbols))
        #expect(critical == ResponseDecision(action: .kill, rule: "first"))
        let medium = policy.decide(
            AlertFacts(.finding(alerts.finding(process: key, severity: .medium)), symbols: alerts.symbols))
        #expect(medium == ResponseDecision(action: .quarantine, rule: "second"))
        let low = policy.decide(
            AlertFacts(.finding(alerts.finding(process: key, severity: .low)), symbols: alerts.symbols))
        #expect(low == ResponseDecision(action: .pause, rule: nil))
    }

    @Test("incident rules apply to incidents only, finding rules to findings only")
    func incidentsAndFindings() throws {
        var alerts = Alerts()
        let policy = try parsePolicy(
            """
            rules:
              - match: { incident: true, min_severity: critical }
                action: stop
              - match: { min_severity: high }
                action: kill
            """)
        let finding = alerts.finding(process: ProcessKey(pid: 10, startTime: 1), severity: .critical)
        #expect(action(policy, .finding(finding), alerts.symbols) == .kill)
        #expect(action(policy, .incident(incident([finding], rootCause: finding.id)), alerts.symbols) == .stop)
        // A high incident matches neither: the second rule is for findings.
        let high = incident([finding], rootCause: finding.id, severity: .high)
        #expect(action(policy, .incident(high), alerts.symbols) == .report)
    }

    @Test("an incident's technique, rule and layer conditions hold when any of its findings satisfies them")
    func incidentFacts() throws {
        var alerts = Alerts()
        let policy = try parsePolicy(
            """
            rules:
              - match: { incident: true, technique: T1562, layer: cloud }
                action: kill
            """)
        let process = alerts.finding(process: ProcessKey(pid: 10, startTime: 1), technique: "T1059.004")
        let cloud = alerts.cloudFinding()
        #expect(action(policy, .incident(incident([cloud, process], rootCause: cloud.id)), alerts.symbols) == .kill)
        #expect(action(policy, .incident(incident([process], rootCause: process.id)), alerts.symbols) == .report)
    }

    @Test("an incident is answered at its root cause's process, or the earliest finding with a process")
    func incidentTarget() throws {
        var alerts = Alerts()
        let first = alerts.finding(process: ProcessKey(pid: 10, startTime: 1))
        let root = alerts.finding(process: ProcessKey(pid: 20, startTime: 2))
        #expect(Alert.incident(incident([first, root], rootCause: root.id)).responseFinding?.id == root.id)
        let cloud = alerts.cloudFinding()
        let later = alerts.finding(process: ProcessKey(pid: 30, startTime: 3))
        #expect(Alert.incident(incident([cloud, later, first], rootCause: cloud.id)).responseFinding?.id == first.id)
        #expect(Alert.finding(root).responseFinding?.id == root.id)
    }
}

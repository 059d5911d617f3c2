import Testing
import VigilCore
import VigilCorrelation
import VigilTestKit

@Suite("StoryCorrelator")
struct StoryCorrelatorTests {
    @Test("a workload chain and the node role's cloud calls make one incident across layers")
    func oneStoryAcrossLayers() throws {
        let scenario = Scenario()
        var correlator = StoryCorrelator(symbols: scenario.symbols, configuration: .init(node: node))
        let incidents = latest(run(&correlator, scenario.findings.map { [$0] }))
        try #require(incidents.count == 1)
        let incident = incidents[0]
        #expect(incident.rootCause == scenario.shell.id)
        #expect(incident.layers == [.workload, .cloud])
        #expect(incident.steps.map(\.time) == incident.steps.map(\.time).sorted())
        // Shell, metadata fetch, create user, attach, create key, and the 120 reads as one counted step.
        #expect(incident.steps.count == 6)
        #expect(incident.steps.last?.findingIDs.count == 64)
        #expect(incident.steps.allSatisfy { !$0.summary.contains("credential exfiltration") })
        // High findings, corroborated by two layers.
        #expect(incident.severity == .critical)
        #expect(incident.entities.contains(.principal("arn:aws:iam::111122223333:user/x")))
        #expect(incident.entities.contains(.principal(nodeRole)))
        #expect(correlator.statistics.deduplicated == 119)
        #expect(correlator.statistics.opened == 1)
    }

    @Test("the narrative tells the story in plain sentences")
    func narrative() throws {
        let scenario = Scenario()
        var correlator = StoryCorrelator(symbols: scenario.symbols, configuration: .init(node: node))
        let incident = try #require(latest(run(&correlator, [scenario.findings])).first)
        let text = incident.narrative
        #expect(text.hasPrefix("python3 on web started sh -c curl"))
        #expect(text.contains("curl on web then connected to the metadata service (169.254.169.254)"))
        #expect(
            text.contains(
                "40 s later the node's role created IAM user x from 198.51.100.10 and attached AdministratorAccess to x"
                    + " and created an access key for x"))
        #expect(text.contains("x then read 120 objects from bucket y from 203.0.113.99"))
        #expect(incident.title.hasPrefix("Unix shell on web → x read 120 objects from bucket y"))
    }

    @Test("socket, bind and listen steps say what the process did, not that it connected")
    func socketPhrases() throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let web = builder.workload(deployment: "web")
        var bind = builder.connect(pid: 30, to: "127.0.0.1", port: 1, workload: web)
        bind.kind = .networkBind
        bind.fields = .network(
            NetworkFields(transport: .tcp, local: SocketAddress(address: IPAddress(v4: 0, 0, 0, 0), port: 4444)))
        var listen = bind
        listen.kind = .networkListen
        let findings = [
            finding(
                builder.socket(pid: 30, workload: web), rule: "packet", technique: "T1040",
                process: summary(30, "/tmp/sniff")),
            finding(
                builder.socket(pid: 30, transport: .raw, workload: web), rule: "raw", technique: "T1040",
                process: summary(30, "/tmp/sniff")),
            finding(bind, rule: "bind", technique: "T1571", process: summary(30, "/tmp/sniff")),
            finding(listen, rule: "listen", technique: "T1571", process: summary(30, "/tmp/sniff")),
        ]
        var correlator = StoryCorrelator(symbols: symbols, configuration: .init(node: node))
        let incident = try #require(latest(run(&correlator, [findings])).first)
        let summaries = incident.steps.map(\.summary)
        #expect(summaries.contains { $0.contains("opened a packet socket") }, "\(summaries)")
        #expect(summaries.contains { $0.contains("opened a raw socket") }, "\(summaries)")
        #expect(summaries.contains { $0.contains("bound 0.0.0.0:4444") }, "\(summaries)")
        #expect(summaries.contains { $0.contains("listened on 0.0.0.0:4444") }, "\(summaries)")
        #expect(!incident.narrative.contains("connected to"), "\(incident.narrative)")
    }

    @Test("the node role used from another address is flagged as credential exfiltration")
    func exfiltration() throws {
        let scenario = Scenario(roleAddress: "192.0.2.66", reads: 1)
        var correlator = StoryCorrelator(symbols: scenario.symbols, configuration: .init(node: node))
        let incidents = latest(run(&correlator, [scenario.findings]))
        try #require(incidents.count == 1)
        let derived = incidents[0].steps.filter { $0.mitre.technique == "T1552.005" && $0.layer == .cloud }
        try #require(derived.count == 1)
        #expect(derived[0].summary.contains("used from 192.0.2.66, outside the node"))
        #expect(derived[0].findingIDs.isEmpty)
        #expect(incidents[0].narrative.contains("credential exfiltration"))
        #expect(incidents[0].rootCause == scenario.shell.id)
    }

    @Test(
        "a NodeCredentialDetector finding tells the exfiltration once: no derived step beside it",
        arguments: [false, true])
    func detectorCoversExfiltration(detectorFirst: Bool) throws {
        let scenario = Scenario(roleAddress: "192.0.2.66", reads: 1)
        var detector = NodeCredentialDetector(node: node, symbols: scenario.symbols)
        var flagged: [Finding] = []
        detector.inspect(EventBatch(scenario.findings.map(\.event)), into: &flagged)
        try #require(flagged.count == 1)
        // The detector's finding comes before the rules' findings on the same call, or after them, in a later
        // batch: either way one step tells that the credentials left the node.
        let batches =
            detectorFirst
            ? [Array(scenario.findings[..<2]), flagged + scenario.findings[2...]]
            : [scenario.findings, flagged]
        var correlator = StoryCorrelator(symbols: scenario.symbols, configuration: .init(node: node))
        let incidents = latest(run(&correlator, batches))
        try #require(incidents.count == 1)
        let told = incidents[0].steps.filter { $0.summary.contains("credential exfiltration") }
        #expect(told.count == 1, "\(incidents[0].steps.map(\.summary))")
        #expect(told.first?.findingIDs == [flagged[0].id])
        #expect(incidents[0].steps.filter { $0.mitre.technique == "T1552.005" && $0.layer == .cloud }.count == 1)
        #expect(incidents[0].narrative.ranges(of: "credential exfiltration").count == 1)
        #expect(incidents[0].severity == .critical)
    }

    @Test("the role's calls from the node's own address are not exfiltration")
    func noExfiltrationFromNode() throws {
        let scenario = Scenario(reads: 1)
        var correlator = StoryCorrelator(symbols: scenario.symbols, configuration: .init(node: node))
        let incident = try #require(latest(run(&correlator, [scenario.findings])).first)
        #expect(!incident.narrative.contains("exfiltration"))
    }

    @Test("a principal created in a story brings its later calls into it")
    func createdPrincipalJoins() throws {
        let symbols = SymbolTable()
        var build = EventBuilder(symbols: symbols, step: second)
        let admin = "arn:aws:iam::111122223333:user/christophe"
        let create = build.cloudCall(principal: admin, service: "iam", action: "CreateUser", resource: "intruder")
        // The new user calls from elsewhere with its own key: only its name ties it to the story.
        let later = editCloud(
            build.cloudCall(
                principal: "arn:aws:iam::111122223333:user/intruder", service: "ec2", action: "RunInstances",
                sourceAddress: "192.0.2.80")
        ) { $0.accessKey = symbols.intern("AKIAINTRUDER") }
        let findings = [
            finding(create, severity: .high, rule: "create-user", tactic: .persistence, technique: "T1136.003"),
            finding(later, severity: .medium, rule: "run-instances", tactic: .impact, technique: "T1496"),
        ]
        var correlator = StoryCorrelator(symbols: symbols)
        let incidents = latest(run(&correlator, [[findings[0]], [findings[1]]]))
        try #require(incidents.count == 1)
        #expect(incidents[0].findings.map(\.id) == findings.map(\.id))
        #expect(incidents[0].narrative.contains("christophe created IAM user intruder"))
    }

    @Test("unrelated workloads and principals make separate incidents")
    func unrelatedStaySeparate() {
        let symbols = SymbolTable()
        var build = EventBuilder(symbols: symbols, step: second)
        let web = build.workload(deployment: "web")
        let db = build.workload(deployment: "db")
        let one = build.exec(pid: 10, parent: 1, executable: "/bin/sh", workload: web)
        let two = build.exec(pid: 20, parent: 2, executable: "/bin/sh", workload: db)
        let three = editCloud(
            build.cloudCall(
                principal: "arn:aws:iam::111122223333:user/alice", service: "iam", action: "ListUsers",
                sourceAddress: "192.0.2.1")
        ) { $0.accessKey = symbols.intern("AKIAALICE") }
        let four = editCloud(
            build.cloudCall(
                principal: "arn:aws:iam::111122223333:user/bob", service: "iam", action: "ListUsers",
                sourceAddress: "192.0.2.2")
        ) { $0.accessKey = symbols.intern("AKIABOB") }
        let findings = [one, two, three, four].map { finding($0, rule: "r") }
        var correlator = StoryCorrelator(symbols: symbols, configuration: .init(node: node))
        let incidents = latest(run(&correlator, [findings]))
        #expect(incidents.count == 4)
        #expect(Set(incidents.map(\.rootCause)) == Set(findings.map(\.id)))
        #expect(incidents.allSatisfy { $0.steps.count == 1 && $0.severity == .medium })
    }

    @Test("findings further apart than the window make separate incidents")
    func outsideWindow() {
        let symbols = SymbolTable()
        var build = EventBuilder(symbols: symbols, step: second)
        let web = build.workload(deployment: "web")
        let early = finding(build.exec(pid: 10, executable: "/bin/sh", workload: web), rule: "shell")
        build.time += 31 * 60 * second
        let late = finding(build.exec(pid: 11, executable: "/usr/bin/nc", workload: web), rule: "netcat")
        var correlator = StoryCorrelator(symbols: symbols)
        let incidents = latest(run(&correlator, [[early], [late]]))
        #expect(incidents.count == 2)
        #expect(incidents.map(\.rootCause) == [early.id, late.id])
        // Within the window they join.
        var joined = StoryCorrelator(symbols: symbols, configuration: .init(window: .seconds(3_600)))
        #expect(latest(run(&joined, [[early], [late]])).count == 1)
    }

    @Test("repeats within the cooldown are counted on one step")
    func deduplication() throws {
        let symbols = SymbolTable()
        var build = EventBuilder(symbols: symbols, step: second)
        let web = build.workload(deployment: "web")
        var findings: [Finding] = []
        for _ in 0..<5 {
            findings.append(finding(build.connect(pid: 10, to: "192.0.2.9", port: 4444, workload: web), rule: "c2"))
        }
        build.time += 11 * 60 * second
        findings.append(finding(build.connect(pid: 10, to: "192.0.2.9", port: 4444, workload: web), rule: "c2"))
        var correlator = StoryCorrelator(symbols: symbols, configuration: .init(cooldown: .seconds(600)))
        let incidents = run(&correlator, findings.map { [$0] })
        let final = try #require(latest(incidents).first)
        #expect(latest(incidents).count == 1)
        // Five repeats in one step; the sixth came after the cooldown and is a new step.
        #expect(final.steps.map(\.findingIDs.count) == [5, 1])
        #expect(correlator.statistics.deduplicated == 4)
        // Reported when opened and when it grew (with the counts so far); nothing changed after that.
        #expect(incidents.count == 2)
        #expect(final.narrative.contains("(5 times)"))
    }

    @Test("an incident is re-reported under the same id when it grows")
    func growth() {
        let scenario = Scenario(reads: 1)
        var correlator = StoryCorrelator(symbols: scenario.symbols, configuration: .init(node: node))
        var first: [Incident] = []
        correlator.correlate([scenario.findings[0]], into: &first)
        var second: [Incident] = []
        correlator.correlate([scenario.findings[1]], into: &second)
        #expect(first.count == 1 && second.count == 1)
        #expect(first.first?.id == second.first?.id)
        #expect(first.first?.steps.count == 1 && second.first?.steps.count == 2)
        var end: [Incident] = []
        correlator.finish(into: &end)
        #expect(end.isEmpty)
    }

    @Test("a lone low finding is held back until another joins it")
    func holdLoneLow() throws {
        let symbols = SymbolTable()
        var build = EventBuilder(symbols: symbols, step: second)
        let web = build.workload(deployment: "web")
        let db = build.workload(deployment: "db")
        let low = finding(build.open(pid: 10, path: "/etc/passwd", workload: web), severity: .low, rule: "read-passwd")
        let lonely = finding(
            build.open(pid: 20, path: "/etc/passwd", workload: db), severity: .low, rule: "read-passwd")
        let shell = finding(
            build.exec(pid: 11, parent: 10, executable: "/bin/sh", workload: web), severity: .medium, rule: "shell")
        var correlator = StoryCorrelator(symbols: symbols, configuration: .init(holdLoneLow: true))
        var incidents: [Incident] = []
        correlator.correlate([low, lonely], into: &incidents)
        #expect(incidents.isEmpty)
        correlator.correlate([shell], into: &incidents)
        let joined = try #require(incidents.first)
        #expect(incidents.count == 1)
        #expect(joined.rootCause == low.id)
        #expect(joined.steps.count == 2)
        correlator.finish(into: &incidents)
        #expect(incidents.count == 1)
        #expect(correlator.statistics.heldBackDropped == 1)
        // Without holding, the lone low finding is its own low incident.
        var plain = StoryCorrelator(symbols: symbols)
        let all = latest(run(&plain, [[lonely]]))
        #expect(all.count == 1 && all.first?.severity == .low)
    }

    @Test("the correlator keeps no more open incidents than configured")
    func boundedIncidents() {
        let symbols = SymbolTable()
        var build = EventBuilder(symbols: symbols, step: second)
        var findings: [Finding] = []
        for index in 0..<20 {
            let workload = build.workload(deployment: "app\(index)")
            findings.append(
                finding(build.exec(pid: Int32(100 + index), executable: "/bin/sh", workload: workload), rule: "shell"))
        }
        var correlator = StoryCorrelator(symbols: symbols, configuration: .init(maximumOpenIncidents: 5))
        var incidents: [Incident] = []
        correlator.correlate(findings, into: &incidents)
        #expect(correlator.openIncidents == 5)
        #expect(incidents.count == 20)
    }
}

@Suite("EntityGraph")
struct EntityGraphTests {
    @Test("links are undirected and reachable within the time bound")
    func reachability() {
        var graph = EntityGraph()
        let a = Entity.process(ProcessKey(pid: 1, startTime: 1))
        let b = Entity.container("c1")
        let c = Entity.workload("default/Deployment/web/web")
        let d = Entity.address(IPAddress("192.0.2.1")!)
        graph.link(a, b, at: 100)
        graph.link(b, c, at: 200)
        graph.link(c, d, at: 50)
        #expect(Set(graph.neighbors(of: b).keys) == [a, c])
        #expect(Set(graph.reachable(from: [a], since: 0)) == [a, b, c, d])
        // The old link to `d` is outside the bound.
        #expect(Set(graph.reachable(from: [a], since: 60)) == [a, b, c])
        #expect(graph.reachable(from: [a], since: 0, limit: 2).count == 2)
    }

    @Test("the graph evicts its least recently seen nodes when over capacity")
    func eviction() {
        var graph = EntityGraph(capacity: 10)
        for index in 0..<20 {
            graph.link(.process(ProcessKey(pid: Int32(index), startTime: 0)), .container("c\(index)"), at: Int64(index))
        }
        #expect(graph.count <= 10)
        #expect(graph.evicted >= 30)
        #expect(!graph.contains(.container("c0")))
        #expect(graph.contains(.container("c19")))
        #expect(graph.neighbors(of: .container("c19")) == [.process(ProcessKey(pid: 19, startTime: 0)): 19])
    }
}

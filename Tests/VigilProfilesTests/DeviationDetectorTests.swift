import Testing
import VigilCore
import VigilProfiles
import VigilTestKit

@Suite("Baselines and deviations")
struct DeviationDetectorTests {
    /// Runs `learn` in the learning phase and `detect` in the detecting phase; returns the findings.
    func replay(
        learn: [Event], detect: [Event], symbols: SymbolTable, shards: Int = 2, capacity: Int = 10_000
    ) async throws -> [Finding] {
        let book = BaselineBook(shardCount: shards, capacityPerSubject: capacity)
        let configuration = EngineConfiguration(shards: shards)
        try await Engine(
            configuration: configuration, symbols: symbols, sensors: [InMemorySensor(events: learn)],
            detectors: book.detectorFactory
        ).run()
        book.phase = .detecting
        let output = CollectingOutput()
        try await Engine(
            configuration: configuration, symbols: symbols, sensors: [InMemorySensor(events: detect)],
            detectors: book.detectorFactory, outputs: [output]
        ).run()
        return output.findings
    }

    @Test("a workload that runs a new program raises one explained finding; learned behavior stays silent")
    func unexpectedProcess() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let web = b.workload(deployment: "web")
        let worker = b.workload(deployment: "worker")
        let learn = [
            b.exec(pid: 10, executable: "/usr/bin/python3", workload: web),
            b.open(pid: 10, path: "/srv/app.py", workload: web),
            b.connect(pid: 10, to: "127.0.0.1", port: 5432, workload: web),
            b.exec(pid: 20, executable: "/bin/sh", workload: worker),
        ]
        let detect = [
            b.exec(pid: 11, executable: "/usr/bin/python3", workload: web),
            b.open(pid: 11, path: "/srv/app.py", workload: web),
            b.connect(pid: 11, to: "127.0.0.1", port: 5432, workload: web),
            // /bin/sh is normal for worker but not for web.
            b.exec(pid: 21, executable: "/bin/sh", workload: worker),
            b.exec(pid: 12, executable: "/bin/sh", workload: web),
            b.exec(pid: 13, executable: "/bin/sh", workload: web),
        ]
        let findings = try await replay(learn: learn, detect: detect, symbols: symbols)
        #expect(findings.count == 1)
        let finding = try #require(findings.first)
        #expect(finding.rule.id == "profile.unexpected-process")
        #expect(finding.mitre.technique == "T1059")
        #expect(finding.event.process.pid == 12)
        #expect(finding.explanation.contains("default/Deployment/web/web executed /bin/sh"))
        #expect(finding.explanation.contains("executed /usr/bin/python3"), "the explanation omits what was learned")
    }

    @Test("each profiled kind has its own rule and technique")
    func kinds() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let web = b.workload(deployment: "web")
        let learn = [
            b.open(pid: 1, path: "/srv/a", workload: web), b.dns(pid: 1, name: "db.local", workload: web),
            b.cloudCall(principal: "role/app", service: "s3", action: "GetObject"),
            b.kubernetesRequest(user: "system:serviceaccount:default:web", verb: "get", resource: "configmaps"),
            b.httpRequest(pid: 1, route: "/health", path: "/health", workload: web),
            b.connect(pid: 1, to: "10.0.0.7", port: 443, workload: web),
        ]
        let detect = [
            b.open(pid: 1, path: "/etc/shadow", workload: web), b.dns(pid: 1, name: "pool.minexmr.com", workload: web),
            b.cloudCall(principal: "role/app", service: "iam", action: "CreateUser"),
            b.kubernetesRequest(user: "system:serviceaccount:default:web", verb: "list", resource: "secrets"),
            b.httpRequest(pid: 1, route: "/fetch", path: "/fetch", workload: web),
            b.connect(pid: 1, to: "10.0.0.7", port: 22, workload: web),
        ]
        let findings = try await replay(learn: learn, detect: detect, symbols: symbols)
        let byRule = Dictionary(uniqueKeysWithValues: findings.map { ($0.rule.id, $0) })
        #expect(byRule["profile.unexpected-file-access"]?.severity == .high, "/etc/shadow is sensitive")
        #expect(byRule["profile.unexpected-dns"]?.mitre.technique == "T1071.004")
        #expect(byRule["profile.unexpected-cloud-action"]?.explanation.contains("called iam:CreateUser") == true)
        #expect(byRule["profile.unexpected-k8s-request"]?.layer == .cluster)
        #expect(byRule["profile.unexpected-http-endpoint"]?.mitre.technique == "T1190")
        #expect(byRule["profile.unexpected-egress"]?.explanation.contains("10.0.0.7:22") == true)
        #expect(findings.count == 6)
    }

    @Test("subjects never seen while learning, and overflowed baselines, raise nothing")
    func noProfileNoFinding() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let web = b.workload(deployment: "web")
        let fresh = b.workload(deployment: "fresh")
        let learn = (0..<5).map { b.exec(pid: 1, executable: "/bin/p\($0)", workload: web) }
        let detect = [
            b.exec(pid: 2, executable: "/bin/new", workload: web),
            b.exec(pid: 3, executable: "/bin/anything", workload: fresh),
        ]
        #expect(try await replay(learn: learn, detect: detect, symbols: symbols, capacity: 3).isEmpty)
        #expect(try await replay(learn: learn, detect: detect, symbols: symbols, capacity: 10).count == 1)
    }

    @Test("a baseline keeps at most its capacity and says when it overflowed")
    func bound() {
        var baseline = Baseline(capacity: 2)
        let learned = (1...3).map {
            baseline.learn(Behavior(kind: .processExec, first: UInt64($0)), describedAs: "\($0)")
        }
        #expect(learned == [true, true, false])
        #expect(baseline.behaviors.count == 2)
        #expect(baseline.overflowed)
        #expect(baseline.examples[.processExec] == ["1", "2"])
    }
}

import Synchronization
import Testing
import VigilCore
import VigilProfiles
import VigilTestKit

@Suite("Profile detector")
struct ProfileDetectorTests {
    /// Learns `learn`, completes every profile, then checks `detect`; returns the findings.
    func replay(_ book: ProfileBook, learn: [Event], detect: [Event]) async throws -> [Finding] {
        let configuration = EngineConfiguration(shards: book.shardCount)
        try await Engine(
            configuration: configuration, symbols: book.symbols, sensors: [InMemorySensor(events: learn)],
            detectors: book.detectorFactory
        ).run()
        book.completeAll()
        let output = CollectingOutput()
        try await Engine(
            configuration: configuration, symbols: book.symbols, sensors: [InMemorySensor(events: detect)],
            detectors: book.detectorFactory, outputs: [output]
        ).run()
        return output.findings
    }

    @Test("a new program in a completed profile is one explained finding; learned behavior stays silent")
    func unexpectedProcess() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let web = b.workload(deployment: "web")
        let worker = b.workload(deployment: "worker")
        let learn = [
            b.exec(
                pid: 10, executable: "/usr/bin/python3", arguments: ["python3", "app.py", "--port=8080"], workload: web),
            b.open(pid: 10, path: "/proc/10/status", workload: web),
            b.connect(pid: 10, to: "127.0.0.1", port: 5432, workload: web),
            b.exec(pid: 20, executable: "/bin/sh", workload: worker),
        ]
        let detect = [
            // Another replica: other pid, other port number, same shape.
            b.exec(
                pid: 11, executable: "/usr/bin/python3", arguments: ["python3", "app.py", "--port=9090"], workload: web),
            b.open(pid: 11, path: "/proc/11/status", workload: web),
            b.connect(pid: 11, to: "127.0.0.1", port: 5432, workload: web),
            b.exec(pid: 21, executable: "/bin/sh", workload: worker),
            b.exec(pid: 12, executable: "/bin/sh", workload: web),
            b.exec(pid: 13, executable: "/bin/sh", workload: web),
        ]
        let findings = try await replay(ProfileBook(shardCount: 2, symbols: symbols), learn: learn, detect: detect)
        #expect(findings.count == 1)
        let finding = try #require(findings.first)
        #expect(finding.rule.id == "profile.unexpected-process")
        #expect(finding.mitre.technique == "T1059")
        #expect(finding.event.process.pid == 12)
        #expect(finding.explanation.contains("default/Deployment/web/web executed /bin/sh"))
        #expect(finding.explanation.contains("new process '/bin/sh' (it learned /usr/bin/python3)"))
    }

    @Test("a packet socket is learned as CAP_NET_RAW: silent where learned, a capability finding elsewhere")
    func packetSocket() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let dhcp = b.workload(deployment: "dhcp")
        let web = b.workload(deployment: "web")
        let learn = [
            b.socket(pid: 10, workload: dhcp),
            b.connect(pid: 20, to: "127.0.0.1", port: 5432, workload: web),
        ]
        let detect = [
            b.socket(pid: 11, workload: dhcp),
            b.socket(pid: 21, transport: .raw, workload: web),
        ]
        let findings = try await replay(ProfileBook(shardCount: 2, symbols: symbols), learn: learn, detect: detect)
        #expect(findings.map(\.rule.id) == ["profile.unexpected-capability"])
        #expect(findings.first?.event.process.pid == 21)
        #expect(findings.first?.explanation.contains("CAP_NET_RAW") == true, "\(findings.first?.explanation ?? "")")
    }

    @Test("each profiled part has its rule, technique and severity")
    func parts() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let web = b.workload(deployment: "web")
        let learn = [
            b.exec(pid: 1, executable: "/usr/bin/python3", arguments: ["python3", "app.py"], workload: web),
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
            b.exec(pid: 1, executable: "/usr/bin/python3", arguments: ["python3", "-c", "import os"], workload: web),
            b.cloudCall(principal: "role/app", service: "s3", action: "GetObject", region: "eu-west-9"),
        ]
        let findings = try await replay(ProfileBook(shardCount: 2, symbols: symbols), learn: learn, detect: detect)
        let byRule = Dictionary(grouping: findings, by: \.rule.id)
        #expect(byRule["profile.unexpected-file-access"]?.first?.severity == .high, "/etc/shadow is sensitive")
        #expect(byRule["profile.unexpected-dns"]?.first?.mitre.technique == "T1071.004")
        let cloud = try #require(byRule["profile.unexpected-cloud-action"]?.first)
        #expect(cloud.mitre.technique == "T1136.003")
        #expect(cloud.severity == .high)
        #expect(cloud.explanation.contains("new action 'iam:CreateUser' (it learned s3:GetObject)"))
        let k8s = try #require(byRule["profile.unexpected-k8s-request"]?.first)
        #expect(k8s.mitre.technique == "T1552.007")
        #expect(k8s.layer == .cluster)
        #expect(byRule["profile.unexpected-http-endpoint"]?.first?.mitre.technique == "T1190")
        #expect(byRule["profile.unexpected-egress"]?.first?.explanation.contains("10.0.0.7:22") == true)
        #expect(byRule["profile.unexpected-arguments"]?.first?.severity == .low)
        #expect(byRule["profile.unexpected-region"]?.first?.mitre.technique == "T1535")
        #expect(findings.count == 8)
    }

    @Test("profiles that are not completed, and parts that overflowed, raise nothing")
    func onlyCompleted() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let web = b.workload(deployment: "web")
        let book = ProfileBook(
            shardCount: 1, symbols: symbols,
            policy: LifecyclePolicy(readyAfterEvents: 1, learningWindow: .max, quietPeriod: .max))
        let output = CollectingOutput()
        let events = [
            b.exec(pid: 1, executable: "/bin/a", workload: web), b.exec(pid: 2, executable: "/bin/b", workload: web),
        ]
        try await Engine(
            configuration: EngineConfiguration(shards: 1), symbols: symbols, sensors: [InMemorySensor(events: events)],
            detectors: book.detectorFactory, outputs: [output]
        ).run()
        #expect(output.findings.isEmpty)
        #expect(book.profiles.first?.lifecycle.state == .ready)
        #expect(book.profiles.first?.executables.count == 2)

        var limits = ProfileLimits()
        limits.executables = 2
        let small = ProfileBook(shardCount: 1, symbols: symbols, limits: limits)
        let learn = (0..<3).map { b.exec(pid: 1, executable: "/bin/p\($0)", workload: web) }
        let findings = try await replay(
            small, learn: learn, detect: [b.exec(pid: 9, executable: "/bin/new", workload: web)])
        #expect(findings.isEmpty)
        #expect(small.profiles.first?.overflowedParts == [.executables])
    }

    @Test("a workload already running when learning began gets a partial profile, and its findings say so")
    func partial() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let web = b.workload(deployment: "web")
        let book = ProfileBook(shardCount: 2, symbols: symbols)
        book.markPartial(web)
        let findings = try await replay(
            book, learn: [b.exec(pid: 1, executable: "/usr/bin/app", workload: web)],
            detect: [b.exec(pid: 2, executable: "/bin/sh", workload: web)])
        #expect(book.profiles.first?.lifecycle.partial == true)
        #expect(book.profiles.count == 1, "marking partial made a second profile")
        #expect(findings.first?.explanation.contains("The profile is partial") == true)
        let stored = book.storedProfiles(at: 1)
        #expect(try ProfileCoding.decode(stored[0].body).lifecycle.partial)
    }

    @Test("stored profiles load into a new book (a restart) and detect there, on the right shard")
    func restart() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let workloads = (0..<8).map { b.workload(deployment: "app-\($0)") }
        let learn =
            workloads.map { b.exec(pid: 1, executable: "/usr/bin/app", workload: $0) }
            + [b.cloudCall(principal: "role/ci", service: "s3", action: "PutObject")]
        let first = ProfileBook(shardCount: 2, symbols: symbols)
        _ = try await replay(first, learn: learn, detect: [])
        let stored = first.storedProfiles(at: 1)
        #expect(stored.count == 9)
        #expect(stored.allSatisfy { $0.state == .completed })

        // A new process: a fresh symbol table, so every id differs.
        let symbols2 = SymbolTable()
        _ = symbols2.intern("shift the symbol numbers")
        var b2 = EventBuilder(symbols: symbols2)
        let second = ProfileBook(shardCount: 2, symbols: symbols2)
        #expect(second.load(stored).isEmpty)
        let detect =
            (0..<8).map { b2.exec(pid: 2, executable: "/usr/bin/app", workload: b2.workload(deployment: "app-\($0)")) }
            + [
                b2.exec(pid: 3, executable: "/usr/bin/nc", workload: b2.workload(deployment: "app-5")),
                b2.cloudCall(principal: "role/ci", service: "s3", action: "DeleteBucket"),
            ]
        let output = CollectingOutput()
        try await Engine(
            configuration: EngineConfiguration(shards: 2), symbols: symbols2, sensors: [InMemorySensor(events: detect)],
            detectors: second.detectorFactory, outputs: [output]
        ).run()
        #expect(
            output.findings.map(\.rule.id).sorted() == [
                "profile.unexpected-cloud-action", "profile.unexpected-process",
            ])
        #expect(second.profiles.count == 9, "a loaded profile was not found by its shard and was learned anew")
    }

    @Test("a running engine hands over snapshots of changed profiles at batch boundaries")
    func snapshotWhileRunning() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let web = b.workload(deployment: "web")
        let gate = Gate()
        let sensor = GatedSensor(
            first: [b.exec(pid: 1, executable: "/bin/a", workload: web)],
            second: [b.exec(pid: 2, executable: "/bin/b", workload: web)], gate: gate)
        let book = ProfileBook(shardCount: 1, symbols: symbols)
        let engine = Engine(
            configuration: EngineConfiguration(shards: 1), symbols: symbols, sensors: [sensor],
            detectors: book.detectorFactory)
        async let run: Void = engine.run()
        await gate.waitUntilFirstSent()
        let snapshotTask = Task { await book.snapshot(timeout: .seconds(5)) }
        try await Task.sleep(for: .milliseconds(50))
        gate.open()
        let snapshot = await snapshotTask.value
        try await run
        #expect(snapshot.count == 1)
        let profile = try ProfileCoding.decode(try #require(snapshot.first).body)
        #expect(profile.executables.keys.contains("/bin/a"))
        // Nothing changed since, apart from the second batch's learning.
        #expect(book.storedProfiles(at: 2, onlyChanged: true).count == 1)
        #expect(book.storedProfiles(at: 3, onlyChanged: true).isEmpty)
    }
}

/// Lets a test hold a sensor between two batches.
final class Gate: Sendable {
    private let state = Mutex<(sent: Bool, open: Bool)>((false, false))
    func markSent() { state.withLock { $0.sent = true } }
    func open() { state.withLock { $0.open = true } }
    var isOpen: Bool { state.withLock { $0.open } }
    func waitUntilFirstSent() async { while !state.withLock({ $0.sent }) { await Task.yield() } }
}

struct GatedSensor: Sensor {
    let name = "gated"
    let first: [Event]
    let second: [Event]
    let gate: Gate

    func run(into sink: EventSink) async throws {
        var batch = EventBatch(first)
        await sink.send(&batch)
        gate.markSent()
        while !gate.isOpen { try await Task.sleep(for: .milliseconds(1)) }
        batch = EventBatch(second)
        await sink.send(&batch)
    }
}

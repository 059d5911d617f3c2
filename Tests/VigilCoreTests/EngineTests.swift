import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import VigilCore
import VigilTestKit

/// Raises a finding for every event of one kind.
struct KindDetector: Detector {
    let kind: EventKind
    var delayPerBatch: Duration = .zero

    mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
        if delayPerBatch > .zero { Thread.sleep(forTimeInterval: Double(delayPerBatch.components.attoseconds) / 1e18) }
        for event in events where event.kind == kind {
            findings.append(
                Finding(
                    severity: .high, rule: RuleReference(id: "test.\(kind.name)", name: "Test \(kind.name)"),
                    mitre: MITREMapping(tactic: .execution, technique: "T1059"), event: event,
                    explanation: "saw \(kind.name)"))
        }
    }
}

/// Remembers, per shard, the events it saw in order.
final class ShardLog: Sendable {
    let entries = Mutex<[(shard: Int, event: Event)]>([])

    func factory() -> DetectorFactory {
        { shard in Recorder(shard: shard.index, log: self) }
    }

    struct Recorder: Detector {
        let shard: Int
        let log: ShardLog
        mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
            let shard = self.shard
            log.entries.withLock { entries in for event in events { entries.append((shard, event)) } }
        }
    }
}

@Suite("Engine")
struct EngineTests {
    @Test("sharding keeps each workload on one shard, in order, losing nothing", arguments: [1, 2, 4])
    func shardingKeepsOrder(shards: Int) async throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let workloads = (0..<12).map { builder.workload(deployment: "app-\($0)") }
        var events: [Event] = []
        for round in 0..<500 {
            for (index, workload) in workloads.enumerated() {
                events.append(builder.open(pid: Int32(100 + index), path: "/data/\(round)", workload: workload))
            }
            // Control-plane events shard by principal.
            events.append(builder.cloudCall(principal: "role-\(round % 3)", service: "s3", action: "GetObject"))
        }
        let log = ShardLog()
        let engine = Engine(
            configuration: EngineConfiguration(shards: shards, shardQueueCapacity: 256), symbols: symbols,
            sensors: [InMemorySensor(events: events, batchSize: 100)], detectors: log.factory())
        try await engine.run()

        let entries = log.entries.withLock { $0 }
        #expect(entries.count == events.count)
        #expect(engine.statistics.totalDropped == 0)
        let byKey = Dictionary(grouping: entries, by: { $0.event.shardKey &+ ($0.event.layer == .cloud ? 1 << 31 : 0) })
        for (_, seen) in byKey {
            #expect(Set(seen.map(\.shard)).count == 1, "a workload's events were split over shards")
            let times = seen.map(\.event.time)
            #expect(times == times.sorted(), "a workload's events were reordered")
        }
        if shards > 1 {
            #expect(Set(entries.map(\.shard)).count > 1, "every workload landed on one shard")
        }
    }

    @Test("overload drops are counted per sensor and kind, never block the sensor, and mark the next finding")
    func overloadDrops() async throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        var events: [Event] = []
        for index in 0..<20_000 {
            events.append(
                index % 100 == 99 ? builder.exec(pid: 5, executable: "/bin/sh") : builder.open(pid: 5, path: "/x"))
        }
        let output = CollectingOutput()
        let slow = Duration.milliseconds(2)
        let engine = Engine(
            configuration: EngineConfiguration(shards: 1, shardQueueCapacity: 128), symbols: symbols,
            sensors: [InMemorySensor(name: "flood", events: events, batchSize: 64, delivery: .dropping)],
            detectors: { _ in KindDetector(kind: .processExec, delayPerBatch: slow) }, outputs: [output])
        try await engine.run()

        let statistics = engine.statistics
        let dropped = statistics.totalDropped
        #expect(dropped > 0)
        #expect(statistics.eventsReceived == UInt64(events.count))
        let droppedByKind = try #require(statistics.eventsDropped["flood"])
        #expect(droppedByKind.values.reduce(0, +) == dropped)
        #expect(Set(droppedByKind.keys).isSubset(of: [.fileOpen, .processExec]))
        // Every exec the engine accepted produced a finding; the dropped ones did not.
        let execs = UInt64(events.count / 100)
        #expect(UInt64(output.findings.count) == execs - (droppedByKind[.processExec] ?? 0))
        #expect(output.findings.contains { $0.eventsLostBefore > 0 }, "no finding says events were lost")
        #expect(output.findings.map(\.eventsLostBefore).reduce(0, +) <= dropped)
        // A sensor that waited for the 2 ms detector passes would have lost nothing: the drops show it never
        // blocked (no timing is asserted: a loaded machine makes any bound flaky).
    }

    @Test("under overload the bulk kinds are shed first: a flood of opens does not cost an exec")
    func overloadShedsBulkFirst() async throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        var events: [Event] = []
        // 20 execs among 19,980 opens: fewer than the 32 places a 128-event queue keeps in reserve, so none
        // may be lost however slow the shard is.
        for index in 0..<20_000 {
            events.append(
                index % 1000 == 999 ? builder.exec(pid: 5, executable: "/bin/sh") : builder.open(pid: 5, path: "/x"))
        }
        let output = CollectingOutput()
        let engine = Engine(
            configuration: EngineConfiguration(shards: 1, shardQueueCapacity: 128), symbols: symbols,
            sensors: [InMemorySensor(name: "flood", events: events, batchSize: 64, delivery: .dropping)],
            detectors: { _ in KindDetector(kind: .processExec, delayPerBatch: .milliseconds(2)) }, outputs: [output])
        try await engine.run()

        let droppedByKind = try #require(engine.statistics.eventsDropped["flood"])
        #expect(droppedByKind[.fileOpen] ?? 0 > 0, "the flood was not shed: the test did not overload the engine")
        #expect(droppedByKind[.processExec] == nil)
        #expect(output.findings.count == 20)
        // The shard's findings still say that events were lost around them.
        #expect(output.findings.contains { $0.eventsLostBefore > 0 })
    }

    @Test("a finding's ancestry does not wait for the parent's shard: sinks feed the process table")
    func ancestryDoesNotDependOnShardLag() async throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        // Two workloads on different shards: the parent runs in one, its child in the other.
        let candidates = (0..<16).map { builder.workload(deployment: "app-\($0)") }
        func shard(_ workload: WorkloadID) -> Int {
            EventSink.shard(forKey: builder.exec(pid: 9, executable: "/x", workload: workload).shardKey, shardCount: 2)
        }
        let parentWorkload = try #require(candidates.first { shard($0) == 0 })
        let childWorkload = try #require(candidates.first { shard($0) == 1 })
        let events = [
            builder.open(pid: 99, path: "/etc/hosts", workload: parentWorkload),
            builder.exec(pid: 100, executable: "/usr/sbin/nginx", workload: parentWorkload),
            builder.exec(pid: 101, parent: 100, executable: "/bin/sh", workload: childWorkload),
        ]
        let output = CollectingOutput()
        // The parent's shard is slow: busy with the open, it reads the parent's exec long after the child's
        // shard has made its finding.
        let engine = Engine(
            configuration: EngineConfiguration(shards: 2), symbols: symbols,
            sensors: [InMemorySensor(events: events, batchSize: 1)],
            detectors: { shard in
                KindDetector(
                    kind: shard.index == 1 ? .processExec : .fileOpen,
                    delayPerBatch: shard.index == 0 ? .milliseconds(300) : .zero)
            }, outputs: [output])
        try await engine.run()

        // The child's finding: the parent's shard raises one on the open too, which may come first under load.
        let finding = try #require(output.findings.first { $0.event.kind == .processExec })
        #expect(finding.process?.executable == "/bin/sh")
        #expect(finding.ancestry.first?.executable == "/usr/sbin/nginx")
    }

    @Test("graceful shutdown stops the sensors and drains everything they delivered")
    func gracefulShutdownDrains() async throws {
        let symbols = SymbolTable()
        let sensor = EndlessSensor(symbols: symbols)
        let log = ShardLog()
        let output = CollectingOutput()
        let engine = Engine(
            configuration: EngineConfiguration(shards: 2, shardQueueCapacity: 4096), symbols: symbols,
            sensors: [sensor],
            detectors: { shard in
                var chain = DetectorChain([KindDetector(kind: .processExec)])
                chain.detectors.append(log.factory()(shard))
                return chain
            }, outputs: [output])
        let group = ServiceGroup(services: [engine], gracefulShutdownSignals: [], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            while sensor.sent < 50_000 { try await Task.sleep(for: .milliseconds(5)) }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let sent = sensor.sent
        #expect(sent >= 50_000)
        #expect(
            log.entries.withLock { $0.count } == Int(sent), "events accepted before shutdown were not all processed")
        #expect(output.findings.count == Int(sent) / 10)
        #expect(output.isFinished)
    }

    @Test("findings pass through responders and the correlator to the outputs, with ancestry")
    func alertStage() async throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let web = builder.workload(deployment: "web")
        let events = [
            builder.exec(
                pid: 10, parent: 1, executable: "/usr/bin/python3", arguments: ["python3", "app.py"], workload: web),
            builder.exec(
                pid: 11, parent: 10, executable: "/bin/sh", arguments: ["sh", "-c", "curl x | sh"], workload: web),
            builder.fork(pid: 12, parent: 11, workload: web),
            builder.exec(pid: 12, parent: 11, executable: "/usr/bin/curl", arguments: ["curl", "x"], workload: web),
            builder.connect(pid: 12, to: "127.0.0.1", port: 8080, workload: web),
        ]
        let responder = RecordingResponder()
        let output = CollectingOutput()
        let engine = Engine(
            configuration: EngineConfiguration(shards: 2), symbols: symbols, sensors: [InMemorySensor(events: events)],
            detectors: { _ in KindDetector(kind: .networkConnect) }, correlator: { GroupingCorrelator() },
            responders: [responder], outputs: [output])
        try await engine.run()

        let finding = try #require(output.findings.first)
        #expect(output.findings.count == 1)
        #expect(finding.process?.executable == "/usr/bin/curl")
        #expect(finding.process?.arguments == ["curl", "x"])
        // pid 1 is known only as python's parent: it is listed, with no executable.
        #expect(finding.ancestry.map(\.executable) == ["/bin/sh", "/usr/bin/python3", ""])
        #expect(finding.ancestry.map(\.key.pid) == [11, 10, 1])
        #expect(finding.response.map(\.action.kind) == [.report])
        let incident = try #require(output.incidents.first)
        #expect(incident.rootCause == finding.id)
        #expect(incident.findings.first?.response.map(\.action.kind) == [.report], "the correlator saw no response")
        #expect(incident.response.count == 1)
        #expect(responder.alerts.count == 2)
        #expect(engine.statistics.findings == 1)
        #expect(engine.statistics.incidents == 1)
        #expect(engine.statistics.actions == 2)
    }

    @Test("a failing sensor is reported after the others have been drained")
    func sensorFailure() async throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let good = InMemorySensor(
            name: "good", events: (0..<1000).map { _ in builder.exec(pid: 3, executable: "/bin/true") })
        let output = CollectingOutput()
        let engine = Engine(
            configuration: EngineConfiguration(shards: 2), symbols: symbols, sensors: [good, FailingSensor()],
            detectors: { _ in KindDetector(kind: .processExec) }, outputs: [output])
        await #expect {
            try await engine.run()
        } throws: { error in
            (error as? EngineError)?.code == .sensorFailed && "\(error)".contains("broken")
        }
        #expect(output.findings.count == 1000)
    }

    @Test("a full process table forgets processes, and the engine counts them")
    func processTableBound() async throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let events = (1...100).map { builder.exec(pid: Int32($0), executable: "/bin/true") }
        let engine = Engine(
            configuration: EngineConfiguration(shards: 1, processTableCapacity: 16), symbols: symbols,
            sensors: [InMemorySensor(events: events)], detectors: { _ in KindDetector(kind: .bpf) })
        try await engine.run()
        #expect(engine.statistics.processesForgotten > 0)
        #expect(engine.statistics.processesForgotten <= 100)
    }

    @Test("an engine runs once")
    func runsOnce() async throws {
        let engine = Engine(symbols: SymbolTable(), sensors: [], detectors: { _ in KindDetector(kind: .bpf) })
        try await engine.run()
        await #expect(throws: EngineError.self) { try await engine.run() }
    }
}

/// Sends exec and open events until cancelled; counts what it handed over.
final class EndlessSensor: Sensor {
    let name = "endless"
    let symbols: SymbolTable
    private let count = Atomic<UInt64>(0)

    init(symbols: SymbolTable) { self.symbols = symbols }

    var sent: UInt64 { count.load(ordering: .acquiring) }

    func run(into sink: EventSink) async throws {
        var builder = EventBuilder(symbols: symbols)
        let workloads = (0..<8).map { builder.workload(deployment: "w\($0)") }
        var batch = EventBatch(capacity: 500)
        var index = 0
        while !Task.isCancelled {
            for _ in 0..<500 {
                let workload = workloads[index % workloads.count]
                batch.append(
                    index % 10 == 0
                        ? builder.exec(pid: 9, executable: "/bin/ls", workload: workload)
                        : builder.open(pid: 9, path: "/etc/hosts", workload: workload))
                index += 1
            }
            // `send` waits for room, so every event counted here was accepted by the engine.
            let size = UInt64(batch.count)
            await sink.send(&batch)
            count.add(size, ordering: .releasing)
            await Task.yield()
            try? await Task.sleep(for: .microseconds(200))
        }
    }
}

struct FailingSensor: Sensor {
    let name = "broken"
    struct Broken: Error, CustomStringConvertible { var description: String { "the broken sensor broke" } }
    func run(into sink: EventSink) async throws { throw Broken() }
}

import Synchronization
import Testing
import VigilCore
import VigilProfiles
import VigilTestKit

/// What a reader saw of the profiles, per event, in the order the engine handed them over.
private final class Sightings: Sendable {
    struct Sighting: Equatable, CustomStringConvertible {
        var time: Int64
        var completed: Bool
        var held: Bool
        var description: String { "(\(completed ? "completed" : "not completed"), \(held ? "held" : "new"))" }
    }

    private let state = Mutex<[Sighting]>([])
    func append(_ sighting: Sighting) { state.withLock { $0.append(sighting) } }
    /// By time: events of several shards arrive interleaved.
    var all: [Sighting] { state.withLock { $0.sorted { $0.time < $1.time } } }
    func of(_ events: [Event]) -> [String] {
        let byTime = Dictionary(all.map { ($0.time, $0) }, uniquingKeysWith: { first, _ in first })
        return events.map { byTime[$0.time]?.description ?? "unseen" }
    }
}

/// A reader of the profiles: records what the view says of each event, and raises a finding per event of
/// `reportedKind` so the order of findings can be checked.
private struct Probe: Detector {
    let view: any ProfileView
    let sightings: Sightings
    var reportedKind: EventKind? = nil

    mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
        for event in events.events {
            sightings.append(
                Sightings.Sighting(time: event.time, completed: view.isCompleted(event), held: view.holds(event)))
            if event.kind == reportedKind {
                findings.append(
                    Finding(
                        severity: .low, rule: RuleReference(id: "probe", name: "Probe"),
                        mitre: MITREMapping(tactic: .execution, technique: "T1059"), event: event, explanation: "probe")
                )
            }
        }
    }
}

@Suite("Profile views")
struct ProfileViewTests {
    /// Runs `events` through the book's detector with a probe reading the book's views, in a reading chain.
    @discardableResult
    fileprivate func run(
        _ book: ProfileBook, _ events: [Event], sightings: Sightings, batchSize: Int = 1,
        reportedKind: EventKind? = nil
    ) async throws -> [Finding] {
        let views = book.viewFactory
        let profiles = book.detectorFactory
        let output = CollectingOutput()
        try await Engine(
            configuration: EngineConfiguration(shards: book.shardCount), symbols: book.symbols,
            sensors: [InMemorySensor(events: events, batchSize: batchSize)],
            detectors: { shard in
                ProfileReadingChain(
                    profiles: profiles(shard),
                    readers: [Probe(view: views(shard), sightings: sightings, reportedKind: reportedKind)])
            }, outputs: [output]
        ).run()
        return output.findings
    }

    @Test("while a profile learns, a reader sees each behavior new the first time and held after it")
    func learning() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let book = ProfileBook(shardCount: 2, symbols: symbols)
        let workloads = (0..<4).map { b.workload(deployment: "app-\($0)") }
        var events: [Event] = []
        for workload in workloads {
            events.append(b.exec(pid: 10, executable: "/bin/sh", workload: workload))
            events.append(b.exec(pid: 11, executable: "/bin/sh", workload: workload))
            events.append(b.open(pid: 11, path: "/etc/shadow", workload: workload))
            events.append(b.exit(pid: 11, workload: workload))
        }
        events.append(b.cloudCall(principal: "role/app", service: "s3", action: "GetObject"))
        events.append(b.cloudCall(principal: "role/app", service: "s3", action: "GetObject"))
        events.append(b.cloudCall(principal: "role/app", service: "s3", action: "GetObject", region: "eu-west-1"))
        let sightings = Sightings()
        try await run(book, events, sightings: sightings)
        let perWorkload = [
            "(not completed, new)", "(not completed, held)", "(not completed, new)", "(not completed, new)",
        ]
        #expect(
            sightings.of(events)
                == Array(repeating: perWorkload, count: 4).flatMap { $0 }
                + ["(not completed, new)", "(not completed, held)", "(not completed, new)"],
            "an exit is a kind profiles do not track: never held")
        #expect(book.profiles.count == 5)
    }

    @Test("a behavior repeated within one batch is new for each of its occurrences in that batch")
    func batchGranularity() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let book = ProfileBook(shardCount: 1, symbols: symbols)
        let web = b.workload(deployment: "web")
        let first = [
            b.exec(pid: 10, executable: "/bin/sh", workload: web),
            b.exec(pid: 11, executable: "/bin/sh", workload: web),
        ]
        let sightings = Sightings()
        try await run(book, first, sightings: sightings, batchSize: 16)
        #expect(sightings.of(first) == ["(not completed, new)", "(not completed, new)"])
        let later = [b.exec(pid: 12, executable: "/bin/sh", workload: web)]
        try await run(book, later, sightings: sightings, batchSize: 16)
        #expect(sightings.of(later) == ["(not completed, held)"])
    }

    @Test("once completed, a reader sees what the profile holds, and the deviations come first")
    func completed() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let book = ProfileBook(shardCount: 2, symbols: symbols)
        let web = b.workload(deployment: "web")
        let worker = b.workload(deployment: "worker")
        let learn = [
            b.exec(pid: 10, executable: "/usr/bin/python3", arguments: ["python3", "app.py"], workload: web),
            b.open(pid: 10, path: "/proc/10/status", workload: web),
            b.exec(pid: 20, executable: "/bin/sh", workload: worker),
            b.cloudCall(principal: "role/app", service: "s3", action: "GetObject"),
        ]
        let sightings = Sightings()
        try await run(book, learn, sightings: sightings)
        book.completeAll()
        let unknown = b.workload(deployment: "unknown")
        let detect = [
            // Another replica: same shape, held.
            b.exec(pid: 11, executable: "/usr/bin/python3", arguments: ["python3", "app.py"], workload: web),
            b.open(pid: 11, path: "/proc/11/status", workload: web),
            b.exec(pid: 21, executable: "/bin/sh", workload: worker),
            b.cloudCall(principal: "role/app", service: "s3", action: "GetObject"),
            // New to the completed profile.
            b.exec(pid: 12, executable: "/bin/sh", workload: web),
            b.cloudCall(principal: "role/app", service: "iam", action: "CreateUser"),
            // A subject with no profile yet.
            b.exec(pid: 30, executable: "/bin/sh", workload: unknown),
        ]
        let findings = try await run(book, detect, sightings: sightings, batchSize: 64, reportedKind: .processExec)
        #expect(
            sightings.of(detect) == [
                "(completed, held)", "(completed, held)", "(completed, held)", "(completed, held)",
                "(completed, new)", "(completed, new)", "(not completed, new)",
            ])
        // Per shard batch, the profile detector's findings come before the reader's, as in a DetectorChain of
        // the profile detector then the reader.
        let webFindings = findings.filter { $0.event.workload == web }
        #expect(webFindings.map(\.rule.id) == ["profile.unexpected-process", "probe", "probe"])
        #expect(webFindings.map(\.event.process.pid) == [12, 11, 12])
        #expect(findings.filter { $0.rule.id.hasPrefix("profile.") }.count == 2)
        #expect(findings.filter { $0.rule.id == "probe" }.count == 4)
    }
}

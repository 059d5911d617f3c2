import Logging
import ServiceLifecycle
import Synchronization
import Testing
import VigilAgent
import VigilCore
import VigilProfiles
import VigilTestKit

@Suite("Profile saver")
struct ProfileSaverTests {
    @Test("profiles are saved while the engine learns, and the rest when it stops")
    func periodicSaves() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let web = b.workload(deployment: "web")
        let api = b.workload(deployment: "api")
        let book = ProfileBook(shardCount: 2, symbols: symbols)
        let store: any ProfileStore = InMemoryProfileStore()
        let release = Flag()
        let sensor = TwoPhaseSensor(
            first: (0..<50).map { b.exec(pid: 1, executable: "/bin/p\($0 % 5)", workload: web) },
            second: [b.exec(pid: 2, executable: "/bin/api", workload: api)], release: release)
        let engine = Engine(
            configuration: EngineConfiguration(shards: 2), symbols: symbols, sensors: [sensor],
            detectors: book.detectorFactory)
        let saver = ProfileSaver(book: book, store: store, interval: .milliseconds(20), logger: Logger(label: "test"))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: saver), .init(service: engine, successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // While the sensor is held, only a periodic save can have stored web's profile.
            var saved: [ProfileKey] = []
            for _ in 0..<500 where saved.isEmpty {
                try await Task.sleep(for: .milliseconds(10))
                saved = try await store.keys()
            }
            #expect(saved.map(\.name).contains { $0.hasPrefix("default/Deployment/web/web") })
            #expect(!saved.map(\.name).contains { $0.hasPrefix("default/Deployment/api/api") })
            release.raise()
            try await tasks.waitForAll()
        }
        let names = try await store.keys().map(\.name)
        #expect(names.contains { $0.hasPrefix("default/Deployment/api/api") }, "the final save is missing")
        let webName = try #require(names.first { $0.contains("/web/") })
        let stored = try #require(try await store.load(ProfileKey(subject: .workload, name: webName)))
        #expect(try ProfileCoding.decode(stored.body).executables.count == 5)
    }
}

/// A flag one task raises and another watches.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func raise() { value.store(true, ordering: .releasing) }
    var isRaised: Bool { value.load(ordering: .acquiring) }
}

/// Sends its first events, then keeps sending them (so shards see batches and can hand over snapshots)
/// until released, then sends the second events and ends.
struct TwoPhaseSensor: Sensor {
    let name = "two-phase"
    let first: [Event]
    let second: [Event]
    let release: Flag

    func run(into sink: EventSink) async throws {
        while !release.isRaised {
            var batch = EventBatch(first)
            await sink.send(&batch)
            try await Task.sleep(for: .milliseconds(5))
        }
        var batch = EventBatch(second)
        await sink.send(&batch)
    }
}

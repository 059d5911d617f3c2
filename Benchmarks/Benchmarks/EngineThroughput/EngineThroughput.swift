import Benchmark
import Logging
import Synchronization
import VigilCore
import VigilTestKit

/// Events from an in-memory sensor through the engine and a trivial detector, with 1 and 2 shards.
///
/// Each benchmark iteration pushes 1 or 4 million events through a fresh engine, so events/s is the
/// event count divided by the wall clock. Engine construction is outside the measurement;
/// `mallocCountTotal` counts allocations during the run itself, so the same count for 1M and 4M events
/// means the per-event path allocates nothing (what remains is start-up and per-batch hand-over).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(20),
        maxIterations: 15
    )
    for shards in [1, 2] {
        for millions in [1, 4] {
            Benchmark(
                "Engine \(shards) shard\(shards == 1 ? "" : "s"), trivial detector, \(millions)M events",
            ) { benchmark in
                let fixture = EngineFixture(shards: shards, totalEvents: millions * 1_000_000)
                benchmark.startMeasurement()
                try await fixture.engine.run()
                benchmark.stopMeasurement()
                precondition(fixture.counter.value == UInt64(millions * 1_000_000), "events were lost")
            }
        }
    }
}

/// A prepared engine over a realistic mix of workload events.
struct EngineFixture {
    let engine: Engine
    let counter = EventCounter()

    init(shards: Int, totalEvents: Int) {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let workloads = (0..<64).map { builder.workload(deployment: "service-\($0)") }
        var events: [Event] = []
        for index in 0..<1_000 {
            let workload = workloads[index % workloads.count]
            let pid = Int32(1_000 + index % 200)
            switch index % 10 {
            case 0: events.append(builder.exec(pid: pid, executable: "/usr/bin/python3", workload: workload))
            case 1, 2: events.append(builder.connect(pid: pid, to: "10.0.0.7", port: 5432, workload: workload))
            case 3: events.append(builder.dns(pid: pid, name: "db.internal", workload: workload))
            default: events.append(builder.open(pid: pid, path: "/srv/data/\(index % 50)", workload: workload))
            }
        }
        let counter = self.counter
        engine = Engine(
            configuration: EngineConfiguration(shards: shards),
            symbols: symbols,
            sensors: [InMemorySensor(events: events, batchSize: 4_096, repetitions: totalEvents / events.count)],
            detectors: { _ in CountingDetector(counter: counter) },
            logger: quietLogger)
    }
}

let quietLogger: Logger = {
    var logger = Logger(label: "vigil.benchmark")
    logger.logLevel = .warning
    return logger
}()

/// The trivial detector: looks at every event's kind, raises nothing, and publishes a count per batch.
struct CountingDetector: Detector {
    let counter: EventCounter
    var opens: UInt64 = 0

    mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
        for event in events where event.kind == .fileOpen { opens &+= 1 }
        counter.add(UInt64(events.count))
    }
}

final class EventCounter: Sendable {
    private let count = Atomic<UInt64>(0)
    func add(_ value: UInt64) { count.add(value, ordering: .relaxed) }
    var value: UInt64 { count.load(ordering: .relaxed) }
}

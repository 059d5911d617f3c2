import Benchmark
import CHeapUsage
import VigilCore
import VigilProfiles
import VigilTestKit

/// Profile checks per second per shard with 1,000 completed workload profiles loaded, allocations per
/// checked event, and the memory a typical workload profile takes.
///
/// The check benchmark drives one shard's detector directly (no engine) over batches of events that the
/// profiles already hold — the steady state of a well-learned fleet. Each iteration checks 1M events.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal], maxDuration: .seconds(20), maxIterations: 15)

    Benchmark("Profile checks, 1,000 workload profiles, 1M events (one shard)") { benchmark in
        let fixture = ProfileFixture(workloads: 1_000)
        var detector = ProfileDetector(
            book: fixture.book, shard: ShardInfo(index: 0, count: 1, symbols: fixture.symbols))
        var findings: [Finding] = []
        // Warm the per-subject caches, as a running agent's would be.
        for batch in fixture.batches { detector.inspect(batch, into: &findings) }
        benchmark.startMeasurement()
        for _ in 0..<(1_000_000 / fixture.eventCount) {
            for batch in fixture.batches { detector.inspect(batch, into: &findings) }
        }
        benchmark.stopMeasurement()
        precondition(findings.isEmpty, "a learned event was flagged")
    }

    Benchmark(
        "Memory per typical workload profile (bytes)",
        configuration: .init(metrics: [.custom("bytes per profile")], maxIterations: 3)
    ) { benchmark in
        // Heap bytes in use, from the allocator itself: resident memory moves in pages and is reused.
        let before = vigil_heap_bytes_in_use()
        let book = ProfileFixture.learnedBook(workloads: 1_000)
        let after = vigil_heap_bytes_in_use()
        benchmark.measurement(.custom("bytes per profile"), (Int(after) - Int(before)) / 1_000)
        blackHole(book.profiles.count)
    }
}

/// 1,000 workloads, each with a typical profile: 8 executables, 120 files, 6 peers, 4 DNS names, 60
/// syscalls, learned and completed; plus events that stay inside those profiles.
struct ProfileFixture {
    let symbols = SymbolTable()
    let book: ProfileBook
    let batches: [EventBatch]
    let eventCount: Int

    /// Only the learned book, without the check batches (for measuring the profiles' own memory). The
    /// symbol table is shared by all profiles and is not counted.
    static func learnedBook(workloads: Int) -> ProfileBook {
        ProfileFixture(workloads: workloads).book
    }

    init(workloads count: Int) {
        book = ProfileBook(shardCount: 1, symbols: symbols)
        var builder = EventBuilder(symbols: symbols)
        var learn: [Event] = []
        var check: [Event] = []
        for index in 0..<count {
            let workload = builder.workload(deployment: "service-\(index)")
            var events: [Event] = []
            for exe in 0..<8 {
                events.append(
                    builder.exec(
                        pid: 100, executable: "/usr/bin/tool\(exe)", arguments: ["tool", "--run"], workload: workload))
            }
            for file in 0..<120 {
                events.append(
                    builder.open(pid: 100, path: "/srv/app/module\(file % 12)/file\(file).py", workload: workload))
            }
            for peer in 0..<6 {
                events.append(builder.connect(pid: 100, to: "10.0.\(peer).7", port: 5432, workload: workload))
            }
            for name in 0..<4 { events.append(builder.dns(pid: 100, name: "svc\(name).internal", workload: workload)) }
            for number in 0..<60 {
                events.append(
                    Event(
                        time: builder.time, kind: .syscall, process: EventBuilder.process(100), workload: workload,
                        fields: .syscall(SyscallFields(number: Int32(number), architecture: 0xc000_003e))))
            }
            learn += events
            if index % 20 == 0 { check += events }
        }
        var detector = ProfileDetector(book: book, shard: ShardInfo(index: 0, count: 1, symbols: symbols))
        var findings: [Finding] = []
        detector.inspect(EventBatch(learn), into: &findings)
        book.completeAll()
        // Batches of 4,096 as the engine hands them over.
        batches = stride(from: 0, to: check.count, by: 4_096).map {
            EventBatch(check[$0..<min($0 + 4_096, check.count)])
        }
        eventCount = check.count
    }
}

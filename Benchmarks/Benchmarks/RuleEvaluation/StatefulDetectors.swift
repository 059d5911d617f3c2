import Benchmark
import VigilCore
import VigilRules

/// What the built-in stateful detectors (``ContainerDriftDetector``, ``SecretReadBurstDetector``) add to a
/// shard's per-event cost, measured on the rule benchmark's mix placed in containers (one container instance
/// per workload) with some Secrets Manager reads by applications (three secrets each, below the burst
/// threshold). The mix is benign: neither detector raises anything, so allocations are the per-event path's.
///
/// "before" runs the rule detector alone, as the agent did before the stateful detectors were wired in;
/// "after" runs the rule detector and both stateful detectors, as the agent's chain now does; "alone" runs the
/// two stateful detectors only. Figures are per event (1M events per iteration, scaled).
func statefulDetectorBenchmarks() {
    Benchmark("Stateful: before, rules alone, container mix, 1M events (one shard)") { benchmark in
        let fixture = StatefulFixture.shared
        var detector = RuleDetector(rules: fixture.rules.rules, symbols: fixture.rules.symbols)
        drive(&detector, fixture.batches, benchmark)
    }
    Benchmark("Stateful: after, rules + drift + secret bursts, container mix, 1M events (one shard)") { benchmark in
        let fixture = StatefulFixture.shared
        var chain = DetectorChain([
            RuleDetector(rules: fixture.rules.rules, symbols: fixture.rules.symbols),
            ContainerDriftDetector(symbols: fixture.rules.symbols),
            SecretReadBurstDetector(symbols: fixture.rules.symbols),
        ])
        drive(&chain, fixture.batches, benchmark)
    }
    Benchmark("Stateful: alone, drift + secret bursts, container mix, 1M events (one shard)") { benchmark in
        let fixture = StatefulFixture.shared
        var chain = StatefulPair(
            drift: ContainerDriftDetector(symbols: fixture.rules.symbols),
            bursts: SecretReadBurstDetector(symbols: fixture.rules.symbols))
        drive(&chain, fixture.batches, benchmark)
    }
}

/// The two stateful detectors, called directly (no existential per batch).
private struct StatefulPair: Detector {
    var drift: ContainerDriftDetector
    var bursts: SecretReadBurstDetector

    mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
        drift.inspect(events, into: &findings)
        bursts.inspect(events, into: &findings)
    }
}

/// Warms `detector` up over the mix once (as a running agent's caches would be warm), then measures 1M events.
/// A benign mix raises nothing; a finding allocates (its explanation), so any would show in the findings metric.
func drive(_ detector: inout some Detector, _ batches: [EventBatch], _ benchmark: Benchmark) {
    var findings: [Finding] = []
    findings.reserveCapacity(1_024)
    for batch in batches { detector.inspect(batch, into: &findings) }
    findings.removeAll(keepingCapacity: true)
    var raised = 0
    var evaluated = 0
    let total = benchmark.scaledIterations.count
    let start = ContinuousClock.now
    benchmark.startMeasurement()
    while evaluated < total {
        for batch in batches where evaluated < total {
            detector.inspect(batch, into: &findings)
            evaluated += batch.count
            raised += findings.count
            findings.removeAll(keepingCapacity: true)
        }
    }
    benchmark.stopMeasurement()
    let elapsed = (ContinuousClock.now - start) / .seconds(1)
    benchmark.measurement(RuleMetrics.eventsPerSecond, Int(Double(evaluated) / elapsed))
    benchmark.measurement(RuleMetrics.findings, raised)
}

/// The rule fixture's mix, in containers, with applications' secret reads.
struct StatefulFixture: Sendable {
    static let shared = StatefulFixture()

    let rules = RuleFixture.shared
    let batches: [EventBatch]

    init() {
        let symbols = rules.symbols
        let containers = (0..<64).map { symbols.intern(String(repeating: "c\($0 % 10)", count: 32)) }
        let secrets = (0..<21).map { symbols.intern("arn:aws:secretsmanager:us-east-1:111122223333:secret:app-\($0)") }
        let secretsManager = symbols.intern("secretsmanager")
        let getSecretValue = symbols.intern("GetSecretValue")
        batches = rules.batches.map { batch in
            var events = batch.events
            for index in events.indices {
                if events[index].kind.layer == .workload {
                    events[index].container = containers[Int(events[index].workload.rawValue) % containers.count]
                } else if case .cloud(var cloud) = events[index].fields, index % 2 == 0 {
                    // Each of the 7 applications reads its own 3 secrets.
                    let app = Int(events[index].principal.rawValue) % 7
                    cloud.service = secretsManager
                    cloud.action = getSecretValue
                    cloud.resource = secrets[app * 3 + index % 3]
                    events[index].fields = .cloud(cloud)
                }
            }
            return EventBatch(events)
        }
    }
}

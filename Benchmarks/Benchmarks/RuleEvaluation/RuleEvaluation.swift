import Benchmark
import Foundation
import VigilCore
import VigilRules
import VigilTestKit

/// Rule evaluations per second on one core, and allocations per evaluated event, for Vigil's built-in pack
/// plus Falco's stable rules (../shared/data/rules/falco/falco_rules.yaml) — every rule of them that loads.
///
/// One shard's ``RuleDetector`` is driven directly (no engine) over batches of 4,096 events of a realistic,
/// benign mix: mostly file opens, execs and connects with recurring paths and peers, some forks, exits and
/// DNS queries, and a few cloud and Kubernetes API calls. The mix is evaluated once before measuring, as a
/// running agent's caches would be warm; each measured iteration then evaluates 1M events, so with the
/// scaling factor the scaled figures are per event: wall clock and `mallocCountTotal` per event. Events per
/// second are reported as a metric of their own (the standard throughput counts iterations, and an
/// iteration of 1M events can take longer than a second).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [
            RuleMetrics.eventsPerSecond, .wallClock, .instructions, .mallocCountTotal,
            RuleMetrics.rules, RuleMetrics.skipped, RuleMetrics.findings,
        ],
        scalingFactor: .mega, maxDuration: .seconds(20), maxIterations: 15)

    Benchmark("Rules: built-in pack + Falco stable rules, realistic mix, 1M events (one shard)") { benchmark in
        let fixture = RuleFixture.shared
        var detector = RuleDetector(rules: fixture.rules, symbols: fixture.symbols)
        drive(&detector, fixture.batches, benchmark)
        benchmark.measurement(RuleMetrics.rules, fixture.rules.count)
        benchmark.measurement(RuleMetrics.skipped, fixture.failed)
    }

    statefulDetectorBenchmarks()
}

/// Figures the benchmark reports besides the standard ones; not scaled.
enum RuleMetrics {
    /// Events evaluated per second (against every candidate rule of their kind).
    static let eventsPerSecond = BenchmarkMetric.custom(
        "events per second", polarity: .prefersLarger, useScalingFactor: false)
    /// Findings raised per measured iteration (1M events).
    static let findings = BenchmarkMetric.custom("findings per 1M events", useScalingFactor: false)
    /// Enabled rules evaluated: the pack grows, and Falco rules load as Vigil's fields cover more of them.
    static let rules = BenchmarkMetric.custom("rules loaded", polarity: .prefersLarger, useScalingFactor: false)
    /// Rules of the files that did not load (Falco fields Vigil's events do not carry), left out.
    static let skipped = BenchmarkMetric.custom("rules not loaded", useScalingFactor: false)
}

/// The rules and the event mix, made once per benchmark process.
struct RuleFixture: Sendable {
    static let shared = RuleFixture()

    let symbols = SymbolTable()
    /// Enabled rules that loaded.
    let rules: [Rule]
    /// Rules that did not load (Falco fields Vigil's events do not carry, and the like).
    let failed: Int
    let batches: [EventBatch]

    /// ../shared/data, found from this file's location (Benchmarks/Benchmarks/RuleEvaluation/).
    static let sharedData = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/data")

    init() {
        let falco = Self.sharedData.appendingPathComponent("rules/falco/falco_rules.yaml").path
        do {
            let (set, compiled) = try RuleSet.load(files: [falco], builtin: true)
            rules = set.rules
            failed = compiled.failures.count
        } catch {
            fatalError("cannot load the rules: \(error)")
        }
        batches = Self.mix(symbols: symbols)
    }

    /// 16 batches of 4,096 events over 48 workloads.
    static func mix(symbols: SymbolTable) -> [EventBatch] {
        var b = EventBuilder(symbols: symbols)
        let workloads = (0..<48).map {
            b.workload(
                namespace: $0 % 3 == 0 ? "payments" : "shop", deployment: "service-\($0)",
                image: "registry.example/service-\($0 % 12):1.\($0 % 5)")
        }
        let programs: [(String, [String])] = [
            ("/usr/bin/python3", ["python3", "-m", "gunicorn", "app:app"]),
            ("/usr/local/bin/node", ["node", "server.js"]),
            ("/usr/bin/git", ["git", "fetch", "origin"]),
            ("/usr/bin/ls", ["ls", "-la", "/srv/app"]),
            ("/usr/local/bin/envoy", ["envoy", "-c", "/etc/envoy/envoy.yaml"]),
            ("/usr/bin/java", ["java", "-jar", "/srv/app/service.jar"]),
        ]
        let files = [
            "/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/ssl/certs/ca-certificates.crt",
            "/proc/self/stat", "/proc/meminfo", "/usr/lib/python3.12/json/__init__.py", "/sys/fs/cgroup/cpu.max",
            "/usr/lib/x86_64-linux-gnu/libssl.so.3", "/etc/localtime",
        ]
        let peers = ["10.0.3.7", "10.0.4.12", "10.96.0.10", "172.16.2.9", "151.101.1.69", "52.94.236.248"]
        let names = ["db.payments.svc.cluster.local", "api.stripe.com", "s3.us-east-1.amazonaws.com"]
        let actions = ["GetObject", "PutObject", "DescribeInstances", "AssumeRole", "ListBuckets"]
        var events: [Event] = []
        events.reserveCapacity(16 * 4_096)
        for index in 0..<(16 * 4_096) {
            let workload = workloads[index % workloads.count]
            // 60 long-running processes do most of the work (their execs recur, so their names are known);
            // short-lived helpers fork and exit.
            let pid = Int32(2_000 + (index / 3) % 60)
            let helper = Int32(5_000 + index % 50)
            switch index % 100 {
            case 0..<10:
                let (executable, arguments) = programs[index % programs.count]
                events.append(
                    b.exec(pid: pid, parent: 1, executable: executable, arguments: arguments, workload: workload))
            case 10..<12: events.append(b.fork(pid: helper, parent: pid, workload: workload))
            case 12..<14: events.append(b.exit(pid: helper, workload: workload))
            case 14..<60:
                // Recurring paths: shared files, and each service's own tree of a few hundred files.
                let path =
                    index % 3 == 0
                    ? files[index % files.count] : "/srv/app/module\(index % 20)/file\(index % 300).py"
                events.append(b.open(pid: pid, path: path, flags: index % 11 == 0 ? 0x241 : 0, workload: workload))
            case 60..<82:
                events.append(
                    b.connect(
                        pid: pid, to: peers[index % peers.count], port: [5432, 443, 53, 8080][index % 4],
                        workload: workload))
            case 82..<94: events.append(b.dns(pid: pid, name: names[index % names.count], workload: workload))
            case 94..<97:
                events.append(
                    b.cloudCall(
                        principal: "arn:aws:sts::111122223333:assumed-role/app-\(index % 7)/session", service: "s3",
                        action: actions[index % actions.count], resource: "arn:aws:s3:::bucket-\(index % 9)"))
            default:
                events.append(
                    b.kubernetesRequest(
                        user: "system:serviceaccount:shop:service-\(index % 9)",
                        verb: ["get", "list", "watch"][index % 3],
                        resource: ["pods", "configmaps", "endpoints"][index % 3], name: "item-\(index % 30)"))
            }
        }
        return stride(from: 0, to: events.count, by: 4_096).map {
            EventBatch(events[$0..<min($0 + 4_096, events.count)])
        }
    }
}

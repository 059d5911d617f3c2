import Foundation
import Logging
import VigilAuditLog
import VigilCloudEvents
import VigilCore
import VigilCorrelation
import VigilProfiles
import VigilRules

/// What `vigil-agent replay` does: learn baselines from some files, then detect on others with the learned
/// profiles and the selected rules, joining the findings into incidents and keeping those in the store.
public struct Replay: Sendable {
    /// Files whose events teach the baselines (may be empty: then only profile-free detections fire).
    public var learnFiles: [String]
    /// Files whose events are checked.
    public var detectFiles: [String]
    /// Where alerts go: a path, or nil / `-` for standard output.
    public var alertsPath: String?
    /// The alert format.
    public var format: AlertFormat
    /// The engine's shard count (default: the number of cores).
    public var shards: Int?
    /// Whether to print progress on standard error (only when it is a terminal).
    public var showProgress: Bool
    /// Where profiles are loaded from before learning and saved to after each phase.
    public var store: StoreLocation
    /// The rules checked in the detect phase, beside the profiles.
    public var rules: RuleSelection
    /// How findings of the detect phase join into incidents (attack stories), or nil to report findings alone.
    /// Incidents go to the alert stream, and into the store when it is a SQLite one.
    public var correlation: CorrelationConfiguration?

    /// Creates a replay.
    public init(
        learnFiles: [String], detectFiles: [String], alertsPath: String? = nil, format: AlertFormat = .json,
        shards: Int? = nil, showProgress: Bool = true, store: StoreLocation = .standard,
        rules: RuleSelection = .builtinPack, correlation: CorrelationConfiguration? = .agent()
    ) {
        self.learnFiles = learnFiles
        self.detectFiles = detectFiles
        self.alertsPath = alertsPath
        self.format = format
        self.shards = shards
        self.showProgress = showProgress
        self.store = store
        self.rules = rules
        self.correlation = correlation
    }

    /// What a replay did.
    public struct Summary: Sendable {
        /// Events read from the learn files.
        public var learnedEvents: UInt64
        /// Events read from the detect files.
        public var detectedEvents: UInt64
        /// Lines skipped as malformed, in all files.
        public var skippedLines: UInt64
        /// Profiles (workloads and principals) in the book at the end.
        public var learnedSubjects: Int
        /// Findings raised.
        public var findings: UInt64
        /// Incidents raised.
        public var incidents: UInt64
        /// Enabled rules checked in the detect phase.
        public var rules: Int
    }

    /// Runs the replay to the end.
    ///
    /// - Throws: ``AgentError`` before reading anything when a selected rule does not load, or an input is
    ///   not recognised.
    public func run(logger: Logger = Logger(label: "vigil.replay")) async throws -> Summary {
        let ruleSet = try rules.load()
        let learnInputs = try learnFiles.map { ($0, try InputFormat.detect(path: $0)) }
        let detectInputs = try detectFiles.map { ($0, try InputFormat.detect(path: $0)) }
        let configuration = EngineConfiguration(shards: shards)
        let symbols = SymbolTable()
        // In a replay, profiles complete when the learn phase ends and at no other time: recorded events
        // span any length of time, and a subject first seen while detecting must not complete mid-replay.
        let never = LifecyclePolicy(learningWindow: .max, quietPeriod: .max)
        let book = ProfileBook(shardCount: configuration.shards, symbols: symbols, policy: never)
        let progress = ProgressReporter(enabled: showProgress)
        let profileStore = try store.open()
        var stored: [StoredProfile] = []
        for key in try await profileStore.keys() {
            if let profile = try await profileStore.load(key) { stored.append(profile) }
        }
        for (key, error) in book.load(stored) {
            logger.warning(
                "skipped a stored profile that cannot be read", metadata: ["profile": "\(key)", "error": "\(error)"])
        }

        let learn = ReplayPhase(name: "learn", inputs: learnInputs, logger: logger)
        var learnedEvents: UInt64 = 0
        if !learnFiles.isEmpty {
            let engine = Engine(
                configuration: configuration, symbols: symbols, sensors: [learn.sensor],
                detectors: book.detectorFactory, logger: logger)
            try await progress.watch(engine, phase: "learn")
            learnedEvents = engine.statistics.eventsReceived
        }
        // Profiles are completed when the learn phase ends; only completed profiles raise deviations.
        if !learnFiles.isEmpty {
            book.completeAll()
            try await profileStore.save(book.storedProfiles(at: WallClock.now(), onlyChanged: true))
        }

        // Rules run only while detecting: the learn phase raises nothing.
        let detect = ReplayPhase(name: "detect", inputs: detectInputs, logger: logger)
        var outputs: [any AlertOutput] = [try StreamAlertOutput(path: alertsPath, format: format, symbols: symbols)]
        if let incidents = IncidentWiring.output(
            correlating: correlation != nil, profiles: profileStore, symbols: symbols)
        {
            outputs.append(incidents)
        }
        let engine = Engine(
            configuration: configuration, symbols: symbols, sensors: [detect.sensor],
            detectors: RuleSelection.detectors(
                profiles: book, rules: ruleSet, builtin: rules.builtin, node: correlation?.node),
            correlator: IncidentWiring.correlator(correlation, symbols: symbols), outputs: outputs, logger: logger)
        try await progress.watch(engine, phase: "detect")
        // Workloads first seen while detecting started learning; keep what they learned.
        try await profileStore.save(book.storedProfiles(at: WallClock.now(), onlyChanged: true))
        let statistics = engine.statistics
        return Summary(
            learnedEvents: learnedEvents, detectedEvents: statistics.eventsReceived,
            skippedLines: learn.skipped + detect.skipped, learnedSubjects: book.profiles.count,
            findings: statistics.findings, incidents: statistics.incidents, rules: ruleSet.rules.count)
    }
}

/// Prints a replay's progress (events, events/s, findings) on standard error once a second, only when
/// standard error is a terminal, so logs and pipes stay clean.
struct ProgressReporter: Sendable {
    let enabled: Bool

    init(enabled: Bool) {
        self.enabled = enabled && isatty(STDERR_FILENO) == 1
    }

    /// Runs the engine to its end, reporting while it runs.
    func watch(_ engine: Engine, phase: String) async throws {
        guard enabled else { return try await engine.run() }
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    Self.report(engine.statistics, phase: phase, since: started, final: false)
                }
            }
            try await engine.run()
            group.cancelAll()
        }
        Self.report(engine.statistics, phase: phase, since: started, final: true)
    }

    private static func report(
        _ statistics: EngineStatistics, phase: String, since start: ContinuousClock.Instant, final: Bool
    ) {
        let elapsed =
            Double((ContinuousClock.now - start).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - start).components.seconds)
        let rate = elapsed > 0 ? Double(statistics.eventsReceived) / elapsed : 0
        let line =
            "\r[\(phase)] \(statistics.eventsReceived) events, \(Int(rate)) events/s, \(statistics.findings) findings"
        FileHandle.standardError.write(Data((line + (final ? "\n" : "")).utf8))
    }
}

/// One phase's inputs: a sensor that replays them in order, each through the sensor of its format, and
/// the counts of what those sensors skipped.
struct ReplayPhase {
    let sensor: SequentialSensor
    private let tally = ReplayTally()
    private let linuxAudit: [LinuxAuditFileSensor]
    private let kubernetesAudit: [KubernetesAuditFileSensor]
    private let cloud = CloudSensorProgress()

    init(name: String, inputs: [(path: String, format: InputFormat)], logger: Logger) {
        var sensors: [any Sensor] = []
        var linuxAudit: [LinuxAuditFileSensor] = []
        var kubernetesAudit: [KubernetesAuditFileSensor] = []
        for (path, format) in inputs {
            switch format {
            case .vigilEvents:
                sensors.append(EventFileSensor(name: name, files: [path], tally: tally, logger: logger))
            case .linuxAudit:
                let sensor = LinuxAuditFileSensor(path: path, mode: .replay, name: name)
                linuxAudit.append(sensor)
                sensors.append(sensor)
            case .kubernetesAudit:
                let sensor = KubernetesAuditFileSensor(path: path, mode: .replay, name: name)
                kubernetesAudit.append(sensor)
                sensors.append(sensor)
            case .cloud:
                sensors.append(
                    CloudTrailFileSensor(
                        paths: [path], name: name, failOnUnreadableFile: true, progress: cloud, logger: logger))
            }
        }
        self.sensor = SequentialSensor(name: name, sensors: sensors)
        self.linuxAudit = linuxAudit
        self.kubernetesAudit = kubernetesAudit
    }

    /// Lines or records skipped as malformed or foreign, in all inputs of the phase.
    var skipped: UInt64 {
        tally.skipped + UInt64(linuxAudit.reduce(0) { $0 + $1.statistics.totalSkipped })
            + UInt64(kubernetesAudit.reduce(0) { $0 + $1.statistics.totalSkipped }) + UInt64(cloud.skipped.total)
    }
}

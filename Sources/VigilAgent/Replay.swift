import Foundation
import Logging
import VigilCore
import VigilProfiles

/// What `vigil-agent replay` does: learn baselines from some files, then detect on others.
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

    /// Creates a replay.
    public init(
        learnFiles: [String], detectFiles: [String], alertsPath: String? = nil, format: AlertFormat = .json,
        shards: Int? = nil, showProgress: Bool = true, store: StoreLocation = .standard
    ) {
        self.learnFiles = learnFiles
        self.detectFiles = detectFiles
        self.alertsPath = alertsPath
        self.format = format
        self.shards = shards
        self.showProgress = showProgress
        self.store = store
    }

    /// What a replay did.
    public struct Summary: Sendable {
        /// Events read from the learn files.
        public var learnedEvents: UInt64
        /// Events read from the detect files.
        public var detectedEvents: UInt64
        /// Lines skipped as malformed, in all files.
        public var skippedLines: UInt64
        /// Subjects (workloads and principals) with a learned baseline.
        public var learnedSubjects: Int
        /// Findings raised.
        public var findings: UInt64
        /// Incidents raised.
        public var incidents: UInt64
    }

    /// One sensor that replays the inputs in order, each through the sensor of its format.
    static func sensor(
        name: String, inputs: [(path: String, format: InputFormat)], tally: ReplayTally, logger: Logger
    ) -> any Sensor {
        SequentialSensor(
            name: name,
            sensors: inputs.map { path, format in
                switch format {
                case .vigilEvents:
                    return EventFileSensor(name: name, files: [path], tally: tally, logger: logger)
                }
            })
    }

    static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    /// Runs the replay to the end.
    public func run(logger: Logger = Logger(label: "vigil.replay")) async throws -> Summary {
        let learnInputs = try learnFiles.map { ($0, try InputFormat.detect(path: $0)) }
        let detectInputs = try detectFiles.map { ($0, try InputFormat.detect(path: $0)) }
        let configuration = EngineConfiguration(shards: shards)
        let symbols = SymbolTable()
        let book = ProfileBook(shardCount: configuration.shards, symbols: symbols)
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

        let learnTally = ReplayTally()
        if !learnFiles.isEmpty {
            let engine = Engine(
                configuration: configuration, symbols: symbols,
                sensors: [Self.sensor(name: "learn", inputs: learnInputs, tally: learnTally, logger: logger)],
                detectors: book.detectorFactory, logger: logger)
            try await progress.watch(engine, phase: "learn")
        }
        // Profiles are completed when the learn phase ends; only completed profiles raise deviations.
        if !learnFiles.isEmpty {
            book.completeAll()
            try await profileStore.save(book.storedProfiles(at: Self.now(), onlyChanged: true))
        }

        let detectTally = ReplayTally()
        let output = try StreamAlertOutput(path: alertsPath, format: format, symbols: symbols)
        let engine = Engine(
            configuration: configuration, symbols: symbols,
            sensors: [Self.sensor(name: "detect", inputs: detectInputs, tally: detectTally, logger: logger)],
            detectors: book.detectorFactory, outputs: [output], logger: logger)
        try await progress.watch(engine, phase: "detect")
        // Workloads first seen while detecting started learning; keep what they learned.
        try await profileStore.save(book.storedProfiles(at: Self.now(), onlyChanged: true))
        let statistics = engine.statistics
        return Summary(
            learnedEvents: learnTally.events, detectedEvents: detectTally.events,
            skippedLines: learnTally.skipped + detectTally.skipped, learnedSubjects: book.profiles.count,
            findings: statistics.findings, incidents: statistics.incidents)
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

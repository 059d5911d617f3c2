import Logging
import ServiceLifecycle
import UnixSignals
import VigilAuditLog
import VigilCloudEvents
import VigilCloudEventsPush
import VigilCore
import VigilCorrelation
import VigilEBPF
import VigilK8sAuditWebhook
import VigilProfiles
import VigilRules
import VigilWebhook

/// What `vigil-agent run` does: start the configured live sensors with the engine, learn profiles for a
/// while, then detect, saving profiles as it goes, until SIGTERM or SIGINT. The selected rules are checked
/// from the start, beside the profiles.
public struct LiveRun: Sendable {
    /// The eBPF sensor's settings, or nil to run without it.
    public var ebpf: EBPFSensorConfiguration?
    /// The Kubernetes audit webhook receiver's settings, or nil.
    public var kubernetesAuditWebhook: KubernetesAuditWebhookConfiguration?
    /// A Linux audit log to follow.
    public var linuxAuditLog: String?
    /// A Kubernetes audit log to follow.
    public var kubernetesAuditLog: String?
    /// A CloudTrail delivery directory to follow.
    public var cloudTrailDirectory: String?
    /// An HTTP endpoint that receives pushed cloud records (an EventBridge API destination), if any.
    public var cloudPush: CloudPushConfiguration?
    /// Vigil JSON Lines event files to follow (what other processes write, such as an application's events).
    public var eventStreams: [String]
    /// Where the CloudTrail follower remembers the files it has read, so a restart neither re-reads nor
    /// skips one.
    public var cloudTrailCheckpoint: String
    /// How long each new profile learns before it is completed and deviations are flagged.
    public var learnFor: Duration
    /// Where profiles live.
    public var store: StoreLocation
    /// Where alerts go: a path, or nil / `-` for standard output.
    public var alertsPath: String?
    /// The alert format.
    public var format: AlertFormat
    /// How often changed profiles are saved.
    public var saveInterval: Duration
    /// How often followed files are polled for new lines.
    public var pollInterval: Duration
    /// The rules checked beside the profiles.
    public var rules: RuleSelection
    /// How findings and incidents are answered.
    public var response: ResponseSettings
    /// An HTTP endpoint that receives every alert too, or nil.
    public var webhook: WebhookAlertOutput.Configuration?
    /// How findings join into incidents (attack stories), or nil to report findings alone.
    public var correlation: CorrelationConfiguration?

    /// Creates a run.
    public init(
        ebpf: EBPFSensorConfiguration? = nil, kubernetesAuditWebhook: KubernetesAuditWebhookConfiguration? = nil,
        linuxAuditLog: String? = nil, kubernetesAuditLog: String? = nil, cloudTrailDirectory: String? = nil,
        cloudTrailCheckpoint: String = ".vigil/cloudtrail.checkpoint", cloudPush: CloudPushConfiguration? = nil,
        eventStreams: [String] = [],
        learnFor: Duration = .seconds(24 * 3600),
        store: StoreLocation = .standard, alertsPath: String? = nil, format: AlertFormat = .json,
        saveInterval: Duration = .seconds(30), pollInterval: Duration = .milliseconds(250),
        rules: RuleSelection = .builtinPack, response: ResponseSettings = .off,
        webhook: WebhookAlertOutput.Configuration? = nil,
        correlation: CorrelationConfiguration? = .agent()
    ) {
        self.ebpf = ebpf
        self.kubernetesAuditWebhook = kubernetesAuditWebhook
        self.linuxAuditLog = linuxAuditLog
        self.kubernetesAuditLog = kubernetesAuditLog
        self.cloudTrailDirectory = cloudTrailDirectory
        self.cloudTrailCheckpoint = cloudTrailCheckpoint
        self.cloudPush = cloudPush
        self.eventStreams = eventStreams
        self.learnFor = learnFor
        self.store = store
        self.alertsPath = alertsPath
        self.format = format
        self.saveInterval = saveInterval
        self.pollInterval = pollInterval
        self.rules = rules
        self.response = response
        self.webhook = webhook
        self.correlation = correlation
    }

    /// The live sensors these options ask for.
    func sensors() throws -> [any Sensor] {
        var sensors: [any Sensor] = []
        if let ebpf { sensors.append(EBPFSensor(configuration: ebpf)) }
        if let kubernetesAuditWebhook {
            do {
                sensors.append(try KubernetesAuditWebhookSensor(configuration: kubernetesAuditWebhook))
            } catch {
                throw AgentError("cannot set up the Kubernetes audit webhook: \(error)")
            }
        }
        if let linuxAuditLog {
            // `netlink` reads the kernel's audit stream directly, as the audit daemon would.
            sensors.append(
                linuxAuditLog == "netlink"
                    ? LinuxAuditNetlinkSensor()
                    : LinuxAuditFileSensor(path: linuxAuditLog, mode: .follow(pollInterval: pollInterval)))
        }
        if let kubernetesAuditLog {
            sensors.append(
                KubernetesAuditFileSensor(path: kubernetesAuditLog, mode: .follow(pollInterval: pollInterval)))
        }
        if let cloudTrailDirectory {
            sensors.append(
                CloudTrailDirectorySensor(
                    directory: cloudTrailDirectory, checkpointPath: cloudTrailCheckpoint, pollInterval: pollInterval))
        }
        for path in eventStreams {
            sensors.append(EventStreamSensor(path: path, pollInterval: pollInterval))
        }
        if let cloudPush {
            do {
                sensors.append(try CloudPushSensor(configuration: cloudPush))
            } catch {
                throw AgentError("cannot set up the cloud push endpoint: \(error)")
            }
        }
        return sensors
    }

    /// Runs until SIGTERM or SIGINT (or until every sensor has ended), then drains and saves.
    ///
    /// - Throws: ``AgentError`` before any sensor starts when a selected rule does not load or no sensor is
    ///   configured.
    public func run(logger: Logger) async throws {
        let ruleSet = try rules.load()
        let responsePolicy = try response.policy()
        let sensors = try sensors()
        guard !sensors.isEmpty else {
            throw AgentError(
                "no live sensor is configured: leave the eBPF sensor on, or give --linux-audit FILE, --k8s-audit FILE, "
                    + "--k8s-audit-webhook HOST:PORT, --cloudtrail DIR, --cloud-push HOST:PORT or --events-follow FILE")
        }
        let configuration = EngineConfiguration()
        let symbols = SymbolTable()
        let window = learnFor.components.seconds * 1_000_000_000 + learnFor.components.attoseconds / 1_000_000_000
        // A profile completes when its learning window has passed; the quiet-period rule must not end it
        // sooner than the operator asked for.
        let policy = LifecyclePolicy(readyAfterEvents: 1, learningWindow: window, quietPeriod: max(window, 1))
        let book = ProfileBook(shardCount: configuration.shards, symbols: symbols, policy: policy)
        let store = try self.store.open()
        var stored: [StoredProfile] = []
        for key in try await store.keys() {
            if let profile = try await store.load(key) { stored.append(profile) }
        }
        for (key, error) in book.load(stored) {
            logger.warning(
                "skipped a stored profile that cannot be read", metadata: ["profile": "\(key)", "error": "\(error)"])
        }
        var outputs: [any AlertOutput] = [
            try StreamAlertOutput(path: alertsPath, format: format, symbols: symbols, flushEachAlert: true)
        ]
        if let webhook {
            do {
                outputs.append(try WebhookAlertOutput(configuration: webhook, symbols: symbols, logger: logger))
            } catch {
                throw AgentError("cannot set up the webhook: \(error)")
            }
        }
        // Incidents are kept beside the profiles (a SQLite store), for `vigil-agent incidents`.
        let incidents = IncidentWiring.output(correlating: correlation != nil, profiles: store, symbols: symbols)
        if let incidents { outputs.append(incidents) }
        let responder = try response.makeResponder(
            policy: responsePolicy, symbols: symbols, profiles: store, logger: logger)
        let engine = Engine(
            configuration: configuration, symbols: symbols, sensors: sensors,
            detectors: RuleSelection.detectors(
                profiles: book, rules: ruleSet, builtin: rules.builtin, node: correlation?.node),
            correlator: IncidentWiring.correlator(correlation, symbols: symbols),
            responders: responder.map { [$0] } ?? [], outputs: outputs, logger: logger)
        let saver = ProfileSaver(book: book, store: store, interval: saveInterval, logger: logger)
        logger.notice(
            "vigil-agent running",
            metadata: [
                "sensors": "\(sensors.map(\.name))", "store": "\(self.store)", "profiles": "\(stored.count)",
                "learn_for": "\(learnFor)", "rules": "\(ruleSet.rules.count)",
                "respond": "\(response.effectiveMode(policy: responsePolicy))",
                "correlate": "\(correlation != nil)", "incidents_kept": "\(incidents != nil)",
            ])
        // The saver is listed first: a group shuts down in reverse order, so the engine drains before the
        // final save.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: saver),
                    .init(service: engine, successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

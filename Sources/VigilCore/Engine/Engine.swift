import Atomics
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Wires sensors to detectors, the correlator, responders and outputs.
///
/// Sensors push batches into per-sensor sinks; sinks split them by ``Event/shardKey`` over the shards, so
/// each workload's (or, for control-plane events, each principal's) events reach one shard in order and
/// per-shard state needs no locks. Each shard updates its process table, runs its detector once per batch
/// and hands findings to a single alert stage, which runs the correlator, the responders and the outputs.
///
/// `run()` returns when every sensor has finished (or, on graceful shutdown, been cancelled) and every
/// queued event, finding and incident has been processed: nothing in flight is lost.
public final class Engine: Service {
    /// How the engine runs.
    public let configuration: EngineConfiguration
    /// The symbol table shared with the sensors.
    public let symbols: SymbolTable

    private let sensors: [any Sensor]
    private let sinks: [EventSink]
    private let sensorCounters: [SensorCounters]
    private let makeDetector: DetectorFactory
    private let makeCorrelator: CorrelatorFactory?
    private let responders: [any Responder]
    private let outputs: [any AlertOutput]
    private let logger: Logger
    private let shardQueues: [AsyncBatchQueue<Event>]
    private let findingQueue: AsyncBatchQueue<Finding>
    private let started = ManagedAtomic(false)
    private let counters = Counters()
    private let processes: SharedProcessTable

    /// Creates an engine. Nothing runs until ``run()``.
    public init(
        configuration: EngineConfiguration = EngineConfiguration(),
        symbols: SymbolTable,
        sensors: [any Sensor],
        detectors: @escaping DetectorFactory,
        correlator: CorrelatorFactory? = nil,
        responders: [any Responder] = [],
        outputs: [any AlertOutput] = [],
        logger: Logger = Logger(label: "vigil.engine")
    ) {
        self.configuration = configuration
        self.symbols = symbols
        self.sensors = sensors
        self.makeDetector = detectors
        self.makeCorrelator = correlator
        self.responders = responders
        self.outputs = outputs
        self.logger = logger
        let queues = (0..<configuration.shards).map { _ in
            AsyncBatchQueue<Event>(capacity: configuration.shardQueueCapacity)
        }
        self.shardQueues = queues
        self.findingQueue = AsyncBatchQueue(capacity: configuration.findingQueueCapacity)
        let processes = SharedProcessTable(capacity: configuration.processTableCapacity)
        self.processes = processes
        let sensorCounters = sensors.map { SensorCounters(sensorName: $0.name) }
        self.sensorCounters = sensorCounters
        self.sinks = zip(sensors, sensorCounters).map { sensor, counters in
            EventSink(
                sensorName: sensor.name, symbols: symbols, shards: queues, counters: counters, processes: processes)
        }
    }

    /// Runs until the sensors finish or a graceful shutdown, then drains. Throws if a sensor failed
    /// (after draining what the others delivered).
    public func run() async throws {
        guard started.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else {
            throw EngineError(code: .alreadyRun, message: "an engine runs once; make a new one")
        }
        logger.info(
            "engine starting",
            metadata: ["shards": "\(shardQueues.count)", "sensors": "\(sensors.map(\.name))"])
        let failures = FailureLog()
        await withTaskGroup(of: Void.self) { pipeline in
            pipeline.addTask { await self.runAlertStage() }
            await withTaskGroup(of: Void.self) { workers in
                for index in shardQueues.indices {
                    workers.addTask { await self.runShard(index) }
                }
                await runSensors(failures: failures)
                // Sensors are done: let the shards drain what is queued, then stop.
                for queue in shardQueues { queue.close() }
            }
            findingQueue.close()
        }
        let statistics = self.statistics
        logger.info(
            "engine stopped",
            metadata: [
                "events": "\(statistics.eventsReceived)", "dropped": "\(statistics.totalDropped)",
                "findings": "\(statistics.findings)", "incidents": "\(statistics.incidents)",
            ])
        if let failure = failures.first { throw failure }
    }

    /// What the engine has counted so far.
    public var statistics: EngineStatistics {
        var dropped: [String: [EventKind: UInt64]] = [:]
        for counters in sensorCounters {
            let byKind = counters.droppedByKind
            if !byKind.isEmpty { dropped[counters.sensorName, default: [:]].merge(byKind, uniquingKeysWith: +) }
        }
        return EngineStatistics(
            eventsReceived: sensorCounters.reduce(0) { $0 + $1.receivedCount },
            eventsDropped: dropped,
            findings: counters.findings.load(ordering: .relaxed),
            incidents: counters.incidents.load(ordering: .relaxed),
            actions: counters.actions.load(ordering: .relaxed),
            processesForgotten: processes.forgotten,
            outputErrors: counters.outputErrors.load(ordering: .relaxed))
    }

    private func runSensors(failures: FailureLog) async {
        let sensors = self.sensors
        let sinks = self.sinks
        let logger = self.logger
        // Graceful shutdown cancels the sensors; they detach and return, and the pipeline drains.
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for (sensor, sink) in zip(sensors, sinks) {
                    group.addTask {
                        do {
                            try await sensor.run(into: sink)
                        } catch is CancellationError {
                            // Stopping on cancellation is the expected way out.
                        } catch {
                            logger.error("sensor failed", metadata: ["sensor": "\(sensor.name)", "error": "\(error)"])
                            let failure = EngineError(
                                code: .sensorFailed, message: "sensor \(sensor.name) failed", underlying: error)
                            failures.record(failure)
                        }
                    }
                }
            }
        }
    }

    private func runShard(_ index: Int) async {
        let queue = shardQueues[index]
        var detector = makeDetector(ShardInfo(index: index, count: shardQueues.count, symbols: symbols))
        var findings: [Finding] = []
        var dropsSeen: UInt64 = 0
        let findingsCounter = Counter(label: "vigil_findings_total")
        var batch = EventBatch(capacity: 0)
        while await queue.take(into: &batch.events) {
            detector.inspect(batch, into: &findings)
            queue.recycle(&batch.events)
            if findings.isEmpty { continue }
            for index in findings.indices {
                let event = findings[index].event
                var (process, ancestry) = processes.describe(event.process, symbols: symbols)
                // The table may already hold a later exec of this process: the event says what ran then.
                if !event.executable.isNone { process?.executable = symbols.string(event.executable) }
                findings[index].process = process
                findings[index].ancestry = ancestry
            }
            // The first finding after a loss carries it, so the counts add up to the shard's drops.
            let drops = queue.dropped
            findings[0].eventsLostBefore = drops - dropsSeen
            dropsSeen = drops
            counters.findings.wrappingIncrement(by: UInt64(findings.count), ordering: .relaxed)
            findingsCounter.increment(by: findings.count)
            var handed = ContiguousArray(findings)
            await findingQueue.enqueue(&handed)
            findings.removeAll(keepingCapacity: true)
        }
    }

    private func runAlertStage() async {
        var correlator = makeCorrelator?()
        var incidents: [Incident] = []
        var batch = ContiguousArray<Finding>()
        while await findingQueue.take(into: &batch) {
            var findings = Array(batch)
            findingQueue.recycle(&batch)
            for index in findings.indices { findings[index].response = await deliver(.finding(findings[index])) }
            // The correlator sees each finding with the response it got.
            correlator?.correlate(findings, into: &incidents)
            await deliver(incidents)
            incidents.removeAll(keepingCapacity: true)
        }
        correlator?.finish(into: &incidents)
        await deliver(incidents)
        for output in outputs {
            do {
                try await output.finish()
            } catch {
                logger.error("output failed to finish", metadata: ["error": "\(error)"])
                counters.outputErrors.wrappingIncrement(ordering: .relaxed)
            }
        }
    }

    private func deliver(_ incidents: [Incident]) async {
        if incidents.isEmpty { return }
        counters.incidents.wrappingIncrement(by: UInt64(incidents.count), ordering: .relaxed)
        counters.incidentsMetric.increment(by: incidents.count)
        for incident in incidents { await deliver(.incident(incident)) }
    }

    /// Runs the responders on the alert, writes it with their records attached to every output, and
    /// returns the alert's full response.
    @discardableResult
    private func deliver(_ alert: Alert) async -> [ResponseRecord] {
        var alert = alert
        var records: [ResponseRecord] = []
        for responder in responders { records += await responder.respond(to: alert) }
        var response = records
        if !records.isEmpty {
            counters.actions.wrappingIncrement(by: UInt64(records.count), ordering: .relaxed)
            for record in records {
                Counter(
                    label: "vigil_response_actions_total",
                    dimensions: [("action", record.action.kind.rawValue), ("outcome", record.outcome.rawValue)]
                ).increment()
            }
            switch alert {
            case .finding(var finding):
                finding.response += records
                response = finding.response
                alert = .finding(finding)
            case .incident(var incident):
                incident.response += records
                response = incident.response
                alert = .incident(incident)
            }
        }
        for output in outputs {
            do {
                try await output.write(alert)
            } catch {
                counters.outputErrors.wrappingIncrement(ordering: .relaxed)
                logger.error("output failed", metadata: ["error": "\(error)"])
            }
        }
        return response
    }

    private final class FailureLog: Sendable {
        private let failures = Mutex<[EngineError]>([])
        func record(_ failure: EngineError) { failures.withLock { $0.append(failure) } }
        var first: EngineError? { failures.withLock { $0.first } }
    }

    private final class Counters: Sendable {
        let incidentsMetric = Counter(label: "vigil_incidents_total")
        let findings = ManagedAtomic<UInt64>(0)
        let incidents = ManagedAtomic<UInt64>(0)
        let actions = ManagedAtomic<UInt64>(0)
        let outputErrors = ManagedAtomic<UInt64>(0)
    }
}

import Logging
import Synchronization
import VigilCore

/// What a cloud sensor has done so far, readable while it runs.
public final class CloudSensorProgress: Sendable {
    private struct State {
        var files = 0
        var events = 0
        var failedFiles = 0
        var skipped = CloudSkipCounts()
    }

    private let state = Mutex(State())

    /// Creates empty progress.
    public init() {}

    /// Files read completely.
    public var files: Int { state.withLock { $0.files } }
    /// Events delivered to the sink.
    public var events: Int { state.withLock { $0.events } }
    /// Files that could not be read at all (unreadable, broken gzip).
    public var failedFiles: Int { state.withLock { $0.failedFiles } }
    /// Records skipped, by reason.
    public var skipped: CloudSkipCounts { state.withLock { $0.skipped } }

    func fileDone(events: Int, skipped: CloudSkipCounts) {
        state.withLock {
            $0.files += 1
            $0.events += events
            $0.skipped.merge(skipped)
        }
    }

    func fileFailed() { state.withLock { $0.failedFiles += 1 } }
}

/// Reads one file and sends its events to `sink`, waiting for room so that nothing is lost.
/// Returns the number of events sent and the skips, or throws when the file could not be read.
func replay(
    path: String, into sink: EventSink, batch: inout EventBatch, batchSize: Int, limits: CloudEventLimits
) async throws(CloudEventError) -> (events: Int, skipped: CloudSkipCounts) {
    let bytes = try FileIO.read(path: path, maximumSize: limits.maximumFileSize)
    var decoder = try CloudEventDecoder(bytes: bytes, symbols: sink.symbols, path: path, limits: limits)
    var more = true
    while more {
        more = decoder.fill(&batch, upTo: batchSize)
        if !batch.isEmpty { await sink.send(&batch) }
    }
    return (decoder.eventCount, decoder.skipped)
}

/// Replays cloud log files (CloudTrail Records files, arrays, JSON lines with or without EventBridge
/// envelopes, GCP and Azure logs; plain or gzip) into the engine, in the order given, then returns.
///
/// Replays wait for the engine (``EventSink/send(_:)``), so no event is dropped. A file that cannot be read
/// is logged and counted in ``progress``, and the others are still read, unless ``failOnUnreadableFile`` is set.
public struct CloudTrailFileSensor: Sensor {
    /// The sensor's name in metrics and logs.
    public let name: String
    /// The files to read.
    public let paths: [String]
    /// Events per batch.
    public let batchSize: Int
    /// Size bounds.
    public let limits: CloudEventLimits
    /// Whether an unreadable or broken file stops the sensor with an error (instead of being logged and counted).
    public let failOnUnreadableFile: Bool
    /// What the sensor has done so far.
    public let progress: CloudSensorProgress
    private let logger: Logger

    /// Creates a sensor replaying `paths`.
    public init(
        paths: [String],
        name: String = "cloudtrail",
        batchSize: Int = 1024,
        limits: CloudEventLimits = CloudEventLimits(),
        failOnUnreadableFile: Bool = false,
        progress: CloudSensorProgress = CloudSensorProgress(),
        logger: Logger = Logger(label: "vigil.cloudtrail")
    ) {
        self.name = name
        self.paths = paths
        self.batchSize = max(1, batchSize)
        self.limits = limits
        self.failOnUnreadableFile = failOnUnreadableFile
        self.progress = progress
        self.logger = logger
    }

    /// Reads every file into `sink`; returns at the end or when the task is cancelled.
    public func run(into sink: EventSink) async throws {
        var batch = EventBatch(capacity: batchSize)
        for path in paths {
            if Task.isCancelled { return }
            do {
                let result = try await replay(
                    path: path, into: sink, batch: &batch, batchSize: batchSize, limits: limits)
                progress.fileDone(events: result.events, skipped: result.skipped)
                if result.skipped.total > 0 {
                    logger.warning(
                        "skipped records",
                        metadata: [
                            "file": "\(path)", "skipped": "\(result.skipped)",
                            "first": "\(result.skipped.messages.first ?? "")",
                        ])
                }
            } catch {
                progress.fileFailed()
                if failOnUnreadableFile { throw error }
                logger.error("cannot read cloud log file", metadata: ["file": "\(path)", "error": "\(error)"])
            }
        }
    }
}

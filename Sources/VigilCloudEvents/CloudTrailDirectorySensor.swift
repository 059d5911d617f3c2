import Logging
import VigilCore

/// The set of files a directory sensor has processed, kept in a file so that a restart neither re-reads nor
/// skips a file.
///
/// The file is text: a header line, then one path (relative to the followed directory) per line. It is
/// rewritten atomically after each processed file. It grows by one line per file (CloudTrail writes about
/// 300 files a day per account and region); paths containing a newline cannot be recorded and are never read.
public struct CloudTrailCheckpoint: Sendable, Equatable {
    /// The first line of a checkpoint file, naming its format.
    public static let header = "vigil-cloudtrail-checkpoint 1"

    /// Where the checkpoint lives.
    public let path: String
    /// The processed files' paths relative to the followed directory, in processing order.
    public private(set) var files: [String] = []
    private var index: Set<String> = []

    /// Loads the checkpoint at `path`; a missing file is an empty checkpoint.
    public init(path: String) throws(CloudEventError) {
        self.path = path
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path: path, maximumSize: 1 << 30)
        } catch  where error.errno == ENOENT_VALUE {
            return
        } catch {
            throw CloudEventError(code: .checkpoint, path: path, message: error.message, errno: error.errno)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard let first = lines.first, first == Self.header else {
            throw CloudEventError(
                code: .checkpoint, path: path,
                message: "not a Vigil CloudTrail checkpoint (first line is not '\(Self.header)'); "
                    + "move it away to start over, which re-reads every file")
        }
        lines.removeFirst()
        for line in lines where index.insert(String(line)).inserted { files.append(String(line)) }
    }

    /// Whether `relativePath` was processed.
    public func contains(_ relativePath: String) -> Bool { index.contains(relativePath) }

    /// Marks `relativePath` processed and saves the checkpoint.
    public mutating func add(_ relativePath: String) throws(CloudEventError) {
        guard index.insert(relativePath).inserted else { return }
        files.append(relativePath)
        try save()
    }

    /// Writes the checkpoint atomically (temporary file, fsync, rename).
    public func save() throws(CloudEventError) {
        var text = Self.header + "\n"
        for file in files { text += file + "\n" }
        // The checkpoint's folder (`.vigil/` by default) may not exist yet on a first run.
        try FileIO.makeDirectories(FileIO.parent(of: path))
        try FileIO.writeAtomically(Array(text.utf8), to: path)
    }
}

/// `ENOENT`, without making every file import the C library.
let ENOENT_VALUE: Int32 = 2

/// Follows a CloudTrail delivery directory (the S3 key layout
/// `AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<file>.json.gz`, synced to disk) and sends the
/// events of each new file to the engine.
///
/// The directory is walked recursively every ``pollInterval``. A file is read once its size and modification
/// time are the same in two consecutive walks, so a file still being written is left alone. New files are read
/// in path order (which is time order within one account and region), each completely, waiting for the engine
/// so nothing is dropped; then its path goes into the ``CloudTrailCheckpoint`` before the next file is read.
/// Files named `*.json`, `*.json.gz`, `*.jsonl`, `*.jsonl.gz` and `*.ndjson` are read; hidden files and
/// `CloudTrail-Digest` folders (integrity digests, not records) are not. A file whose gzip data is broken is
/// logged, counted and tried again only if it changes. `run` returns when the task is cancelled.
public struct CloudTrailDirectorySensor: Sensor {
    /// The sensor's name in metrics and logs.
    public let name: String
    /// The followed directory.
    public let directory: String
    /// The checkpoint file (outside the directory, or hidden inside it).
    public let checkpointPath: String
    /// How often the directory is walked.
    public let pollInterval: Duration
    /// Events per batch.
    public let batchSize: Int
    /// Size bounds.
    public let limits: CloudEventLimits
    /// What the sensor has done so far.
    public let progress: CloudSensorProgress
    private let logger: Logger

    /// Creates a sensor following `directory`, remembering processed files in `checkpointPath`.
    public init(
        directory: String,
        checkpointPath: String,
        pollInterval: Duration = .seconds(5),
        name: String = "cloudtrail",
        batchSize: Int = 1024,
        limits: CloudEventLimits = CloudEventLimits(),
        progress: CloudSensorProgress = CloudSensorProgress(),
        logger: Logger = Logger(label: "vigil.cloudtrail")
    ) {
        self.name = name
        self.directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        self.checkpointPath = checkpointPath
        self.pollInterval = pollInterval
        self.batchSize = max(1, batchSize)
        self.limits = limits
        self.progress = progress
        self.logger = logger
    }

    /// Whether a file name is one the sensor reads.
    public static func isLogFile(_ name: String) -> Bool {
        for suffix in [".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson"] where name.hasSuffix(suffix) {
            return true
        }
        return false
    }

    /// Follows the directory until the task is cancelled.
    /// - Throws: ``CloudEventError`` when the checkpoint cannot be read or written: continuing without it
    ///   would re-read files after the next restart.
    public func run(into sink: EventSink) async throws {
        var checkpoint = try CloudTrailCheckpoint(path: checkpointPath)
        var previous: [String: FileIO.Entry] = [:]
        var failed: [String: FileIO.Entry] = [:]
        var batch = EventBatch(capacity: batchSize)
        var warnedMissing = false
        while !Task.isCancelled {
            var listing: [FileIO.Entry] = []
            do {
                listing = try FileIO.walk(root: directory) { Self.isLogFile($0) }
                warnedMissing = false
            } catch {
                // The directory may not exist yet (a sync that has not run); keep waiting for it, say so once.
                if !warnedMissing {
                    logger.warning("cannot list the CloudTrail directory", metadata: ["error": "\(error)"])
                }
                warnedMissing = true
            }
            var current: [String: FileIO.Entry] = [:]
            var ready: [FileIO.Entry] = []
            for entry in listing {
                let path = entry.relativePath
                if checkpoint.contains(path) || path.contains("\n") || path.contains("CloudTrail-Digest/") { continue }
                current[path] = entry
                if failed[path] == entry { continue }
                if previous[path] == entry { ready.append(entry) }
            }
            previous = current
            ready.sort { $0.relativePath < $1.relativePath }
            for entry in ready {
                // Stop between files only, so that a file's events and its checkpoint entry go together.
                if Task.isCancelled { return }
                let fullPath = directory + "/" + entry.relativePath
                do {
                    let result = try await replay(
                        path: fullPath, into: sink, batch: &batch, batchSize: batchSize, limits: limits)
                    try checkpoint.add(entry.relativePath)
                    failed[entry.relativePath] = nil
                    progress.fileDone(events: result.events, skipped: result.skipped)
                    if result.skipped.total > 0 {
                        logger.warning(
                            "skipped records",
                            metadata: ["file": "\(fullPath)", "skipped": "\(result.skipped)"])
                    }
                } catch  where error.code == .checkpoint {
                    throw error
                } catch {
                    failed[entry.relativePath] = entry
                    progress.fileFailed()
                    logger.error("cannot read CloudTrail file", metadata: ["file": "\(fullPath)", "error": "\(error)"])
                }
            }
            do {
                try await Task.sleep(for: pollInterval)
            } catch {
                return
            }
        }
    }
}

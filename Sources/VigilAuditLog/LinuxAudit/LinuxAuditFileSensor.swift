import Synchronization
import VigilCore

/// Reads an auditd log file (`/var/log/audit/audit.log`) into events: replayed once, or followed live
/// across rotation.
///
/// A replay waits for the engine (``EventSink/send(_:)``) and loses nothing; a followed file is live, so
/// batches are pushed without blocking (``EventSink/push(_:)``) and what the engine cannot take is
/// dropped and counted by the sink. In follow mode, open events are emitted whenever a poll finds the
/// file quiet, since auditd writes an event's records together.
public final class LinuxAuditFileSensor: Sensor {
    /// `linux-audit`.
    public let name: String
    /// The file.
    public let path: String
    /// Replay or follow.
    public let mode: LogFileMode
    /// Parser bounds and windows.
    public let configuration: LinuxAuditParser.Configuration
    /// Events per delivered batch.
    public let batchSize: Int
    private let counted = Mutex(LinuxAuditParser.Statistics())

    /// Creates a sensor for the auditd log at `path`.
    public init(
        path: String, mode: LogFileMode = .replay, configuration: LinuxAuditParser.Configuration = .init(),
        batchSize: Int = 512, name: String = "linux-audit"
    ) {
        self.path = path
        self.mode = mode
        self.configuration = configuration
        self.batchSize = max(1, batchSize)
        self.name = name
    }

    /// What the parser counted in the last (or current) run, updated after each block read.
    public var statistics: LinuxAuditParser.Statistics { counted.withLock { $0 } }

    /// Produces events into `sink` until the end of the file (replay) or cancellation (follow).
    public func run(into sink: EventSink) async throws {
        let live = mode != .replay
        try await run(symbols: sink.symbols) { batch in
            if live { sink.push(&batch) } else { await sink.send(&batch) }
        }
    }

    /// Reads the file and hands each batch to `deliver`, which must leave it empty or consumed; for hosts
    /// and tests that do not run an engine.
    public func run(
        symbols: SymbolTable, deliver: (inout EventBatch) async -> Void
    ) async throws(LogFileError) {
        var parser = LinuxAuditParser(symbols: symbols, configuration: configuration)
        var batch = EventBatch(capacity: batchSize)
        let reader = LogFileReader(path: path, mode: mode, maximumLineLength: configuration.maximumLineLength)
        let batchSize = self.batchSize
        try await reader.read(
            line: { bytes in parser.parse(line: bytes, into: &batch) },
            tooLong: { parser.countSkipped(.lineTooLong) },
            chunk: {
                self.counted.withLock { $0 = parser.statistics }
                if batch.count >= batchSize {
                    await deliver(&batch)
                    batch.removeAll()
                }
            },
            idle: {
                parser.finish(into: &batch)
                self.counted.withLock { $0 = parser.statistics }
                if !batch.isEmpty {
                    await deliver(&batch)
                    batch.removeAll()
                }
            })
        parser.finish(into: &batch)
        self.counted.withLock { $0 = parser.statistics }
        if !batch.isEmpty { await deliver(&batch) }
    }
}

import Synchronization
import VigilCore

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a Kubernetes API audit log (the API server's `--audit-log-path`) into events: replayed once
/// (one JSON value a line, or a whole JSON document), or followed live across rotation (one value a line,
/// as the API server writes).
public final class KubernetesAuditFileSensor: Sensor {
    /// `k8s-audit`.
    public let name: String
    /// The file.
    public let path: String
    /// Replay or follow.
    public let mode: LogFileMode
    /// The longest line (and, in replay, the largest whole-document file) read.
    public let maximumLineLength: Int
    /// Events per delivered batch.
    public let batchSize: Int
    private let counted = Mutex(KubernetesAuditParser.Statistics())

    /// Creates a sensor for the audit log at `path`.
    public init(
        path: String, mode: LogFileMode = .replay, maximumLineLength: Int = 16 << 20, batchSize: Int = 512,
        name: String = "k8s-audit"
    ) {
        self.path = path
        self.mode = mode
        self.maximumLineLength = maximumLineLength
        self.batchSize = max(1, batchSize)
        self.name = name
    }

    /// What the parser counted in the last (or current) run.
    public var statistics: KubernetesAuditParser.Statistics { counted.withLock { $0 } }

    /// Produces events into `sink` until the end of the file (replay) or cancellation (follow).
    public func run(into sink: EventSink) async throws {
        let live = mode != .replay
        try await run(symbols: sink.symbols) { batch in
            if live { sink.push(&batch) } else { await sink.send(&batch) }
        }
    }

    /// Reads the file and hands each batch to `deliver`; for hosts and tests that do not run an engine.
    public func run(symbols: SymbolTable, deliver: (inout EventBatch) async -> Void) async throws(LogFileError) {
        var parser = KubernetesAuditParser(symbols: symbols, maximumLineLength: maximumLineLength)
        var batch = EventBatch(capacity: batchSize)
        if mode == .replay {
            // A whole-document file (an EventList, a pretty-printed Event) is one value across lines.
            var bytes: [UInt8] = []
            var tooLarge = false
            let reader = LogFileReader(path: path, mode: .replay, maximumLineLength: maximumLineLength)
            try await reader.read(
                line: { line in
                    bytes.append(contentsOf: line)
                    bytes.append(0x0a)
                    if bytes.count > maximumLineLength {
                        // Too large to hold whole: parse what we have line by line and continue so.
                        parser.parse(document: bytes, into: &batch)
                        bytes.removeAll(keepingCapacity: true)
                        tooLarge = true
                    }
                },
                tooLong: { parser.countSkipped(.lineTooLong) },
                chunk: {},
                idle: {})
            if tooLarge || !bytes.isEmpty { parser.parse(document: bytes, into: &batch) }
            counted.withLock { $0 = parser.statistics }
            var start = 0
            while start < batch.count {
                var part = EventBatch(batch.events[start..<min(batch.count, start + batchSize)])
                await deliver(&part)
                start += batchSize
            }
            return
        }
        let reader = LogFileReader(path: path, mode: mode, maximumLineLength: maximumLineLength)
        try await reader.read(
            line: { line in parser.parse(line: line, into: &batch) },
            tooLong: { parser.countSkipped(.lineTooLong) },
            chunk: {
                self.counted.withLock { $0 = parser.statistics }
                if batch.count >= self.batchSize {
                    await deliver(&batch)
                    batch.removeAll()
                }
            },
            idle: {
                self.counted.withLock { $0 = parser.statistics }
                if !batch.isEmpty {
                    await deliver(&batch)
                    batch.removeAll()
                }
            })
        counted.withLock { $0 = parser.statistics }
        if !batch.isEmpty { await deliver(&batch) }
    }
}

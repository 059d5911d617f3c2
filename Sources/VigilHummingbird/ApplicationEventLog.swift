import Logging
import ServiceLifecycle
import VigilCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The application sensor for a service whose Vigil engine runs in another process (`vigil-agent`): records
/// are appended, as Vigil JSON Lines events, to a file the agent follows (`vigil-agent run --events-follow
/// FILE`).
///
/// Handlers never wait on the disk: records go into a bounded buffer that ``run()`` writes every
/// `flushInterval`, one `write` per flush; a full buffer drops and counts (``statistics``). Run it as a
/// service next to the application; on shutdown it writes what is left and closes the file.
public struct ApplicationEventLog: Service, ApplicationRecordSink {
    /// The file written.
    public let path: String
    /// The process the events belong to.
    public let identity: ApplicationIdentity
    /// How often buffered records are written.
    public let flushInterval: Duration
    private let buffer: RecordBuffer
    private let logger: Logger

    /// Creates a log appending to `path` for the application `identity` (usually
    /// ``ApplicationIdentity/current()``).
    public init(
        path: String, identity: ApplicationIdentity, capacity: Int = 65_536,
        flushInterval: Duration = .milliseconds(20), logger: Logger = Logger(label: "vigil.http")
    ) {
        self.path = path
        self.identity = identity
        self.flushInterval = flushInterval
        self.buffer = RecordBuffer(capacity: capacity)
        self.logger = logger
    }

    /// What the log took, wrote and dropped.
    public var statistics: ApplicationSinkStatistics { buffer.statistics }

    public func record(_ record: ApplicationRecord) {
        buffer.append(record)
    }

    /// Writes buffered records until cancelled or asked to shut down gracefully, then writes the rest.
    public func run() async throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            throw ApplicationEventLogError(path: path, call: "open", errorNumber: errno)
        }
        defer { close(descriptor) }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: flushInterval)
                flush(to: descriptor)
            }
        }
        flush(to: descriptor)
    }

    private func flush(to descriptor: Int32) {
        let records = buffer.take()
        guard !records.isEmpty else { return }
        // A table per flush: the strings live only until they are written, so the log's memory stays flat.
        let symbols = SymbolTable(maximumSymbols: 16 * records.count + 64, maximumBytes: 64 << 20)
        var encoder = EventEncoder(symbols: symbols)
        var text = ""
        for record in records {
            text += encoder.line(for: record.event(of: identity, symbols: symbols))
            text += "\n"
        }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                write(descriptor, $0.baseAddress! + offset, $0.count - offset)
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                logger.error("cannot write application events to \(path): \(String(cString: strerror(errno)))")
                return
            }
            offset += written
        }
        buffer.delivered(records.count)
    }
}

/// The application event log's file could not be opened.
public struct ApplicationEventLogError: Error, CustomStringConvertible {
    /// The file.
    public var path: String
    /// The call that failed.
    public var call: String
    /// The errno it failed with.
    public var errorNumber: Int32

    public var description: String {
        "cannot \(call) \(path): \(String(cString: strerror(errorNumber))) (check the directory exists and is writable)"
    }
}

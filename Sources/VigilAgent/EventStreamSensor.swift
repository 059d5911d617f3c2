import Logging
import VigilAuditLog
import VigilCore

/// Follows a Vigil JSON Lines event file as it grows, as a live sensor: the file another process writes its
/// events to, such as the application events `VigilHummingbird`'s `ApplicationEventLog` appends.
///
/// The file is read from its start, then polled every `pollInterval` for new lines and followed across
/// rotation. Live input must not wait on the engine, so batches are pushed: what the engine cannot take is
/// dropped and counted. A line that is not a valid event is skipped, counted and logged (the first few).
public struct EventStreamSensor: Sensor {
    /// The sensor's name in metrics and logs.
    public let name: String
    /// The file followed.
    public let path: String
    /// How often the file is polled for new lines.
    public let pollInterval: Duration
    /// Counts of what was read and skipped.
    public let tally: ReplayTally
    private let logger: Logger

    /// Creates a sensor following `path`.
    public init(
        name: String = "events", path: String, pollInterval: Duration = .milliseconds(250),
        tally: ReplayTally = ReplayTally(), logger: Logger = Logger(label: "vigil.events")
    ) {
        self.name = name
        self.path = path
        self.pollInterval = pollInterval
        self.tally = tally
        self.logger = logger
    }

    public func run(into sink: EventSink) async throws {
        let decoder = EventDecoder(symbols: sink.symbols)
        var batch = EventBatch(capacity: 1024)
        var lineNumber = 0
        let reader = LogFileReader(
            path: path, mode: .follow(pollInterval: pollInterval), maximumLineLength: LineReader.maximumLineLength)
        do {
            try await reader.read(
                line: { bytes in
                    lineNumber += 1
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { return }
                    do {
                        batch.append(try decoder.decode(try JSONParser.parse(bytes)))
                        tally.countEvent()
                    } catch {
                        skipped(line: lineNumber, error: "\(error)")
                    }
                },
                tooLong: {
                    lineNumber += 1
                    skipped(line: lineNumber, error: "longer than \(LineReader.maximumLineLength) bytes")
                },
                chunk: { sink.push(&batch) },
                idle: { sink.push(&batch) })
        } catch {
            throw AgentError("cannot follow events in \(path): \(error)")
        }
        sink.push(&batch)
    }

    private func skipped(line: Int, error: String) {
        if tally.countSkip() <= EventFileSensor.loggedSkipsLimit {
            logger.warning(
                "skipped a line that is not a Vigil event",
                metadata: ["file": "\(path)", "line": "\(line)", "error": "\(error)"])
        }
    }
}

import Foundation
import Logging
import Synchronization
import VigilCore

/// Replays Vigil JSON Lines event files, in order, as a sensor.
///
/// Files are read in chunks, never whole. A replay can wait, so batches go through
/// ``VigilCore/EventSink/send(_:)``
/// and nothing is dropped. A line that is not a valid event is skipped, counted and logged with its file
/// and line number (the first few in full); a file that cannot be read ends the sensor with an error.
public struct EventFileSensor: Sensor {
    /// The sensor's name in metrics and logs.
    public let name: String
    /// The files, replayed one after the other.
    public let files: [String]
    /// Counts of what was read and skipped.
    public let tally: ReplayTally
    private let logger: Logger
    private let batchSize: Int

    /// How many malformed lines are logged one by one before only the count goes on.
    static let loggedSkipsLimit = 10

    /// Creates a sensor replaying `files`.
    public init(
        name: String = "replay", files: [String], tally: ReplayTally = ReplayTally(), batchSize: Int = 4096,
        logger: Logger = Logger(label: "vigil.replay")
    ) {
        self.name = name
        self.files = files
        self.tally = tally
        self.batchSize = batchSize
        self.logger = logger
    }

    public func run(into sink: EventSink) async throws {
        let decoder = EventDecoder(symbols: sink.symbols)
        var batch = EventBatch(capacity: batchSize)
        for path in files {
            var lineNumber = 0
            try await LineReader.forEachLine(inFileAt: path) { line in
                lineNumber += 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { return }
                do {
                    let value = try line.withUnsafeBytes { bytes throws(JSONParseError) in try JSONParser.parse(bytes) }
                    batch.append(try decoder.decode(value))
                    tally.countEvent()
                } catch {
                    let skipped = tally.countSkip()
                    if skipped <= Self.loggedSkipsLimit {
                        logger.warning(
                            "skipped a line that is not a Vigil event",
                            metadata: [
                                "file": "\(path)", "line": "\(lineNumber)", "error": "\(error)",
                            ])
                    }
                }
                if batch.count >= batchSize {
                    await sink.send(&batch)
                }
            }
        }
        await sink.send(&batch)
    }
}

/// Counts of a replay: events read and malformed lines skipped.
public final class ReplayTally: Sendable {
    private let counts = Mutex<(events: UInt64, skipped: UInt64)>((0, 0))

    /// Creates zero counts.
    public init() {}

    func countEvent() { counts.withLock { $0.events += 1 } }

    func countSkip() -> UInt64 {
        counts.withLock {
            $0.skipped += 1; return $0.skipped
        }
    }

    /// Events decoded.
    public var events: UInt64 { counts.withLock { $0.events } }
    /// Lines skipped because they were not valid events.
    public var skipped: UInt64 { counts.withLock { $0.skipped } }
}

/// Reads a file line by line in fixed-size chunks.
enum LineReader {
    /// The longest line accepted; a longer one is passed to `body` cut at this length (and so fails to
    /// decode and is counted as skipped) rather than growing memory without bound.
    static let maximumLineLength = 16 << 20

    static func forEachLine(
        inFileAt path: String, chunkSize: Int = 1 << 20, _ body: (ArraySlice<UInt8>) async throws -> Void
    ) async throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AgentError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        var pending: [UInt8] = []
        var overlong = false
        while true {
            let chunk = try handle.read(upToCount: chunkSize) ?? Data()
            if chunk.isEmpty { break }
            pending.append(contentsOf: chunk)
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: 0x0a) {
                if !overlong { try await body(pending[start..<newline]) }
                overlong = false
                start = newline + 1
            }
            pending.removeSubrange(..<start)
            if pending.count > maximumLineLength {
                if !overlong { try await body(pending[..<maximumLineLength]) }
                overlong = true
                pending.removeAll(keepingCapacity: true)
            }
        }
        if !pending.isEmpty && !overlong { try await body(pending[...]) }
    }
}

/// An error of the agent, with a message that says what to do.
public struct AgentError: Error, CustomStringConvertible {
    /// The message.
    public var description: String

    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

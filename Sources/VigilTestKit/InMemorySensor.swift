import Foundation
import VigilCore

/// A sensor that replays events held in memory, for tests, examples and benchmarks.
public struct InMemorySensor: Sensor {
    /// How the sensor hands batches to the engine.
    public enum Delivery: Sendable {
        /// Wait for room, so nothing is dropped (a replay).
        case waiting
        /// Never wait; what does not fit is dropped and counted (a live source).
        case dropping
    }

    /// The sensor's name in metrics and logs.
    public let name: String
    /// The events, in order.
    public let events: [Event]
    /// How many events go in one batch.
    public let batchSize: Int
    /// How many times the whole list is replayed.
    public let repetitions: Int
    /// Waiting or dropping.
    public let delivery: Delivery

    /// Creates a sensor replaying `events` `repetitions` times in batches of `batchSize`.
    public init(
        name: String = "memory",
        events: [Event],
        batchSize: Int = 1024,
        repetitions: Int = 1,
        delivery: Delivery = .waiting
    ) {
        self.name = name
        self.events = events
        self.batchSize = max(1, batchSize)
        self.repetitions = repetitions
        self.delivery = delivery
    }

    /// Creates a sensor replaying a Vigil JSON Lines event file, interning into `symbols`.
    /// Blank lines are skipped; a line that is not a valid event throws, naming the line.
    public init(
        name: String = "memory",
        contentsOf url: URL,
        symbols: SymbolTable,
        batchSize: Int = 1024,
        delivery: Delivery = .waiting
    ) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        let decoder = EventDecoder(symbols: symbols)
        var events: [Event] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            do {
                events.append(try decoder.decode(line: line))
            } catch {
                throw InMemorySensorError(file: url.path, line: number + 1, error: error)
            }
        }
        self.init(name: name, events: events, batchSize: batchSize, delivery: delivery)
    }

    public func run(into sink: EventSink) async throws {
        var batch = EventBatch(capacity: batchSize)
        for _ in 0..<repetitions {
            var index = 0
            while index < events.count {
                try Task.checkCancellation()
                let end = min(index + batchSize, events.count)
                batch.events.append(contentsOf: events[index..<end])
                switch delivery {
                case .waiting: await sink.send(&batch)
                case .dropping: sink.push(&batch)
                }
                index = end
            }
        }
    }
}

/// A line of an event file that could not be read.
public struct InMemorySensorError: Error, CustomStringConvertible {
    /// The file.
    public var file: String
    /// The line number, from 1.
    public var line: Int
    /// What was wrong with it.
    public var error: EventDecodingError

    public var description: String { "\(file):\(line): \(error)" }
}

import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals
import VigilCore
import VigilEBPF

/// What `vigil-agent record` does: run live sensors for a while and write every event they produce as
/// Vigil JSON Lines, the format `vigil-agent replay` reads.
public struct LiveRecording: Sendable {
    /// The sensors to record from.
    public var sensors: [any Sensor]
    /// Where to write the events (created or truncated).
    public var outputPath: String
    /// How long to record; nil records until SIGINT or SIGTERM.
    public var duration: Duration?

    /// Creates a recording.
    public init(sensors: [any Sensor], outputPath: String, duration: Duration?) {
        self.sensors = sensors
        self.outputPath = outputPath
        self.duration = duration
    }

    /// Records until the duration has passed (or a signal comes), then drains and closes the file. Returns
    /// how many events were written.
    @discardableResult
    public func run(logger: Logger) async throws -> Int {
        let symbols = SymbolTable()
        let writer = try EventFileWriter(path: outputPath, symbols: symbols)
        // One shard keeps the file in the order the sensors delivered.
        let engine = Engine(
            configuration: EngineConfiguration(shards: 1), symbols: symbols, sensors: sensors,
            detectors: writer.detectorFactory, outputs: [], logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: engine, successTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if let duration {
            services.append(
                .init(service: Deadline(duration: duration), successTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        let written = try writer.close()
        logger.notice("recording written", metadata: ["path": "\(outputPath)", "events": "\(written)"])
        return written
    }
}

/// Ends a service group after a while.
struct Deadline: Service {
    let duration: Duration

    func run() async throws {
        // A shutdown for another reason (a signal) ends the wait early; that is fine.
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }
}

/// Appends events as JSON Lines to a file, in 64 KiB writes, from the engine's detector stage.
final class EventFileWriter: Sendable {
    private struct State {
        var handle: FileHandle?
        var buffer: [UInt8] = []
        var written = 0
        var error: String?
    }

    private let state: Mutex<State>
    private let symbols: SymbolTable
    let path: String

    init(path: String, symbols: SymbolTable) throws {
        guard let handle = OutputFile.open(path) else {
            throw AgentError("cannot write events to \(path): \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.symbols = symbols
        self.state = Mutex(State(handle: handle))
    }

    var detectorFactory: DetectorFactory {
        { [self] _ in Recorder(writer: self, encoder: EventEncoder(symbols: symbols)) }
    }

    func append(_ batch: EventBatch, encoder: inout EventEncoder) {
        var bytes: [UInt8] = []
        for event in batch {
            bytes.append(contentsOf: encoder.line(for: event).utf8)
            bytes.append(UInt8(ascii: "\n"))
        }
        state.withLock { state in
            state.buffer.append(contentsOf: bytes)
            state.written += batch.count
            if state.buffer.count >= 64 << 10 { Self.flush(&state) }
        }
    }

    private static func flush(_ state: inout State) {
        guard !state.buffer.isEmpty, let handle = state.handle else { return }
        do {
            try handle.write(contentsOf: state.buffer)
        } catch {
            state.error = "\(error)"
        }
        state.buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered and closes the file; returns how many events were written.
    func close() throws -> Int {
        try state.withLock { state in
            Self.flush(&state)
            try state.handle?.close()
            state.handle = nil
            if let error = state.error { throw AgentError("cannot write events to \(path): \(error)") }
            return state.written
        }
    }

    struct Recorder: Detector {
        let writer: EventFileWriter
        var encoder: EventEncoder

        mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
            writer.append(events, encoder: &encoder)
        }
    }
}

import VigilCore

/// The application sensor for a host that runs Vigil's engine in the same process as the service: the
/// middleware and the client wrapper record into it, and the engine reads it like any other ``Sensor``.
///
/// Handlers never wait on the engine: records go into a bounded buffer that the sensor drains every
/// `flushInterval`; a full buffer drops and counts (``statistics``), and the engine counts what it drops.
public struct ApplicationSensor: Sensor, ApplicationRecordSink {
    /// The sensor's name in metrics and logs.
    public let name: String
    /// The process the events belong to.
    public let identity: ApplicationIdentity
    /// How often buffered records are handed to the engine.
    public let flushInterval: Duration
    private let buffer: RecordBuffer
    private static let batchSize = 1024

    /// Creates a sensor for the application `identity` (usually ``ApplicationIdentity/current()``).
    public init(
        name: String = "http", identity: ApplicationIdentity, capacity: Int = 65_536,
        flushInterval: Duration = .milliseconds(20)
    ) {
        self.name = name
        self.identity = identity
        self.flushInterval = flushInterval
        self.buffer = RecordBuffer(capacity: capacity)
    }

    /// What the sensor took, delivered and dropped.
    public var statistics: ApplicationSinkStatistics { buffer.statistics }

    public func record(_ record: ApplicationRecord) {
        buffer.append(record)
    }

    public func run(into sink: EventSink) async throws {
        var batch = EventBatch(capacity: Self.batchSize)
        while !Task.isCancelled {
            try? await Task.sleep(for: flushInterval)
            deliver(into: sink, batch: &batch)
        }
        // What handlers recorded before shutdown still goes in.
        deliver(into: sink, batch: &batch)
    }

    private func deliver(into sink: EventSink, batch: inout EventBatch) {
        let records = buffer.take()
        guard !records.isEmpty else { return }
        for record in records {
            batch.append(record.event(of: identity, symbols: sink.symbols))
            if batch.count == Self.batchSize { _ = sink.push(&batch) }
        }
        if batch.count > 0 { _ = sink.push(&batch) }
        buffer.delivered(records.count)
    }
}

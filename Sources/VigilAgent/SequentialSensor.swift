import VigilCore

/// Runs several sensors one after the other into the same sink, so that replayed files keep their order
/// even when they are of different formats.
public struct SequentialSensor: Sensor {
    /// The sensor's name in metrics and logs.
    public let name: String
    /// The sensors, in order.
    public let sensors: [any Sensor]

    /// Creates a sensor that runs `sensors` in order.
    public init(name: String, sensors: [any Sensor]) {
        self.name = name
        self.sensors = sensors
    }

    public func run(into sink: EventSink) async throws {
        for sensor in sensors {
            try Task.checkCancellation()
            try await sensor.run(into: sink)
        }
    }
}

/// Acts on findings and incidents: reports, kills, pauses, quarantines.
///
/// The engine calls every responder with every alert before the alert reaches the outputs, and attaches
/// the records it returns to the alert. A responder decides (usually through a policy) whether to act;
/// it returns no records when it does nothing.
public protocol Responder: Sendable {
    /// Acts on `alert` and returns a record for each action considered.
    func respond(to alert: Alert) async -> [ResponseRecord]
}

/// Receives the alert stream: findings and incidents with their responses attached.
public protocol AlertOutput: Sendable {
    /// Writes one alert.
    func write(_ alert: Alert) async throws
    /// Flushes and closes; called once when the engine drains.
    func finish() async throws
}

import VigilCore

/// Why ``withRunningEngine(_:ready:_:)`` gave up: the sensors stopped before they were ready.
public struct EngineNotReady: Error, CustomStringConvertible {
    /// What to look at.
    public var description: String { "the engine's sensors stopped before they were ready (see the log)" }
}

/// Runs `engine` while `body` runs, then cancels it and waits for it to drain, so that every event its sensors
/// delivered has been seen by its detectors.
///
/// `ready` waits until the sensors can take input and returns what `body` needs to reach them, such as a server's
/// bound port; when it returns nil, the engine is stopped and ``EngineNotReady`` is thrown. An error from `body`
/// stops the engine and is rethrown; otherwise an error from the engine is. Returns what `ready` returned.
@discardableResult
public func withRunningEngine<Ready>(
    _ engine: Engine, ready: () async -> Ready?, _ body: (Ready) async throws -> Void
) async throws -> Ready {
    let running = Task { try await engine.run() }
    guard let value = await ready() else {
        running.cancel()
        try await running.value
        throw EngineNotReady()
    }
    do {
        try await body(value)
    } catch {
        running.cancel()
        _ = try? await running.value
        throw error
    }
    running.cancel()
    try await running.value
    return value
}

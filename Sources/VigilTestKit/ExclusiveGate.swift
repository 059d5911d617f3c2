import Synchronization

/// Lets one test at a time through, across suites and test targets: tests that load BPF programs or
/// flood the kernel with events would otherwise disturb each other when Swift Testing runs suites in
/// parallel (a burst meant to overflow one sensor's ring buffer also fills another's).
public final class ExclusiveGate: Sendable {
    private struct State {
        var busy = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// The gate for tests that use the kernel's tracing (eBPF sensors, vigil-agent with its sensor).
    public static let kernelTracing = ExclusiveGate()

    /// Creates an open gate.
    public init() {}

    /// Runs `body` once no other holder of this gate is running, in arrival order.
    public func withExclusiveAccess<Result>(_ body: () async throws -> Result) async rethrows -> Result {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let enter = state.withLock { state -> Bool in
                if state.busy {
                    state.waiters.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if enter { continuation.resume() }
        }
        defer {
            let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if state.waiters.isEmpty {
                    state.busy = false
                    return nil
                }
                return state.waiters.removeFirst()
            }
            next?.resume()
        }
        return try await body()
    }
}

import Atomics

/// Issues 16-hex-digit ids: a random 32-bit prefix chosen once per process, then a counter, so ids are
/// unique within a run and (with high probability) across restarts that share one incident store.
final class IDCounter: Sendable {
    private let prefix = UInt64(UInt32.random(in: .min ... .max)) << 32
    private let counter = ManagedAtomic<UInt64>(0)

    func next() -> String {
        let value = prefix | (counter.loadThenWrappingIncrement(ordering: .relaxed) & 0xffff_ffff)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

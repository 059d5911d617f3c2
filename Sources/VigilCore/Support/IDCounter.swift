import Atomics

/// Issues 16-hex-digit ids: a random 32-bit prefix chosen once per process, then a counter, so ids are
/// unique within a run and (with high probability) across restarts that share one incident store.
final class IDCounter: Sendable {
    private let prefix = UInt64(UInt32.random(in: .min ... .max)) << 32
    private let counter = ManagedAtomic<UInt64>(0)

    /// `kind` (one ASCII letter), a dash and the next id, written in one string: ids are made for every
    /// finding and incident.
    func next(_ kind: Unicode.Scalar) -> String {
        let value = prefix | (counter.loadThenWrappingIncrement(ordering: .relaxed) & 0xffff_ffff)
        return String(unsafeUninitializedCapacity: 18) { buffer in
            buffer[0] = UInt8(ascii: kind)
            buffer[1] = UInt8(ascii: "-")
            let digits: StaticString = "0123456789abcdef"
            for index in 0..<16 {
                let nibble = Int((value >> UInt64(60 - 4 * index)) & 0xf)
                buffer[2 + index] = digits.utf8Start[nibble]
            }
            return 18
        }
    }
}

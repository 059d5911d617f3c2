import Synchronization

/// A compact handle for an interned string: a path, a command name, an API name, a principal.
///
/// Events carry symbols instead of strings so that they stay fixed-size and trivially copyable.
/// Two symbols from the same ``SymbolTable`` are equal exactly when their strings are equal.
@frozen
public struct Symbol: RawRepresentable, Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    /// The index of the string in its table.
    public var rawValue: UInt32

    /// The handle with the given index.
    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The empty string: "not known" or "not applicable".
    public static let none = Symbol(rawValue: 0)

    /// Stands for every string interned after the table reached its bound (see ``SymbolTable/overflowCount``).
    public static let overflow = Symbol(rawValue: 1)

    /// Whether this symbol names a non-empty string.
    @inlinable
    public var isNone: Bool { rawValue == 0 }

    public var description: String { "Symbol(\(rawValue))" }
}

/// Identifies a ``Workload`` in a ``SymbolTable``. `host` is the machine itself, outside any container.
@frozen
public struct WorkloadID: RawRepresentable, Hashable, Sendable, BitwiseCopyable {
    /// The index of the workload in its table.
    public var rawValue: UInt32

    /// The handle with the given index.
    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The host, or "no workload" for events of the cloud and cluster layers.
    public static let host = WorkloadID(rawValue: 0)
}

/// Interns strings into ``Symbol``s and workload identities into ``WorkloadID``s.
///
/// One table is shared by the sensors (which intern while they parse) and by everything that renders
/// events (which resolves). Interning takes a lock; it happens once per distinct string on the sensor side,
/// never on the engine's per-event path. The table is bounded: once it holds `maximumSymbols` strings or
/// `maximumBytes` bytes, new strings map to ``Symbol/overflow`` and are counted, so memory cannot grow
/// without limit and the loss is visible.
public final class SymbolTable: Sendable {
    private struct Storage {
        var strings: [String] = ["", "<overflow>"]
        var index: [String: UInt32] = ["": 0]
        var bytes = 0
        var overflowCount: UInt64 = 0
        var workloads: [Workload] = [.host]
        var workloadIndex: [Workload: UInt32] = [.host: 0]
    }

    private let storage = Mutex(Storage())

    /// The largest number of distinct strings the table holds.
    public let maximumSymbols: Int
    /// The largest number of UTF-8 bytes of distinct strings the table holds.
    public let maximumBytes: Int

    /// Creates an empty table with the given bounds.
    public init(maximumSymbols: Int = 4_000_000, maximumBytes: Int = 512 << 20) {
        self.maximumSymbols = maximumSymbols
        self.maximumBytes = maximumBytes
    }

    /// Returns the symbol for `string`, adding it when it is new.
    public func intern(_ string: some StringProtocol) -> Symbol {
        if string.isEmpty { return .none }
        let key = String(string)
        return storage.withLock { storage in
            if let existing = storage.index[key] { return Symbol(rawValue: existing) }
            let size = key.utf8.count
            guard storage.strings.count < maximumSymbols, storage.bytes + size <= maximumBytes else {
                storage.overflowCount += 1
                return .overflow
            }
            let raw = UInt32(storage.strings.count)
            storage.strings.append(key)
            storage.index[key] = raw
            storage.bytes += size
            return Symbol(rawValue: raw)
        }
    }

    /// Returns the symbol for `string` if it was interned before, without adding it.
    public func lookup(_ string: some StringProtocol) -> Symbol? {
        if string.isEmpty { return Symbol.none }
        let key = String(string)
        return storage.withLock { $0.index[key].map(Symbol.init(rawValue:)) }
    }

    /// The string a symbol stands for; the empty string for a symbol this table never issued.
    public func string(_ symbol: Symbol) -> String {
        storage.withLock { storage in
            let index = Int(symbol.rawValue)
            return index < storage.strings.count ? storage.strings[index] : ""
        }
    }

    /// Returns the id of `workload`, adding it when it is new.
    public func intern(_ workload: Workload) -> WorkloadID {
        storage.withLock { storage in
            if let existing = storage.workloadIndex[workload] { return WorkloadID(rawValue: existing) }
            let raw = UInt32(storage.workloads.count)
            storage.workloads.append(workload)
            storage.workloadIndex[workload] = raw
            return WorkloadID(rawValue: raw)
        }
    }

    /// The workload an id stands for; the host for an id this table never issued.
    public func workload(_ id: WorkloadID) -> Workload {
        storage.withLock { storage in
            let index = Int(id.rawValue)
            return index < storage.workloads.count ? storage.workloads[index] : .host
        }
    }

    /// How many distinct strings the table holds, including the two reserved ones.
    public var count: Int { storage.withLock { $0.strings.count } }

    /// How many distinct workloads the table holds, including the host.
    public var workloadCount: Int { storage.withLock { $0.workloads.count } }

    /// How many interning requests got ``Symbol/overflow`` because the table was full.
    public var overflowCount: UInt64 { storage.withLock { $0.overflowCount } }
}

import VigilCore

/// A bounded cache from symbols to values, direct-mapped by the symbol's index.
///
/// A symbol's text never changes, so anything computed from it (a string test, a derived name) can be kept by
/// symbol. Symbols are dense indexes, so the slot is the index masked by the capacity: a lookup is one load
/// and one compare, with no hashing. The table starts small and doubles when two symbols want the same slot,
/// up to `maximumCapacity`; beyond that a newer symbol takes the slot of an older one, which is then computed
/// again when it comes back.
struct SymbolMemo<Value: BitwiseCopyable> {
    /// The symbol index plus one in each slot; 0 marks an empty slot.
    private var keys: [UInt32] = []
    private var values: [Value] = []
    private var mask = -1
    private let maximumCapacity: Int
    private let placeholder: Value

    /// An empty memo holding at most `maximumCapacity` entries (a power of two); `placeholder` fills the
    /// value slots that hold nothing.
    init(maximumCapacity: Int, placeholder: Value) {
        precondition(maximumCapacity > 0 && maximumCapacity & (maximumCapacity - 1) == 0)
        self.maximumCapacity = maximumCapacity
        self.placeholder = placeholder
    }

    /// The value kept for `symbol`, if any.
    @inline(__always)
    func value(for symbol: Symbol) -> Value? { value(forKey: symbol.rawValue) }

    /// Keeps `value` for `symbol`, growing the table when another symbol holds the slot.
    @inline(__always)
    mutating func store(_ value: Value, for symbol: Symbol) { store(value, forKey: symbol.rawValue) }

    /// The value kept for a dense index other than a symbol's (a workload id, a uid), if any.
    @inline(__always)
    func value(forKey key: UInt32) -> Value? {
        let slot = Int(key) & mask
        guard slot < keys.count, keys[slot] == key &+ 1 else { return nil }
        return values[slot]
    }

    /// Keeps `value` for a dense index (`UInt32.max` cannot be kept).
    mutating func store(_ value: Value, forKey key: UInt32) {
        guard key != .max else { return }
        if keys.isEmpty { resize(to: min(256, maximumCapacity)) }
        var slot = Int(key) & mask
        while keys[slot] != 0, keys[slot] != key &+ 1, keys.count < maximumCapacity {
            resize(to: keys.count * 2)
            slot = Int(key) & mask
        }
        keys[slot] = key &+ 1
        values[slot] = value
    }

    /// Forgets every entry, keeping the table.
    mutating func removeAll() {
        for index in keys.indices { keys[index] = 0 }
    }

    private mutating func resize(to capacity: Int) {
        let oldKeys = keys
        let oldValues = values
        keys = [UInt32](repeating: 0, count: capacity)
        values = [Value](repeating: placeholder, count: capacity)
        mask = capacity - 1
        for index in oldKeys.indices where oldKeys[index] != 0 {
            let slot = Int(oldKeys[index] &- 1) & mask
            keys[slot] = oldKeys[index]
            values[slot] = oldValues[index]
        }
    }
}

/// A fixed set of symbols (a rule's constants) as a bitmap over the range of their indexes, so that a test is a
/// shift and a mask with no hashing. Constants are interned together when rules compile, so their indexes are
/// close; a set spread too thin for a bitmap keeps a hashed set instead.
struct SymbolSet {
    private let base: UInt32
    private let words: [UInt64]
    private let sparse: Set<Symbol>?

    init(_ symbols: Set<Symbol>) {
        let raws = symbols.map(\.rawValue)
        let lowest = raws.min() ?? 0
        let span = Int((raws.max() ?? 0) - lowest) + 1
        // A bitmap pays when it is no more than 64 bits per member (plus a little): otherwise hash.
        guard span <= 64 * raws.count + 4_096 else {
            base = 0
            words = []
            sparse = symbols
            return
        }
        var words = [UInt64](repeating: 0, count: (span + 63) / 64)
        for raw in raws {
            let offset = Int(raw - lowest)
            words[offset >> 6] |= 1 << UInt64(offset & 63)
        }
        self.base = lowest
        self.words = words
        self.sparse = nil
    }

    @inline(__always)
    func contains(_ symbol: Symbol) -> Bool {
        if let sparse { return sparse.contains(symbol) }
        let offset = Int(symbol.rawValue &- base)
        // Below the base the subtraction wraps to a large offset, which the bound check rejects.
        guard symbol.rawValue >= base, offset >> 6 < words.count else { return false }
        return words[offset >> 6] & (1 << UInt64(offset & 63)) != 0
    }
}

/// A ``SymbolMemo`` of booleans with each answer packed beside its symbol in one word: a lookup touches one
/// cache line rather than two. Symbols with an index of 2³¹ or more are not kept (they are computed each time).
struct SymbolFlags {
    /// (index + 1) << 1 | answer in each slot; 0 marks an empty slot.
    private var entries: [UInt32] = []
    private var mask = -1
    private let maximumCapacity: Int

    /// An empty memo holding at most `maximumCapacity` answers (a power of two).
    init(maximumCapacity: Int) {
        precondition(maximumCapacity > 0 && maximumCapacity & (maximumCapacity - 1) == 0)
        self.maximumCapacity = maximumCapacity
    }

    /// The answer kept for `symbol`, if any.
    @inline(__always)
    func value(for symbol: Symbol) -> Bool? {
        let slot = Int(symbol.rawValue) & mask
        guard slot < entries.count else { return nil }
        let entry = entries[slot]
        guard entry >> 1 == symbol.rawValue &+ 1 else { return nil }
        return entry & 1 != 0
    }

    /// Keeps `answer` for `symbol`, growing the table when another symbol holds the slot.
    mutating func store(_ answer: Bool, for symbol: Symbol) {
        guard symbol.rawValue < UInt32.max >> 1 else { return }
        if entries.isEmpty { resize(to: min(256, maximumCapacity)) }
        let key = symbol.rawValue &+ 1
        var slot = Int(symbol.rawValue) & mask
        while entries[slot] != 0, entries[slot] >> 1 != key, entries.count < maximumCapacity {
            resize(to: entries.count * 2)
            slot = Int(symbol.rawValue) & mask
        }
        entries[slot] = key << 1 | (answer ? 1 : 0)
    }

    private mutating func resize(to capacity: Int) {
        let old = entries
        entries = [UInt32](repeating: 0, count: capacity)
        mask = capacity - 1
        for entry in old where entry != 0 {
            entries[Int((entry >> 1) &- 1) & mask] = entry
        }
    }
}

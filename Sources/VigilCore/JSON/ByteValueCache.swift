#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Values derived from UTF-8 bytes, by those bytes: for readers that walk JSON with ``JSONByteScanner``,
/// interned symbols (so that repeated values are interned without building a String or taking the
/// ``SymbolTable`` lock) or parsed values such as addresses.
///
/// Bounded (16384 entries, 1 MiB of keys): once full, values are made without being remembered.
public struct ByteValueCache<Value> {
    @usableFromInline
    struct Entry {
        @usableFromInline var hash: UInt64 = 0
        @usableFromInline var offset: Int32 = -1
        @usableFromInline var length: Int32 = 0
        @usableFromInline var tag: UInt8 = 0
        @usableFromInline var value: Value?

        @inlinable
        init(hash: UInt64 = 0, offset: Int32 = -1, length: Int32 = 0, tag: UInt8 = 0, value: Value? = nil) {
            self.hash = hash
            self.offset = offset
            self.length = length
            self.tag = tag
            self.value = value
        }
    }

    @usableFromInline var entries = [Entry](repeating: Entry(), count: 64)
    @usableFromInline var arena: [UInt8] = []
    @usableFromInline var count = 0
    @inlinable static var maximumArena: Int { 1 << 20 }
    @inlinable static var maximumEntries: Int { 1 << 14 }

    /// An empty cache.
    @inlinable
    public init() {}

    /// The value remembered for `bytes` under `tag` (a namespace, for values derived differently from the
    /// bytes), or the one `make` returns, which is then remembered.
    @inlinable @inline(__always)
    public mutating func value(_ bytes: UnsafeRawBufferPointer, tag: UInt8, make: () -> Value) -> Value {
        let hash = Self.hash(bytes, tag: tag)
        let mask = entries.count - 1
        var index = Int(truncatingIfNeeded: hash >> 7) & mask
        while true {
            let entry = entries[index]
            if entry.offset < 0 { break }
            if entry.hash == hash, entry.tag == tag, Int(entry.length) == bytes.count {
                let same = arena.withUnsafeBytes { stored in
                    bytes.count == 0
                        || memcmp(stored.baseAddress! + Int(entry.offset), bytes.baseAddress!, bytes.count) == 0
                }
                if same, let value = entry.value { return value }
            }
            index = (index + 1) & mask
        }
        let value = make()
        if count >= entries.count / 2, entries.count < Self.maximumEntries {
            grow()
            index = Int(truncatingIfNeeded: hash >> 7) & (entries.count - 1)
            while entries[index].offset >= 0 { index = (index + 1) & (entries.count - 1) }
        }
        if count < entries.count / 2, arena.count + bytes.count <= Self.maximumArena {
            let offset = Int32(arena.count)
            arena.append(contentsOf: bytes)
            entries[index] = Entry(hash: hash, offset: offset, length: Int32(bytes.count), tag: tag, value: value)
            count += 1
        }
        return value
    }

    /// Doubles the table.
    @inlinable
    mutating func grow() {
        let old = entries
        entries = [Entry](repeating: Entry(), count: old.count * 2)
        let mask = entries.count - 1
        for entry in old where entry.offset >= 0 {
            var index = Int(truncatingIfNeeded: entry.hash >> 7) & mask
            while entries[index].offset >= 0 { index = (index + 1) & mask }
            entries[index] = entry
        }
    }

    @inlinable
    static func hash(_ bytes: UnsafeRawBufferPointer, tag: UInt8) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count) ^ (UInt64(tag) << 56)
        var i = 0
        let count = bytes.count
        while i + 8 <= count {
            let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            hash = (hash ^ word) &* 0x0100_0000_01B3_0001
            hash ^= hash >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < count {
            tail |= UInt64(bytes[i]) << shift
            shift += 8
            i += 1
        }
        hash = (hash ^ tail) &* 0x9E37_79B9_7F4A_7C15
        return hash ^ (hash >> 32)
    }
}

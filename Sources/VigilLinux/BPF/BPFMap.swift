import CLibBPF
import Glibc

/// A loaded BPF map, read and written from user space by raw key and value bytes.
///
/// The descriptor belongs to the ``BPFObject`` that loaded the map: use the map only while that object lives.
public struct BPFMap: Sendable {
    /// The map's name in the object.
    public let name: String
    /// The map's file descriptor.
    public let descriptor: Int32
    /// Key and value sizes in bytes (the value of one CPU for per-CPU maps).
    public let keySize: Int
    public let valueSize: Int

    /// The number of possible CPUs: a per-CPU map's lookup returns one value per possible CPU.
    public static let possibleCPUs: Int = Int(max(1, libbpf_num_possible_cpus()))

    /// Reads the value for `key` into `value` (sized for the map, or per-CPU: ``possibleCPUs`` values, each
    /// padded to 8 bytes). Returns false when the key is absent.
    public func lookup(key: UnsafeRawPointer, into value: UnsafeMutableRawPointer) throws -> Bool {
        if bpf_map_lookup_elem(descriptor, key, value) == 0 { return true }
        let code = errno
        if code == ENOENT { return false }
        throw LinuxError(code: .bpfFailed, message: "cannot read map \(name)", errno: code, call: "bpf_map_lookup_elem")
    }

    /// Writes `value` for `key`.
    public func update(key: UnsafeRawPointer, value: UnsafeRawPointer) throws {
        guard bpf_map_update_elem(descriptor, key, value, UInt64(BPF_ANY)) == 0 else {
            throw LinuxError(
                code: .bpfFailed, message: "cannot write map \(name)", errno: errno, call: "bpf_map_update_elem")
        }
    }

    /// Deletes `key`; an absent key is not an error.
    public func delete(key: UnsafeRawPointer) throws {
        guard bpf_map_delete_elem(descriptor, key) == 0 || errno == ENOENT else {
            throw LinuxError(
                code: .bpfFailed, message: "cannot delete from map \(name)", errno: errno, call: "bpf_map_delete_elem")
        }
    }

    /// The keys of a hash map with 8-byte keys, as they are now.
    public func keys64() throws -> [UInt64] {
        precondition(keySize == 8, "keys64 reads maps with 8-byte keys")
        var keys: [UInt64] = []
        var current: UInt64 = 0
        var next: UInt64 = 0
        var hasCurrent = false
        while true {
            let result =
                hasCurrent
                ? bpf_map_get_next_key(descriptor, &current, &next) : bpf_map_get_next_key(descriptor, nil, &next)
            if result != 0 {
                if errno == ENOENT { return keys }
                throw LinuxError(
                    code: .bpfFailed, message: "cannot list map \(name)", errno: errno, call: "bpf_map_get_next_key")
            }
            keys.append(next)
            current = next
            hasCurrent = true
        }
    }

    /// For a per-CPU array of 64-bit counters: each index's sum over all CPUs.
    public func perCPUSums(count: Int) throws -> [UInt64] {
        precondition(valueSize == 8, "perCPUSums reads per-CPU arrays of 64-bit counters")
        var sums = [UInt64](repeating: 0, count: count)
        var values = [UInt64](repeating: 0, count: Self.possibleCPUs)
        for index in 0..<count {
            var key = UInt32(index)
            if try lookup(key: &key, into: &values) { sums[index] = values.reduce(0, &+) }
        }
        return sums
    }
}

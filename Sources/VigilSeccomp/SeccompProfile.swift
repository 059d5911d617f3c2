import VigilCore

/// An allow list of whole syscalls for one workload: what it was seen to call, and nothing else.
///
/// The profile says which syscalls run normally; a ``SeccompMode`` says what happens to the others. It is
/// written and read as an OCI / Kubernetes seccomp profile (``ociJSON(mode:)``, ``init(ociJSON:)``) and loaded
/// into a process with ``SeccompFilter``.
public struct SeccompProfile: Sendable, Equatable {
    /// The architectures the profile is for, without duplicates, in ``SeccompArchitecture/allCases`` order.
    /// Empty means the native architecture, as in the OCI runtime spec.
    public var architectures: [SeccompArchitecture] {
        didSet { architectures = Self.normalized(architectures) }
    }

    /// The allowed syscall names, sorted and unique (kept so when assigned).
    public var allowedSyscalls: [String] {
        didSet { allowedSyscalls = Self.normalized(allowedSyscalls) }
    }

    /// Creates a profile allowing `allowedSyscalls` (duplicates merged) on `architectures`.
    public init(allowedSyscalls: some Sequence<String>, architectures: [SeccompArchitecture] = [.native]) {
        self.allowedSyscalls = Self.normalized(allowedSyscalls)
        self.architectures = Self.normalized(architectures)
    }

    /// Whether the profile allows the syscall named `name`.
    public func allows(_ name: String) -> Bool {
        // Binary search: the names are sorted.
        var low = 0
        var high = allowedSyscalls.count
        while low < high {
            let middle = (low + high) / 2
            if allowedSyscalls[middle] < name { low = middle + 1 } else { high = middle }
        }
        return low < allowedSyscalls.count && allowedSyscalls[low] == name
    }

    /// Builds a profile from learned syscalls: (number, `AUDIT_ARCH_*`) pairs, as syscall events carry them.
    ///
    /// Each number is named through libseccomp's table for its own architecture, so a workload seen on both
    /// x86_64 and aarch64 gets one profile for both. Duplicates merge. A pair whose architecture Vigil does not
    /// support, or whose number libseccomp does not know, is returned in `unresolved` (once, in first-seen
    /// order) rather than given a made-up name. The profile lists every supported architecture seen, even when
    /// none of its numbers resolved.
    public static func learned(
        _ syscalls: some Sequence<(number: Int32, architecture: UInt32)>
    ) -> (profile: SeccompProfile, unresolved: [(number: Int32, architecture: UInt32)]) {
        // Learned input is usually raw events, with the same few hundred pairs over and over: each distinct pair
        // is named once.
        var seen = Set<UInt64>()
        var distinct: [(number: Int32, architecture: UInt32)] = []
        for pair in syscalls {
            let key = UInt64(pair.architecture) << 32 | UInt64(UInt32(bitPattern: pair.number))
            if seen.insert(key).inserted { distinct.append(pair) }
        }
        var names = Set<String>()
        var architectures = Set<SeccompArchitecture>()
        var unresolved: [(number: Int32, architecture: UInt32)] = []
        for (number, auditArchitecture) in distinct {
            let architecture = SeccompArchitecture(auditArchitecture: auditArchitecture)
            if let architecture { architectures.insert(architecture) }
            if let architecture, let name = SyscallTable.name(of: number, architecture: architecture) {
                names.insert(name)
            } else {
                unresolved.append((number, auditArchitecture))
            }
        }
        return (SeccompProfile(allowedSyscalls: names, architectures: Array(architectures)), unresolved)
    }

    /// Builds a profile from the fields of learned syscall events, as the variant taking (number, architecture)
    /// pairs does.
    public static func learned(
        _ syscalls: some Sequence<SyscallFields>
    ) -> (profile: SeccompProfile, unresolved: [(number: Int32, architecture: UInt32)]) {
        learned(syscalls.lazy.map { (number: $0.number, architecture: $0.architecture) })
    }

    private static func normalized(_ names: some Sequence<String>) -> [String] {
        Set(names).sorted()
    }

    private static func normalized(_ architectures: [SeccompArchitecture]) -> [SeccompArchitecture] {
        SeccompArchitecture.allCases.filter(architectures.contains)
    }
}

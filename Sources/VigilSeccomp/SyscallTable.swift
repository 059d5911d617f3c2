import CSeccomp
import Glibc

/// Syscall names and numbers, from libseccomp's tables, for every supported architecture whatever the host.
///
/// Only real syscall numbers count: libseccomp also gives negative "pseudo" numbers to names that do not exist
/// on an architecture (`open` on aarch64), and those are reported as unknown here.
public enum SyscallTable {
    /// The numbers scanned for ``allNames(architecture:)``. Both architectures number their syscalls densely
    /// from 0 and stay below 500 today; 4096 leaves room for years of new syscalls, and a scan costs about a
    /// millisecond, once.
    static let scannedNumbers: Range<Int32> = 0..<4096

    /// The syscall's name, or `nil` when libseccomp knows no syscall with this number on this architecture.
    public static func name(of number: Int32, architecture: SeccompArchitecture) -> String? {
        guard number >= 0, let name = seccomp_syscall_resolve_num_arch(architecture.auditArchitecture, number)
        else { return nil }
        // libseccomp hands over a malloc'd copy.
        defer { free(name) }
        return String(cString: name)
    }

    /// The syscall's number, or `nil` when the name is not a syscall on this architecture.
    public static func number(of name: String, architecture: SeccompArchitecture) -> Int32? {
        // A NUL would cut the C string short and resolve a different name.
        guard !name.isEmpty, !name.utf8.contains(0) else { return nil }
        let number = seccomp_syscall_resolve_name_arch(architecture.auditArchitecture, name)
        return number >= 0 ? number : nil
    }

    /// Every syscall libseccomp knows on this architecture, sorted by name.
    public static func allNames(architecture: SeccompArchitecture) -> [String] {
        switch architecture {
        case .x86_64: x86_64Names
        case .aarch64: aarch64Names
        }
    }

    private static let x86_64Names = scan(.x86_64)
    private static let aarch64Names = scan(.aarch64)

    /// Asks libseccomp for each number in turn: its API has no call that lists an architecture's syscalls.
    private static func scan(_ architecture: SeccompArchitecture) -> [String] {
        var names = Set<String>()
        for number in scannedNumbers {
            if let name = name(of: number, architecture: architecture) { names.insert(name) }
        }
        return names.sorted()
    }
}

import Glibc

/// A Linux capability, by its number in `linux/capability.h`.
public struct Capability: Sendable, Hashable, CustomStringConvertible {
    /// The capability's bit number in a capability set.
    public var number: Int
    /// The kernel's name for it (`CAP_BPF`).
    public var name: String

    /// Creates a capability from its number and name.
    public init(number: Int, name: String) {
        self.number = number
        self.name = name
    }

    /// Everything an administrator may do, including loading BPF programs and opening perf events on
    /// kernels before 5.8.
    public static let sysAdmin = Capability(number: 21, name: "CAP_SYS_ADMIN")
    /// Raising resource limits, such as the locked-memory limit that older kernels charge BPF maps to.
    public static let sysResource = Capability(number: 24, name: "CAP_SYS_RESOURCE")
    /// Perf events and tracing, needed to attach tracepoint programs (Linux 5.8+).
    public static let perfmon = Capability(number: 38, name: "CAP_PERFMON")
    /// Loading BPF programs and creating maps (Linux 5.8+).
    public static let bpf = Capability(number: 39, name: "CAP_BPF")

    /// Whether a capability set (such as ``Privileges/effectiveCapabilities()``) holds this capability.
    public func isIn(_ set: UInt64) -> Bool {
        number < 64 && set & (1 << UInt64(number)) != 0
    }

    /// The kernel's name, `CAP_BPF`.
    public var description: String { name }
}

/// What this process is allowed to do, and whether the kernel can run the eBPF sensor.
public enum Privileges {
    /// Where the kernel describes its own types; CO-RE relocation needs it.
    public static let kernelBTFPath = "/sys/kernel/btf/vmlinux"

    /// The effective capability set of this process: the `CapEff:` line of /proc/self/status.
    ///
    /// - Throws: ``LinuxError`` when the file cannot be read or has no such line.
    public static func effectiveCapabilities() throws -> UInt64 {
        try effectiveCapabilities(status: "/proc/self/status")
    }

    /// The effective capability set in a status file.
    static func effectiveCapabilities(status path: String) throws -> UInt64 {
        let text = try SystemFiles.readText(path)
        guard let field = ProcFiles.statusField("CapEff", in: text), let value = UInt64(field, radix: 16) else {
            throw LinuxError(code: .unreadable, message: "no CapEff: line in \(path)")
        }
        return value
    }

    /// Checks that this process may load and attach the eBPF sensor's programs and that the kernel has the
    /// BTF they are relocated against.
    ///
    /// The process needs root, or CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN (which implies both).
    ///
    /// - Throws: ``LinuxError`` `.permissionDenied` naming the uid and the missing capabilities, or
    ///   `.unsupported` when the kernel has no BTF.
    public static func checkBPF() throws {
        try checkBPF(capabilities: effectiveCapabilities(), uid: geteuid(), btfPath: kernelBTFPath)
    }

    /// ``checkBPF()`` for a given capability set, effective uid and BTF path, so tests can check every
    /// answer without changing their own privileges.
    static func checkBPF(capabilities: UInt64, uid: UInt32, btfPath: String) throws {
        if !Capability.sysAdmin.isIn(capabilities) {
            let missing = [Capability.bpf, .perfmon].filter { !$0.isIn(capabilities) }
            if !missing.isEmpty {
                throw LinuxError(
                    code: .permissionDenied,
                    message: "the eBPF sensor needs root, or CAP_BPF and CAP_PERFMON (and CAP_SYS_RESOURCE on "
                        + "kernels that charge locked memory): this process has uid \(uid) and lacks "
                        + missing.map(\.name).joined(separator: ", "))
            }
        }
        var info = stat()
        if stat(btfPath, &info) != 0 {
            let failed = errno
            if failed == ENOENT {
                throw LinuxError(
                    code: .unsupported,
                    message: "this kernel has no BTF (CONFIG_DEBUG_INFO_BTF); the CO-RE programs cannot be "
                        + "relocated (\(btfPath) is missing)")
            }
            throw SystemFiles.failure("stat", path: btfPath, errno: failed)
        }
    }
}

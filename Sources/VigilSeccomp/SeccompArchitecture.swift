import CSeccomp

/// A CPU architecture a seccomp profile applies to, named as in OCI and Kubernetes seccomp profiles.
///
/// Vigil supports the two architectures its sensors run on. The raw value is the profile's spelling; the
/// ``auditArchitecture`` is the kernel's `AUDIT_ARCH_*` value, which is also libseccomp's architecture token and
/// what Vigil's syscall events carry.
public enum SeccompArchitecture: String, Sendable, CaseIterable {
    /// 64-bit x86 (`AUDIT_ARCH_X86_64`, 0xc000003e).
    case x86_64 = "SCMP_ARCH_X86_64"
    /// 64-bit Arm (`AUDIT_ARCH_AARCH64`, 0xc00000b7).
    case aarch64 = "SCMP_ARCH_AARCH64"

    /// The architecture this process runs on, as libseccomp reports it.
    ///
    /// Vigil runs on x86_64 and aarch64 only; on any other host, reading this stops the process with a message
    /// naming the architecture, since no profile could be built for it.
    public static let native: SeccompArchitecture = {
        let token = seccomp_arch_native()
        guard let architecture = SeccompArchitecture(auditArchitecture: token) else {
            preconditionFailure(
                "VigilSeccomp supports x86_64 and aarch64; libseccomp reports native architecture 0x"
                    + String(token, radix: 16))
        }
        return architecture
    }()

    /// The architecture with this `AUDIT_ARCH_*` value, or `nil` for one Vigil does not support.
    public init?(auditArchitecture: UInt32) {
        guard let match = Self.allCases.first(where: { $0.auditArchitecture == auditArchitecture }) else {
            return nil
        }
        self = match
    }

    /// The kernel's `AUDIT_ARCH_*` value, which is also libseccomp's architecture token.
    public var auditArchitecture: UInt32 {
        switch self {
        case .x86_64: vigil_scmp_arch_x86_64()
        case .aarch64: vigil_scmp_arch_aarch64()
        }
    }

    /// The architecture's usual name (`x86_64`, `aarch64`), for messages.
    public var name: String {
        switch self {
        case .x86_64: "x86_64"
        case .aarch64: "aarch64"
        }
    }
}

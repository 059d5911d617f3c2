import CSeccomp
import Glibc

/// What happens to a syscall the profile does not allow.
///
/// A profile learned from a workload can miss a syscall that the workload makes only rarely (at shutdown, on an
/// error path), and an enforced profile that misses a syscall breaks the application. So a profile runs in
/// ``log`` mode first, where the kernel reports what it would have denied, and moves to ``enforce`` once the
/// log stays quiet.
public enum SeccompMode: String, Sendable, CaseIterable {
    /// Nothing is denied: syscalls outside the profile run and the kernel logs them (`SCMP_ACT_LOG`; the audit
    /// log or the kernel log, as `/proc/sys/kernel/seccomp/actions_logged` allows). Needs Linux 4.14 or later.
    case log
    /// Syscalls outside the profile fail with `EPERM` (`SCMP_ACT_ERRNO(EPERM)`) and are logged where the kernel
    /// supports it.
    case enforce

    /// The profile's `defaultAction` for this mode, in OCI and Kubernetes spelling.
    public var ociDefaultAction: String {
        switch self {
        case .log: "SCMP_ACT_LOG"
        case .enforce: "SCMP_ACT_ERRNO"
        }
    }

    /// The errno a denied syscall fails with in ``enforce`` mode.
    public static let deniedErrno: Int32 = EPERM

    /// libseccomp's action for syscalls outside the profile.
    var defaultAction: UInt32 {
        switch self {
        case .log: SCMP_ACT_LOG
        case .enforce: vigil_scmp_act_errno(UInt16(Self.deniedErrno))
        }
    }
}

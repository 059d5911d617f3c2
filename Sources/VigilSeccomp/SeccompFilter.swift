import CSeccomp
import Glibc

/// Turns a ``SeccompProfile`` into a kernel seccomp filter through libseccomp, for the native architecture.
///
/// Syscalls the profile allows run; the others follow the ``SeccompMode``. Names that libseccomp does not know
/// on this architecture (a newer syscall than its tables, a syscall of another architecture such as `open` on
/// aarch64) cannot be part of the filter: they are left out and returned, so that callers can report them.
public enum SeccompFilter {
    /// Builds the filter without loading it and returns the size of the BPF program libseccomp generates (a
    /// multiple of 8 bytes, one classic BPF instruction each): proof that libseccomp accepts the profile. Also
    /// returns the allowed names unknown on this architecture, which the filter leaves out.
    public static func compile(
        _ profile: SeccompProfile, mode: SeccompMode
    ) throws(SeccompError) -> (programBytes: Int, unknownNames: [String]) {
        try withFilter(profile, mode: mode, allThreads: false) { context, unknownNames throws(SeccompError) in
            (try exportedSize(context), unknownNames)
        }
    }

    /// Loads the filter into the calling process, on every thread, and returns the allowed names unknown on this
    /// architecture (left out of the filter).
    ///
    /// libseccomp sets `no_new_privs` first, so no privilege is needed; from then on, executing a set-user-ID
    /// program no longer grants its owner's rights. The filter cannot be removed, and it passes to every child
    /// and across `execve`. In ``SeccompMode/enforce`` mode, the process itself can only make the syscalls the
    /// profile allows from this call on.
    public static func install(_ profile: SeccompProfile, mode: SeccompMode) throws(SeccompError) -> [String] {
        try withFilter(profile, mode: mode, allThreads: true) { context, unknownNames throws(SeccompError) in
            let result = seccomp_load(context)
            guard result == 0 else { throw loadError(result) }
            return unknownNames
        }
    }

    /// The filter a ``SeccompSupervisor`` loads into its child: the profile's syscalls run, every other one
    /// goes to the supervisor's listener (`SCMP_ACT_NOTIFY`). Foreign-ABI syscalls (32-bit x86 on x86_64) fail
    /// with `EPERM` from the start: their numbers mean other calls. `setup` syscalls are allowed as well: the
    /// child makes them before the supervisor can answer. Returns the BPF program and the allowed names unknown
    /// on this architecture.
    static func supervisedProgram(
        _ profile: SeccompProfile, setup: [String]
    ) throws(SeccompError) -> (program: [sock_filter], unknownNames: [String]) {
        var widened = profile
        widened.allowedSyscalls += setup
        return try withFilter(widened, mode: .enforce, allThreads: false, supervised: true) {
            context, unknownNames throws(SeccompError) in
            var program: UnsafeMutablePointer<sock_filter>?
            var length: UInt16 = 0
            let result = vigil_seccomp_export_program(context, &program, &length)
            guard result == 0, let program else {
                throw SeccompError(
                    code: .filterFailed, message: "libseccomp cannot generate the supervised filter's BPF program",
                    errno: -result, call: "seccomp_export_bpf")
            }
            defer { free(program) }
            return (Array(UnsafeBufferPointer(start: program, count: Int(length))), unknownNames)
        }
    }

    /// Builds the libseccomp filter context for `profile`, hands it to `body` and releases it. A supervised
    /// filter sends what the profile does not allow to a listener instead of following `mode`.
    private static func withFilter<Result>(
        _ profile: SeccompProfile, mode: SeccompMode, allThreads: Bool, supervised: Bool = false,
        _ body: (scmp_filter_ctx, [String]) throws(SeccompError) -> Result
    ) throws(SeccompError) -> Result {
        let native = SeccompArchitecture.native
        guard profile.architectures.isEmpty || profile.architectures.contains(native) else {
            let listed = profile.architectures.map(\.name).joined(separator: ", ")
            throw SeccompError(
                code: .architectureMismatch,
                message: "the profile is for \(listed), but this process runs on \(native.name); learn the "
                    + "profile on \(native.name) or add \(native.rawValue) to its architectures")
        }
        let defaultAction = supervised ? vigil_scmp_act_notify() : mode.defaultAction
        guard let context = seccomp_init(defaultAction) else {
            throw SeccompError(
                code: .filterFailed,
                message: mode == .log
                    ? "libseccomp cannot build a filter whose default action is SCMP_ACT_LOG: log mode needs "
                        + "Linux 4.14 or later (this kernel's seccomp API level is \(seccomp_api_get()), log "
                        + "needs 3); upgrade the kernel or run in enforce mode"
                    : "libseccomp cannot build a filter; check that the kernel supports seccomp filters "
                        + "(CONFIG_SECCOMP_FILTER)",
                call: "seccomp_init")
        }
        defer { seccomp_release(context) }

        // libseccomp's own return codes hide the kernel's errno (-ECANCELED for any load failure); the raw code
        // says what actually went wrong.
        try setAttribute(context, SCMP_FLTATR_API_SYSRAWRC, 1, why: "report the kernel's error codes")
        // Syscalls of another ABI (32-bit x86 on an x86_64 host) are not in the profile's tables. By default
        // libseccomp kills the thread that makes one; follow the mode instead, so that log mode never denies and
        // enforce mode denies the same way for every syscall outside the profile.
        try setAttribute(context, SCMP_FLTATR_ACT_BADARCH, mode.defaultAction, why: "handle foreign ABIs")
        if supervised { return try addRules(profile, to: context, then: body) }
        // Denials in enforce mode go to the audit log, so that a syscall the profile missed shows up; log mode
        // logs through its default action already. API level 3 is where the kernel supports the flag.
        if mode == .enforce && seccomp_api_get() >= 3 {
            try setAttribute(context, SCMP_FLTATR_CTL_LOG, 1, why: "log denied syscalls")
        }
        if allThreads {
            // A filter on one thread only would leave the process's other threads unfiltered.
            try setAttribute(context, SCMP_FLTATR_CTL_TSYNC, 1, why: "apply the filter to every thread (Linux 3.17)")
        }

        return try addRules(profile, to: context, then: body)
    }

    /// Allows each of the profile's syscalls in `context`, then hands it to `body` with the unknown names.
    private static func addRules<Result>(
        _ profile: SeccompProfile, to context: scmp_filter_ctx,
        then body: (scmp_filter_ctx, [String]) throws(SeccompError) -> Result
    ) throws(SeccompError) -> Result {
        let native = SeccompArchitecture.native
        var unknownNames: [String] = []
        for name in profile.allowedSyscalls {
            guard let number = SyscallTable.number(of: name, architecture: native) else {
                unknownNames.append(name)
                continue
            }
            let result = seccomp_rule_add_array(context, SCMP_ACT_ALLOW, number, 0, nil)
            guard result == 0 else {
                throw SeccompError(
                    code: .filterFailed,
                    message: "libseccomp refused the rule allowing \(name) (number \(number) on \(native.name)); "
                        + "remove it from the profile",
                    errno: -result, call: "seccomp_rule_add_array")
            }
        }
        return try body(context, unknownNames)
    }

    private static func setAttribute(
        _ context: scmp_filter_ctx, _ attribute: scmp_filter_attr, _ value: UInt32, why: String
    ) throws(SeccompError) {
        let result = seccomp_attr_set(context, attribute, value)
        guard result == 0 else {
            throw SeccompError(
                code: .filterFailed,
                message: "libseccomp cannot \(why) (attribute \(attribute.rawValue)); the kernel or libseccomp is too "
                    + "old for Vigil's filters: Linux 4.14 and libseccomp 2.5 are needed",
                errno: -result, call: "seccomp_attr_set")
        }
    }

    /// Exports the filter's BPF program into an anonymous memory file and measures it.
    private static func exportedSize(_ context: scmp_filter_ctx) throws(SeccompError) -> Int {
        let descriptor = vigil_memfd_create("vigil-seccomp-bpf")
        guard descriptor >= 0 else {
            throw SeccompError(
                code: .filterFailed, message: "cannot create a memory file to export the filter into",
                errno: errno, call: "memfd_create")
        }
        defer { close(descriptor) }
        let result = seccomp_export_bpf(context, descriptor)
        guard result == 0 else {
            throw SeccompError(
                code: .filterFailed, message: "libseccomp cannot generate the filter's BPF program",
                errno: -result, call: "seccomp_export_bpf")
        }
        let size = lseek(descriptor, 0, SEEK_END)
        guard size >= 0 else {
            throw SeccompError(
                code: .filterFailed, message: "cannot measure the exported BPF program", errno: errno, call: "lseek")
        }
        return Int(size)
    }

    /// The error for a failed `seccomp_load`, saying what to do for the usual causes.
    private static func loadError(_ result: Int32) -> SeccompError {
        let code = result < 0 ? -result : nil
        let advice: String
        switch code {
        case EACCES, EPERM:
            advice = "the kernel refused the filter: without no_new_privs, loading one needs CAP_SYS_ADMIN"
        case ESRCH:
            advice =
                "another thread of this process runs under a different seccomp filter, so the filter cannot "
                + "cover every thread; install it before starting threads"
        case EINVAL:
            advice = "the kernel rejected the filter; check that it supports seccomp filters (CONFIG_SECCOMP_FILTER)"
        default:
            advice = "the kernel did not load the filter"
        }
        return SeccompError(code: .loadFailed, message: advice, errno: code, call: "seccomp_load")
    }
}

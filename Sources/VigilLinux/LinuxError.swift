import Glibc

/// Why a Linux facility (BPF, procfs, cgroups, capabilities) could not be used.
///
/// A syscall or library failure carries the errno and the call that failed; the message says what to do.
public struct LinuxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; a struct so that codes can be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The process lacks a privilege it needs (root, CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN).
        public static let permissionDenied = Code("permission denied")
        /// The kernel lacks a feature (BTF, a tracepoint, cgroup v2).
        public static let unsupported = Code("unsupported")
        /// A BPF object could not be opened, loaded or attached.
        public static let bpfFailed = Code("bpf failed")
        /// A system call failed.
        public static let systemCallFailed = Code("system call failed")
        /// A file under /proc or /sys could not be read or understood.
        public static let unreadable = Code("unreadable")
        /// Something was not found (a process, a cgroup, a map).
        public static let notFound = Code("not found")
        /// The pid now belongs to another process than the one asked for (the original exited and the pid
        /// was reused), so nothing was done to it.
        public static let processReplaced = Code("process replaced")
        /// The kernel did not finish in time (a cgroup that did not freeze or thaw).
        public static let timedOut = Code("timed out")
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// Details in plain words, saying what to do.
    public var message: String
    /// The errno of the failing call, if one failed.
    public var errno: Int32?
    /// The call that failed (`bpf_object__load`, `open`), if any.
    public var call: String?

    /// Creates an error.
    public init(code: Code, message: String, errno: Int32? = nil, call: String? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
        self.call = call
    }

    /// The error for a failed call, reading `errno` now.
    public static func systemCall(_ call: String, errno: Int32 = Glibc.errno, message: String = "") -> LinuxError {
        LinuxError(
            code: .systemCallFailed, message: message.isEmpty ? "\(call) failed" : message, errno: errno, call: call)
    }

    /// `code: message (call: strerror, errno N)`, leaving out the parts that are absent.
    public var description: String {
        var text = "\(code): \(message)"
        switch (call, errno) {
        case (let call?, let errno?): text += " (\(call): \(String(cString: strerror(errno))), errno \(errno))"
        case (let call?, nil): text += " (\(call))"
        case (nil, let errno?): text += " (\(String(cString: strerror(errno))), errno \(errno))"
        case (nil, nil): break
        }
        return text
    }
}

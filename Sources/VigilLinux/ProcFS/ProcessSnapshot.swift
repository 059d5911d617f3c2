/// What /proc says about one process at one moment: identity, ancestry, credentials, what it runs and where.
///
/// A snapshot is read from several files (`stat`, `status`, `cmdline`, `exe`, `cwd`, `cgroup`) one after
/// the other, so a process that execs or exits while it is read may give a mix of before and after (for a
/// moment during exec the new executable shows while the arguments are still empty); the pid and
/// ``startTime`` together still identify the process.
public struct ProcessSnapshot: Sendable, Equatable {
    /// The process id (the thread-group id).
    public var pid: Int32
    /// The parent's process id; 0 for the init process and kthreadd.
    public var parentPID: Int32
    /// When the process started, in nanoseconds since boot (`CLOCK_BOOTTIME`), at clock-tick resolution:
    /// field 22 of /proc/PID/stat times ``ProcFS/clockTickNanoseconds``. With the pid, it identifies the
    /// process even when the pid is reused; see ``ProcFS/roundedStartTime(_:)``.
    public var startTime: UInt64
    /// The real user id.
    public var uid: UInt32
    /// The real group id.
    public var gid: UInt32
    /// The effective user id, which decides what the process may do.
    public var effectiveUID: UInt32
    /// The command name the kernel keeps (`comm`): the executable's file name, at most 15 bytes, unless
    /// the process renamed itself.
    public var command: String
    /// The executable's path, without the ` (deleted)` the kernel appends when the file was removed; empty
    /// when it cannot be read (kernel threads, or another user's process without privileges).
    public var executable: String
    /// Whether the executable was deleted after the process started it (a common trait of fileless malware).
    public var executableDeleted: Bool
    /// The arguments, starting with `argv[0]`; empty for kernel threads and zombies.
    public var arguments: [String]
    /// The current working directory, or empty when it cannot be read.
    public var workingDirectory: String
    /// The process's cgroup v2 path relative to the cgroup2 mount (`/system.slice/sshd.service`), or empty
    /// when the process has no cgroup v2 entry.
    public var cgroupPath: String
    /// Whether this is a kernel thread (`PF_KTHREAD`), which has no executable or arguments.
    public var isKernelThread: Bool

    /// Creates a snapshot from its parts (tests and replays; live processes come from ``ProcFS``).
    public init(
        pid: Int32,
        parentPID: Int32,
        startTime: UInt64,
        uid: UInt32,
        gid: UInt32,
        effectiveUID: UInt32,
        command: String,
        executable: String,
        executableDeleted: Bool = false,
        arguments: [String],
        workingDirectory: String,
        cgroupPath: String,
        isKernelThread: Bool = false
    ) {
        self.pid = pid
        self.parentPID = parentPID
        self.startTime = startTime
        self.uid = uid
        self.gid = gid
        self.effectiveUID = effectiveUID
        self.command = command
        self.executable = executable
        self.executableDeleted = executableDeleted
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.cgroupPath = cgroupPath
        self.isKernelThread = isKernelThread
    }
}

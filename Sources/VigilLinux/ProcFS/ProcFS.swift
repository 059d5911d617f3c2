import Glibc

/// Reads processes from procfs: single snapshots, the whole process table, and the clocks that relate
/// /proc's start times to the kernel's and to wall-clock time.
///
/// Every reader takes the procfs root as a parameter, so tests can point it at a fake tree.
public enum ProcFS {
    /// Reads one process from `root/pid/{stat,status,cmdline,exe,cwd,cgroup}`.
    ///
    /// `stat`, `status` and `cmdline` are required; `exe` and `cwd` give empty strings when they cannot be
    /// read (kernel threads, other users' processes without privileges), and a missing `cgroup` file gives
    /// an empty cgroup path.
    ///
    /// - Throws: ``LinuxError`` with code `.notFound` when the process does not exist or exits while it is
    ///   read, `.unreadable` when a file cannot be read or parsed, `.permissionDenied` when access is refused.
    public static func snapshot(pid: Int32, root: String = "/proc") throws -> ProcessSnapshot {
        let directory = "\(root)/\(pid)"
        let statPath = directory + "/stat"
        guard let stat = ProcFiles.parseStat(try SystemFiles.read(statPath)) else {
            throw LinuxError(code: .unreadable, message: "cannot parse \(statPath)")
        }
        let statusPath = directory + "/status"
        guard let status = ProcFiles.parseStatus(try SystemFiles.readText(statusPath)) else {
            throw LinuxError(code: .unreadable, message: "no Uid: and Gid: lines in \(statusPath)")
        }
        let arguments = ProcFiles.parseCommandLine(try SystemFiles.read(directory + "/cmdline"))
        var executable = SystemFiles.readLink(directory + "/exe") ?? ""
        let deletedSuffix = " (deleted)"
        let executableDeleted = executable.hasSuffix(deletedSuffix)
        if executableDeleted { executable.removeLast(deletedSuffix.count) }
        let workingDirectory = SystemFiles.readLink(directory + "/cwd") ?? ""
        let cgroupPath = (try? SystemFiles.readText(directory + "/cgroup")).map(ProcFiles.parseCgroupV2) ?? ""
        // The links fail quietly, so make sure they failed because of the process, not because it exited.
        guard SystemFiles.exists(directory) else {
            throw LinuxError(code: .notFound, message: "process \(pid) exited while \(directory) was read")
        }
        let isKernelThread =
            stat.flags & ProcFiles.kernelThreadFlag != 0 || (executable.isEmpty && stat.parentPID == 2)
        return ProcessSnapshot(
            pid: pid,
            parentPID: stat.parentPID,
            startTime: stat.startTicks &* clockTickNanoseconds,
            uid: status.uid,
            gid: status.gid,
            effectiveUID: status.effectiveUID,
            command: stat.command,
            executable: executable,
            executableDeleted: executableDeleted,
            arguments: arguments,
            workingDirectory: workingDirectory,
            cgroupPath: cgroupPath,
            isKernelThread: isKernelThread
        )
    }

    /// The ids of the processes under `root` (its all-digit entries), in ascending order; empty when `root`
    /// cannot be listed.
    public static func processIDs(root: String = "/proc") -> [Int32] {
        let entries = (try? SystemFiles.directoryEntries(root)) ?? []
        return entries.compactMap { entry in
            guard entry.name.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                return nil
            }
            return Int32(entry.name)
        }.sorted()
    }

    /// Snapshots of every process under `root`, in pid order. Processes that exit while they are read, or
    /// whose files cannot be read, are left out.
    public static func allProcesses(root: String = "/proc") -> [ProcessSnapshot] {
        processIDs(root: root).compactMap { try? snapshot(pid: $0, root: root) }
    }

    /// What to add to a `CLOCK_BOOTTIME` time in nanoseconds (the kernel's `bpf_ktime_get_boot_ns`, a
    /// task's `start_boottime`, ``ProcessSnapshot/startTime``) to get nanoseconds since the Unix epoch:
    /// `CLOCK_REALTIME − CLOCK_BOOTTIME`, read now.
    ///
    /// The offset moves when the wall clock is set or slewed (NTP), so long-running readers should refresh
    /// it from time to time.
    public static func bootTimeOffsetNanoseconds() -> Int64 {
        // Boot time read on both sides of the wall clock, so the pair is as if read at one instant.
        let before = nanoseconds(CLOCK_BOOTTIME)
        let realtime = nanoseconds(CLOCK_REALTIME)
        let after = nanoseconds(CLOCK_BOOTTIME)
        return realtime - (before + (after - before) / 2)
    }

    /// The length of one clock tick (`USER_HZ`, `sysconf(_SC_CLK_TCK)`) in nanoseconds: the resolution of
    /// the times in /proc/PID/stat. 10,000,000 (10 ms) on every common Linux build.
    public static var clockTickNanoseconds: UInt64 { tickNanoseconds }

    /// Rounds a kernel start time (a task's `start_boottime`, nanoseconds since boot) down to a whole clock
    /// tick.
    ///
    /// /proc/PID/stat reports the same `start_boottime` truncated to clock ticks, so for one process
    /// `roundedStartTime(kernelStartTime) == ProcFS.snapshot(pid:).startTime`. This is how
    /// `ProcessKey.startTime` is defined for live Linux sensors: an eBPF sensor rounds what the kernel
    /// reports, and processes found at startup through /proc get the same key.
    public static func roundedStartTime(_ bootNanoseconds: UInt64) -> UInt64 {
        let tick = clockTickNanoseconds
        return bootNanoseconds / tick * tick
    }

    /// Read once: `USER_HZ` is fixed when the kernel is built.
    private static let tickNanoseconds: UInt64 = {
        let ticksPerSecond = sysconf(Int32(_SC_CLK_TCK))
        return 1_000_000_000 / UInt64(ticksPerSecond > 0 ? ticksPerSecond : 100)
    }()

    /// A clock's current time in nanoseconds.
    private static func nanoseconds(_ clock: clockid_t) -> Int64 {
        var time = timespec()
        clock_gettime(clock, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}

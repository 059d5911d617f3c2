import Glibc

/// A process held by identity (pid + start time) through a pidfd, so a reused pid is never signalled.
///
/// Once opened and verified, the pidfd refers to that exact process for as long as the handle lives: if the
/// process exits and its pid is given to another, signals fail with `.notFound` instead of reaching the
/// newcomer. Safe to use from several threads.
public final class ProcessHandle: @unchecked Sendable {
    /// The process id.
    public let pid: Int32
    /// When the process started, in nanoseconds since boot at clock-tick resolution: the same convention as
    /// ``ProcessSnapshot/startTime`` and `ProcessKey.startTime`.
    public let startTime: UInt64
    /// The pidfd; immutable, closed on deinit.
    private let descriptor: Int32

    /// Opens the process: pidfd_open (syscall 434), then re-reads /proc/PID/stat and throws `.processReplaced`
    /// if its start time is not `startTime` (the pid was reused); `.notFound` if there is no such process.
    ///
    /// Checking after opening is enough: the caller learned of (pid, startTime) before this call, so if that
    /// process still held the pid when the pidfd was opened, the pidfd is that process; if it did not, the
    /// stat file now shows another start time.
    ///
    /// - Throws: ``LinuxError`` `.notFound`, `.processReplaced`, `.permissionDenied`, or `.unsupported` on a
    ///   kernel older than 5.3 or a C library older than glibc 2.36.
    public convenience init(pid: Int32, startTime: UInt64) throws {
        self.init(pid: pid, startTime: startTime, descriptor: try Self.open(pid: pid, startTime: startTime))
    }

    /// Opens whatever process has this pid now (reads its start time), for callers that have no start time.
    ///
    /// - Throws: ``LinuxError`` `.notFound` when there is no such process.
    public convenience init(pid: Int32) throws {
        let (startTime, descriptor) = try Self.openCurrent(pid: pid)
        self.init(pid: pid, startTime: startTime, descriptor: descriptor)
    }

    private init(pid: Int32, startTime: UInt64, descriptor: Int32) {
        self.pid = pid
        self.startTime = startTime
        self.descriptor = descriptor
    }

    /// The start time and a verified pidfd of the process that has `pid` now.
    private static func openCurrent(pid: Int32) throws -> (startTime: UInt64, descriptor: Int32) {
        // The process read first may exit and its pid be reused before the pidfd opens; then open the new one.
        var attempt = 0
        while true {
            let startTime = try currentStartTime(pid: pid)
            attempt += 1
            do {
                return (startTime, try open(pid: pid, startTime: startTime))
            } catch {
                guard attempt < 3, (error as? LinuxError)?.code == .processReplaced else { throw error }
            }
        }
    }

    /// A pidfd for `pid`, verified to be the process that started at `startTime`.
    private static func open(pid: Int32, startTime: UInt64) throws -> Int32 {
        guard pid > 0 else {
            throw LinuxError(code: .notFound, message: "\(pid) is not a process id")
        }
        let descriptor = try PidFD.open(pid)
        do {
            let current = try currentStartTime(pid: pid)
            guard current == startTime else {
                throw LinuxError(
                    code: .processReplaced,
                    message: "process \(pid) started at \(startTime) is gone; the pid now belongs to a process "
                        + "started at \(current)")
            }
            return descriptor
        } catch {
            Glibc.close(descriptor)
            throw error
        }
    }

    deinit {
        Glibc.close(descriptor)
    }

    /// Sends a signal to the process through its pidfd (pidfd_send_signal, syscall 424), never to a process
    /// that took over its pid.
    ///
    /// - Throws: ``LinuxError`` `.notFound` when the process has exited (ESRCH), `.permissionDenied` when
    ///   not permitted, `.systemCallFailed` otherwise (an invalid signal).
    public func signal(_ signal: Int32) throws {
        guard let send = PidFD.sendSignal else { throw PidFD.unavailable("pidfd_send_signal") }
        guard send(descriptor, signal, nil, 0) != 0 else { return }
        let failed = errno
        switch failed {
        case ESRCH:
            throw LinuxError(
                code: .notFound, message: "process \(pid) has exited", errno: failed, call: "pidfd_send_signal")
        case EPERM:
            throw LinuxError(
                code: .permissionDenied, message: "not permitted to signal process \(pid) (run as root)",
                errno: failed, call: "pidfd_send_signal")
        default:
            throw LinuxError.systemCall(
                "pidfd_send_signal", errno: failed, message: "cannot send signal \(signal) to process \(pid)")
        }
    }

    /// Waits up to `timeout` for the process to exit (poll() on the pidfd); true if it exited.
    ///
    /// A process that exited but was not reaped yet by its parent (a zombie) counts as exited.
    public func waitForExit(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            // Rounded up, so poll does not return early and spin.
            let (seconds, attoseconds) = remaining.components
            let milliseconds = max(0, seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(clamping: milliseconds))
            if ready > 0 { return true }
            if ready < 0 && errno == EINTR { continue }
            // Poll may wake a little before the deadline; look again until it has really passed.
            if ready < 0 || ContinuousClock.now >= deadline { return false }
        }
    }

    /// Whether the process has exited (it may still be a zombie waiting for its parent).
    public var hasExited: Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0
    }

    /// From /proc/PID/stat state: true while stopped by SIGSTOP ("T").
    ///
    /// False once the process has exited, even if its pid now belongs to a stopped process.
    public var isStopped: Bool {
        guard let bytes = try? SystemFiles.read("/proc/\(pid)/stat"),
            let fields = ProcessStatFields(bytes)
        else { return false }
        // Read before checking for exit: the stat read was this process's if it has not exited since.
        return fields.state == UInt8(ascii: "T") && !hasExited
    }

    /// The start time /proc reports now for `pid`, in ``ProcessSnapshot/startTime``'s convention.
    static func currentStartTime(pid: Int32) throws -> UInt64 {
        let path = "/proc/\(pid)/stat"
        guard SystemFiles.exists("/proc/\(pid)") else {
            throw LinuxError(code: .notFound, message: "there is no process \(pid)")
        }
        // Still .notFound if the process exits before the read.
        let bytes = try SystemFiles.read(path)
        guard let stat = ProcFiles.parseStat(bytes) else {
            throw LinuxError(code: .unreadable, message: "cannot parse \(path)")
        }
        return stat.startTicks &* ProcFS.clockTickNanoseconds
    }
}

/// The glibc 2.36 pidfd wrappers. The Glibc module does not import `<sys/pidfd.h>` and Swift cannot call the
/// variadic `syscall()`, so the functions are looked up by name once.
enum PidFD {
    private typealias OpenFunction = @convention(c) (pid_t, UInt32) -> Int32
    typealias SendSignalFunction =
        @convention(c) (Int32, Int32, UnsafeMutablePointer<siginfo_t>?, UInt32) -> Int32

    private static let openFunction: OpenFunction? = dlsym(nil, "pidfd_open").map {
        unsafeBitCast($0, to: OpenFunction.self)
    }

    /// `pidfd_send_signal`, or nil when the C library lacks it.
    static let sendSignal: SendSignalFunction? = dlsym(nil, "pidfd_send_signal").map {
        unsafeBitCast($0, to: SendSignalFunction.self)
    }

    /// The error for a missing wrapper.
    static func unavailable(_ function: String) -> LinuxError {
        LinuxError(code: .unsupported, message: "the C library has no \(function) (needs glibc 2.36 or later)")
    }

    /// Opens a pidfd (close-on-exec, as every pidfd is) for the process `pid`.
    static func open(_ pid: Int32) throws -> Int32 {
        guard let openFunction else { throw unavailable("pidfd_open") }
        let descriptor = openFunction(pid, 0)
        guard descriptor < 0 else { return descriptor }
        let failed = errno
        switch failed {
        case ESRCH, EINVAL:
            // EINVAL: the pid names a thread that is not a thread-group leader, so no process has it.
            throw LinuxError(code: .notFound, message: "there is no process \(pid)", errno: failed, call: "pidfd_open")
        case ENOSYS:
            throw LinuxError(
                code: .unsupported, message: "the kernel has no pidfd_open (needs Linux 5.3 or later)",
                errno: failed, call: "pidfd_open")
        case EPERM, EACCES:
            throw LinuxError(
                code: .permissionDenied, message: "not permitted to open process \(pid)", errno: failed,
                call: "pidfd_open")
        default:
            throw LinuxError.systemCall("pidfd_open", errno: failed, message: "cannot open process \(pid)")
        }
    }
}

/// The fields of /proc/PID/stat that ``ProcessHandle`` and tests need beyond ``ProcFiles/Stat``.
struct ProcessStatFields: Equatable {
    /// Field 3: `R`, `S`, `D`, `T` (stopped), `t` (traced), `Z` (zombie)...
    var state: UInt8
    /// Field 14: user-mode CPU time in clock ticks.
    var userTicks: UInt64
    /// Field 15: kernel-mode CPU time in clock ticks.
    var systemTicks: UInt64

    /// Parses the bytes of /proc/PID/stat; the command may hold spaces and parentheses, so fields start after
    /// the last `)`.
    init?(_ bytes: [UInt8]) {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count >= 13, let state = fields.first?.first,
            let user = UInt64(String(decoding: fields[fields.startIndex + 11], as: UTF8.self)),
            let system = UInt64(String(decoding: fields[fields.startIndex + 12], as: UTF8.self))
        else { return nil }
        self.state = state
        self.userTicks = user
        self.systemTicks = system
    }
}

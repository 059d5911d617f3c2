import Glibc
import Synchronization
import VigilCore
import VigilLinux
import VigilSeccomp

/// Carries out actions on Linux processes through pidfds, so that only the exact process a
/// ``VigilCore/ProcessKey`` names is ever signalled (``VigilLinux/ProcessHandle``), and on containers through
/// their cgroup v2.
///
/// - kill: SIGKILL; with scope container, `cgroup.kill` on the process's cgroup.
/// - stop: SIGTERM, then SIGKILL if the process has not exited after the grace period.
/// - pause / resume: SIGSTOP / SIGCONT; with scope container, the cgroup freezer (resume thaws a cgroup this
///   actuator froze).
/// - quarantine / release: moves the process into the ``VigilLinux/NetworkQuarantine`` cgroup, where its new
///   sockets reach only the allowlist, and back to the cgroup it came from. Needs a quarantine (root and BPF);
///   without one these actions fail.
/// - report: nothing beyond the record.
/// - enforce_seccomp: asks the `vigil-exec --supervise` that started the process to enforce its learned
///   profile (``VigilSeccomp/SupervisedWorkloads``); fails for any other process, since a seccomp filter can
///   only be installed by the process itself.
public final class LinuxActuator: ResponseActuator {
    /// The cgroup v2 hierarchy, for container-wide actions; nil when there is none.
    public let cgroups: CgroupFilesystem?
    /// The network quarantine, for quarantine and release; nil when the agent has none.
    public let quarantine: NetworkQuarantine?
    /// Cgroups this actuator froze, by the process whose action froze them, so that resume thaws them.
    private let frozen = Mutex<[ProcessKey: Cgroup]>([:])

    /// Creates an actuator; container-wide actions use `cgroups` (the system's cgroup v2 mount by default),
    /// quarantine and release use `quarantine`.
    public init(cgroups: CgroupFilesystem? = try? CgroupFilesystem.locateV2(), quarantine: NetworkQuarantine? = nil) {
        self.cgroups = cgroups
        self.quarantine = quarantine
    }

    /// The live process `process` names, read from /proc.
    public func inspect(_ process: ProcessKey) throws(ResponseError) -> TargetProcess {
        let snapshot: ProcessSnapshot
        do {
            snapshot = try ProcFS.snapshot(pid: process.pid)
        } catch let error as LinuxError where error.code == .notFound {
            throw ResponseError(code: .processGone, message: "process \(process) has exited")
        } catch {
            throw ResponseError(code: .failed, message: "cannot read process \(process): \(error)")
        }
        guard snapshot.startTime == process.startTime else {
            throw Self.replaced(process, by: snapshot.startTime)
        }
        return TargetProcess(
            pid: snapshot.pid, startTime: snapshot.startTime, executable: snapshot.executable,
            isKernelThread: snapshot.isKernelThread, cgroup: snapshot.cgroupPath)
    }

    /// Performs `action` on its target process (or container) and says what was done.
    public func perform(
        _ action: ResponseAction, grace: Duration, scope: ResponseScope
    ) async throws(ResponseError) -> String {
        let key = action.target.process
        switch action.kind {
        case .report:
            return "reported"
        case .enforceSeccomp:
            // The identity check first: the registry is keyed by pid alone.
            let handle = try open(key)
            do {
                let supervisor = try SupervisedWorkloads.requestEnforcement(pid: handle.pid)
                return "vigil-exec (pid \(supervisor)) now enforces the learned seccomp profile: syscalls outside "
                    + "it fail with EPERM"
            } catch {
                throw ResponseError(
                    code: error.code == .unsupportedProfile ? .unsupported : .failed,
                    message: "seccomp enforcement applies to workloads started through `vigil-exec --supervise`: "
                        + error.message)
            }
        case .kill:
            let handle = try open(key)
            if scope == .container {
                let cgroup = try cgroup(of: handle)
                try attempt("kill cgroup \(cgroup.path)") { try cgroup.killAll() }
                return "killed every process of cgroup \(cgroup.path)"
            }
            try attempt("send SIGKILL to process \(key)") { try handle.signal(SIGKILL) }
            return "sent SIGKILL"
        case .stop:
            let handle = try open(key)
            try attempt("send SIGTERM to process \(key)") { try handle.signal(SIGTERM) }
            if await Self.waitForExit(handle, timeout: grace) { return "sent SIGTERM; it exited within \(grace)" }
            try attempt("send SIGKILL to process \(key)") { try handle.signal(SIGKILL) }
            return "sent SIGTERM, then SIGKILL after \(grace)"
        case .pause:
            let handle = try open(key)
            if scope == .container {
                let cgroup = try cgroup(of: handle)
                try attempt("freeze cgroup \(cgroup.path)") { try cgroup.freeze() }
                frozen.withLock { $0[key] = cgroup }
                return "froze cgroup \(cgroup.path)"
            }
            try attempt("send SIGSTOP to process \(key)") { try handle.signal(SIGSTOP) }
            return "sent SIGSTOP"
        case .resume:
            if let cgroup = frozen.withLock({ $0[key] }) {
                try attempt("thaw cgroup \(cgroup.path)") { try cgroup.thaw() }
                frozen.withLock { $0[key] = nil }
                return "thawed cgroup \(cgroup.path)"
            }
            let handle = try open(key)
            try attempt("send SIGCONT to process \(key)") { try handle.signal(SIGCONT) }
            return "sent SIGCONT"
        case .quarantine:
            let (quarantine, handle) = (try self.network(), try open(key))
            let origin = try attempt("quarantine process \(key)") { try quarantine.confine(handle) }
            return "moved into quarantine cgroup \(quarantine.cgroup.path) from \(origin); new sockets reach only "
                + "the allowlist"
        case .release:
            let (quarantine, handle) = (try self.network(), try open(key))
            try attempt("release process \(key) from quarantine") { try quarantine.release(handle) }
            return "released from quarantine cgroup \(quarantine.cgroup.path)"
        }
    }

    /// A pidfd for exactly `key`, or the error that says it is gone or replaced.
    private func open(_ key: ProcessKey) throws(ResponseError) -> ProcessHandle {
        do {
            return try ProcessHandle(pid: key.pid, startTime: key.startTime)
        } catch let error as LinuxError where error.code == .processReplaced {
            throw ResponseError(
                code: .processReplaced,
                message: "process \(key) is gone and pid \(key.pid) belongs to another process now; nothing was done")
        } catch let error as LinuxError where error.code == .notFound {
            throw ResponseError(code: .processGone, message: "process \(key) has exited; nothing was done")
        } catch {
            throw ResponseError(code: .failed, message: "cannot open process \(key): \(error)")
        }
    }

    /// The quarantine, or the error that says there is none.
    private func network() throws(ResponseError) -> NetworkQuarantine {
        guard let quarantine else {
            throw ResponseError(
                code: .unsupported,
                message: "no network quarantine is set up (it needs root and BPF; give LinuxActuator one)")
        }
        return quarantine
    }

    /// The cgroup of the process `handle` holds.
    private func cgroup(of handle: ProcessHandle) throws(ResponseError) -> Cgroup {
        guard let cgroups else {
            throw ResponseError(code: .unsupported, message: "no cgroup v2 hierarchy is mounted")
        }
        return try attempt("find the cgroup of process \(handle.pid)") { try Cgroup.of(pid: handle.pid, in: cgroups) }
    }

    /// Runs `body`, turning its error into a ``ResponseError`` that says what was attempted.
    private func attempt<Result>(_ what: String, _ body: () throws -> Result) throws(ResponseError) -> Result {
        do {
            return try body()
        } catch let error as LinuxError where error.code == .notFound {
            throw ResponseError(code: .processGone, message: "cannot \(what): \(error)")
        } catch {
            throw ResponseError(code: .failed, message: "cannot \(what): \(error)")
        }
    }

    /// Waits for the process to exit without holding a thread of the cooperative pool: grace periods are
    /// seconds long.
    private static func waitForExit(_ handle: ProcessHandle, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !handle.hasExited {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// The cgroup a quarantine record's process came from, read back from the record's detail (`… from
    /// PATH; …`, up to the first semicolon), so that a release by another process (`vigil-agent quarantine release`) knows where to put it.
    public static func quarantineOrigin(fromDetail detail: String) -> String? {
        guard detail.hasPrefix("moved into quarantine cgroup "), let end = detail.firstIndex(of: ";") else {
            return nil
        }
        // "moved into quarantine cgroup Q from ORIGIN": the origin is everything after the last "from".
        let words = detail[..<end].split(separator: " ", omittingEmptySubsequences: false)
        guard let from = words.lastIndex(of: "from"), from + 1 < words.count else { return nil }
        let origin = words[(from + 1)...].joined(separator: " ")
        return origin.hasPrefix("/") ? origin : nil
    }

    private static func replaced(_ process: ProcessKey, by startTime: UInt64) -> ResponseError {
        ResponseError(
            code: .processReplaced,
            message: "refused: process \(process) is gone and pid \(process.pid) now belongs to a process started at "
                + "\(startTime); nothing was done")
    }
}

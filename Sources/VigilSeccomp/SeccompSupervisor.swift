import CSeccomp
import Glibc

/// Runs a command under a learned profile that can be enforced later: the response to a finding, not a
/// decision made at start.
///
/// The child loads a filter whose unlisted syscalls go to a listener this supervisor holds (seccomp user
/// notification, Linux 5.5). While it watches, each such syscall runs (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`)
/// and is reported once by name; once enforcement is asked for (``SupervisedWorkloads/requestEnforcement``,
/// which Vigil's response actuator calls), each fails with `EPERM`. The filter passes to the child's own
/// children, so the whole tree is covered.
///
/// The switch is one way: a workload that attracted enforcement is not trusted again until restarted.
public final class SeccompSupervisor {
    /// Syscalls the child makes between loading its filter and running the command, before the supervisor
    /// holds the listener: they must be allowed outright.
    static let setupSyscalls = ["sendmsg", "close", "execve", "exit_group", "exit"]

    /// The profile's names unknown on this architecture (left out of the filter, so supervised).
    public let unknownNames: [String]
    private let program: [sock_filter]

    /// Builds the supervised filter for `profile`.
    public init(profile: SeccompProfile) throws(SeccompError) {
        (program, unknownNames) = try SeccompFilter.supervisedProgram(profile, setup: Self.setupSyscalls)
    }

    /// How the supervised command ended.
    public struct Outcome: Sendable, Equatable {
        /// Its exit status, or 128 + the signal that ended it.
        public var status: Int32
        /// The syscalls outside the profile it made, by name, in the order first seen.
        public var unlisted: [String]
        /// Whether enforcement was switched on before it ended.
        public var enforced: Bool
    }

    /// Starts `command` (searched on PATH) under the filter, supervises it until it exits, and returns how it
    /// ended. `report` receives one line for each syscall first seen outside the profile and for the switch to
    /// enforcement.
    public func run(_ command: [String], report: (String) -> Void) throws(SeccompError) -> Outcome {
        guard !command.isEmpty else {
            throw SeccompError(code: .invalidProfile, message: "no command to supervise")
        }
        var arguments: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) }
        arguments.append(nil)
        defer { for argument in arguments { free(argument) } }
        var listener: Int32 = -1
        let child = program.withUnsafeBufferPointer { filter in
            vigil_seccomp_spawn_supervised(
                filter.baseAddress, UInt16(filter.count), arguments[0], arguments, &listener)
        }
        guard child > 0 else {
            throw SeccompError(
                code: .loadFailed,
                message: "cannot start \(command[0]) under a supervised filter (seccomp user notification needs "
                    + "Linux 5.5 and no_new_privs)",
                errno: -child, call: "seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER)")
        }
        defer { close(listener) }
        let registration = SupervisedWorkloads.register(child: child, supervisor: getpid())
        defer { SupervisedWorkloads.unregister(child: child) }
        return supervise(child: child, listener: listener, registered: registration, report: report)
    }

    private func supervise(
        child: Int32, listener: Int32, registered: Bool, report: (String) -> Void
    ) -> Outcome {
        var request: UnsafeMutablePointer<seccomp_notif>?
        var response: UnsafeMutablePointer<seccomp_notif_resp>?
        guard seccomp_notify_alloc(&request, &response) == 0, let request, let response else {
            // Without buffers every notified syscall would hang: end the child rather than leave it stuck.
            kill(child, SIGKILL)
            return Outcome(status: reap(child), unlisted: [], enforced: false)
        }
        defer { seccomp_notify_free(request, response) }
        var enforced = false
        var seen: Set<Int32> = []
        var unlisted: [String] = []
        while true {
            if registered && !enforced && SupervisedWorkloads.takeRequest(child: child) {
                enforced = true
                SupervisedWorkloads.markEnforced(child: child, supervisor: getpid())
                report("vigil-exec: enforcing the profile on \(child): syscalls outside it now fail with EPERM")
            }
            var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            // A short wait: between notifications the loop looks for an enforcement request and for the exit.
            let ready = poll(&descriptor, 1, 50)
            if ready > 0 && descriptor.revents & Int16(POLLIN) != 0 {
                memset(request, 0, MemoryLayout<seccomp_notif>.size)
                guard seccomp_notify_receive(listener, request) == 0 else { continue }
                let number = request.pointee.data.nr
                if seen.insert(number).inserted {
                    let name =
                        seccomp_syscall_resolve_num_arch(request.pointee.data.arch, number)
                        .map { pointer in
                            defer { free(pointer) }
                            return String(cString: pointer)
                        } ?? "syscall \(number)"
                    unlisted.append(name)
                    report(
                        "vigil-exec: \(request.pointee.pid) made \(name), which the profile does not hold"
                            + (enforced ? "; denied" : "; allowed until enforcement"))
                }
                response.pointee.id = request.pointee.id
                response.pointee.val = 0
                if enforced {
                    response.pointee.error = -EPERM
                    response.pointee.flags = 0
                } else {
                    response.pointee.error = 0
                    response.pointee.flags = vigil_seccomp_flag_continue()
                }
                // A failure here means the caller was killed meanwhile: nothing to answer.
                _ = seccomp_notify_respond(listener, response)
                continue
            }
            var status: Int32 = 0
            let waited = waitpid(child, &status, WNOHANG)
            if waited == child { return Outcome(status: exitStatus(status), unlisted: unlisted, enforced: enforced) }
            if waited < 0 && errno != EINTR { return Outcome(status: 125, unlisted: unlisted, enforced: enforced) }
        }
    }

    private func reap(_ child: Int32) -> Int32 {
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        return exitStatus(status)
    }

    /// The shell's convention: the exit code, or 128 + the signal.
    private func exitStatus(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}

/// Where supervised workloads are registered, and how an enforcement request reaches their supervisor: one
/// file per supervised child in ``directory`` (`PID`, holding `supervisor=PID mode=watch|enforce`), and a
/// request file beside it (`PID.enforce`) that the supervisor takes.
///
/// Files rather than signals: a request needs no rights over the supervisor beyond the directory, and a
/// stale registration of a gone supervisor answers no request, so it cannot be mistaken for one.
public enum SupervisedWorkloads {
    /// The registry (root's run directory).
    public static let directory = "/run/vigil/exec"

    /// Asks the supervisor of `pid` to enforce its profile, and waits up to `timeout` for it to confirm.
    /// Returns the supervisor's pid.
    ///
    /// - Throws: ``SeccompError`` `.unsupportedProfile` when `pid` was not started by a supervisor (not by
    ///   `vigil-exec --supervise`), `.loadFailed` when the supervisor did not confirm in time.
    public static func requestEnforcement(pid: Int32, timeout: Duration = .seconds(2)) throws(SeccompError) -> Int32 {
        guard let registration = read(child: pid) else {
            throw SeccompError(
                code: .unsupportedProfile,
                message: "process \(pid) was not started by `vigil-exec --supervise`, so no seccomp profile can be "
                    + "enforced on it now")
        }
        if registration.enforced { return registration.supervisor }
        let request = "\(directory)/\(pid).enforce"
        let descriptor = open(request, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SeccompError(
                code: .loadFailed, message: "cannot ask the supervisor of \(pid) to enforce", errno: errno,
                call: "open")
        }
        close(descriptor)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if read(child: pid)?.enforced == true { return registration.supervisor }
            usleep(10_000)
        }
        unlink(request)
        throw SeccompError(
            code: .loadFailed,
            message: "the supervisor (pid \(registration.supervisor)) of process \(pid) did not confirm enforcement "
                + "within \(timeout)")
    }

    /// Records `child` as supervised by `supervisor`; false when the registry cannot be written (then no
    /// enforcement can be requested, and the supervisor only watches).
    static func register(child: Int32, supervisor: Int32) -> Bool {
        mkdir("/run/vigil", 0o755)
        mkdir(directory, 0o700)
        return write(child: child, supervisor: supervisor, mode: "watch")
    }

    static func unregister(child: Int32) {
        unlink("\(directory)/\(child)")
        unlink("\(directory)/\(child).enforce")
    }

    /// Takes a pending enforcement request for `child`, if there is one.
    static func takeRequest(child: Int32) -> Bool {
        unlink("\(directory)/\(child).enforce") == 0
    }

    static func markEnforced(child: Int32, supervisor: Int32) {
        _ = write(child: child, supervisor: supervisor, mode: "enforce")
    }

    private static func write(child: Int32, supervisor: Int32, mode: String) -> Bool {
        let path = "\(directory)/\(child)"
        let temporary = path + ".new"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return false }
        let bytes = Array("supervisor=\(supervisor) mode=\(mode)\n".utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        // Renamed into place, so a reader never sees half a line.
        return written == bytes.count && rename(temporary, path) == 0
    }

    /// The registration of `child`, if its supervisor is still alive.
    private static func read(child: Int32) -> (supervisor: Int32, enforced: Bool)? {
        let descriptor = open("\(directory)/\(child)", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        var supervisor: Int32?
        var enforced = false
        for field in String(decoding: buffer[0..<count], as: UTF8.self).split(whereSeparator: {
            $0 == " " || $0 == "\n"
        }) {
            if field.hasPrefix("supervisor=") { supervisor = Int32(field.dropFirst("supervisor=".count)) }
            if field == "mode=enforce" { enforced = true }
        }
        // A registration whose supervisor is gone (killed before it could clean up) answers nothing.
        guard let supervisor, kill(supervisor, 0) == 0 else { return nil }
        return (supervisor, enforced)
    }
}

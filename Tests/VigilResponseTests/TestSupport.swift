import Foundation
import Testing
import VigilCore
import VigilLinux
import VigilResponse
import VigilTestKit

#if canImport(Glibc)
    import Glibc
#endif

/// Ends a test that cannot run where CI requires it to; the test fails with this message.
struct TestCannotRun: Error, CustomStringConvertible {
    var description: String
}

/// Ends a test that needs root when this process is not root: a failure when CI is "true" (so CI never
/// passes without running it), a skip elsewhere.
func requireRoot(_ what: String) throws {
    guard geteuid() != 0 else { return }
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        throw TestCannotRun(description: "needs root under CI: \(what)")
    }
    try Test.cancel("needs root: \(what); skipped outside CI")
}

/// A child process the test starts and always ends: SIGKILL and reap on `stop()` (SIGTERM may be ignored).
final class Child {
    let pid: pid_t
    let startTime: UInt64
    private var reaped = false
    private(set) var status: Int32 = 0

    /// Starts `arguments` with every signal at its default disposition, unless `ignoreTERM`.
    init(_ arguments: [String], ignoreTERM: Bool = false) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The test process blocks some signals on its threads, and a child inherits the mask: unblock all.
        var none = sigset_t()
        sigemptyset(&none)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let command =
            ignoreTERM ? ["/bin/sh", "-c", "trap '' TERM; exec " + arguments.joined(separator: " ")] : arguments
        var pid: pid_t = 0
        let argv = command.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let result = posix_spawn(&pid, command[0], nil, &attributes, argv, environ)
        guard result == 0 else { throw TestCannotRun(description: "cannot start \(command): errno \(result)") }
        self.pid = pid
        // With ignoreTERM the shell execs the program: wait until it has, so its state is the program's.
        if ignoreTERM {
            // /proc names the shell by its real path (/bin/sh is often a link to dash).
            let shell =
                realpath("/bin/sh", nil).map { pointer in
                    defer { free(pointer) }
                    return String(cString: pointer)
                } ?? "/bin/sh"
            let deadline = ContinuousClock.now + .seconds(5)
            while (try? ProcFS.snapshot(pid: pid).executable) == shell, ContinuousClock.now < deadline {
                usleep(10_000)
            }
        }
        self.startTime = try ProcFS.snapshot(pid: pid).startTime
    }

    deinit { stop() }

    /// The child's identity.
    var key: ProcessKey { ProcessKey(pid: pid, startTime: startTime) }

    /// The state letter in /proc/PID/stat (`S`, `T`, `Z`...), or nil once reaped.
    var state: Character? {
        guard !reaped, let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(close, offsetBy: 2)]
    }

    /// Whether it is still running (not exited, not a zombie).
    var isRunning: Bool {
        guard let state else { return false }
        return state != "Z" && state != "X"
    }

    /// Waits up to `timeout` for the child to exit and reaps it; true when it exited.
    func waitForExit(timeout: Duration = .seconds(5)) -> Bool {
        if reaped { return true }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped = true
                self.status = status
                return true
            }
            usleep(10_000)
        }
        return false
    }

    /// The signal that ended it, or nil when it exited normally or has not been reaped.
    var terminationSignal: Int32? {
        guard reaped, status & 0x7f != 0, status & 0x7f != 0x7f else { return nil }
        return status & 0x7f
    }

    /// Kills and reaps it, if it has not been reaped yet.
    func stop() {
        guard !reaped else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        reaped = true
        self.status = status
    }
}

/// Builds findings and incidents about real or made-up processes.
struct Alerts {
    let symbols = SymbolTable()
    private var builder: EventBuilder

    init() {
        builder = EventBuilder(symbols: symbols)
    }

    /// A finding about `process` running `executable` in `workload`.
    mutating func finding(
        process: ProcessKey, executable: String = "/usr/bin/sleep", rule: String = "vigil.workload.test",
        technique: String = "T1059.004", tactic: MITRETactic = .execution, severity: Severity = .high,
        workload: WorkloadID = .host, container: String = "", id: String = FindingID.next()
    ) -> Finding {
        var event = builder.exec(pid: process.pid, executable: executable, workload: workload)
        event.process = process
        event.container = symbols.intern(container)
        return Finding(
            id: id, severity: severity, rule: RuleReference(id: rule, name: rule),
            mitre: MITREMapping(tactic: tactic, technique: technique), event: event, explanation: "test")
    }

    /// A cloud-layer finding, which has no process.
    mutating func cloudFinding(severity: Severity = .high) -> Finding {
        let event = builder.cloudCall(principal: "arn:aws:iam::1:user/x", service: "cloudtrail", action: "DeleteTrail")
        return Finding(
            severity: severity, rule: RuleReference(id: "vigil.cloud.trail-deleted", name: "trail deleted"),
            mitre: MITREMapping(tactic: .defenseEvasion, technique: "T1562.008"), event: event, explanation: "test")
    }

    /// A Kubernetes workload.
    func workload(namespace: String, deployment: String) -> WorkloadID {
        builder.workload(namespace: namespace, deployment: deployment)
    }
}

/// An incident of `findings` whose root cause is `rootCause`.
func incident(_ findings: [Finding], rootCause: String, severity: Severity = .critical) -> Incident {
    Incident(
        severity: severity, title: "test incident", rootCause: rootCause,
        steps: findings.map {
            IncidentStep(time: $0.time, layer: $0.layer, mitre: $0.mitre, summary: $0.rule.name, findingIDs: [$0.id])
        },
        entities: [], findings: findings)
}

/// A policy from YAML that the test expects to be valid.
func parsePolicy(_ yaml: String) throws -> ResponsePolicy {
    try ResponsePolicy(yaml: yaml, file: "test.yaml")
}

/// The only record of a response, or a failure.
func single(_ records: [ResponseRecord], sourceLocation: SourceLocation = #_sourceLocation) throws -> ResponseRecord {
    try #require(records.count == 1, "expected one record, got \(records)", sourceLocation: sourceLocation)
    return records[0]
}

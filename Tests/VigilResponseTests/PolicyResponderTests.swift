import Foundation
import Glibc
import Testing
import VigilCore
import VigilLinux
import VigilResponse
import VigilSeccomp

#if canImport(Glibc)
    import Glibc
#endif

/// The responder with the real Linux actuator, on processes the test starts.
@Suite("Policy responder")
struct PolicyResponderTests {
    /// A responder whose every finding gets `action` in `mode`.
    private func responder(
        _ action: String, mode: ResponseMode, extra: String = "", alerts: Alerts,
        auditTrail: any ResponseAuditTrail = MemoryResponseAuditTrail()
    ) throws -> PolicyResponder {
        PolicyResponder(
            policy: try parsePolicy("rules:\n  - name: test rule\n    match: {}\n    action: \(action)\n" + extra),
            mode: mode, actuator: LinuxActuator(), auditTrail: auditTrail, symbols: alerts.symbols)
    }

    @Test("dry-run records what it would do, audits it, and leaves the process running")
    func dryRun() async throws {
        let child = try Child(["/bin/sleep", "600"])
        defer { child.stop() }
        var alerts = Alerts()
        let trail = MemoryResponseAuditTrail()
        let responder = try responder("kill", mode: .dryRun, alerts: alerts, auditTrail: trail)
        let finding = alerts.finding(process: child.key)
        let record = try single(await responder.respond(to: .finding(finding)))
        #expect(record.outcome == .dryRun)
        #expect(record.action.kind == .kill)
        #expect(record.action.target.process == child.key)
        #expect(record.action.reason == finding.id)
        #expect(record.detail.hasPrefix("would kill process \(child.pid)@"), "\(record.detail)")
        #expect(record.detail.contains("policy rule 'test rule'"), "\(record.detail)")
        #expect(try await trail.records(forAlert: finding.id) == [record])
        try await Task.sleep(for: .milliseconds(100))
        #expect(child.isRunning)
    }

    @Test("mode off returns no records and records nothing")
    func off() async throws {
        var alerts = Alerts()
        let trail = MemoryResponseAuditTrail()
        let responder = try responder("kill", mode: .off, alerts: alerts, auditTrail: trail)
        let records = await responder.respond(to: .finding(alerts.finding(process: ProcessKey(pid: 999, startTime: 1))))
        #expect(records.isEmpty)
        #expect(try await trail.latest(10).isEmpty)
    }

    @Test("the default policy only reports, and the report is recorded as done")
    func reportOnly() async throws {
        let child = try Child(["/bin/sleep", "600"])
        defer { child.stop() }
        var alerts = Alerts()
        let responder = PolicyResponder(mode: .on, actuator: LinuxActuator(), symbols: alerts.symbols)
        let record = try single(await responder.respond(to: .finding(alerts.finding(process: child.key))))
        #expect(record.action.kind == .report)
        #expect(record.outcome == .done)
        #expect(record.detail == "reported (policy defaults)")
        #expect(child.isRunning)
    }

    @Test("kill sends SIGKILL to the process")
    func kill() async throws {
        let child = try Child(["/bin/sleep", "600"])
        defer { child.stop() }
        var alerts = Alerts()
        let responder = try responder("kill", mode: .on, alerts: alerts)
        let record = try single(await responder.respond(to: .finding(alerts.finding(process: child.key))))
        #expect(record.outcome == .done, "\(record.detail)")
        #expect(record.detail.hasPrefix("sent SIGKILL"), "\(record.detail)")
        #expect(child.waitForExit())
        #expect(child.terminationSignal == SIGKILL)
    }

    @Test("stop ends a process that honours SIGTERM with SIGTERM")
    func stopPolite() async throws {
        let child = try Child(["/bin/sleep", "600"])
        defer { child.stop() }
        var alerts = Alerts()
        let responder = try responder("stop", mode: .on, extra: "    grace: 2s\n", alerts: alerts)
        let record = try single(await responder.respond(to: .finding(alerts.finding(process: child.key))))
        #expect(record.outcome == .done, "\(record.detail)")
        #expect(record.detail.contains("exited within"), "\(record.detail)")
        #expect(child.waitForExit())
        #expect(child.terminationSignal == SIGTERM)
    }

    @Test("stop sends SIGKILL after the grace period to a process that ignores SIGTERM")
    func stopStubborn() async throws {
        let child = try Child(["/bin/sleep", "600"], ignoreTERM: true)
        defer { child.stop() }
        var alerts = Alerts()
        let responder = try responder("stop", mode: .on, extra: "    grace: 300ms\n", alerts: alerts)
        let started = ContinuousClock.now
        let record = try single(await responder.respond(to: .finding(alerts.finding(process: child.key))))
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        #expect(record.outcome == .done, "\(record.detail)")
        #expect(record.detail.contains("then SIGKILL"), "\(record.detail)")
        #expect(child.waitForExit())
        #expect(child.terminationSignal == SIGKILL)
    }

    @Test("pause stops the process; undo resumes it; both are audited under the alert")
    func pauseAndResume() async throws {
        let child = try Child(["/bin/sleep", "600"])
        defer { child.stop() }
        var alerts = Alerts()
        let trail = MemoryResponseAuditTrail()
        let responder = try responder("pause", mode: .on, alerts: alerts, auditTrail: trail)
        let finding = alerts.finding(process: child.key)
        let paused = try single(await responder.respond(to: .finding(finding)))
        #expect(paused.outcome == .done, "\(paused.detail)")
        #expect(try await eventually { child.state == "T" }, "state \(String(describing: child.state))")

        let resumed = await responder.undo(paused)
        #expect(resumed.action.kind == .resume)
        #expect(resumed.outcome == .done, "\(resumed.detail)")
        #expect(try await eventually { child.state == "S" || child.state == "R" })
        #expect(try await trail.records(forAlert: finding.id).map(\.action.kind) == [.pause, .resume])

        // A kill cannot be undone, and an undo of something not done does nothing.
        let killRecord = ResponseRecord(
            action: ResponseAction(kind: .kill, target: paused.action.target, reason: finding.id), outcome: .done,
            detail: "", time: 0)
        #expect(await responder.undo(killRecord).outcome == .refused)
        var refused = paused
        refused.outcome = .refused
        #expect(await responder.undo(refused).outcome == .refused)
        #expect(child.isRunning)
    }

    @Test("a reused identity (right pid, wrong start time) is refused and the process is not touched")
    func reusedIdentity() async throws {
        let child = try Child(["/bin/sleep", "600"])
        defer { child.stop() }
        var alerts = Alerts()
        let responder = try responder("kill", mode: .on, alerts: alerts)
        let stale = ProcessKey(pid: child.pid, startTime: child.startTime - ProcFS.clockTickNanoseconds * 100)
        let record = try single(await responder.respond(to: .finding(alerts.finding(process: stale))))
        #expect(record.outcome == .refused)
        #expect(record.detail.contains("belongs to a process started at \(child.startTime)"), "\(record.detail)")
        try await Task.sleep(for: .milliseconds(100))
        #expect(child.isRunning)

        // The actuator itself refuses too, even when asked directly (the check a pidfd makes).
        let action = ResponseAction(kind: .kill, target: ResponseTarget(process: stale), reason: "direct")
        await #expect(throws: ResponseError.self) {
            _ = try await LinuxActuator().perform(action, grace: .zero, scope: .process)
        }
        #expect(child.isRunning)
    }

    @Test("a process that has exited gives a failed record")
    func goneProcess() async throws {
        let child = try Child(["/bin/sleep", "600"])
        child.stop()
        var alerts = Alerts()
        let responder = try responder("kill", mode: .on, alerts: alerts)
        let record = try single(await responder.respond(to: .finding(alerts.finding(process: child.key))))
        #expect(record.outcome == .failed)
        #expect(record.detail.contains("has exited"), "\(record.detail)")
    }

    @Test("enforce_seccomp fails for a process that vigil-exec --supervise did not start, and changes nothing")
    func seccompUnsupervised() async throws {
        let child = try Child(["/bin/sleep", "600"])
        defer { child.stop() }
        var alerts = Alerts()
        let responder = try responder("enforce_seccomp", mode: .on, alerts: alerts)
        let record = try single(await responder.respond(to: .finding(alerts.finding(process: child.key))))
        #expect(record.outcome == .failed)
        #expect(record.detail.contains("applies to workloads started through `vigil-exec --supervise`"))
        #expect(child.isRunning)
    }

    @Test("enforce_seccomp makes the vigil-exec supervisor of the process enforce its profile")
    func seccompSupervised() async throws {
        let directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("vigil-response-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let profileFile = directory.appendingPathComponent("profile.json")
        try SeccompProfile(allowedSyscalls: SyscallTable.allNames(architecture: .native))
            .ociJSON(mode: .log).write(to: profileFile, atomically: true, encoding: .utf8)
        let supervisor = Process()
        supervisor.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("vigil-exec")
        supervisor.arguments = ["--profile-file", profileFile.path, "--supervise", "--", "/bin/sleep", "30"]
        supervisor.standardError = FileHandle.nullDevice
        try supervisor.run()
        defer {
            for pid in (try? ProcFS.allProcesses().filter { $0.parentPID == supervisor.processIdentifier }) ?? [] {
                Glibc.kill(pid.pid, SIGKILL)
            }
            Glibc.kill(supervisor.processIdentifier, SIGKILL)
            supervisor.waitUntilExit()
        }
        var sleeper: ProcessSnapshot?
        for _ in 0..<200 where sleeper == nil {
            sleeper = ProcFS.allProcesses().first {
                $0.parentPID == supervisor.processIdentifier
                    && FileManager.default.fileExists(atPath: "\(SupervisedWorkloads.directory)/\($0.pid)")
            }
            if sleeper == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        let child = try #require(sleeper, "vigil-exec did not start and register its child")
        var alerts = Alerts()
        let responder = try responder("enforce_seccomp", mode: .on, alerts: alerts)
        let key = ProcessKey(pid: child.pid, startTime: child.startTime)
        let record = try single(await responder.respond(to: .finding(alerts.finding(process: key))))
        #expect(record.outcome == .done, "\(record.detail)")
        #expect(record.detail.contains("vigil-exec (pid \(supervisor.processIdentifier)) now enforces"))
        let registration = try String(
            contentsOfFile: "\(SupervisedWorkloads.directory)/\(child.pid)", encoding: .utf8)
        #expect(registration.contains("mode=enforce"))
    }

    @Test("an incident is answered at its root cause's process")
    func incidentRootCause() async throws {
        let root = try Child(["/bin/sleep", "600"])
        let other = try Child(["/bin/sleep", "600"])
        defer {
            root.stop()
            other.stop()
        }
        var alerts = Alerts()
        let responder = PolicyResponder(
            policy: try parsePolicy("rules:\n  - match: { incident: true }\n    action: kill\n"), mode: .on,
            actuator: LinuxActuator(), symbols: alerts.symbols)
        let rootFinding = alerts.finding(process: root.key)
        let otherFinding = alerts.finding(process: other.key)
        let story = incident([otherFinding, rootFinding], rootCause: rootFinding.id)
        let record = try single(await responder.respond(to: .incident(story)))
        #expect(record.outcome == .done, "\(record.detail)")
        #expect(record.action.reason == story.id)
        #expect(root.waitForExit())
        #expect(other.isRunning)
    }

    @Test("scope container kills every process of the target's cgroup with cgroup.kill")
    func containerKill() async throws {
        try requireRoot("creates a cgroup")
        let filesystem = try CgroupFilesystem.locateV2()
        let cgroup = try Cgroup.create("/vigil-response-test-\(getpid())", in: filesystem)
        defer { try? cgroup.remove() }
        let first = try Child(["/bin/sleep", "600"])
        let second = try Child(["/bin/sleep", "600"])
        defer {
            first.stop()
            second.stop()
        }
        try cgroup.add(pid: first.pid)
        try cgroup.add(pid: second.pid)
        var alerts = Alerts()
        let responder = try responder("kill", mode: .on, extra: "    scope: container\n", alerts: alerts)
        let finding = alerts.finding(process: first.key, container: "test-container")
        let record = try single(await responder.respond(to: .finding(finding)))
        #expect(record.outcome == .done, "\(record.detail)")
        #expect(record.detail.contains("cgroup \(cgroup.path)"), "\(record.detail)")
        #expect(first.waitForExit())
        #expect(second.waitForExit())
        #expect(first.terminationSignal == SIGKILL)
        #expect(second.terminationSignal == SIGKILL)
    }

    @Test("scope container pause freezes the cgroup; undo thaws it")
    func containerPause() async throws {
        try requireRoot("creates a cgroup")
        let filesystem = try CgroupFilesystem.locateV2()
        let cgroup = try Cgroup.create("/vigil-response-test-pause-\(getpid())", in: filesystem)
        let child = try Child(["/bin/sleep", "600"])
        defer {
            try? cgroup.thaw()
            child.stop()
            try? cgroup.remove()
        }
        try cgroup.add(pid: child.pid)
        var alerts = Alerts()
        let responder = try responder("pause", mode: .on, extra: "    scope: container\n", alerts: alerts)
        let paused = try single(
            await responder.respond(to: .finding(alerts.finding(process: child.key, container: "test-container"))))
        #expect(paused.outcome == .done, "\(paused.detail)")
        #expect(try cgroup.isFrozen)
        let resumed = await responder.undo(paused)
        #expect(resumed.outcome == .done, "\(resumed.detail)")
        #expect(resumed.detail.hasPrefix("thawed cgroup"), "\(resumed.detail)")
        #expect(try !cgroup.isFrozen)
        #expect(child.isRunning)
    }
}

/// Polls `condition` for up to two seconds.
func eventually(_ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(2)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

@Suite("Policy responder: network quarantine")
struct QuarantineResponderTests {
    @Test("quarantine moves the process into the quarantine cgroup; undo moves it back where it was")
    func quarantineAndRelease() async throws {
        try requireRoot("creates a cgroup and attaches BPF programs")
        let filesystem = try CgroupFilesystem.locateV2()
        let quarantine = try NetworkQuarantine(filesystem: filesystem, path: "/vigil-response-quarantine-\(getpid())")
        let child = try Child(["/bin/sleep", "600"])
        defer {
            child.stop()
            quarantine.close()
            try? quarantine.cgroup.remove()
        }
        let origin = try ProcFS.snapshot(pid: child.pid).cgroupPath
        var alerts = Alerts()
        let trail = MemoryResponseAuditTrail()
        let responder = PolicyResponder(
            policy: try parsePolicy("rules:\n  - match: {}\n    action: quarantine\n"), mode: .on,
            actuator: LinuxActuator(cgroups: filesystem, quarantine: quarantine), auditTrail: trail,
            symbols: alerts.symbols)
        let finding = alerts.finding(process: child.key)
        let confined = try single(await responder.respond(to: .finding(finding)))
        #expect(confined.outcome == .done, "\(confined.detail)")
        #expect(try quarantine.confinedProcesses() == [child.pid])
        #expect(try ProcFS.snapshot(pid: child.pid).cgroupPath == quarantine.cgroup.path)
        // The record says where the process came from, for a release by another process.
        #expect(LinuxActuator.quarantineOrigin(fromDetail: confined.detail) == origin)

        let released = await responder.undo(confined)
        #expect(released.action.kind == .release)
        #expect(released.outcome == .done, "\(released.detail)")
        #expect(try quarantine.confinedProcesses().isEmpty)
        #expect(try ProcFS.snapshot(pid: child.pid).cgroupPath == origin)
        #expect(try await trail.records(forAlert: finding.id).map(\.action.kind) == [.quarantine, .release])
        #expect(child.isRunning)
    }

    @Test("without a quarantine, quarantine fails and says why")
    func noQuarantine() async throws {
        let child = try Child(["/bin/sleep", "600"])
        defer { child.stop() }
        var alerts = Alerts()
        let responder = PolicyResponder(
            policy: try parsePolicy("rules:\n  - match: {}\n    action: quarantine\n"), mode: .on,
            actuator: LinuxActuator(), symbols: alerts.symbols)
        let record = try single(await responder.respond(to: .finding(alerts.finding(process: child.key))))
        #expect(record.outcome == .failed)
        #expect(record.detail.contains("no network quarantine"), "\(record.detail)")
    }
}

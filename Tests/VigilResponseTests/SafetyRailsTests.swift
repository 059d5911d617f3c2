import Testing
import VigilCore
import VigilLinux
import VigilResponse

#if canImport(Glibc)
    import Glibc
#endif

/// Every rail is exercised through a responder in dry-run with the real Linux actuator: if a rail failed, the
/// record would say "would kill" and nothing would be harmed.
@Suite("Safety rails")
struct SafetyRailsTests {
    static let killAll = "mode: dry-run\nrules:\n  - match: {}\n    action: kill\n"

    /// The record a dry-run "kill everything" responder makes for `finding`.
    private func respond(
        _ finding: Finding, _ alerts: Alerts, policy yaml: String = killAll
    ) async throws -> ResponseRecord {
        let responder = PolicyResponder(
            policy: try parsePolicy(yaml), actuator: LinuxActuator(), symbols: alerts.symbols)
        return try single(await responder.respond(to: .finding(finding)))
    }

    /// The live identity of `pid`, as a sensor would report it.
    private func liveKey(_ pid: Int32) throws -> ProcessKey {
        ProcessKey(pid: pid, startTime: try ProcFS.snapshot(pid: pid).startTime)
    }

    @Test("pid 1 is never acted on")
    func initProcess() async throws {
        var alerts = Alerts()
        let record = try await respond(alerts.finding(process: try liveKey(1)), alerts)
        #expect(record.outcome == .refused)
        #expect(record.detail.contains("'init process'"), "\(record.detail)")
    }

    @Test("pid 0 (an alert without a process) is refused")
    func noProcess() async throws {
        var alerts = Alerts()
        let record = try await respond(alerts.cloudFinding(), alerts)
        #expect(record.outcome == .refused)
        #expect(record.detail.contains("'no process'"), "\(record.detail)")
    }

    @Test("kthreadd (pid 2) is a kernel thread and is never acted on")
    func kernelThread() async throws {
        #expect(try ProcFS.snapshot(pid: 2).isKernelThread)
        var alerts = Alerts()
        let record = try await respond(alerts.finding(process: try liveKey(2), executable: ""), alerts)
        #expect(record.outcome == .refused)
        #expect(record.detail.contains("'kernel thread'"), "\(record.detail)")
    }

    @Test("the agent itself and its ancestors are never acted on")
    func agentAndAncestors() async throws {
        var alerts = Alerts()
        let itself = try await respond(alerts.finding(process: try liveKey(getpid())), alerts)
        #expect(itself.outcome == .refused)
        #expect(itself.detail.contains("'agent'"), "\(itself.detail)")
        let parent = try await respond(alerts.finding(process: try liveKey(getppid())), alerts)
        #expect(parent.outcome == .refused)
        #expect(parent.detail.contains("'agent ancestor'"), "\(parent.detail)")
    }

    @Test("allowlisted executables, exact or by pattern, are never acted on; others are")
    func allowedExecutable() async throws {
        let child = try Child(["/bin/sleep", "30"])
        defer { child.stop() }
        let executable = try ProcFS.snapshot(pid: child.pid).executable
        var alerts = Alerts()
        for allowed in [executable, "*/sleep"] {
            let yaml = Self.killAll + "allow: { executables: [\"\(allowed)\"] }\n"
            let record = try await respond(alerts.finding(process: child.key), alerts, policy: yaml)
            #expect(record.outcome == .refused)
            #expect(record.detail.contains("'allowed executable'"), "\(record.detail)")
        }
        let yaml = Self.killAll + "allow: { executables: [/usr/sbin/sshd] }\n"
        let record = try await respond(alerts.finding(process: child.key), alerts, policy: yaml)
        #expect(record.outcome == .dryRun, "\(record.detail)")
        #expect(child.isRunning)
    }

    @Test("allowlisted workloads are never acted on")
    func allowedWorkload() async throws {
        let child = try Child(["/bin/sleep", "30"])
        defer { child.stop() }
        var alerts = Alerts()
        let system = alerts.workload(namespace: "kube-system", deployment: "coredns")
        let yaml = Self.killAll + "allow: { workloads: [\"kube-system/*\"] }\n"
        let record = try await respond(alerts.finding(process: child.key, workload: system), alerts, policy: yaml)
        #expect(record.outcome == .refused)
        #expect(record.detail.contains("'allowed workload'"), "\(record.detail)")
        #expect(record.detail.contains("kube-system/Deployment/coredns/coredns"), "\(record.detail)")
    }

    @Test("a process acts at most per_target_per_minute times on one target")
    func perTargetLimit() async throws {
        let child = try Child(["/bin/sleep", "30"])
        defer { child.stop() }
        var alerts = Alerts()
        let responder = PolicyResponder(
            policy: try parsePolicy(Self.killAll + "limits: { per_target_per_minute: 2 }\n"), actuator: LinuxActuator(),
            symbols: alerts.symbols)
        var outcomes: [ResponseOutcome] = []
        var last = ""
        for _ in 0..<3 {
            let record = try single(await responder.respond(to: .finding(alerts.finding(process: child.key))))
            outcomes.append(record.outcome)
            last = record.detail
        }
        #expect(outcomes == [.dryRun, .dryRun, .refused])
        #expect(last.contains("'target rate limit'"), "\(last)")
    }

    @Test("all targets together act at most per_minute times; refusals are not counted")
    func globalLimit() async throws {
        let children = try (0..<3).map { _ in try Child(["/bin/sleep", "30"]) }
        defer { for child in children { child.stop() } }
        var alerts = Alerts()
        let responder = PolicyResponder(
            policy: try parsePolicy(Self.killAll + "limits: { per_minute: 2 }\n"), actuator: LinuxActuator(),
            symbols: alerts.symbols)
        // A refusal by another rail first: it must not use up the budget.
        _ = try single(await responder.respond(to: .finding(alerts.finding(process: try liveKey(1)))))
        var outcomes: [ResponseOutcome] = []
        var last = ""
        for child in children {
            let record = try single(await responder.respond(to: .finding(alerts.finding(process: child.key))))
            outcomes.append(record.outcome)
            last = record.detail
        }
        #expect(outcomes == [.dryRun, .dryRun, .refused])
        #expect(last.contains("'rate limit'"), "\(last)")
    }

    @Test("a container-wide action on a process outside any container is refused")
    func containerScope() async throws {
        let child = try Child(["/bin/sleep", "30"])
        defer { child.stop() }
        var alerts = Alerts()
        let yaml = "mode: dry-run\nrules:\n  - match: {}\n    action: kill\n    scope: container\n"
        let record = try await respond(alerts.finding(process: child.key), alerts, policy: yaml)
        #expect(record.outcome == .refused)
        #expect(record.detail.contains("'container scope'"), "\(record.detail)")
    }

    @Test("an event without a start time cannot name a process safely and is refused")
    func noStartTime() async throws {
        let child = try Child(["/bin/sleep", "30"])
        defer { child.stop() }
        var alerts = Alerts()
        let record = try await respond(alerts.finding(process: ProcessKey(pid: child.pid, startTime: 0)), alerts)
        #expect(record.outcome == .refused)
        #expect(record.detail.contains("no start time"), "\(record.detail)")
        #expect(child.isRunning)
    }
}

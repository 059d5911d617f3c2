import Foundation
import Testing

@testable import VigilLinux

#if canImport(Glibc)
    import Glibc
#endif

/// Acting on processes the tests start themselves: pidfd handles, lineage, and freezing and killing cgroups.
@Suite("process control")
struct ProcessControlTests {
    /// A fresh cgroup for one test, under its own `/vigil-test-<UUID>` parent.
    static func makeTestCgroup() throws -> Cgroup {
        let filesystem = try CgroupFilesystem.locateV2()
        return try Cgroup.create("/vigil-test-\(UUID().uuidString)/work", in: filesystem)
    }

    /// Removes a test cgroup and its parent, once the processes in it are gone.
    static func removeTestCgroup(_ cgroup: Cgroup) {
        try? cgroup.thaw()
        CgroupTests.removeEventually(cgroup)
        let parentPath = String(cgroup.path.prefix(upTo: cgroup.path.lastIndex(of: "/")!))
        if let parent = try? Cgroup(existing: parentPath, in: cgroup.filesystem) {
            CgroupTests.removeEventually(parent)
        }
        #expect(access(cgroup.filesystem.absolutePath(parentPath), F_OK) != 0, "left \(parentPath) behind")
    }

    /// User plus system CPU time of a process, in clock ticks.
    static func cpuTicks(_ pid: Int32) throws -> UInt64 {
        let fields = try #require(ProcessStatFields(try SystemFiles.read("/proc/\(pid)/stat")))
        return fields.userTicks + fields.systemTicks
    }

    @Test("a handle opened by pid alone carries the start time /proc reports, and SIGKILL through it kills")
    func signalKills() throws {
        let sleep = try ChildProcess(try which("sleep"), ["sleep", "30"])
        defer { sleep.stop() }
        let handle = try ProcessHandle(pid: sleep.pid)
        #expect(handle.pid == sleep.pid)
        #expect(handle.startTime == (try ProcFS.snapshot(pid: sleep.pid).startTime))
        #expect(!handle.hasExited)

        try handle.signal(SIGKILL)
        #expect(handle.waitForExit(timeout: .seconds(5)))
        #expect(handle.hasExited)
        #expect(!handle.isStopped)
        sleep.stop()
        let gone = #expect(throws: LinuxError.self) { try handle.signal(SIGKILL) }
        #expect(gone?.code == .notFound)
    }

    @Test("a handle for the right pid but another start time is refused and signals nothing")
    func wrongStartTimeIsRefused() throws {
        let sleep = try ChildProcess(try which("sleep"), ["sleep", "30"])
        defer { sleep.stop() }
        let startTime = try ProcFS.snapshot(pid: sleep.pid).startTime
        let replaced = #expect(throws: LinuxError.self) {
            try ProcessHandle(pid: sleep.pid, startTime: startTime + ProcFS.clockTickNanoseconds)
        }
        #expect(replaced?.code == .processReplaced)

        // The process was not touched: the handle with the right start time finds it running.
        let handle = try ProcessHandle(pid: sleep.pid, startTime: startTime)
        #expect(!handle.waitForExit(timeout: .milliseconds(100)))
        #expect(kill(sleep.pid, 0) == 0)

        let missing = #expect(throws: LinuxError.self) { try ProcessHandle(pid: Int32.max) }
        #expect(missing?.code == .notFound)
        let missingByIdentity = #expect(throws: LinuxError.self) {
            try ProcessHandle(pid: Int32.max, startTime: startTime)
        }
        #expect(missingByIdentity?.code == .notFound)
    }

    @Test("waitForExit times out while the process runs and returns true once it exits")
    func waitForExit() throws {
        let sleep = try ChildProcess(try which("sleep"), ["sleep", "0.5"])
        defer { sleep.stop() }
        let handle = try ProcessHandle(pid: sleep.pid)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(!handle.waitForExit(timeout: .milliseconds(100)))
        #expect(clock.now - start >= .milliseconds(100))
        #expect(handle.waitForExit(timeout: .seconds(10)))
        #expect(handle.hasExited)
    }

    @Test("SIGSTOP through a handle stops the process, SIGCONT resumes it")
    func stopAndContinue() throws {
        let sleep = try ChildProcess(try which("sleep"), ["sleep", "30"])
        defer { sleep.stop() }
        let handle = try ProcessHandle(pid: sleep.pid)
        #expect(!handle.isStopped)
        try handle.signal(SIGSTOP)
        #expect(waitUntil { handle.isStopped })
        try handle.signal(SIGCONT)
        #expect(waitUntil { !handle.isStopped })
        #expect(!handle.hasExited)
    }

    @Test("the lineage of a process runs through its parents up to pid 1")
    func lineage() throws {
        let own = ProcessLineage.ancestors(of: getpid())
        #expect(own.first == getppid())
        #expect(own.last == 1)
        #expect(!own.contains(getpid()))
        let sleep = try ChildProcess(try which("sleep"), ["sleep", "30"])
        defer { sleep.stop() }
        #expect(ProcessLineage.ancestors(of: sleep.pid) == [getpid()] + own)
        #expect(ProcessLineage.ancestors(of: 1) == [])
        #expect(ProcessLineage.ancestors(of: Int32.max) == [])
    }

    @Test("freezing a cgroup stops a busy process from running; thawing lets it run again")
    func freezeAndThaw() throws {
        try requireRoot("creating and freezing cgroups")
        let cgroup = try Self.makeTestCgroup()
        let busy = try ChildProcess("/bin/sh", ["sh", "-c", "while :; do :; done"])
        defer {
            busy.stop()
            Self.removeTestCgroup(cgroup)
        }
        try cgroup.add(pid: busy.pid)
        #expect(try Cgroup.of(pid: busy.pid, in: cgroup.filesystem) == cgroup)
        #expect(try !cgroup.isFrozen)

        try cgroup.freeze()
        #expect(try cgroup.isFrozen)
        let events = try String(contentsOfFile: cgroup.absolutePath + "/cgroup.events", encoding: .utf8)
        #expect(events.split(separator: "\n").contains("frozen 1"))
        let frozenTicks = try Self.cpuTicks(busy.pid)
        usleep(300_000)
        #expect(try Self.cpuTicks(busy.pid) == frozenTicks, "a frozen process accumulated CPU time")

        try cgroup.thaw()
        #expect(try !cgroup.isFrozen)
        #expect(waitUntil { (try? Self.cpuTicks(busy.pid)) ?? 0 > frozenTicks }, "a thawed process did not run")

        // The root cgroup cannot be frozen, and says so.
        let root = try Cgroup(existing: "/", in: cgroup.filesystem)
        let refused = #expect(throws: LinuxError.self) { try root.freeze() }
        #expect(refused?.code == .unsupported)
        #expect(try !root.isFrozen)
    }

    @Test("killAll kills every process of a cgroup, children included")
    func killAll() throws {
        try requireRoot("creating cgroups and killing through cgroup.kill")
        let cgroup = try Self.makeTestCgroup()
        let sleep = try ChildProcess(try which("sleep"), ["sleep", "30"])
        // The shell forks its children only once it is in the cgroup, so they are born there.
        let shell = try ChildProcess(
            "/bin/sh",
            [
                "sh", "-c", "until grep -qx \"0::$1\" /proc/$$/cgroup; do sleep 0.02; done; sleep 30 & sleep 30; wait",
                "sh", cgroup.path,
            ])
        let outside = try ChildProcess(try which("sleep"), ["sleep", "30"])
        defer {
            sleep.stop()
            shell.stop()
            outside.stop()
            Self.removeTestCgroup(cgroup)
        }
        try cgroup.add(pid: sleep.pid)
        try cgroup.add(pid: shell.pid)
        let handles = [try ProcessHandle(pid: sleep.pid), try ProcessHandle(pid: shell.pid)]
        #expect(waitUntil { (try? cgroup.processes().count) ?? 0 >= 4 })

        try cgroup.killAll()
        for handle in handles { #expect(handle.waitForExit(timeout: .seconds(5))) }
        #expect(waitUntil { (try? cgroup.processes()) == [] })
        #expect(kill(outside.pid, 0) == 0, "a process outside the cgroup was killed")
    }
}

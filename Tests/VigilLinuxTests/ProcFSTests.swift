import Foundation
import Testing

@testable import VigilLinux

#if canImport(Glibc)
    import Glibc
#endif

/// Snapshots of real processes (this one and children it starts) and of fake /proc trees.
@Suite("procfs")
struct ProcFSTests {
    /// Starts `executable` and waits until /proc shows it has exec'd: before that it is a copy of this process,
    /// and for a moment during exec its new executable shows but its arguments are not yet set.
    static func startAndAwaitExec(
        _ executable: String, _ arguments: [String], workingDirectory: String? = nil
    ) throws -> ChildProcess {
        let child = try ChildProcess(executable, arguments, workingDirectory: workingDirectory)
        let execed = waitUntil {
            guard let snapshot = try? ProcFS.snapshot(pid: child.pid) else { return false }
            return snapshot.executable == executable && !snapshot.arguments.isEmpty
        }
        if !execed { child.stop() }
        try #require(execed, "child \(child.pid) never showed \(executable) in /proc")
        return child
    }

    /// Fields 3 onwards of /proc/PID/stat, split the simple way, for checking the parser against.
    static func statFields(_ pid: Int32) throws -> [Substring] {
        let text = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let afterCommand = try #require(text.lastIndex(of: ")"))
        return text[text.index(after: afterCommand)...].split(separator: " ")
    }

    @Test("a snapshot of this process matches what libc says")
    func ownProcess() throws {
        let snapshot = try ProcFS.snapshot(pid: getpid())
        #expect(snapshot.pid == getpid())
        #expect(snapshot.parentPID == getppid())
        #expect(snapshot.uid == getuid())
        #expect(snapshot.gid == getgid())
        #expect(snapshot.effectiveUID == geteuid())
        #expect(snapshot.executable == (try realPath(CommandLine.arguments[0])))
        #expect(!snapshot.executableDeleted)
        #expect(snapshot.arguments == CommandLine.arguments)
        #expect(snapshot.workingDirectory == FileManager.default.currentDirectoryPath)
        #expect(snapshot.cgroupPath.hasPrefix("/"))
        #expect(!snapshot.isKernelThread)
        #expect(snapshot.startTime > 0 && snapshot.startTime <= clockNanoseconds(CLOCK_BOOTTIME))
    }

    @Test("a snapshot of a child sleep shows its parent, arguments, executable and working directory")
    func childSleep() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let sleep = try which("sleep")
        let child = try Self.startAndAwaitExec(sleep, ["sleep", "30", "0"], workingDirectory: directory)
        defer { child.stop() }

        let snapshot = try ProcFS.snapshot(pid: child.pid)
        #expect(snapshot.pid == child.pid)
        #expect(snapshot.parentPID == getpid())
        #expect(snapshot.command == "sleep")
        #expect(snapshot.executable == sleep)
        #expect(snapshot.arguments == ["sleep", "30", "0"])
        #expect(snapshot.workingDirectory == directory)
        #expect(snapshot.uid == getuid() && snapshot.effectiveUID == geteuid() && snapshot.gid == getgid())
        #expect(!snapshot.isKernelThread)
        #expect(ProcFS.processIDs().contains(child.pid))
        #expect(ProcFS.allProcesses().first { $0.pid == child.pid } == snapshot)
    }

    @Test("a child's start time is /proc's tick count in ns and lies between the rounded times around its fork")
    func startTimeMatchesKernelRounding() throws {
        let sleep = try which("sleep")
        let before = clockNanoseconds(CLOCK_BOOTTIME)
        let child = try ChildProcess(sleep, ["sleep", "30"])
        let after = clockNanoseconds(CLOCK_BOOTTIME)
        defer { child.stop() }

        let snapshot = try ProcFS.snapshot(pid: child.pid)
        let ticks = try #require(UInt64(try Self.statFields(child.pid)[19]))
        #expect(snapshot.startTime == ticks * ProcFS.clockTickNanoseconds)
        // The kernel's start_boottime lies in [before, after]; /proc truncates it to a tick, as roundedStartTime does.
        #expect(ProcFS.roundedStartTime(before) <= snapshot.startTime)
        #expect(snapshot.startTime <= ProcFS.roundedStartTime(after))
        #expect(ProcFS.roundedStartTime(snapshot.startTime) == snapshot.startTime)
    }

    @Test("roundedStartTime rounds down to a whole clock tick")
    func roundedStartTimeRoundsDown() {
        let tick = ProcFS.clockTickNanoseconds
        #expect(tick == 1_000_000_000 / UInt64(sysconf(Int32(_SC_CLK_TCK))))
        #expect(ProcFS.roundedStartTime(0) == 0)
        #expect(ProcFS.roundedStartTime(tick - 1) == 0)
        #expect(ProcFS.roundedStartTime(tick) == tick)
        #expect(ProcFS.roundedStartTime(5 * tick + 7) == 5 * tick)
        #expect(ProcFS.roundedStartTime(6 * tick - 1) == 5 * tick)
    }

    @Test("the boot-time offset turns CLOCK_BOOTTIME into Unix time")
    func bootTimeOffset() throws {
        let offset = ProcFS.bootTimeOffsetNanoseconds()
        let boot = Int64(clockNanoseconds(CLOCK_BOOTTIME))
        let real = Int64(clockNanoseconds(CLOCK_REALTIME))
        #expect(abs(boot + offset - real) < 50_000_000)
        // This process started before now, and (on any machine running these tests) after 2020.
        let started = Int64(try ProcFS.snapshot(pid: getpid()).startTime) + offset
        #expect(started <= real)
        #expect(started > 1_577_836_800 * 1_000_000_000)
    }

    @Test("a command with spaces and parentheses, and a deleted executable, parse")
    func hostileCommandAndDeletedExecutable() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let hostile = directory + "/x) y (z) 1 2"
        try FileManager.default.copyItem(atPath: try which("sleep"), toPath: hostile)
        chmod(hostile, 0o755)
        let child = try Self.startAndAwaitExec(hostile, ["x) y (z) 1 2", "30"])
        defer { child.stop() }

        let snapshot = try ProcFS.snapshot(pid: child.pid)
        #expect(snapshot.command == "x) y (z) 1 2")
        #expect(snapshot.parentPID == getpid())
        #expect(snapshot.arguments == ["x) y (z) 1 2", "30"])
        #expect(snapshot.executable == hostile)
        #expect(!snapshot.executableDeleted)

        unlink(hostile)
        let deleted = try ProcFS.snapshot(pid: child.pid)
        #expect(deleted.executable == hostile)
        #expect(deleted.executableDeleted)
        #expect(deleted.startTime == snapshot.startTime)
    }

    @Test("kthreadd is a kernel thread without an executable")
    func kernelThread() throws {
        // pid 2 is kthreadd when this runs in the initial pid namespace; elsewhere there is nothing to check.
        guard let snapshot = try? ProcFS.snapshot(pid: 2), snapshot.command == "kthreadd" else { return }
        #expect(snapshot.isKernelThread)
        #expect(snapshot.executable.isEmpty)
        #expect(snapshot.arguments.isEmpty)
    }

    @Test("stat parsing splits at the last parenthesis and rejects garbage")
    func statParsing() {
        let tail = " S 1 2 3 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0"
        let parsed = ProcFiles.parseStat(Array("77 (a) b (c)\(tail)".utf8))
        #expect(parsed == ProcFiles.Stat(command: "a) b (c", parentPID: 1, flags: 4_194_560, startTicks: 4242))
        #expect(ProcFiles.parseStat(Array("77 (()\(tail)".utf8))?.command == "(")
        #expect(ProcFiles.parseStat(Array("77 ()\(tail)".utf8))?.command == "")
        #expect(ProcFiles.parseStat(Array("garbage".utf8)) == nil)
        #expect(ProcFiles.parseStat(Array("77 (sleep) S 1 2 3".utf8)) == nil)
        #expect(ProcFiles.parseStat(Array("77 (sleep) S x 2 3 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0".utf8)) == nil)
        #expect(ProcFiles.parseStat(Array("77 )sleep( S 1 2 3 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0".utf8)) == nil)
    }

    @Test("cmdline keeps empty arguments and drops only the final NUL")
    func commandLineParsing() {
        #expect(ProcFiles.parseCommandLine([]) == [])
        #expect(ProcFiles.parseCommandLine(Array("sleep\u{0}30\u{0}".utf8)) == ["sleep", "30"])
        #expect(ProcFiles.parseCommandLine(Array("sleep\u{0}\u{0}1\u{0}".utf8)) == ["sleep", "", "1"])
        #expect(ProcFiles.parseCommandLine(Array("nginx: worker process".utf8)) == ["nginx: worker process"])
    }

    @Test("the cgroup v2 line is found among v1 lines, and is empty when absent")
    func cgroupParsing() {
        #expect(
            ProcFiles.parseCgroupV2("4:memory:/x\n1:cpu:/\n0::/system.slice/a:b.service\n")
                == "/system.slice/a:b.service")
        #expect(ProcFiles.parseCgroupV2("4:memory:/x\n1:cpu:/\n") == "")
        #expect(ProcFiles.parseCgroupV2("") == "")
    }

    @Test("mountinfo lines with optional fields and escaped spaces parse")
    func mountInfoParsing() throws {
        let text = """
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 master:2 - cgroup2 cgroup2 rw
            50 27 0:40 /sub /mnt/with\\040space rw - ext4 /dev/vdb rw
            broken line
            """
        #expect(
            ProcFS.parseMountInfo(text) == [
                Mount(root: "/", mountPoint: "/sys/fs/cgroup/unified", filesystemType: "cgroup2", source: "cgroup2"),
                Mount(root: "/sub", mountPoint: "/mnt/with space", filesystemType: "ext4", source: "/dev/vdb"),
            ])
        #expect(try ProcFS.mounts().contains { $0.mountPoint == "/proc" && $0.filesystemType == "proc" })
    }

    // MARK: Fake /proc trees

    /// Writes one fake process directory under `root`.
    static func writeFakeProcess(
        root: String, pid: Int32, stat: String?,
        status: String? = "Uid:\t1000\t1001\t1000\t1000\nGid:\t100\t100\t100\t100\n",
        cmdline: String? = "server\u{0}--port\u{0}8080\u{0}", cgroup: String? = "1:cpu:/\n0::/kubepods/pod1/abc\n",
        exe: String? = nil, cwd: String? = nil
    ) throws {
        let directory = "\(root)/\(pid)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let stat { try writeFile(directory + "/stat", stat) }
        if let status { try writeFile(directory + "/status", status) }
        if let cmdline { try writeFile(directory + "/cmdline", cmdline) }
        if let cgroup { try writeFile(directory + "/cgroup", cgroup) }
        if let exe { symlink(exe, directory + "/exe") }
        if let cwd { symlink(cwd, directory + "/cwd") }
    }

    /// A stat line for a fake process.
    static func fakeStat(pid: Int32, command: String, parent: Int32, flags: UInt64 = 4_194_560, ticks: UInt64) -> String
    {
        "\(pid) (\(command)) S \(parent) \(pid) \(pid) 0 -1 \(flags) 10 0 0 0 1 2 0 0 20 0 1 0 \(ticks) 1000 50\n"
    }

    @Test("a fake process parses field by field, with its deleted executable")
    func fakeProcess() throws {
        let root = try makeTemporaryDirectory()
        defer { removeTree(root) }
        try Self.writeFakeProcess(
            root: root, pid: 4321, stat: Self.fakeStat(pid: 4321, command: "my (srv)", parent: 17, ticks: 12_345),
            exe: "/opt/app/server (deleted)", cwd: "/srv/data")

        let snapshot = try ProcFS.snapshot(pid: 4321, root: root)
        #expect(
            snapshot
                == ProcessSnapshot(
                    pid: 4321, parentPID: 17, startTime: 12_345 * ProcFS.clockTickNanoseconds, uid: 1000, gid: 100,
                    effectiveUID: 1001, command: "my (srv)", executable: "/opt/app/server", executableDeleted: true,
                    arguments: ["server", "--port", "8080"], workingDirectory: "/srv/data",
                    cgroupPath: "/kubepods/pod1/abc", isKernelThread: false))
    }

    @Test("a fake kernel thread is recognised by its flags, or by having no executable under kthreadd")
    func fakeKernelThreads() throws {
        let root = try makeTemporaryDirectory()
        defer { removeTree(root) }
        try Self.writeFakeProcess(
            root: root, pid: 30,
            stat: Self.fakeStat(pid: 30, command: "kworker/0:1", parent: 2, flags: 0x0420_8040, ticks: 5),
            cmdline: "", cgroup: nil)
        try Self.writeFakeProcess(
            root: root, pid: 31, stat: Self.fakeStat(pid: 31, command: "kworker/1:0", parent: 2, flags: 0, ticks: 5),
            cmdline: "")
        try Self.writeFakeProcess(
            root: root, pid: 32, stat: Self.fakeStat(pid: 32, command: "bash", parent: 1, flags: 0, ticks: 5),
            exe: "/usr/bin/bash")

        let byFlags = try ProcFS.snapshot(pid: 30, root: root)
        #expect(byFlags.isKernelThread)
        #expect(byFlags.executable == "" && byFlags.arguments == [] && byFlags.cgroupPath == "")
        #expect(try ProcFS.snapshot(pid: 31, root: root).isKernelThread)
        #expect(try !ProcFS.snapshot(pid: 32, root: root).isKernelThread)
    }

    @Test("missing or malformed files throw notFound or unreadable")
    func fakeBrokenProcesses() throws {
        let root = try makeTemporaryDirectory()
        defer { removeTree(root) }
        let stat = Self.fakeStat(pid: 0, command: "x", parent: 1, ticks: 1)
        try Self.writeFakeProcess(root: root, pid: 41, stat: stat, status: nil)
        try Self.writeFakeProcess(root: root, pid: 42, stat: "garbage")
        try Self.writeFakeProcess(root: root, pid: 43, stat: stat, status: "Name:\tx\n")
        try Self.writeFakeProcess(root: root, pid: 44, stat: stat, cmdline: nil)
        try Self.writeFakeProcess(root: root, pid: 45, stat: nil)

        func code(_ pid: Int32) -> LinuxError.Code? {
            do {
                _ = try ProcFS.snapshot(pid: pid, root: root)
                return nil
            } catch {
                return (error as? LinuxError)?.code
            }
        }
        #expect(code(40) == .notFound)
        #expect(code(41) == .notFound)
        #expect(code(42) == .unreadable)
        #expect(code(43) == .unreadable)
        #expect(code(44) == .notFound)
        #expect(code(45) == .notFound)
    }

    @Test("allProcesses lists only readable all-digit entries, in pid order")
    func fakeAllProcesses() throws {
        let root = try makeTemporaryDirectory()
        defer { removeTree(root) }
        try Self.writeFakeProcess(
            root: root, pid: 200, stat: Self.fakeStat(pid: 200, command: "b", parent: 1, ticks: 9))
        try Self.writeFakeProcess(root: root, pid: 7, stat: Self.fakeStat(pid: 7, command: "a", parent: 1, ticks: 3))
        try Self.writeFakeProcess(root: root, pid: 8, stat: "garbage")
        try FileManager.default.createDirectory(atPath: root + "/sys", withIntermediateDirectories: true)
        try writeFile(root + "/uptime", "1.0 1.0\n")
        symlink("7", root + "/self")

        #expect(ProcFS.processIDs(root: root) == [7, 8, 200])
        #expect(ProcFS.allProcesses(root: root).map(\.command) == ["a", "b"])
        #expect(ProcFS.allProcesses(root: root + "/missing").isEmpty)
    }
}

import Foundation
import Testing
import VigilCore

@testable import VigilLinux

#if canImport(Glibc)
    import Glibc
#endif

/// The cgroup v2 hierarchy: finding its mount, mapping ids to paths, creating cgroups and moving processes.
@Suite("cgroups")
struct CgroupTests {
    /// 64 random lowercase hex digits, shaped like a container id.
    static func randomContainerID() -> String {
        (0..<64).map { _ in String(Int.random(in: 0..<16), radix: 16) }.joined()
    }

    /// Removes a cgroup, retrying while the kernel still counts a process that just died.
    static func removeEventually(_ cgroup: Cgroup) {
        _ = waitUntil {
            do {
                try cgroup.remove()
                return true
            } catch let error as LinuxError {
                return error.code == .notFound
            } catch {
                return false
            }
        }
    }

    @Test("the cgroup2 mount is found in mountinfo text, preferring the whole hierarchy")
    func locateFromMountInfo() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let hybrid = """
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw

            """
        let pure = """
            90 80 0:50 /kubepods /run/bound rw - cgroup2 cgroup2 rw
            31 23 0:28 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate

            """
        let none = "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
        try writeFile(directory + "/hybrid", hybrid)
        try writeFile(directory + "/pure", pure)
        try writeFile(directory + "/none", none)

        #expect(try CgroupFilesystem.locateV2(mountInfo: directory + "/hybrid").mountPoint == "/sys/fs/cgroup/unified")
        #expect(try CgroupFilesystem.locateV2(mountInfo: directory + "/pure").mountPoint == "/sys/fs/cgroup")
        let error = #expect(throws: LinuxError.self) { try CgroupFilesystem.locateV2(mountInfo: directory + "/none") }
        #expect(error?.code == .unsupported)
        let missing = #expect(throws: LinuxError.self) {
            try CgroupFilesystem.locateV2(mountInfo: directory + "/missing")
        }
        #expect(missing?.code == .notFound)
    }

    @Test("on this machine the cgroup2 mount has the root cgroup with id 1")
    func locateOnThisMachine() throws {
        let filesystem = try CgroupFilesystem.locateV2()
        #expect(
            try ProcFS.mounts().contains { $0.mountPoint == filesystem.mountPoint && $0.filesystemType == "cgroup2" })
        #expect(access(filesystem.mountPoint + "/cgroup.procs", F_OK) == 0)
        let resolver = CgroupResolver(filesystem: filesystem)
        #expect(try resolver.id(forPath: "/") == 1)
        #expect(resolver.path(forID: 1) == "/")
        // This process's own cgroup resolves both ways.
        let own = try ProcFS.snapshot(pid: getpid()).cgroupPath
        #expect(resolver.path(forID: try resolver.id(forPath: own)) == own)
    }

    @Test("nested cgroups resolve both ways, hold a moved process and are removed once empty")
    func createResolveAddRemove() throws {
        try requireRoot("creating cgroups and moving processes")
        let filesystem = try CgroupFilesystem.locateV2()
        let containerID = Self.randomContainerID()
        let parentPath = "/vigil-test-\(UInt32.random(in: 0...UInt32.max))"
        let childPath = "\(parentPath)/docker-\(containerID).scope"

        let child = try Cgroup.create(childPath, in: filesystem)
        let parent = try Cgroup(existing: parentPath, in: filesystem)
        defer {
            Self.removeEventually(child)
            Self.removeEventually(parent)
            #expect(access(parent.absolutePath, F_OK) != 0, "the test cgroup \(parent.absolutePath) was left behind")
        }
        #expect(child.path == childPath)
        #expect(access(child.absolutePath + "/cgroup.procs", F_OK) == 0)

        let resolver = CgroupResolver(filesystem: filesystem)
        #expect(try resolver.id(forPath: childPath) == child.id)
        #expect(try resolver.id(forPath: parentPath) == parent.id)
        #expect(resolver.path(forID: child.id) == childPath)
        #expect(resolver.path(forID: parent.id) == parentPath)
        #expect(child.id != parent.id)

        let sleep = try ChildProcess(try which("sleep"), ["sleep", "30"])
        defer { sleep.stop() }
        try child.add(pid: sleep.pid)
        #expect(try child.processes() == [sleep.pid])
        #expect(try parent.processes() == [])
        let procCgroup = try String(contentsOfFile: "/proc/\(sleep.pid)/cgroup", encoding: .utf8)
        #expect(procCgroup.split(separator: "\n").contains("0::\(childPath)"))
        let snapshot = try ProcFS.snapshot(pid: sleep.pid)
        #expect(snapshot.cgroupPath == childPath)
        #expect(
            ContainerIdentity.parse(cgroupPath: snapshot.cgroupPath)
                == ContainerIdentity(runtime: .docker, id: containerID))

        // A cgroup with a process in it cannot be removed; a process that does not exist cannot be added.
        let busy = #expect(throws: LinuxError.self) { try child.remove() }
        #expect(busy?.errno == EBUSY)
        let noProcess = #expect(throws: LinuxError.self) { try child.add(pid: Int32.max) }
        #expect(noProcess?.code == .notFound)

        sleep.stop()
        #expect(waitUntil { (try? child.processes()) == [] })
        try child.remove()
        try parent.remove()
        let gone = #expect(throws: LinuxError.self) { try Cgroup(existing: childPath, in: filesystem) }
        #expect(gone?.code == .notFound)
    }

    @Test("the resolver rescans on a miss at most once per interval, and a rescan forgets removed cgroups")
    func resolverRateLimit() throws {
        let root = try makeTemporaryDirectory()
        defer { removeTree(root) }
        let filesystem = CgroupFilesystem(mountPoint: root)
        let a = try Cgroup.create("/a/b", in: filesystem)
        let slow = CgroupResolver(filesystem: filesystem, rescanInterval: .seconds(3600))

        #expect(slow.path(forID: a.id) == "/a/b")
        #expect(slow.scanCount == 1)
        #expect(slow.path(forID: try slow.id(forPath: "/a")) == "/a")
        #expect(slow.path(forID: try slow.id(forPath: "/")) == "/")
        #expect(slow.scanCount == 1, "cache hits must not rescan")
        let late = try Cgroup.create("/c", in: filesystem)
        #expect(slow.path(forID: late.id) == nil, "a miss within the interval returns nil without rescanning")
        #expect(slow.path(forID: 999_999_999) == nil)
        #expect(slow.scanCount == 1)

        let fast = CgroupResolver(filesystem: filesystem, rescanInterval: .milliseconds(20))
        #expect(fast.path(forID: late.id) == "/c")
        try late.remove()
        usleep(50_000)
        #expect(fast.path(forID: 999_999_999) == nil)
        #expect(fast.scanCount == 2)
        usleep(50_000)
        #expect(fast.path(forID: late.id) == nil, "the rescan replaced the cache, forgetting /c")
    }

    @Test("the resolver's cache holds at most its capacity, yet finds the id it was asked for")
    func resolverCapacity() throws {
        let root = try makeTemporaryDirectory()
        defer { removeTree(root) }
        let filesystem = CgroupFilesystem(mountPoint: root)
        let cgroups = try (0..<6).map { try Cgroup.create("/s\($0)", in: filesystem) }
        let resolver = CgroupResolver(filesystem: filesystem, capacity: 3, rescanInterval: .zero)
        for cgroup in cgroups {
            #expect(resolver.path(forID: cgroup.id) == cgroup.path)
            #expect(resolver.cachedCount <= 3)
        }
    }

    @Test("cgroup paths are normalised, and . and .. are refused")
    func pathNormalisation() throws {
        let root = try makeTemporaryDirectory()
        defer { removeTree(root) }
        let filesystem = CgroupFilesystem(mountPoint: root)
        #expect(try Cgroup.normalized("a//b/") == "/a/b")
        #expect(try Cgroup.normalized("/") == "/")
        #expect(filesystem.absolutePath("/") == root)
        #expect(filesystem.absolutePath("/a/b") == root + "/a/b")
        let escape = #expect(throws: LinuxError.self) { try Cgroup.create("/a/../../etc", in: filesystem) }
        #expect(escape?.code == .unsupported)
        let made = try Cgroup.create("x//y/", in: filesystem)
        #expect(made.path == "/x/y")
        #expect(made.id == (try CgroupResolver(filesystem: filesystem).id(forPath: "/x/y")))
        #expect(try Cgroup.create("/x/y", in: filesystem) == made, "creating an existing cgroup opens it")
        let rootCgroup = try Cgroup(existing: "/", in: filesystem)
        #expect(throws: LinuxError.self) { try rootCgroup.remove() }
        try made.remove()
        #expect(access(root + "/x/y", F_OK) != 0 && access(root + "/x", F_OK) == 0)
    }
}

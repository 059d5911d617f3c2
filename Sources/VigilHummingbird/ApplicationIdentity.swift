import VigilCore
import VigilLinux

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Who the application is, as the other sensors see it: the process key (pid and start time, computed the
/// way the eBPF sensor computes it), the workload and container its cgroup places it in, its executable.
///
/// Application events carry it so that the correlator joins a request with the connections, files and
/// processes the kernel saw that same process make.
public struct ApplicationIdentity: Sendable, Equatable {
    /// The process.
    public var process: ProcessKey
    /// The workload (a container's, or the host service of this executable in this cgroup).
    public var workload: Workload
    /// The container id, or empty on the host.
    public var containerID: String
    /// The executable's path.
    public var executable: String
    /// The process's user id.
    public var uid: UInt32

    /// Creates an identity from its parts.
    public init(process: ProcessKey, workload: Workload, containerID: String, executable: String, uid: UInt32) {
        self.process = process
        self.workload = workload
        self.containerID = containerID
        self.executable = executable
        self.uid = uid
    }

    /// The identity of process `pid`, read from `/proc`.
    public static func of(pid: Int32) throws -> ApplicationIdentity {
        let snapshot = try ProcFS.snapshot(pid: pid)
        let container = ContainerIdentity.parse(cgroupPath: snapshot.cgroupPath)
        return ApplicationIdentity(
            process: ProcessKey(pid: snapshot.pid, startTime: snapshot.startTime),
            workload: container?.workload()
                ?? Workload.hostService(cgroup: snapshot.cgroupPath, executable: snapshot.executable),
            containerID: container?.id ?? "", executable: snapshot.executable, uid: snapshot.effectiveUID)
    }

    /// The identity of this process.
    public static func current() throws -> ApplicationIdentity {
        try of(pid: getpid())
    }
}

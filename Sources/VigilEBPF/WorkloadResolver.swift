import VigilCore
import VigilLinux

/// Maps a record's cgroup id (and, on the host, its executable) to the workload it belongs to.
///
/// cgroup id → cgroup path (``CgroupResolver``) → container identity (docker, containerd/CRI, CRI-O,
/// podman; pod uid and QoS class from kubepods paths). A cgroup that is no container is the host: there a
/// workload is one executable in one cgroup (a systemd service, a session), so profiles stay specific.
/// Used by one thread only (the sensor's reader); answers are cached per cgroup and executable.
struct WorkloadResolver {
    /// Where a record's workload was resolved to.
    struct Resolution {
        var workload: WorkloadID
        /// The container id, or none on the host.
        var container: Symbol
    }

    private struct CgroupInfo {
        var path: String
        var identity: ContainerIdentity?
        var containerWorkload: WorkloadID
        var container: Symbol
    }

    private struct HostKey: Hashable {
        var cgroup: UInt64
        var executable: Symbol
    }

    private let cgroups: CgroupResolver?
    private let symbols: SymbolTable
    private var infos: [UInt64: CgroupInfo] = [:]
    private var hostWorkloads: [HostKey: WorkloadID] = [:]
    private let maximumEntries = 65536

    init(cgroups: CgroupResolver?, symbols: SymbolTable) {
        self.cgroups = cgroups
        self.symbols = symbols
    }

    /// The cgroup path of an id, if known.
    mutating func path(ofCgroup id: UInt64) -> String? {
        info(id)?.path
    }

    /// The workload of a process in cgroup `id` running `executable`.
    mutating func resolve(cgroup id: UInt64, executable: Symbol) -> Resolution {
        guard let info = info(id) else {
            // Not resolvable yet (a cgroup made a moment ago): the host, uncached, so a later record can do better.
            return Resolution(workload: .host, container: .none)
        }
        if info.identity != nil { return Resolution(workload: info.containerWorkload, container: info.container) }
        let key = HostKey(cgroup: id, executable: executable)
        if let workload = hostWorkloads[key] { return Resolution(workload: workload, container: .none) }
        let workload = symbols.intern(
            Workload.hostService(cgroup: info.path, executable: executable.isNone ? "" : symbols.string(executable)))
        if hostWorkloads.count >= maximumEntries { hostWorkloads.removeAll(keepingCapacity: true) }
        hostWorkloads[key] = workload
        return Resolution(workload: workload, container: .none)
    }

    /// The workload syscall usage of a whole cgroup is attributed to: its container, or on the host the
    /// cgroup as a service with no single executable.
    mutating func resolveCgroup(_ id: UInt64) -> Resolution? {
        guard let info = info(id) else { return nil }
        if info.identity != nil { return Resolution(workload: info.containerWorkload, container: info.container) }
        return resolve(cgroup: id, executable: .none)
    }

    /// Forgets a cgroup (it was removed).
    mutating func forget(cgroup id: UInt64) {
        infos[id] = nil
    }

    private mutating func info(_ id: UInt64) -> CgroupInfo? {
        if let info = infos[id] { return info }
        guard let cgroups, let path = cgroups.path(forID: id) else { return nil }
        let identity = ContainerIdentity.parse(cgroupPath: path)
        let info = CgroupInfo(
            path: path, identity: identity,
            containerWorkload: identity.map { symbols.intern($0.workload()) } ?? .host,
            container: identity.map { symbols.intern($0.id) } ?? .none)
        if infos.count >= maximumEntries { infos.removeAll(keepingCapacity: true) }
        infos[id] = info
        return info
    }
}

import Synchronization

/// Maps the kernel's cgroup ids to cgroup paths, as an eBPF sensor needs for every event.
///
/// On cgroup v2 the id that `bpf_get_current_cgroup_id()` returns is the inode number of the cgroup's
/// directory in the cgroup2 filesystem, so the resolver learns ids by walking that tree and `stat`ing
/// each directory. Hits come from a cache behind one lock. A miss rescans the whole tree, but at most once
/// per ``rescanInterval``: during a storm of misses (say, many short-lived containers) the other misses
/// return nil at once instead of rescanning. Each rescan replaces the cache, which forgets removed cgroups
/// and holds at most ``capacity`` entries.
public final class CgroupResolver: Sendable {
    /// The hierarchy whose ids this resolver maps.
    public let filesystem: CgroupFilesystem
    /// The most ids the cache holds.
    public let capacity: Int
    /// The shortest time between two rescans.
    public let rescanInterval: Duration

    /// The cache and the time of the last rescan.
    private struct State {
        var paths: [UInt64: String] = [:]
        var lastScan: ContinuousClock.Instant?
        var scans = 0
    }

    private let state = Mutex(State())

    /// Creates a resolver with an empty cache; the first lookup scans the tree.
    ///
    /// - Parameters:
    ///   - filesystem: The cgroup2 hierarchy, usually ``CgroupFilesystem/locateV2(mountInfo:)``.
    ///   - capacity: The most ids the cache holds; a larger tree is cached in part.
    ///   - rescanInterval: The shortest time between two rescans of the tree.
    public init(filesystem: CgroupFilesystem, capacity: Int = 65536, rescanInterval: Duration = .milliseconds(100)) {
        self.filesystem = filesystem
        self.capacity = max(1, capacity)
        self.rescanInterval = rescanInterval
    }

    /// The path, relative to the mount, of the cgroup with this id: `/system.slice/foo.service`, or `/` for
    /// the root. Nil when no such cgroup exists, or when it is not cached and the tree was rescanned less
    /// than ``rescanInterval`` ago.
    public func path(forID id: UInt64) -> String? {
        let (cached, rescan) = state.withLock { state -> (String?, Bool) in
            if let path = state.paths[id] { return (path, false) }
            let now = ContinuousClock.now
            if let last = state.lastScan, now - last < rescanInterval { return (nil, false) }
            state.lastScan = now
            state.scans += 1
            return (nil, true)
        }
        guard rescan else { return cached }
        // The walk runs outside the lock, so hits stay cheap while it runs.
        let scan = scan(looking: id)
        state.withLock { $0.paths = scan.paths }
        return scan.found
    }

    /// The id of the cgroup at `relativePath` (the inode number of its directory).
    ///
    /// - Throws: ``LinuxError`` `.notFound` when there is no such cgroup.
    public func id(forPath relativePath: String) throws -> UInt64 {
        try SystemFiles.inode(filesystem.absolutePath(relativePath))
    }

    /// How many times the tree has been scanned (for tests and statistics).
    public var scanCount: Int {
        state.withLock { $0.scans }
    }

    /// How many ids the cache holds now.
    var cachedCount: Int {
        state.withLock { $0.paths.count }
    }

    /// Walks the whole tree, keeping the first ``capacity`` ids and noting the path of `wanted` wherever it
    /// is. Directories that vanish during the walk are skipped.
    private func scan(looking wanted: UInt64) -> (paths: [UInt64: String], found: String?) {
        var paths: [UInt64: String] = [:]
        var found: String?
        var pending = ["/"]
        while let relative = pending.popLast() {
            let absolute = filesystem.absolutePath(relative)
            guard let id = try? SystemFiles.inode(absolute) else { continue }
            if id == wanted { found = relative }
            if paths.count < capacity { paths[id] = relative }
            let entries = (try? SystemFiles.directoryEntries(absolute)) ?? []
            for entry in entries where entry.isDirectory {
                pending.append(relative == "/" ? "/" + entry.name : relative + "/" + entry.name)
            }
        }
        return (paths, found)
    }
}

/// The mounted cgroup v2 hierarchy (the "unified" hierarchy) that cgroup paths are relative to.
///
/// On a pure cgroup v2 host it is mounted at `/sys/fs/cgroup`; on a hybrid host, next to the v1
/// controllers, at `/sys/fs/cgroup/unified`. Either way the kernel's cgroup ids and the `0::/...` lines of
/// /proc/PID/cgroup refer to it.
public struct CgroupFilesystem: Sendable, Hashable {
    /// Where the hierarchy is mounted (`/sys/fs/cgroup/unified`).
    public var mountPoint: String

    /// A hierarchy mounted at `mountPoint` (tests point it at a plain directory tree).
    public init(mountPoint: String) {
        self.mountPoint = mountPoint
    }

    /// Finds the cgroup2 mount in a mountinfo file, preferring one that shows the whole hierarchy (root `/`).
    ///
    /// - Throws: ``LinuxError`` `.unsupported` when no cgroup2 filesystem is mounted, or the error of
    ///   reading `mountInfo`.
    public static func locateV2(mountInfo: String = "/proc/self/mountinfo") throws -> CgroupFilesystem {
        let mounts = try ProcFS.mounts(mountInfo: mountInfo).filter { $0.filesystemType == "cgroup2" }
        guard let mount = mounts.first(where: { $0.root == "/" }) ?? mounts.first else {
            throw LinuxError(
                code: .unsupported,
                message:
                    "no cgroup v2 hierarchy is mounted (\(mountInfo) lists no cgroup2 filesystem); mount one with "
                    + "`mount -t cgroup2 none /sys/fs/cgroup/unified`")
        }
        return CgroupFilesystem(mountPoint: mount.mountPoint)
    }

    /// The absolute path of a cgroup given relative to the mount (`/` is the mount point itself).
    public func absolutePath(_ relativePath: String) -> String {
        let trimmed = relativePath.drop(while: { $0 == "/" })
        return trimmed.isEmpty ? mountPoint : mountPoint + "/" + trimmed
    }
}

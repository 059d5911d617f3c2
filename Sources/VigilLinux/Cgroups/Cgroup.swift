import Glibc

/// A cgroup v2 that this process creates or uses: to hold processes under test, and for responders that
/// confine a process (soft quarantine).
public struct Cgroup: Sendable, Hashable {
    /// The hierarchy the cgroup belongs to.
    public let filesystem: CgroupFilesystem
    /// The path relative to the mount, starting with `/` (`/vigil/quarantine`).
    public let path: String
    /// The kernel's id for the cgroup (the inode number of its directory), as BPF programs see it.
    public let id: UInt64

    /// Opens an existing cgroup.
    ///
    /// - Throws: ``LinuxError`` `.notFound` when it does not exist, `.unsupported` for a path with `.` or
    ///   `..` components.
    public init(existing relativePath: String, in filesystem: CgroupFilesystem) throws {
        let path = try Self.normalized(relativePath)
        self.filesystem = filesystem
        self.path = path
        self.id = try SystemFiles.inode(filesystem.absolutePath(path))
    }

    /// Creates the cgroup and any missing parents (like `mkdir -p`); an existing cgroup is simply opened.
    ///
    /// - Throws: ``LinuxError`` `.permissionDenied` without the right to create cgroups (root, or a
    ///   delegated subtree), `.unsupported` for a path with `.` or `..` components.
    public static func create(_ relativePath: String, in filesystem: CgroupFilesystem) throws -> Cgroup {
        let path = try normalized(relativePath)
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            let absolute = filesystem.absolutePath(current)
            guard mkdir(absolute, 0o755) != 0 else { continue }
            let failed = errno
            switch failed {
            case EEXIST:
                continue
            case EACCES, EPERM:
                throw LinuxError(
                    code: .permissionDenied, message: "not permitted to create cgroup \(absolute) (run as root)",
                    errno: failed, call: "mkdir")
            default:
                throw LinuxError.systemCall("mkdir", errno: failed, message: "cannot create cgroup \(absolute)")
            }
        }
        return try Cgroup(existing: path, in: filesystem)
    }

    /// The cgroup's directory.
    public var absolutePath: String {
        filesystem.absolutePath(path)
    }

    /// Moves a process, with all its threads, into this cgroup (writes it to `cgroup.procs`).
    ///
    /// - Throws: ``LinuxError`` `.notFound` when there is no such process or cgroup, `.permissionDenied`
    ///   without the right to move it, `.systemCallFailed` when the kernel refuses (a cgroup whose children
    ///   have controllers enabled cannot hold processes).
    public func add(pid: Int32) throws {
        let file = absolutePath + "/cgroup.procs"
        let failed = try SystemFiles.write("\(pid)\n", to: file)
        switch failed {
        case 0:
            return
        case ESRCH:
            throw LinuxError(code: .notFound, message: "no process \(pid) to move into \(path)", errno: failed)
        case EACCES, EPERM:
            throw LinuxError(
                code: .permissionDenied, message: "not permitted to move process \(pid) into \(path)",
                errno: failed, call: "write")
        default:
            throw LinuxError.systemCall(
                "write", errno: failed, message: "cannot move process \(pid) into cgroup \(path)")
        }
    }

    /// The processes in this cgroup itself (not in its children), in the order the kernel lists them.
    public func processes() throws -> [Int32] {
        try SystemFiles.readText(absolutePath + "/cgroup.procs").split(separator: "\n").compactMap { Int32($0) }
    }

    /// Removes the cgroup (`rmdir`). Nothing is moved: it must already be empty, with no processes and no
    /// child cgroups, or the kernel refuses. Parents that ``create(_:in:)`` made are left in place.
    ///
    /// - Throws: ``LinuxError`` `.notFound` when it no longer exists, `.systemCallFailed` with `EBUSY` when it
    ///   is not empty, `.unsupported` for the root cgroup.
    public func remove() throws {
        guard path != "/" else {
            throw LinuxError(code: .unsupported, message: "the root cgroup cannot be removed")
        }
        guard rmdir(absolutePath) != 0 else { return }
        let failed = errno
        switch failed {
        case ENOENT:
            throw LinuxError(code: .notFound, message: "cgroup \(path) does not exist", errno: failed, call: "rmdir")
        case EBUSY:
            throw LinuxError.systemCall(
                "rmdir", errno: failed,
                message: "cgroup \(path) still holds processes or child cgroups; move or end them first")
        default:
            throw LinuxError.systemCall("rmdir", errno: failed, message: "cannot remove cgroup \(path)")
        }
    }

    /// `relativePath` with one leading `/`, no empty components and no trailing `/`; `.` and `..` are
    /// refused so a cgroup can never name a directory outside the hierarchy.
    static func normalized(_ relativePath: String) throws -> String {
        let components = relativePath.split(separator: "/")
        guard !components.contains(where: { $0 == "." || $0 == ".." }) else {
            throw LinuxError(
                code: .unsupported, message: "cgroup path \(relativePath) must not contain . or .. components")
        }
        return "/" + components.joined(separator: "/")
    }
}

import Glibc
import Synchronization

/// A kernel filesystem that BPF programs and their loaders rely on.
public enum KernelFilesystem: String, Sendable, Hashable, CaseIterable {
    /// The tracing filesystem: tracepoint ids and formats under `events/`.
    case tracefs
    /// The BPF filesystem, where maps and programs are pinned.
    case bpffs

    /// Where the filesystem is mounted by convention.
    public var mountPoint: String {
        switch self {
        case .tracefs: "/sys/kernel/tracing"
        case .bpffs: "/sys/fs/bpf"
        }
    }

    /// The type given to mount(2) and listed in mountinfo.
    public var filesystemType: String {
        switch self {
        case .tracefs: "tracefs"
        case .bpffs: "bpf"
        }
    }

    /// The source given to mount(2).
    var source: String {
        switch self {
        case .tracefs: "nodev"
        case .bpffs: "bpf"
        }
    }
}

/// Mounts the kernel filesystems the eBPF sensor needs. A fresh machine mounts only the cgroup hierarchies,
/// so whatever needs tracefs or the BPF filesystem mounts it when it is missing.
public enum KernelFilesystems {
    /// Serialises this process's check-then-mount, so two callers cannot stack two mounts on one point.
    private static let mounting = Mutex(())

    /// Whether `fs` is mounted at its ``KernelFilesystem/mountPoint``, according to a mountinfo file.
    ///
    /// - Throws: ``LinuxError`` when the mountinfo file cannot be read.
    public static func isMounted(_ fs: KernelFilesystem, mountInfo: String = "/proc/self/mountinfo") throws -> Bool {
        try isMounted(fs, at: fs.mountPoint, mountInfo: mountInfo)
    }

    /// Mounts `fs` at its ``KernelFilesystem/mountPoint`` unless /proc/self/mountinfo shows it there already
    /// (`mount -t tracefs nodev /sys/kernel/tracing`, `mount -t bpf bpf /sys/fs/bpf`).
    ///
    /// Calls in this process are serialised; another process mounting at the same moment could still stack
    /// a second mount on the first, which is harmless but hides what was pinned in the first.
    ///
    /// - Throws: ``LinuxError`` `.permissionDenied` without CAP_SYS_ADMIN, `.unsupported` when the kernel
    ///   lacks the filesystem, `.systemCallFailed` for other mount failures.
    public static func ensureMounted(_ fs: KernelFilesystem) throws {
        try ensureMounted(fs, at: fs.mountPoint)
    }

    /// ``isMounted(_:mountInfo:)`` at any mount point.
    static func isMounted(_ fs: KernelFilesystem, at mountPoint: String, mountInfo: String) throws -> Bool {
        try ProcFS.mounts(mountInfo: mountInfo).contains {
            $0.mountPoint == mountPoint && $0.filesystemType == fs.filesystemType
        }
    }

    /// ``ensureMounted(_:)`` at any mount point, so tests can mount on a directory of their own.
    static func ensureMounted(_ fs: KernelFilesystem, at mountPoint: String) throws {
        try mounting.withLock { _ in
            if try isMounted(fs, at: mountPoint, mountInfo: "/proc/self/mountinfo") { return }
            guard mount(fs.source, mountPoint, fs.filesystemType, 0, nil) != 0 else { return }
            let failed = errno
            let command = "mount -t \(fs.filesystemType) \(fs.source) \(mountPoint)"
            switch failed {
            case EPERM, EACCES:
                throw LinuxError(
                    code: .permissionDenied,
                    message: "cannot mount \(fs.rawValue) on \(mountPoint): run as root (CAP_SYS_ADMIN), or run "
                        + "`\(command)` beforehand",
                    errno: failed, call: "mount")
            case ENODEV, ENOENT:
                throw LinuxError(
                    code: .unsupported,
                    message: "this kernel has no \(fs.rawValue) (or there is no \(mountPoint) to mount it on)",
                    errno: failed, call: "mount")
            default:
                throw LinuxError.systemCall(
                    "mount", errno: failed, message: "cannot mount \(fs.rawValue) on \(mountPoint) (`\(command)`)")
            }
        }
    }
}

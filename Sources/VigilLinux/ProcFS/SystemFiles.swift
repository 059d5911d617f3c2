import Glibc

/// Small, allocation-light readers for the files under /proc and /sys, shared by the procfs, cgroup and
/// privilege code. Every failure becomes a ``LinuxError`` carrying the errno and the call.
enum SystemFiles {
    /// Reads a whole file. Files under /proc report a size of zero, so this reads until end of file.
    ///
    /// A missing file (`ENOENT`, or `ESRCH` for a process that exited mid-read) throws `.notFound`; see
    /// ``failure(_:path:errno:)`` for the rest.
    static func read(_ path: String) throws(LinuxError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw failure("open", path: path) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("read", path: path)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// Reads a whole file as text, repairing invalid UTF-8.
    static func readText(_ path: String) throws(LinuxError) -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// Writes `text` to an existing file in one `write`, as the kernel's control files (cgroup.procs) expect.
    ///
    /// Returns 0, or the errno of a failed `write` so that the caller can say what it means for that file;
    /// a failed `open` throws.
    static func write(_ text: String, to path: String) throws(LinuxError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 { throw failure("open", path: path) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        while true {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count >= 0 { return 0 }
            if errno != EINTR { return errno }
        }
    }

    /// The target of a symbolic link, or nil when it cannot be read (missing, or not permitted, as for the
    /// `exe` link of a kernel thread or of another user's process).
    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = buffer.withUnsafeMutableBufferPointer { readlink(path, $0.baseAddress!, $0.count - 1) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The inode number of a file or directory.
    static func inode(_ path: String) throws(LinuxError) -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw failure("stat", path: path) }
        return UInt64(info.st_ino)
    }

    /// One entry of a directory listing.
    struct DirectoryEntry {
        /// The entry's file name.
        var name: String
        /// Whether it is a directory (symbolic links to directories are not).
        var isDirectory: Bool
    }

    /// The entries of a directory, without `.` and `..`, in the order the filesystem gives them.
    static func directoryEntries(_ path: String) throws(LinuxError) -> [DirectoryEntry] {
        guard let directory = opendir(path) else { throw failure("opendir", path: path) }
        defer { closedir(directory) }
        var entries: [DirectoryEntry] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name == "." || name == ".." { continue }
            var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                // Some filesystems do not fill in the type; ask for it.
                var info = stat()
                isDirectory = lstat(path + "/" + name, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
            }
            entries.append(DirectoryEntry(name: name, isDirectory: isDirectory))
        }
        return entries
    }

    /// Whether something exists at `path`.
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// The error for a failed call on `path`, reading `errno` now: `.notFound` for a missing file or process,
    /// `.permissionDenied` for `EACCES`/`EPERM`, `.unreadable` otherwise.
    static func failure(_ call: String, path: String, errno code: Int32 = errno) -> LinuxError {
        switch code {
        case ENOENT, ESRCH:
            return LinuxError(
                code: .notFound, message: "\(path) does not exist (has the process or cgroup gone?)", errno: code,
                call: call)
        case EACCES, EPERM:
            return LinuxError(
                code: .permissionDenied, message: "not permitted to use \(path) (run as root?)", errno: code, call: call
            )
        default:
            return LinuxError(code: .unreadable, message: "cannot use \(path)", errno: code, call: call)
        }
    }
}

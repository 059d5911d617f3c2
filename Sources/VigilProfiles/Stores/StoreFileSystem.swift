// The few POSIX calls the files store needs, each reporting the call and errno when it fails.
//
// Foundation's file APIs would hide the errno behind an NSError and pull Foundation into VigilProfiles, which
// otherwise needs only the core.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A system call that failed: which one, on which path, and the errno it set.
struct SystemCallFailure: Error {
    /// The call, as a C programmer would name it ("open", "fsync", "rename").
    var call: String
    /// The path it was called on.
    var path: String
    /// The errno it set.
    var errorNumber: Int32

    /// "fsync failed: Input/output error (errno 5)".
    var summary: String {
        "\(call) failed: \(String(cString: strerror(errorNumber))) (errno \(errorNumber))"
    }
}

/// Blocking file operations for ``FileProfileStore``; callers keep them off the cooperative thread pool.
enum StoreFileSystem {
    /// The whole content of the file at `path`, or nil when there is no such file.
    static func contents(of path: String) throws(SystemCallFailure) -> [UInt8]? {
        let descriptor = try retrying("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        if descriptor < 0 { return nil }
        defer { close(descriptor) }
        var info = stat()
        if fstat(descriptor, &info) != 0 { throw SystemCallFailure(call: "fstat", path: path, errorNumber: errno) }
        var bytes: [UInt8] = []
        // The size is a hint only: the file is read to its end whatever it says.
        bytes.reserveCapacity(Int(info.st_size) + 1)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = try retrying("read", path) {
                chunk.withUnsafeMutableBytes { buffer in read(descriptor, buffer.baseAddress, buffer.count) }
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// Creates a new file at `path` (which must not exist), writes `bytes` and flushes them to the disk
    /// before returning, so that renaming it afterwards publishes a complete file.
    static func writeNew(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(SystemCallFailure) {
        let descriptor = try retrying("open", path, missingIsError: true) {
            open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        }
        var written = 0
        do {
            while written < bytes.count {
                let count = try retrying("write", path) {
                    bytes.withUnsafeBytes { buffer in
                        write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                    }
                }
                written += count
            }
            _ = try retrying("fsync", path) { fsync(descriptor) }
        } catch {
            close(descriptor)
            throw error
        }
        // close reports delayed write errors on some file systems; a failed close means the data may be lost.
        if close(descriptor) != 0 { throw SystemCallFailure(call: "close", path: path, errorNumber: errno) }
    }

    /// Renames `source` over `target`, atomically replacing any file there.
    static func move(_ source: String, over target: String) throws(SystemCallFailure) {
        if rename(source, target) != 0 {
            throw SystemCallFailure(call: "rename", path: target, errorNumber: errno)
        }
    }

    /// Removes the file at `path`; a missing file is not an error. Returns whether a file was removed.
    @discardableResult
    static func removeFile(_ path: String) throws(SystemCallFailure) -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw SystemCallFailure(call: "unlink", path: path, errorNumber: errno)
    }

    /// Flushes the directory itself, so that the names created, renamed or removed in it survive a crash of
    /// the machine, not only of the process.
    static func syncDirectory(_ path: String) throws(SystemCallFailure) {
        let descriptor = try retrying("open", path, missingIsError: true) {
            open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        defer { close(descriptor) }
        _ = try retrying("fsync", path) { fsync(descriptor) }
    }

    /// Creates the directory at `path` and any missing parents (`mkdir -p`); flushes the parent of each one
    /// it creates.
    static func makeDirectories(_ path: String, mode: mode_t) throws(SystemCallFailure) {
        if isDirectory(path) { return }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            let parent = prefix.isEmpty ? "." : prefix
            prefix += prefix.isEmpty || prefix.hasSuffix("/") ? String(component) : "/" + component
            if mkdir(prefix, mode) == 0 {
                try syncDirectory(parent)
            } else if errno != EEXIST || !isDirectory(prefix) {
                // EEXIST on a regular file is reported as ENOTDIR: that is what stops us.
                let failure = errno == EEXIST ? ENOTDIR : errno
                throw SystemCallFailure(call: "mkdir", path: prefix, errorNumber: failure)
            }
        }
    }

    /// Whether `path` is a directory (following symbolic links).
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The last modification time of `path` in nanoseconds since the epoch, or nil if it cannot be read.
    static func modificationTime(_ path: String) -> Int64? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        #if canImport(Darwin)
            let time = info.st_mtimespec
        #else
            let time = info.st_mtim
        #endif
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// The names in the directory at `path` (without `.` and `..`), or nil when there is no such directory.
    static func list(_ path: String) throws(SystemCallFailure) -> [String]? {
        guard let directory = opendir(path) else {
            if errno == ENOENT { return nil }
            throw SystemCallFailure(call: "opendir", path: path, errorNumber: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            // readdir returns nil both at the end and on error; only errno tells them apart.
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw SystemCallFailure(call: "readdir", path: path, errorNumber: errno) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// The current time in nanoseconds since the epoch.
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// Calls `body` until it does not fail with EINTR. A negative result with ENOENT is returned as is unless
    /// `missingIsError`, so that callers can treat a missing file as "none"; any other failure throws.
    private static func retrying<Result: BinaryInteger>(
        _ call: String, _ path: String, missingIsError: Bool = false, _ body: () -> Result
    ) throws(SystemCallFailure) -> Result {
        while true {
            let result = body()
            if result >= 0 { return result }
            if errno == EINTR { continue }
            if errno == ENOENT && !missingIsError { return result }
            throw SystemCallFailure(call: call, path: path, errorNumber: errno)
        }
    }
}

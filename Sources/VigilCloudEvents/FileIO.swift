#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The few file operations the cloud sensors need, as plain system calls with errors that carry `errno`.
enum FileIO {
    /// The message for an errno value.
    static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Reads a whole regular file.
    static func read(path: String, maximumSize: Int) throws(CloudEventError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw CloudEventError(
                code: .unreadable, path: path,
                message: "cannot open: \(describe(code)) (check the path and permissions)",
                errno: code)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            throw CloudEventError(
                code: .unreadable, path: path, message: "fstat failed: \(describe(code))", errno: code)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw CloudEventError(code: .unreadable, path: path, message: "not a regular file")
        }
        let size = Int(info.st_size)
        guard size <= maximumSize else {
            throw CloudEventError(
                code: .tooLarge, path: path,
                message:
                    "the file has \(size) bytes, more than the limit of \(maximumSize); "
                    + "raise the limit if it is genuine"
            )
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let count = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(fd, buffer.baseAddress! + filled, size - filled)
            }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw CloudEventError(
                    code: .unreadable, path: path, message: "read failed: \(describe(code))", errno: code)
            }
            if count == 0 { break }  // The file shrank while we read it; keep what is there.
            filled += count
        }
        if filled < size { bytes.removeSubrange(filled...) }
        return bytes
    }

    /// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename, then fsync of
    /// the directory, so a crash leaves either the old or the new content, never a mix.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(CloudEventError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let code = errno
            throw CloudEventError(
                code: .checkpoint, path: temporary,
                message: "cannot create: \(describe(code)) (is the directory writable?)",
                errno: code)
        }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress! + written, bytes.count - written)
            }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                close(fd)
                throw CloudEventError(
                    code: .checkpoint, path: temporary, message: "write failed: \(describe(code))", errno: code)
            }
            written += count
        }
        if fsync(fd) != 0 {
            let code = errno
            close(fd)
            throw CloudEventError(
                code: .checkpoint, path: temporary, message: "fsync failed: \(describe(code))", errno: code)
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let code = errno
            throw CloudEventError(
                code: .checkpoint, path: path, message: "rename failed: \(describe(code))", errno: code)
        }
        let directory = parent(of: path)
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            // Makes the rename itself durable; failing here loses at most the newest checkpoint, so it is not fatal.
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Creates `directory` and its missing parents, as `mkdir -p` does.
    static func makeDirectories(_ directory: String) throws(CloudEventError) {
        var path = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") where component != "." {
            path += "/" + component
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                let code = errno
                throw CloudEventError(
                    code: .checkpoint, path: path, message: "cannot create the directory: \(describe(code))",
                    errno: code)
            }
        }
    }

    /// The directory part of a path (`.` when it has none).
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// A regular file found under a directory.
    struct Entry: Hashable {
        /// The path relative to the root directory.
        var relativePath: String
        var size: Int64
        var modified: Int64
    }

    /// Lists the regular files under `root`, recursively, whose names pass `include`. Unreadable
    /// subdirectories are passed over (a delivery tree may be changing while we walk it).
    static func walk(root: String, include: (String) -> Bool) throws(CloudEventError) -> [Entry] {
        guard let top = opendir(root) else {
            let code = errno
            throw CloudEventError(
                code: .unreadable, path: root, message: "cannot open the directory: \(describe(code))", errno: code)
        }
        closedir(top)
        var entries: [Entry] = []
        var pending = [""]
        while let relative = pending.popLast() {
            let directory = relative.isEmpty ? root : root + "/" + relative
            guard let handle = opendir(directory) else { continue }
            defer { closedir(handle) }
            while let item = readdir(handle) {
                let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name == "." || name == ".." || name.hasPrefix(".") { continue }
                let childRelative = relative.isEmpty ? name : relative + "/" + name
                var info = stat()
                guard stat(root + "/" + childRelative, &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    pending.append(childRelative)
                case S_IFREG where include(name):
                    let modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
                    entries.append(Entry(relativePath: childRelative, size: Int64(info.st_size), modified: modified))
                default:
                    continue
                }
            }
        }
        return entries
    }
}

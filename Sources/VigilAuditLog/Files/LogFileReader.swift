#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// How a file sensor reads its file.
public enum LogFileMode: Sendable, Equatable {
    /// Read the file once from the start to its end, then return.
    case replay
    /// Read from the start, then keep polling for new lines every `pollInterval`, following the file
    /// across rotation (a new inode at the path, or the file shrinking), until the task is cancelled.
    case follow(pollInterval: Duration)
}

/// Why a log file could not be read.
public struct LogFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; a struct so that codes can be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// `open` failed.
        public static let openFailed = Code("open failed")
        /// `read`, `fstat` or `lseek` failed.
        public static let readFailed = Code("read failed")
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// The file.
    public var path: String
    /// The failing call (`open`, `read`).
    public var call: String
    /// The errno the call set.
    public var errno: Int32
    /// What to do about it.
    public var message: String

    /// Creates an error.
    public init(code: Code, path: String, call: String, errno: Int32, message: String) {
        self.code = code
        self.path = path
        self.call = call
        self.errno = errno
        self.message = message
    }

    public var description: String {
        "\(code): \(call)(\(path)) failed: \(String(cString: strerror(errno))) (errno \(errno)); \(message)"
    }
}

/// Reads a log file line by line, once or following it across rotation.
///
/// Lines are handed out as raw bytes without their newline. A line longer than `maximumLineLength` is
/// not buffered whole: the reader drops it up to its newline and reports it to `tooLong` instead, so
/// a file without newlines cannot exhaust memory. When following, a rotated file (renamed away and
/// recreated, or truncated in place) is read to its end before the new one is opened from its start,
/// so nothing is read twice and nothing written before the rotation is lost.
public struct LogFileReader: Sendable {
    /// The file.
    public let path: String
    /// Replay or follow.
    public let mode: LogFileMode
    /// The longest line handed out.
    public let maximumLineLength: Int

    /// Creates a reader.
    public init(path: String, mode: LogFileMode, maximumLineLength: Int) {
        self.path = path
        self.mode = mode
        self.maximumLineLength = max(1, maximumLineLength)
    }

    /// Reads lines until the end of the file (replay) or cancellation (follow).
    ///
    /// - Parameters:
    ///   - line: called with each complete line.
    ///   - tooLong: called once per line dropped for its length.
    ///   - chunk: called after the lines of each block read, so that callers can deliver what they made.
    ///   - idle: called (follow mode) when a poll found nothing new, so that callers can flush what they
    ///     hold; also called once at the end of a replay.
    public func read(
        line: (UnsafeRawBufferPointer) -> Void,
        tooLong: () -> Void,
        chunk chunkDone: () async -> Void,
        idle: () async -> Void
    ) async throws(LogFileError) {
        var file = try OpenFile(path: path)
        defer { file.close() }
        var pending: [UInt8] = []
        pending.reserveCapacity(64 * 1024)
        var discarding = false
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            if Task.isCancelled { return }
            let count = try file.read(into: &chunk)
            if count > 0 {
                split(chunk[0..<count], pending: &pending, discarding: &discarding, line: line, tooLong: tooLong)
                await chunkDone()
                continue
            }
            // End of the current file.
            guard case .follow(let interval) = mode else {
                if !pending.isEmpty && !discarding { pending.withUnsafeBytes { line($0) } }
                await idle()
                return
            }
            switch file.rotation(path: path) {
            case .same:
                await idle()
                do { try await Task.sleep(for: interval) } catch { return }
            case .truncated:
                // Copy-truncate rotation: what was written before is in the copy; start over.
                pending.removeAll(keepingCapacity: true)
                discarding = false
                try file.rewind(path: path)
            case .replaced:
                // The old file is complete: its unterminated last line is a line.
                if !pending.isEmpty && !discarding { pending.withUnsafeBytes { line($0) } }
                pending.removeAll(keepingCapacity: true)
                discarding = false
                guard let next = try? OpenFile(path: path) else {
                    // The new file is not there yet (renamed, not recreated): look again after a pause.
                    do { try await Task.sleep(for: interval) } catch { return }
                    continue
                }
                file.close()
                file = next
            }
        }
    }

    private func split(
        _ bytes: ArraySlice<UInt8>, pending: inout [UInt8], discarding: inout Bool,
        line: (UnsafeRawBufferPointer) -> Void, tooLong: () -> Void
    ) {
        var start = bytes.startIndex
        while start < bytes.endIndex {
            guard let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                if !discarding {
                    pending.append(contentsOf: bytes[start...])
                    if pending.count > maximumLineLength {
                        pending.removeAll(keepingCapacity: true)
                        discarding = true
                        tooLong()
                    }
                }
                return
            }
            if discarding {
                discarding = false
            } else if pending.isEmpty {
                if newline - start > maximumLineLength {
                    tooLong()
                } else {
                    let piece = bytes[start..<newline]
                    piece.withUnsafeBytes { line($0) }
                }
            } else {
                pending.append(contentsOf: bytes[start..<newline])
                if pending.count > maximumLineLength {
                    tooLong()
                } else {
                    pending.withUnsafeBytes { line($0) }
                }
                pending.removeAll(keepingCapacity: true)
            }
            start = newline + 1
        }
    }
}

/// An open file descriptor with the identity it was opened with.
private struct OpenFile {
    enum Rotation {
        case same
        case truncated
        case replaced
    }

    var descriptor: Int32
    var device: UInt64
    var inode: UInt64
    var offset: Int64 = 0

    init(path: String) throws(LogFileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let error = errno
            throw LogFileError(
                code: .openFailed, path: path, call: "open", errno: error,
                message: error == EACCES
                    ? "run as root or make the file readable" : "check that the file exists and is readable")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = errno
            Glibc.close(fd)
            throw LogFileError(
                code: .readFailed, path: path, call: "fstat", errno: error, message: "check the file system")
        }
        descriptor = fd
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    mutating func read(into buffer: inout [UInt8]) throws(LogFileError) -> Int {
        let fd = descriptor
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count >= 0 {
                offset += Int64(count)
                return count
            }
            let error = errno
            if error == EINTR { continue }
            throw LogFileError(
                code: .readFailed, path: "fd \(fd)", call: "read", errno: error, message: "check the file system")
        }
    }

    /// Compares the path's current file with the open one.
    func rotation(path: String) -> Rotation {
        var info = stat()
        guard stat(path, &info) == 0 else { return .replaced }
        if UInt64(info.st_dev) != device || UInt64(info.st_ino) != inode { return .replaced }
        if Int64(info.st_size) < offset { return .truncated }
        return .same
    }

    mutating func rewind(path: String) throws(LogFileError) {
        guard lseek(descriptor, 0, SEEK_SET) == 0 else {
            throw LogFileError(
                code: .readFailed, path: path, call: "lseek", errno: errno, message: "check the file system")
        }
        offset = 0
    }

    mutating func close() {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
        descriptor = -1
    }
}

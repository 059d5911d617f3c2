/// One line of /proc/PID/mountinfo: a filesystem mounted somewhere.
public struct Mount: Sendable, Equatable {
    /// The directory of the mounted filesystem that appears at ``mountPoint`` (`/` unless a subtree was
    /// bind-mounted).
    public var root: String
    /// Where it is mounted (`/sys/fs/cgroup/unified`).
    public var mountPoint: String
    /// The filesystem type (`cgroup2`, `bpf`, `tracefs`, `ext4`).
    public var filesystemType: String
    /// The mount source (`/dev/vda`, `cgroup2`, `nodev`).
    public var source: String

    /// Creates a mount entry.
    public init(root: String, mountPoint: String, filesystemType: String, source: String) {
        self.root = root
        self.mountPoint = mountPoint
        self.filesystemType = filesystemType
        self.source = source
    }
}

extension ProcFS {
    /// The mounts listed in a mountinfo file, in its order (the most recent mount on a point comes last).
    ///
    /// - Throws: ``LinuxError`` when the file cannot be read.
    public static func mounts(mountInfo: String = "/proc/self/mountinfo") throws -> [Mount] {
        parseMountInfo(try SystemFiles.readText(mountInfo))
    }

    /// Parses mountinfo text: `id parent major:minor root mountpoint options [optional...] - type source
    /// superoptions`, where spaces, tabs, newlines and backslashes in paths are written as octal escapes
    /// (`\040`). Malformed lines are skipped.
    static func parseMountInfo(_ text: String) -> [Mount] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 10, let separator = fields[6...].firstIndex(of: "-"),
                separator + 2 < fields.count
            else { return nil }
            return Mount(
                root: unescape(fields[3]),
                mountPoint: unescape(fields[4]),
                filesystemType: unescape(fields[separator + 1]),
                source: unescape(fields[separator + 2]))
        }
    }

    /// Replaces the kernel's three-digit octal escapes (`\040` for a space) with the bytes they stand for.
    private static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        let bytes = Array(field.utf8)
        var result: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\"), index + 3 < bytes.count,
                let value = octal(bytes[(index + 1)..<(index + 4)])
            {
                result.append(value)
                index += 4
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// The byte written as three octal digits, or nil.
    private static func octal(_ digits: ArraySlice<UInt8>) -> UInt8? {
        var value: UInt16 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "7") else { return nil }
            value = value * 8 + UInt16(digit - UInt8(ascii: "0"))
        }
        return value <= 255 ? UInt8(value) : nil
    }
}

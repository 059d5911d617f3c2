/// Parsers for the text of single /proc files, kept apart from the reading so that tests can feed them
/// hostile input directly.
enum ProcFiles {
    /// The fields of /proc/PID/stat that a snapshot needs.
    struct Stat: Equatable {
        /// Field 2, without its parentheses.
        var command: String
        /// Field 4.
        var parentPID: Int32
        /// Field 9, the kernel's `PF_*` flags.
        var flags: UInt64
        /// Field 22, in clock ticks since boot.
        var startTicks: UInt64
    }

    /// `PF_KTHREAD` in the stat flags: the task is a kernel thread.
    static let kernelThreadFlag: UInt64 = 0x0020_0000

    /// Parses /proc/PID/stat: `pid (comm) state ppid ... flags ... starttime ...`.
    ///
    /// The command may hold spaces and parentheses (a program named `x) y (z` is legal), so it runs from
    /// the first `(` to the *last* `)`; the numeric fields follow. Returns nil for anything else.
    static func parseStat(_ bytes: [UInt8]) -> Stat? {
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")),
            let close = bytes.lastIndex(of: UInt8(ascii: ")")), open < close
        else { return nil }
        let command = String(decoding: bytes[(open + 1)..<close], as: UTF8.self)
        // Fields 3 (state) onwards, so field n is at index n - 3.
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count >= 20,
            let parent = decimal(fields[fields.startIndex + 1]),
            let flags = decimal(fields[fields.startIndex + 6]),
            let start = decimal(fields[fields.startIndex + 19]),
            let parentPID = Int32(exactly: parent)
        else { return nil }
        return Stat(command: command, parentPID: parentPID, flags: flags, startTicks: start)
    }

    /// The credentials in /proc/PID/status.
    struct Status: Equatable {
        /// The real user id (first number of `Uid:`).
        var uid: UInt32
        /// The effective user id (second number of `Uid:`).
        var effectiveUID: UInt32
        /// The real group id (first number of `Gid:`).
        var gid: UInt32
    }

    /// Parses the `Uid:` and `Gid:` lines of /proc/PID/status (real, effective, saved, filesystem ids).
    static func parseStatus(_ text: String) -> Status? {
        var uids: [UInt32] = []
        var gids: [UInt32] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("Uid:") {
                uids = line.dropFirst(4).split(whereSeparator: { $0 == "\t" || $0 == " " }).compactMap { UInt32($0) }
            } else if line.hasPrefix("Gid:") {
                gids = line.dropFirst(4).split(whereSeparator: { $0 == "\t" || $0 == " " }).compactMap { UInt32($0) }
            }
        }
        guard uids.count >= 2, let gid = gids.first else { return nil }
        return Status(uid: uids[0], effectiveUID: uids[1], gid: gid)
    }

    /// The value of one `Name:\tvalue` line of a status file, trimmed, or nil.
    static func statusField(_ name: String, in text: String) -> Substring? {
        let prefix = name + ":"
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
            return line.dropFirst(prefix.count).drop(while: { $0 == "\t" || $0 == " " })
        }
        return nil
    }

    /// Splits /proc/PID/cmdline at its NULs. The final NUL ends the last argument; empty arguments in between
    /// are kept, since `sleep "" 1` has three.
    static func parseCommandLine(_ bytes: [UInt8]) -> [String] {
        guard !bytes.isEmpty else { return [] }
        let body = bytes.last == 0 ? bytes.dropLast() : bytes[...]
        return body.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// The path of the cgroup v2 entry (`0::/path`) in /proc/PID/cgroup, or empty when there is none.
    static func parseCgroupV2(_ text: String) -> String {
        for line in text.split(separator: "\n") where line.hasPrefix("0::") {
            return String(line.dropFirst(3))
        }
        return ""
    }

    /// A decimal number made only of digits, or nil.
    private static func decimal(_ digits: ArraySlice<UInt8>) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 20 else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }
}

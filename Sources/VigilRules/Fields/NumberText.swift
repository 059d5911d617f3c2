import VigilCore

/// The text Falco gives numeric syscall arguments: open flags as `O_WRONLY|O_CREAT|O_TRUNC`, modes as
/// `0755(S_IRUSR|…)`, ptrace requests as `PTRACE_ATTACH`, other numbers in decimal. Text operators on number
/// fields (`evt.arg.flags contains O_TRUNC`, `ka.response.code startswith 2`) and outputs use it.
enum NumberText {
    /// The text of `number` read as `field` of an event of `kind`.
    static func text(_ number: Int64, field: FieldID, kind: EventKind) -> String {
        switch (field, kind) {
        case (.openFlags, .fileOpen): return openFlags(number)
        case (.fileMode, _): return mode(number)
        case (.ptraceRequest, _): return ptraceRequests[number] ?? String(number)
        default: return String(number)
        }
    }

    /// Linux open(2) flags, by bit, in Falco's names.
    static let openFlagNames: [(Int64, String)] = [
        (0o100, "O_CREAT"), (0o200, "O_EXCL"), (0o400, "O_NOCTTY"), (0o1000, "O_TRUNC"), (0o2000, "O_APPEND"),
        (0o4000, "O_NONBLOCK"), (0o10000, "O_DSYNC"), (0o20000, "FASYNC"), (0o40000, "O_DIRECT"),
        (0o100000, "O_LARGEFILE"), (0o200000, "O_DIRECTORY"), (0o400000, "O_NOFOLLOW"), (0o1000000, "O_NOATIME"),
        (0o2000000, "O_CLOEXEC"), (0o4000000, "O_SYNC"), (0o10000000, "O_PATH"), (0o20000000, "O_TMPFILE"),
    ]

    static func openFlags(_ flags: Int64) -> String {
        var names: [String]
        switch flags & 3 {
        case 1: names = ["O_WRONLY"]
        case 2: names = ["O_RDWR"]
        default: names = ["O_RDONLY"]
        }
        for (bit, name) in openFlagNames where flags & bit != 0 { names.append(name) }
        return names.joined(separator: "|")
    }

    /// Mode bits, by bit, in Falco's names.
    static let modeNames: [(Int64, String)] = [
        (0o1, "S_IXOTH"), (0o2, "S_IWOTH"), (0o4, "S_IROTH"), (0o10, "S_IXGRP"), (0o20, "S_IWGRP"), (0o40, "S_IRGRP"),
        (0o100, "S_IXUSR"), (0o200, "S_IWUSR"), (0o400, "S_IRUSR"), (0o1000, "S_ISVTX"), (0o2000, "S_ISGID"),
        (0o4000, "S_ISUID"),
    ]

    /// `0755(S_IXOTH|S_IROTH|…)`: the mode in octal, then its bits by name.
    static func mode(_ mode: Int64) -> String {
        let names = modeNames.filter { mode & $0.0 != 0 }.map(\.1)
        let octal = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - octal.count)) + octal + "(" + names.joined(separator: "|") + ")"
    }

    /// ptrace(2) requests by number (Linux).
    static let ptraceRequests: [Int64: String] = [
        0: "PTRACE_TRACEME", 1: "PTRACE_PEEKTEXT", 2: "PTRACE_PEEKDATA", 3: "PTRACE_PEEKUSR", 4: "PTRACE_POKETEXT",
        5: "PTRACE_POKEDATA", 6: "PTRACE_POKEUSR", 7: "PTRACE_CONT", 8: "PTRACE_KILL", 9: "PTRACE_SINGLESTEP",
        12: "PTRACE_GETREGS", 13: "PTRACE_SETREGS", 14: "PTRACE_GETFPREGS", 15: "PTRACE_SETFPREGS",
        16: "PTRACE_ATTACH", 17: "PTRACE_DETACH", 18: "PTRACE_GETFPXREGS", 19: "PTRACE_SETFPXREGS",
        24: "PTRACE_SYSCALL", 0x4200: "PTRACE_SETOPTIONS", 0x4201: "PTRACE_GETEVENTMSG",
        0x4202: "PTRACE_GETSIGINFO", 0x4203: "PTRACE_SETSIGINFO", 0x4204: "PTRACE_GETREGSET",
        0x4205: "PTRACE_SETREGSET", 0x4206: "PTRACE_SEIZE", 0x4207: "PTRACE_INTERRUPT", 0x4208: "PTRACE_LISTEN",
        0x4209: "PTRACE_PEEKSIGINFO",
    ]
}

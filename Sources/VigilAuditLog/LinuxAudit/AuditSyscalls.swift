import VigilCore

/// What Vigil makes of a syscall number on one architecture.
struct AuditSyscall: Sendable {
    /// The event a syscall maps to, with where its arguments are.
    enum Mapping: Sendable {
        /// execve, execveat.
        case exec
        /// open-like: flags and mode from SYSCALL arguments `a<n>` (nil: not an argument), or fixed flags.
        case open(flagsArgument: Int?, modeArgument: Int?, fixedFlags: UInt32)
        /// unlink, unlinkat, rmdir.
        case unlink
        /// rename, renameat, renameat2.
        case rename
        /// chmod-like, mode in `a<n>`.
        case chmod(modeArgument: Int)
        /// connect.
        case connect
        /// bind.
        case bind
        /// set*id, setgroups, capset: new real and effective ids in `a<n>` (nil: not changed).
        case credential(CredentialOperation, realArgument: Int?, effectiveArgument: Int?)
    }

    /// The syscall name.
    var name: String
    /// What it maps to.
    var mapping: Mapping

    /// `AUDIT_ARCH_X86_64`.
    static let x86_64: UInt32 = 0xc000_003e
    /// `AUDIT_ARCH_AARCH64`.
    static let aarch64: UInt32 = 0xc000_00b7

    /// The mapped syscall, or nil when Vigil has no more specific event for it (it becomes an audit record).
    static func lookup(architecture: UInt32, number: Int32) -> AuditSyscall? {
        switch architecture {
        case x86_64: return x86_64Table[number]
        case aarch64: return aarch64Table[number]
        default: return nil
        }
    }

    // O_WRONLY|O_CREAT|O_TRUNC: what creat() means.
    private static let creatFlags: UInt32 = 0o1101
    // O_WRONLY|O_TRUNC: truncate() writes the file without opening it.
    private static let truncateFlags: UInt32 = 0o1001

    private static let x86_64Table: [Int32: AuditSyscall] = [
        59: .init(name: "execve", mapping: .exec),
        322: .init(name: "execveat", mapping: .exec),
        2: .init(name: "open", mapping: .open(flagsArgument: 1, modeArgument: 2, fixedFlags: 0)),
        257: .init(name: "openat", mapping: .open(flagsArgument: 2, modeArgument: 3, fixedFlags: 0)),
        437: .init(name: "openat2", mapping: .open(flagsArgument: nil, modeArgument: nil, fixedFlags: 0)),
        85: .init(name: "creat", mapping: .open(flagsArgument: nil, modeArgument: 1, fixedFlags: creatFlags)),
        76: .init(name: "truncate", mapping: .open(flagsArgument: nil, modeArgument: nil, fixedFlags: truncateFlags)),
        87: .init(name: "unlink", mapping: .unlink),
        263: .init(name: "unlinkat", mapping: .unlink),
        84: .init(name: "rmdir", mapping: .unlink),
        82: .init(name: "rename", mapping: .rename),
        264: .init(name: "renameat", mapping: .rename),
        316: .init(name: "renameat2", mapping: .rename),
        90: .init(name: "chmod", mapping: .chmod(modeArgument: 1)),
        268: .init(name: "fchmodat", mapping: .chmod(modeArgument: 2)),
        452: .init(name: "fchmodat2", mapping: .chmod(modeArgument: 2)),
        42: .init(name: "connect", mapping: .connect),
        49: .init(name: "bind", mapping: .bind),
        105: .init(name: "setuid", mapping: .credential(.setuid, realArgument: 0, effectiveArgument: 0)),
        106: .init(name: "setgid", mapping: .credential(.setgid, realArgument: 0, effectiveArgument: 0)),
        113: .init(name: "setreuid", mapping: .credential(.setreuid, realArgument: 0, effectiveArgument: 1)),
        114: .init(name: "setregid", mapping: .credential(.setregid, realArgument: 0, effectiveArgument: 1)),
        117: .init(name: "setresuid", mapping: .credential(.setresuid, realArgument: 0, effectiveArgument: 1)),
        119: .init(name: "setresgid", mapping: .credential(.setresgid, realArgument: 0, effectiveArgument: 1)),
        122: .init(name: "setfsuid", mapping: .credential(.setfsuid, realArgument: nil, effectiveArgument: 0)),
        123: .init(name: "setfsgid", mapping: .credential(.setfsgid, realArgument: nil, effectiveArgument: 0)),
        116: .init(name: "setgroups", mapping: .credential(.setgroups, realArgument: nil, effectiveArgument: nil)),
        126: .init(name: "capset", mapping: .credential(.capset, realArgument: nil, effectiveArgument: nil)),
    ]

    // aarch64 uses the generic syscall table: no open, creat, unlink, rename or chmod, only the *at forms.
    private static let aarch64Table: [Int32: AuditSyscall] = [
        221: .init(name: "execve", mapping: .exec),
        281: .init(name: "execveat", mapping: .exec),
        56: .init(name: "openat", mapping: .open(flagsArgument: 2, modeArgument: 3, fixedFlags: 0)),
        437: .init(name: "openat2", mapping: .open(flagsArgument: nil, modeArgument: nil, fixedFlags: 0)),
        45: .init(name: "truncate", mapping: .open(flagsArgument: nil, modeArgument: nil, fixedFlags: truncateFlags)),
        35: .init(name: "unlinkat", mapping: .unlink),
        38: .init(name: "renameat", mapping: .rename),
        276: .init(name: "renameat2", mapping: .rename),
        53: .init(name: "fchmodat", mapping: .chmod(modeArgument: 2)),
        452: .init(name: "fchmodat2", mapping: .chmod(modeArgument: 2)),
        203: .init(name: "connect", mapping: .connect),
        200: .init(name: "bind", mapping: .bind),
        146: .init(name: "setuid", mapping: .credential(.setuid, realArgument: 0, effectiveArgument: 0)),
        144: .init(name: "setgid", mapping: .credential(.setgid, realArgument: 0, effectiveArgument: 0)),
        145: .init(name: "setreuid", mapping: .credential(.setreuid, realArgument: 0, effectiveArgument: 1)),
        143: .init(name: "setregid", mapping: .credential(.setregid, realArgument: 0, effectiveArgument: 1)),
        147: .init(name: "setresuid", mapping: .credential(.setresuid, realArgument: 0, effectiveArgument: 1)),
        149: .init(name: "setresgid", mapping: .credential(.setresgid, realArgument: 0, effectiveArgument: 1)),
        151: .init(name: "setfsuid", mapping: .credential(.setfsuid, realArgument: nil, effectiveArgument: 0)),
        152: .init(name: "setfsgid", mapping: .credential(.setfsgid, realArgument: nil, effectiveArgument: 0)),
        159: .init(name: "setgroups", mapping: .credential(.setgroups, realArgument: nil, effectiveArgument: nil)),
        91: .init(name: "capset", mapping: .credential(.capset, realArgument: nil, effectiveArgument: nil)),
    ]
}

import Testing
import VigilSeccomp

@Suite("Syscall table")
struct SyscallTableTests {
    @Test("known numbers resolve to their names on each architecture, whatever the host")
    func knownNumbers() {
        #expect(SyscallTable.name(of: 0, architecture: .x86_64) == "read")
        #expect(SyscallTable.name(of: 59, architecture: .x86_64) == "execve")
        #expect(SyscallTable.name(of: 231, architecture: .x86_64) == "exit_group")
        #expect(SyscallTable.name(of: 63, architecture: .aarch64) == "read")
        #expect(SyscallTable.name(of: 221, architecture: .aarch64) == "execve")
        #expect(SyscallTable.number(of: "execve", architecture: .x86_64) == 59)
        #expect(SyscallTable.number(of: "execve", architecture: .aarch64) == 221)
    }

    @Test("unknown numbers and libseccomp's pseudo numbers give nil, never a made-up name")
    func unknownNumbers() {
        for architecture in SeccompArchitecture.allCases {
            #expect(SyscallTable.name(of: 9999, architecture: architecture) == nil)
            #expect(SyscallTable.name(of: -1, architecture: architecture) == nil)
            // libseccomp's own pseudo number for `open` (__PNR_open): it names it, but it is no kernel number.
            #expect(SyscallTable.name(of: -10166, architecture: architecture) == nil)
        }
    }

    @Test("names that are not syscalls on an architecture give nil")
    func unknownNames() {
        #expect(SyscallTable.number(of: "open", architecture: .x86_64) == 2)
        // aarch64 has only openat; libseccomp answers `open` with a negative pseudo number.
        #expect(SyscallTable.number(of: "open", architecture: .aarch64) == nil)
        for architecture in SeccompArchitecture.allCases {
            #expect(SyscallTable.number(of: "no_such_syscall", architecture: architecture) == nil)
            #expect(SyscallTable.number(of: "", architecture: architecture) == nil)
            #expect(SyscallTable.number(of: "read\0write", architecture: architecture) == nil)
        }
    }

    @Test("every listed name maps to a number that maps back to it", arguments: SeccompArchitecture.allCases)
    func roundTrip(architecture: SeccompArchitecture) throws {
        let names = SyscallTable.allNames(architecture: architecture)
        // Both architectures have well over 300 syscalls in any libseccomp of the last years.
        #expect(names.count > 300)
        #expect(names == names.sorted())
        #expect(Set(names).count == names.count)
        #expect(!names.contains("unknown"))
        #expect(names.contains("execve"))
        var numbers = Set<Int32>()
        for name in names {
            let number = try #require(SyscallTable.number(of: name, architecture: architecture), "\(name)")
            #expect(SyscallTable.name(of: number, architecture: architecture) == name)
            numbers.insert(number)
        }
        #expect(numbers.count == names.count)
    }

    @Test("architectures map to and from the kernel's AUDIT_ARCH values")
    func architectures() {
        #expect(SeccompArchitecture.x86_64.auditArchitecture == 0xc000_003e)
        #expect(SeccompArchitecture.aarch64.auditArchitecture == 0xc000_00b7)
        #expect(SeccompArchitecture(auditArchitecture: 0xc000_003e) == .x86_64)
        #expect(SeccompArchitecture(auditArchitecture: 0xc000_00b7) == .aarch64)
        #expect(SeccompArchitecture(auditArchitecture: 0x4000_0003) == nil)  // i386
        #expect(SeccompArchitecture(auditArchitecture: 0) == nil)
        #if arch(x86_64)
            #expect(SeccompArchitecture.native == .x86_64)
        #elseif arch(arm64)
            #expect(SeccompArchitecture.native == .aarch64)
        #endif
    }
}

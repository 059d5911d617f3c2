import Foundation
import Testing
import VigilSeccomp

@Suite("libseccomp filters")
struct SeccompFilterTests {
    let native = SeccompArchitecture.native

    @Test("libseccomp builds the exported profile back into a BPF program", arguments: SeccompMode.allCases)
    func compilesExportedProfile(mode: SeccompMode) throws {
        let everything = SeccompProfile(allowedSyscalls: SyscallTable.allNames(architecture: native))
        let parsed = try SeccompProfile(ociJSON: everything.ociJSON(mode: mode))
        let full = try SeccompFilter.compile(parsed, mode: mode)
        #expect(full.programBytes > 0)
        // A classic BPF instruction is 8 bytes.
        #expect(full.programBytes % 8 == 0)
        #expect(full.unknownNames.isEmpty)

        // The program grows with the profile: the names really are in it.
        let small = try SeccompFilter.compile(
            SeccompProfile(allowedSyscalls: ["read", "write", "exit_group"]), mode: mode)
        #expect(small.programBytes > 0)
        #expect(small.programBytes < full.programBytes)
        let empty = try SeccompFilter.compile(SeccompProfile(allowedSyscalls: []), mode: mode)
        #expect(empty.programBytes > 0 && empty.programBytes < small.programBytes)
    }

    @Test("names unknown on this architecture are left out and reported, in order")
    func unknownNames() throws {
        let other = SeccompArchitecture.allCases.first { $0 != native }!
        // A syscall of the other architecture that this one lacks, when there is one: on an aarch64 host, `open`
        // (x86_64 has every syscall aarch64 has).
        let foreign = Set(SyscallTable.allNames(architecture: other))
            .subtracting(SyscallTable.allNames(architecture: native)).min()
        let names = ["read", "write", "zz_not_a_syscall", "aa_not_a_syscall"] + (foreign.map { [$0] } ?? [])
        let profile = SeccompProfile(allowedSyscalls: names, architectures: [native, other])
        let compiled = try SeccompFilter.compile(profile, mode: .enforce)
        let expected = ["aa_not_a_syscall", "zz_not_a_syscall"] + (foreign.map { [$0] } ?? [])
        #expect(compiled.unknownNames == expected.sorted())
        #expect(compiled.programBytes > 0)
    }

    @Test("a profile for another architecture only is refused")
    func architectureMismatch() throws {
        let other = SeccompArchitecture.allCases.first { $0 != native }!
        let profile = SeccompProfile(allowedSyscalls: ["read"], architectures: [other])
        let error = try #require(throws: SeccompError.self) { try SeccompFilter.compile(profile, mode: .log) }
        #expect(error.code == .architectureMismatch)
        #expect(error.message.contains(native.rawValue))
        // No architectures means the native one.
        #expect(
            try SeccompFilter.compile(SeccompProfile(allowedSyscalls: ["read"], architectures: []), mode: .log)
                .programBytes > 0)
    }
}

@Suite("Profile files")
struct ProfileFileTests {
    @Test("a profile file reads back the profile written into it")
    func readsFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let profile = SeccompProfile(allowedSyscalls: ["read", "write"], architectures: [.x86_64])
        let url = directory.appendingPathComponent("profile.json")
        try profile.ociJSON(mode: .log).write(to: url, atomically: true, encoding: .utf8)
        #expect(try SeccompProfile(ociFile: url.path) == profile)
    }

    @Test("a missing file, a directory and bad content give errors naming the file and the failing call")
    func unreadable() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("missing.json").path
        let notFound = try #require(throws: SeccompError.self) { try SeccompProfile(ociFile: missing) }
        #expect(notFound.code == .unreadableFile)
        #expect(notFound.errno == ENOENT)
        #expect(notFound.call == "open")
        #expect(notFound.message.contains(missing))
        #expect(notFound.description.contains("No such file or directory"))

        let isDirectory = try #require(throws: SeccompError.self) { try SeccompProfile(ociFile: directory.path) }
        #expect(isDirectory.code == .unreadableFile)
        #expect(isDirectory.errno == EISDIR)
        #expect(isDirectory.call == "read")

        let garbage = directory.appendingPathComponent("garbage.json")
        try Data([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]).write(to: garbage)  // {"\xff\xfe":1}
        let badBytes = try #require(throws: SeccompError.self) { try SeccompProfile(ociFile: garbage.path) }
        #expect(badBytes.code == .invalidJSON)
        #expect(badBytes.message.hasPrefix(garbage.path))
    }
}

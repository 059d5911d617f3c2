import Foundation
import Testing

@testable import VigilLinux

#if canImport(Glibc)
    import Glibc
#endif

/// Capabilities, the eBPF sensor's preconditions, and the kernel filesystems it mounts.
@Suite("privileges")
struct PrivilegesTests {
    static let bpfAndPerfmon: UInt64 = 1 << 39 | 1 << 38

    @Test("the effective capabilities are the CapEff line of the status file")
    func effectiveCapabilities() throws {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("CapEff:") })
        let expected = try #require(UInt64(line.split(separator: "\t").last ?? "", radix: 16))
        #expect(try Privileges.effectiveCapabilities() == expected)

        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        try writeFile(directory + "/status", "Name:\tx\nCapPrm:\t0000000000000001\nCapEff:\t000001fffeffffff\n")
        try writeFile(directory + "/none", "Name:\tx\n")
        #expect(try Privileges.effectiveCapabilities(status: directory + "/status") == 0x1ff_feff_ffff)
        let error = #expect(throws: LinuxError.self) {
            try Privileges.effectiveCapabilities(status: directory + "/none")
        }
        #expect(error?.code == .unreadable)
    }

    @Test("capabilities are found by bit number")
    func capabilityBits() {
        #expect(Capability.bpf.isIn(1 << 39))
        #expect(!Capability.bpf.isIn(1 << 38))
        #expect(Capability.perfmon.isIn(Self.bpfAndPerfmon))
        #expect(Capability.sysAdmin.isIn(1 << 21))
        #expect(!Capability(number: 64, name: "beyond").isIn(UInt64.max))
        #expect(Capability.sysResource.description == "CAP_SYS_RESOURCE")
    }

    @Test("checkBPF names the uid and exactly the missing capabilities")
    func checkBPFPermissions() {
        let btf = Privileges.kernelBTFPath
        let neither = #expect(throws: LinuxError.self) {
            try Privileges.checkBPF(capabilities: 0, uid: 1000, btfPath: btf)
        }
        #expect(neither?.code == .permissionDenied)
        #expect(
            neither?.message
                == "the eBPF sensor needs root, or CAP_BPF and CAP_PERFMON (and CAP_SYS_RESOURCE on kernels that "
                + "charge locked memory): this process has uid 1000 and lacks CAP_BPF, CAP_PERFMON")
        let onlyBPF = #expect(throws: LinuxError.self) {
            try Privileges.checkBPF(capabilities: 1 << 39, uid: 0, btfPath: btf)
        }
        #expect(onlyBPF?.message.hasSuffix("this process has uid 0 and lacks CAP_PERFMON") == true)
        let onlyPerfmon = #expect(throws: LinuxError.self) {
            try Privileges.checkBPF(capabilities: 1 << 38 | 1 << 24, uid: 42, btfPath: btf)
        }
        #expect(onlyPerfmon?.message.hasSuffix("this process has uid 42 and lacks CAP_BPF") == true)
    }

    @Test("checkBPF accepts CAP_BPF with CAP_PERFMON, or CAP_SYS_ADMIN, and then requires BTF")
    func checkBPFKernel() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let btf = directory + "/vmlinux"
        try writeFile(btf, "BTF")
        #expect(throws: Never.self) {
            try Privileges.checkBPF(capabilities: Self.bpfAndPerfmon, uid: 1000, btfPath: btf)
        }
        #expect(throws: Never.self) { try Privileges.checkBPF(capabilities: 1 << 21, uid: 1000, btfPath: btf) }

        let noBTF = #expect(throws: LinuxError.self) {
            try Privileges.checkBPF(capabilities: Self.bpfAndPerfmon, uid: 0, btfPath: directory + "/missing")
        }
        #expect(noBTF?.code == .unsupported)
        #expect(
            noBTF?.message
                == "this kernel has no BTF (CONFIG_DEBUG_INFO_BTF); the CO-RE programs cannot be relocated "
                + "(\(directory)/missing is missing)")
    }

    @Test("as root on this kernel (BTF, CAP_SYS_ADMIN) the eBPF sensor may run")
    func checkBPFHere() throws {
        try requireRoot("checking the eBPF sensor's privileges as root")
        try #require(access(Privileges.kernelBTFPath, R_OK) == 0, "this machine is expected to have BTF")
        try Privileges.checkBPF()
    }

    @Test("isMounted reads mountinfo by mount point and filesystem type")
    func isMountedFromText() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        try writeFile(
            directory + "/mounted",
            "60 23 0:45 / /sys/fs/bpf rw,relatime - bpf bpf rw\n61 23 0:12 / /sys/kernel/tracing rw - tracefs nodev rw\n"
        )
        try writeFile(directory + "/impostor", "60 23 0:45 / /sys/fs/bpf rw,relatime - tmpfs tmpfs rw\n")
        #expect(try KernelFilesystems.isMounted(.bpffs, mountInfo: directory + "/mounted"))
        #expect(try KernelFilesystems.isMounted(.tracefs, mountInfo: directory + "/mounted"))
        #expect(try !KernelFilesystems.isMounted(.bpffs, mountInfo: directory + "/impostor"))
        #expect(KernelFilesystem.bpffs.mountPoint == "/sys/fs/bpf" && KernelFilesystem.bpffs.filesystemType == "bpf")
        #expect(KernelFilesystem.tracefs.mountPoint == "/sys/kernel/tracing")
    }

    @Test(
        "ensureMounted leaves tracefs and the BPF filesystem mounted at their usual places, once",
        arguments: KernelFilesystem.allCases)
    func ensureMounted(_ fs: KernelFilesystem) throws {
        try requireRoot("mounting \(fs.rawValue)")
        try KernelFilesystems.ensureMounted(fs)
        try KernelFilesystems.ensureMounted(fs)
        let mounts = try ProcFS.mounts().filter { $0.mountPoint == fs.mountPoint }
        #expect(mounts.last?.filesystemType == fs.filesystemType)
        #expect(
            mounts.filter { $0.filesystemType == fs.filesystemType }.count == 1, "a second call must not mount again")
        if fs == .tracefs {
            #expect(access("/sys/kernel/tracing/events/sched/sched_process_exec/id", R_OK) == 0)
        }
    }

    @Test(
        "ensureMounted mounts on a directory where the filesystem is missing, and only once",
        arguments: KernelFilesystem.allCases)
    func ensureMountedOnFreshDirectory(_ fs: KernelFilesystem) throws {
        try requireRoot("mounting \(fs.rawValue)")
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        #expect(try !KernelFilesystems.isMounted(fs, at: directory, mountInfo: "/proc/self/mountinfo"))
        try KernelFilesystems.ensureMounted(fs, at: directory)
        defer { umount2(directory, Int32(MNT_DETACH)) }
        try KernelFilesystems.ensureMounted(fs, at: directory)
        let mounts = try ProcFS.mounts().filter { $0.mountPoint == directory }
        #expect(mounts.map(\.filesystemType) == [fs.filesystemType])

        let missing = #expect(throws: LinuxError.self) {
            try KernelFilesystems.ensureMounted(fs, at: directory + "/none")
        }
        #expect(missing?.code == .unsupported)
    }
}

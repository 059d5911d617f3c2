import Glibc
import Synchronization

/// A cgroup whose processes may not use the network except to allowlisted addresses.
///
/// BPF programs attached to the quarantine cgroup make `connect()` and unconnected `sendmsg()` to any other
/// IPv4 or IPv6 address fail with `EPERM`, and drop every other IP packet sent or received by sockets created
/// inside, so a listener opened there gets no connections either. Unix sockets and non-IP traffic are
/// untouched. The allowlist matches address prefixes only, not ports.
///
/// Limit: the kernel ties a socket to the cgroup of the process that created it, so sockets the process
/// opened *before* it was confined (an established connection, a listener) keep working. Cut those by other
/// means (kill or stop the process) when they matter.
///
/// The programs stay attached while this object lives (the agent holds them); ``close()`` or deinit detaches
/// them, and the processes left in the cgroup get the network back. Safe to use from several threads.
public final class NetworkQuarantine: @unchecked Sendable {
    /// Where the quarantine cgroup is made, relative to the cgroup v2 mount, unless told otherwise.
    public static let defaultPath = "/vigil.quarantine"

    /// The quarantine cgroup.
    public let cgroup: Cgroup

    private struct State {
        /// The loaded and attached programs; nil once closed.
        var object: BPFObject?
        /// The cgroup each confined process came from, by (pid, start time).
        var origins: [ProcessIdentity: String] = [:]
        /// The counters read when the programs were detached, reported after close.
        var finalCounters: [UInt64] = [0, 0]
    }

    /// A process by pid and start time, so a reused pid never inherits another process's origin.
    private struct ProcessIdentity: Hashable {
        var pid: Int32
        var startTime: UInt64
    }

    private let state: Mutex<State>

    /// Indexes of the counters map, as `quarantine.bpf.c` defines them.
    private static let deniedConnectionsIndex = 0
    private static let droppedPacketsIndex = 1
    private static let counterCount = 2

    /// Creates (or reuses) the cgroup, loads and attaches the programs. Throws with a clear message when not
    /// root / no BPF.
    ///
    /// - Throws: ``LinuxError`` `.permissionDenied` without root (creating cgroups and loading BPF need it),
    ///   `.bpfFailed` when the kernel refuses the programs, `.unsupported` for a path with `.` or `..`.
    public init(
        filesystem: CgroupFilesystem, path: String = NetworkQuarantine.defaultPath, allow: [IPPrefix] = []
    ) throws {
        guard geteuid() == 0 else {
            throw LinuxError(
                code: .permissionDenied,
                message: "a network quarantine needs root: it creates a cgroup and attaches BPF programs to it")
        }
        let cgroup = try Cgroup.create(path, in: filesystem)
        let object = try BPFObject(bytes: EmbeddedBPF.quarantine, name: "quarantine")
        try object.load()
        let allowlist = try object.map(named: "quarantine_allow")
        for prefix in allow { try Self.insert(prefix, into: allowlist) }
        let descriptor = open(cgroup.absolutePath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw SystemFiles.failure("open", path: cgroup.absolutePath)
        }
        defer { Glibc.close(descriptor) }
        do {
            for program in [
                "quarantine_connect4", "quarantine_connect6", "quarantine_sendmsg4", "quarantine_sendmsg6",
                "quarantine_egress", "quarantine_ingress",
            ] {
                try object.attach(program: program, toCgroupDescriptor: descriptor)
            }
        } catch {
            object.close()
            throw error
        }
        self.cgroup = cgroup
        self.state = Mutex(State(object: object))
    }

    deinit {
        close()
    }

    /// Moves the process in, remembering the cgroup it came from; returns that original cgroup path.
    ///
    /// Only the process (with all its threads) moves; children it forks afterwards are born inside, children
    /// it already had stay where they are. Confining a process that is already inside returns the cgroup it
    /// came from when this quarantine confined it, or the quarantine's own path when another one did.
    ///
    /// - Throws: ``LinuxError`` `.notFound` when the process has exited, or the error of moving it.
    @discardableResult
    public func confine(_ process: ProcessHandle) throws -> String {
        let identity = ProcessIdentity(pid: process.pid, startTime: process.startTime)
        return try state.withLock { state in
            guard state.object != nil else {
                throw LinuxError(code: .unsupported, message: "the network quarantine \(cgroup.path) is closed")
            }
            let current = try Cgroup.of(pid: process.pid, in: cgroup.filesystem).path
            if current == cgroup.path { return state.origins[identity] ?? current }
            // The pidfd proves the pid is still this process; cgroup.procs only takes a pid.
            guard !process.hasExited else {
                throw LinuxError(code: .notFound, message: "process \(process.pid) has exited")
            }
            try cgroup.add(pid: process.pid)
            state.origins[identity] = current
            return current
        }
    }

    /// Moves it back to the cgroup it came from (or to `to:` if given).
    ///
    /// - Throws: ``LinuxError`` `.notFound` when the process has exited, when its original cgroup is gone, or
    ///   when this quarantine did not confine it and no `to:` is given.
    public func release(_ process: ProcessHandle, to path: String? = nil) throws {
        let identity = ProcessIdentity(pid: process.pid, startTime: process.startTime)
        try state.withLock { state in
            guard let target = path ?? state.origins[identity] else {
                throw LinuxError(
                    code: .notFound,
                    message: "process \(process.pid) was not confined by the network quarantine \(cgroup.path); "
                        + "say which cgroup to move it to")
            }
            guard !process.hasExited else {
                state.origins[identity] = nil
                throw LinuxError(code: .notFound, message: "process \(process.pid) has exited")
            }
            try Cgroup(existing: target, in: cgroup.filesystem).add(pid: process.pid)
            state.origins[identity] = nil
        }
    }

    /// The processes in the quarantine cgroup now.
    public func confinedProcesses() throws -> [Int32] {
        try cgroup.processes()
    }

    /// Lets confined processes reach the addresses of `prefix`, from now on.
    ///
    /// - Throws: ``LinuxError`` `.bpfFailed` when the allowlist is full (1024 prefixes), `.unsupported` after
    ///   ``close()``.
    public func allow(_ prefix: IPPrefix) throws {
        try state.withLock { state in
            guard let object = state.object else {
                throw LinuxError(code: .unsupported, message: "the network quarantine \(cgroup.path) is closed")
            }
            try Self.insert(prefix, into: try object.map(named: "quarantine_allow"))
        }
    }

    /// How many `connect()` and `sendmsg()` calls of confined processes were refused, since the programs were
    /// loaded.
    public var deniedConnections: UInt64 {
        counters()[Self.deniedConnectionsIndex]
    }

    /// How many IP packets to or from confined processes were dropped, since the programs were loaded.
    public var droppedPackets: UInt64 {
        counters()[Self.droppedPacketsIndex]
    }

    /// Detaches the programs (they stay attached as long as the object lives; close on deinit too).
    ///
    /// The cgroup and the processes in it stay; they get the network back. Closing twice does nothing.
    public func close() {
        state.withLock { state in
            guard let object = state.object else { return }
            state.finalCounters = Self.readCounters(object) ?? state.finalCounters
            object.close()
            state.object = nil
        }
    }

    /// The counters now, or as they were at ``close()``.
    private func counters() -> [UInt64] {
        state.withLock { state in
            guard let object = state.object else { return state.finalCounters }
            return Self.readCounters(object) ?? state.finalCounters
        }
    }

    private static func readCounters(_ object: BPFObject) -> [UInt64]? {
        try? object.map(named: "quarantine_counters").perCPUSums(count: counterCount)
    }

    /// Writes one allowlist entry: the key is `struct quarantine_key` (a 32-bit prefix length in host order,
    /// then 16 address bytes).
    private static func insert(_ prefix: IPPrefix, into allowlist: BPFMap) throws {
        let (address, length) = prefix.mappedAddress
        var key = [UInt8](repeating: 0, count: 20)
        withUnsafeBytes(of: UInt32(length)) { key.replaceSubrange(0..<4, with: $0) }
        key.replaceSubrange(4..<20, with: address)
        var value: UInt8 = 1
        try key.withUnsafeBytes { keyBytes in
            try allowlist.update(key: keyBytes.baseAddress!, value: &value)
        }
    }
}

import Foundation
import Testing

@testable import VigilLinux

#if canImport(Glibc)
    import Glibc
#endif

/// A Python child that tries the network on command, one attempt per line on its stdin, and answers `ok`,
/// `denied` (EPERM) or `error N` on its stdout. It only ever uses loopback ports the test opened.
final class NetworkProbe {
    /// The child's pid.
    let pid: pid_t
    private let input: Int32
    private let output: Int32
    private var buffered: [UInt8] = []
    private var reaped = false

    /// `tcp4`/`tcp6`/`udp4` try 127.0.0.1 or ::1 at `port`; `hold` connects to 127.0.0.1 at `holdPort` and keeps
    /// the socket; `send` writes on it; `listen` opens a listener on 127.0.0.1 and answers `ok PORT`.
    static let script = """
        import errno, socket, sys
        port, hold_port, held = int(sys.argv[1]), int(sys.argv[2]), None
        for line in sys.stdin:
            kind = line.strip()
            try:
                if kind == "tcp4":
                    socket.create_connection(("127.0.0.1", port), timeout=3).close()
                elif kind == "tcp6":
                    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
                    s.settimeout(3)
                    s.connect(("::1", port))
                    s.close()
                elif kind == "udp4":
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.sendto(b"x", ("127.0.0.1", port))
                    s.close()
                elif kind == "hold":
                    held = socket.create_connection(("127.0.0.1", hold_port), timeout=3)
                elif kind == "send":
                    held.send(b"hello")
                elif kind == "listen":
                    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    server.bind(("127.0.0.1", 0))
                    server.listen(8)
                    print("ok %d" % server.getsockname()[1], flush=True)
                    continue
                print("ok", flush=True)
            except OSError as e:
                print("denied" if e.errno == errno.EPERM else "error %s" % e.errno, flush=True)
        """

    /// Starts the probe with pipes on its stdin and stdout.
    init(port: UInt16, holdPort: UInt16) throws {
        var toChild: [Int32] = [0, 0]
        var fromChild: [Int32] = [0, 0]
        try #require(pipe(&toChild) == 0 && pipe(&fromChild) == 0)
        // Close-on-exec, so other children started by concurrent tests do not hold the pipes open.
        for descriptor in toChild + fromChild { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = ["python3", "-c", Self.script, "\(port)", "\(holdPort)"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/usr/bin/python3", &actions, nil, &argv, environ)
        close(toChild[0])
        close(fromChild[1])
        try #require(result == 0, "posix_spawn python3 failed: errno \(result)")
        self.pid = pid
        self.input = toChild[1]
        self.output = fromChild[0]
    }

    /// Sends one command and returns the answer line, or "timeout" after 10 s.
    func attempt(_ command: String) -> String {
        let line = Array((command + "\n").utf8)
        _ = line.withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
        let deadline = clockNanoseconds(CLOCK_MONOTONIC) + 10_000_000_000
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let answer = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return answer
            }
            let now = clockNanoseconds(CLOCK_MONOTONIC)
            guard now < deadline else { return "timeout" }
            var entry = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, Int32((deadline - now) / 1_000_000) + 1) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 256)
            let count = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count == 0 { return "exited" }
            if count > 0 { buffered += chunk[..<count] }
        }
    }

    /// Kills the child with SIGKILL and waits for it, once.
    func stop() {
        guard !reaped else { return }
        reaped = true
        close(input)
        close(output)
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}

/// A TCP listener on 127.0.0.1, port chosen by the kernel.
final class LoopbackListener {
    /// The listening socket.
    let descriptor: Int32
    /// The port it listens on.
    let port: UInt16

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(descriptor >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        try #require(bound == 0 && listen(descriptor, 64) == 0, "cannot listen on 127.0.0.1: errno \(errno)")
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        self.port = UInt16(bigEndian: address.sin_port)
    }

    /// Accepts one pending connection, waiting up to 5 s.
    func accept() throws -> Int32 {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        try #require(poll(&entry, 1, 5000) == 1, "no connection to accept")
        let connection = Glibc.accept(descriptor, nil, nil)
        try #require(connection >= 0, "accept failed: errno \(errno)")
        return connection
    }

    deinit {
        close(descriptor)
    }
}

/// Soft quarantine on the real kernel: BPF programs on a test-owned cgroup, loopback servers the test opens,
/// and probe processes the test starts.
@Suite("network quarantine")
struct NetworkQuarantineTests {
    @Test("prefixes parse IPv4 and IPv6, clear host bits, and refuse malformed text")
    func prefixes() throws {
        #expect(IPPrefix("10.0.0.0/8")?.description == "10.0.0.0/8")
        #expect(IPPrefix("10.1.2.3/8") == IPPrefix("10.0.0.0/8"))
        #expect(IPPrefix("127.0.0.1")?.description == "127.0.0.1/32")
        #expect(IPPrefix("::1/128")?.description == "::1/128")
        #expect(IPPrefix("::1")?.length == 128)
        #expect(IPPrefix("fd00:1::ff/16")?.description == "fd00::/16")
        #expect(IPPrefix("0.0.0.0/0")?.description == "0.0.0.0/0")
        #expect(IPPrefix("192.168.1.77/26")?.description == "192.168.1.64/26")
        let mapped = try #require(IPPrefix("10.0.0.0/8")).mappedAddress
        #expect(mapped.length == 104)
        #expect(mapped.bytes == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0])
        for bad in [
            "", "/8", "10.0.0.0/", "10.0.0.0/33", "::1/129", "10.0.0/8", "localhost", "1.2.3.4/8/9",
            "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/ 8", " 10.0.0.0", "fe80::1%lo", "10.0.0.0/0008",
        ] {
            #expect(IPPrefix(bad) == nil, "\(bad) parsed")
        }
    }

    /// A quarantine under a fresh `/vigil-test-<UUID>` cgroup.
    static func makeQuarantine(allow: [IPPrefix] = []) throws -> NetworkQuarantine {
        let filesystem = try CgroupFilesystem.locateV2()
        return try NetworkQuarantine(
            filesystem: filesystem, path: "/vigil-test-\(UUID().uuidString)/quarantine", allow: allow)
    }

    /// Detaches the quarantine and removes its cgroup and the test parent; the probes must be stopped first.
    static func remove(_ quarantine: NetworkQuarantine) {
        quarantine.close()
        ProcessControlTests.removeTestCgroup(quarantine.cgroup)
    }

    /// Whether a TCP connection from this (unconfined) process to 127.0.0.1:`port` completes within
    /// `milliseconds`.
    static func connects(to port: UInt16, within milliseconds: Int32) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let started = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if started == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        guard poll(&entry, 1, milliseconds) == 1 else { return false }
        var failure: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &length)
        return failure == 0
    }

    @Test("a confined process cannot connect, send or accept while a sibling outside can; released, it can again")
    func confineAndRelease() throws {
        try requireRoot("creating a cgroup and attaching BPF programs to it")
        let listener = try LoopbackListener()
        let holdListener = try LoopbackListener()
        let quarantine = try Self.makeQuarantine()
        let confined = try NetworkProbe(port: listener.port, holdPort: holdListener.port)
        let sibling = try NetworkProbe(port: listener.port, holdPort: holdListener.port)
        defer {
            confined.stop()
            sibling.stop()
            Self.remove(quarantine)
        }
        let handle = try ProcessHandle(pid: confined.pid)
        #expect(confined.attempt("tcp4") == "ok")
        #expect(confined.attempt("hold") == "ok")
        let held = try holdListener.accept()
        defer { close(held) }
        let origin = try Cgroup.of(pid: confined.pid, in: quarantine.cgroup.filesystem).path

        #expect(try quarantine.confine(handle) == origin)
        #expect(try quarantine.confinedProcesses() == [confined.pid])
        #expect(try Cgroup.of(pid: confined.pid, in: quarantine.cgroup.filesystem) == quarantine.cgroup)
        #expect(try quarantine.confine(handle) == origin, "confining twice keeps the first origin")

        let deniedBefore = quarantine.deniedConnections
        #expect(confined.attempt("tcp4") == "denied")
        #expect(confined.attempt("tcp6") == "denied")
        #expect(confined.attempt("udp4") == "denied")
        #expect(sibling.attempt("tcp4") == "ok")
        #expect(sibling.attempt("tcp6") == "error \(ECONNREFUSED)", "outside, ::1 is reachable but closed")
        #expect(quarantine.deniedConnections >= deniedBefore + 3)

        // A listener opened inside the quarantine gets no connections: their packets are dropped.
        let listenAnswer = confined.attempt("listen").split(separator: " ")
        let confinedPort = try #require(listenAnswer.count == 2 ? UInt16(listenAnswer[1]) : nil)
        let droppedBefore = quarantine.droppedPackets
        #expect(!Self.connects(to: confinedPort, within: 300), "a connection reached a confined listener")
        #expect(quarantine.droppedPackets > droppedBefore)

        // A socket opened before confinement belongs to the cgroup it was created in, so it is not cut.
        #expect(confined.attempt("send") == "ok")
        var entry = pollfd(fd: held, events: Int16(POLLIN), revents: 0)
        #expect(poll(&entry, 1, 5000) == 1, "data on a connection opened before confinement did not arrive")

        try quarantine.release(handle)
        #expect(try Cgroup.of(pid: confined.pid, in: quarantine.cgroup.filesystem).path == origin)
        #expect(try quarantine.confinedProcesses() == [])
        #expect(confined.attempt("tcp4") == "ok")
        let unknown = #expect(throws: LinuxError.self) { try quarantine.release(handle) }
        #expect(unknown?.code == .notFound)
    }

    @Test("allowlisted prefixes stay reachable from the quarantine; closing detaches the programs")
    func allowlist() throws {
        try requireRoot("creating a cgroup and attaching BPF programs to it")
        let listener = try LoopbackListener()
        let quarantine = try Self.makeQuarantine(allow: [try #require(IPPrefix("127.0.0.1/32"))])
        let probe = try NetworkProbe(port: listener.port, holdPort: listener.port)
        defer {
            probe.stop()
            Self.remove(quarantine)
        }
        try quarantine.confine(try ProcessHandle(pid: probe.pid))
        #expect(probe.attempt("tcp4") == "ok")
        #expect(probe.attempt("udp4") == "ok")
        #expect(probe.attempt("tcp6") == "denied")
        try quarantine.allow(try #require(IPPrefix("::1/128")))
        #expect(probe.attempt("tcp6") == "error \(ECONNREFUSED)", "::1 is allowed now, and closed")
        #expect(quarantine.deniedConnections == 1)

        quarantine.close()
        #expect(quarantine.deniedConnections == 1, "the counters survive close")
        #expect(try quarantine.confinedProcesses() == [probe.pid])
        #expect(probe.attempt("tcp6") == "error \(ECONNREFUSED)", "still in the cgroup, but nothing filters")
        let closed = #expect(throws: LinuxError.self) { try quarantine.allow(try #require(IPPrefix("10.0.0.0/8"))) }
        #expect(closed?.code == .unsupported)
    }

    @Test("a second quarantine object reuses the same cgroup, and each counts only its own denials")
    func reuseCgroup() throws {
        try requireRoot("creating a cgroup and attaching BPF programs to it")
        let first = try Self.makeQuarantine()
        defer { Self.remove(first) }
        let second = try NetworkQuarantine(filesystem: first.cgroup.filesystem, path: first.cgroup.path)
        defer { second.close() }
        #expect(second.cgroup == first.cgroup)
        #expect(second.deniedConnections == 0)
    }
}

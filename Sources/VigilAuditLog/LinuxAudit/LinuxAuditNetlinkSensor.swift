import Synchronization
import VigilCore

#if canImport(Glibc)
    import Glibc
#endif

/// Why the audit netlink sensor could not start or stopped.
public struct LinuxAuditNetlinkError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The process lacks CAP_AUDIT_CONTROL / CAP_AUDIT_READ (EPERM), or runs outside the initial
        /// network or user namespace (ECONNREFUSED).
        public static let permissionDenied = Code("permission denied")
        /// Another process (auditd, go-audit…) is registered as the audit daemon.
        public static let anotherDaemon = Code("another audit daemon")
        /// The kernel was built without audit (`CONFIG_AUDIT`) or audit is disabled at boot (`audit=0`).
        public static let auditUnsupported = Code("audit unsupported")
        /// Audit is locked (`auditctl -e 2`): its settings cannot change until reboot.
        public static let locked = Code("audit locked")
        /// Any other failing system call.
        public static let systemCall = Code("system call failed")
        /// The failure kind's name.
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened and what to do.
    public var message: String
    /// The errno of the failing call, or 0.
    public var errno: Int32
    /// The failing call (`socket`, `AUDIT_SET`…), or empty.
    public var call: String

    /// Creates an error.
    public init(code: Code, message: String, errno: Int32 = 0, call: String = "") {
        self.code = code
        self.message = message
        self.errno = errno
        self.call = call
    }

    /// The message, with the call and errno when there are.
    public var description: String {
        guard !call.isEmpty else { return "linux audit netlink: \(message)" }
        let reason = String(cString: strerror(errno))
        return "linux audit netlink: \(call) failed: \(reason) (errno \(errno)): \(message)"
    }
}

/// Receives Linux audit records from the kernel over netlink (`NETLINK_AUDIT`), as auditd does, and turns
/// them into events with ``LinuxAuditParser``.
///
/// `run` registers the process as the audit daemon (`AUDIT_SET` with its pid, audit enabled), so the
/// kernel sends it every record instead of writing them to the kernel log; it needs root or
/// CAP_AUDIT_CONTROL, and no other audit daemon may be registered (stop auditd first). On return
/// (cancellation or error) it unregisters and restores the enabled flag it found. Audit rules are not
/// touched: add them with `auditctl` or keep the ones loaded.
///
/// The kernel is never blocked by Vigil: batches are pushed without waiting (``EventSink/push(_:)``) and
/// what the engine cannot take is dropped and counted by the sink. The socket receive buffer is enlarged
/// so that the kernel's own backlog (`auditctl -b`) is drained between reads; records the kernel itself
/// dropped show in `auditctl -s` as `lost`.
public final class LinuxAuditNetlinkSensor: Sensor {
    /// `linux-audit-netlink`.
    public let name: String
    /// Parser bounds and windows.
    public let configuration: LinuxAuditParser.Configuration
    /// Events per delivered batch at most.
    public let batchSize: Int
    /// The socket receive buffer asked for, in bytes.
    public let receiveBufferBytes: Int
    private let state = Mutex(State())

    private struct State {
        var statistics = LinuxAuditParser.Statistics()
        var registered = false
    }

    /// Creates a sensor; nothing is opened until ``run(into:)``.
    public init(
        configuration: LinuxAuditParser.Configuration = .init(), batchSize: Int = 512,
        receiveBufferBytes: Int = 8 << 20, name: String = "linux-audit-netlink"
    ) {
        self.configuration = configuration
        self.batchSize = max(1, batchSize)
        self.receiveBufferBytes = receiveBufferBytes
        self.name = name
    }

    /// What the parser counted in the current or last run.
    public var statistics: LinuxAuditParser.Statistics { state.withLock { $0.statistics } }

    /// Whether the sensor is registered with the kernel as the audit daemon right now.
    public var isRegistered: Bool { state.withLock { $0.registered } }

    /// Receives records into `sink` until cancelled; batches are pushed, never awaited.
    public func run(into sink: EventSink) async throws {
        try await run(symbols: sink.symbols) { batch in _ = sink.push(&batch) }
    }

    /// Receives records and hands each batch to `deliver` (which must not block) until cancelled; for
    /// hosts and tests that do not run an engine.
    public func run(
        symbols: SymbolTable, deliver: (inout EventBatch) -> Void
    ) async throws(LinuxAuditNetlinkError) {
        var socket = try AuditNetlinkSocket(receiveBufferBytes: receiveBufferBytes)
        defer { socket.close() }
        let before = try socket.status()
        if before.pid != 0, before.pid != UInt32(getpid()), kill(pid_t(before.pid), 0) == 0 || Glibc.errno == EPERM {
            throw LinuxAuditNetlinkError(
                code: .anotherDaemon,
                message: "process \(before.pid) (\(Self.command(of: before.pid))) is registered as the audit "
                    + "daemon; stop it (`systemctl stop auditd` or `kill \(before.pid)`) and retry")
        }
        if before.enabled == 2 {
            throw LinuxAuditNetlinkError(
                code: .locked,
                message: "audit is locked (enabled=2, `auditctl -e 2`); registration is refused until reboot")
        }
        try socket.setStatus(
            mask: AuditNetlinkSocket.statusPID | AuditNetlinkSocket.statusEnabled, enabled: 1,
            pid: UInt32(getpid()))
        state.withLock { $0.registered = true }
        defer {
            // Unregister, and put back the enabled flag found (a failure here is not worth hiding the result).
            var mask = AuditNetlinkSocket.statusPID
            if before.enabled != 1 { mask |= AuditNetlinkSocket.statusEnabled }
            try? socket.setStatus(mask: mask, enabled: before.enabled, pid: 0)
            state.withLock { $0.registered = false }
        }

        var parser = LinuxAuditParser(symbols: symbols, configuration: configuration)
        var batch = EventBatch(capacity: batchSize)
        var line: [UInt8] = []
        line.reserveCapacity(9_000)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
        defer { buffer.deallocate() }
        while !Task.isCancelled {
            var received = 0
            // Drain what is queued; stop at a bound so a flood still delivers batches.
            while received < 4_096 {
                let count = try socket.receive(into: buffer)
                if count == 0 { break }
                received += 1
                AuditNetlinkSocket.forEachMessage(in: UnsafeRawBufferPointer(rebasing: buffer[0..<count])) {
                    type, payload, _ in
                    guard type >= 1100 else { return }  // NLMSG_ERROR/DONE and replies to our requests
                    line.removeAll(keepingCapacity: true)
                    line.append(contentsOf: "type=".utf8)
                    line.append(contentsOf: AuditRecordType.name(of: type).utf8)
                    line.append(contentsOf: " msg=".utf8)
                    var end = payload.count
                    while end > 0, payload[end - 1] == 0 || payload[end - 1] == 0x0a { end -= 1 }
                    line.append(contentsOf: payload[0..<end])
                    line.withUnsafeBytes { parser.parse(line: $0, into: &batch) }
                    if batch.count >= batchSize {
                        deliver(&batch)
                        batch.removeAll()
                    }
                }
            }
            if received == 0 {
                // Quiet: the kernel sends an event's records together, so what is open is complete.
                parser.finish(into: &batch)
            }
            let statistics = parser.statistics
            state.withLock { $0.statistics = statistics }
            if !batch.isEmpty {
                deliver(&batch)
                batch.removeAll()
            }
            if received == 0 {
                // The receive buffer holds megabytes, so a short sleep loses nothing and frees the thread.
                do { try await Task.sleep(for: .milliseconds(10)) } catch { break }
            }
        }
        parser.finish(into: &batch)
        let statistics = parser.statistics
        state.withLock { $0.statistics = statistics }
        if !batch.isEmpty { deliver(&batch) }
    }

    /// The command name of `pid` from procfs, or `unknown`.
    static func command(of pid: UInt32) -> String {
        guard let file = fopen("/proc/\(pid)/comm", "r") else { return "unknown" }
        defer { fclose(file) }
        var bytes = [CChar](repeating: 0, count: 64)
        guard fgets(&bytes, 64, file) != nil else { return "unknown" }
        let name = String(decoding: bytes.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.hasSuffix("\n") ? String(name.dropLast()) : name
    }
}

/// A non-blocking `NETLINK_AUDIT` socket speaking the few requests the sensor needs.
struct AuditNetlinkSocket: ~Copyable {
    static let netlinkAudit: Int32 = 9
    static let auditGet: UInt16 = 1000
    static let auditSet: UInt16 = 1001
    static let statusEnabled: UInt32 = 0x1
    static let statusPID: UInt32 = 0x4
    static let messageError: UInt16 = 2
    static let flagRequest: UInt16 = 0x1
    static let flagAcknowledge: UInt16 = 0x4
    static let headerSize = 16

    /// The part of `struct audit_status` the sensor reads and writes (the kernel accepts a short one).
    struct Status {
        var enabled: UInt32
        var pid: UInt32
    }

    let descriptor: Int32
    private var sequence: UInt32 = 1

    init(receiveBufferBytes: Int) throws(LinuxAuditNetlinkError) {
        let descriptor = Glibc.socket(
            AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
            Self.netlinkAudit)
        guard descriptor >= 0 else {
            let error = Glibc.errno
            if error == EPROTONOSUPPORT || error == EAFNOSUPPORT {
                throw LinuxAuditNetlinkError(
                    code: .auditUnsupported,
                    message: "this kernel has no audit support (CONFIG_AUDIT); use a kernel built with it",
                    errno: error, call: "socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT)")
            }
            throw LinuxAuditNetlinkError(
                code: error == EPERM || error == EACCES ? .permissionDenied : .systemCall,
                message: "cannot open the audit netlink socket (run as root or grant CAP_AUDIT_CONTROL)",
                errno: error, call: "socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT)")
        }
        self.descriptor = descriptor
        // SO_RCVBUFFORCE passes the rmem_max limit with CAP_NET_ADMIN; SO_RCVBUF is the fallback.
        var size = Int32(clamping: receiveBufferBytes)
        let length = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &size, length) != 0 {
            _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, length)
        }
    }

    func close() {
        _ = Glibc.close(descriptor)
    }

    /// Reads the kernel's audit status (`AUDIT_GET`).
    mutating func status() throws(LinuxAuditNetlinkError) -> Status {
        let sent = try send(type: Self.auditGet, flags: Self.flagRequest, payload: [], call: "AUDIT_GET")
        var result: Status?
        try awaitReply(sequence: sent, call: "AUDIT_GET") { type, payload in
            guard type == Self.auditGet, payload.count >= 16 else { return false }
            result = Status(
                enabled: payload.loadUnaligned(fromByteOffset: 4, as: UInt32.self),
                pid: payload.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
            return true
        }
        guard let result else {
            throw LinuxAuditNetlinkError(
                code: .systemCall, message: "the kernel sent no audit status", call: "AUDIT_GET")
        }
        return result
    }

    /// Sets the enabled flag and/or the audit daemon pid (`AUDIT_SET`), waiting for the kernel's answer.
    mutating func setStatus(mask: UInt32, enabled: UInt32, pid: UInt32) throws(LinuxAuditNetlinkError) {
        var payload = [UInt8](repeating: 0, count: 40)
        payload.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: mask, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: enabled, toByteOffset: 4, as: UInt32.self)
            raw.storeBytes(of: pid, toByteOffset: 12, as: UInt32.self)
        }
        let sent = try send(
            type: Self.auditSet, flags: Self.flagRequest | Self.flagAcknowledge, payload: payload, call: "AUDIT_SET")
        try awaitReply(sequence: sent, call: "AUDIT_SET") { _, _ in false }
    }

    private mutating func send(
        type: UInt16, flags: UInt16, payload: [UInt8], call: String
    ) throws(LinuxAuditNetlinkError) -> UInt32 {
        let current = sequence
        sequence &+= 1
        var message = [UInt8](repeating: 0, count: Self.headerSize + payload.count)
        message.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(raw.count), toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: type, toByteOffset: 4, as: UInt16.self)
            raw.storeBytes(of: flags, toByteOffset: 6, as: UInt16.self)
            raw.storeBytes(of: current, toByteOffset: 8, as: UInt32.self)
        }
        message.replaceSubrange(Self.headerSize..., with: payload)
        // An unconnected netlink socket sends to the kernel (port 0).
        let result = message.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
        guard result == message.count else {
            throw Self.failure(Glibc.errno, call: call)
        }
        return current
    }

    /// Reads until the NLMSG_ERROR answering `sequence` (an error, or 0 for an acknowledgement) or until
    /// `reply` accepts a message; audit records arriving meanwhile are dropped (none are expected before
    /// registration, and after unregistration they are no longer wanted).
    private func awaitReply(
        sequence: UInt32, call: String, reply: (UInt16, UnsafeRawBufferPointer) -> Bool
    ) throws(LinuxAuditNetlinkError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
        defer { buffer.deallocate() }
        for _ in 0..<1_000 {
            var descriptorSet = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptorSet, 1, 5_000)
            if ready == 0 {
                throw LinuxAuditNetlinkError(
                    code: .systemCall, message: "the kernel did not answer within 5 s", call: call)
            }
            let count = try receive(into: buffer)
            if count == 0 { continue }
            var done = false
            var failure: Int32 = 0
            Self.forEachMessage(in: UnsafeRawBufferPointer(rebasing: buffer[0..<count])) {
                type, payload, messageSequence in
                guard messageSequence == sequence else { return }
                if type == Self.messageError, payload.count >= 4 {
                    failure = -payload.loadUnaligned(fromByteOffset: 0, as: Int32.self)
                    done = true
                } else if reply(type, payload) {
                    done = true
                }
            }
            if failure != 0 { throw Self.failure(failure, call: call) }
            if done { return }
        }
        throw LinuxAuditNetlinkError(code: .systemCall, message: "no answer from the kernel", call: call)
    }

    /// Receives one datagram; 0 when none is waiting.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(LinuxAuditNetlinkError) -> Int {
        while true {
            let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return count }
            let error = Glibc.errno
            if error == EINTR { continue }
            if error == EAGAIN || error == EWOULDBLOCK { return 0 }
            if error == ENOBUFS {
                // The socket overflowed: records were lost. Keep reading; the kernel counts them as lost.
                continue
            }
            throw Self.failure(error, call: "recv")
        }
    }

    /// Calls `body` with the type, payload and sequence number of each netlink message in `datagram`.
    static func forEachMessage(
        in datagram: UnsafeRawBufferPointer, _ body: (UInt16, UnsafeRawBufferPointer, UInt32) -> Void
    ) {
        var offset = 0
        while offset + headerSize <= datagram.count {
            let length = Int(datagram.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let type = datagram.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
            let messageSequence = datagram.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            // The audit subsystem sends each of its messages (types 1000 and up) in a datagram of its own and
            // sets nlmsg_len to the payload's length alone, so such a message runs to the end of the datagram.
            let isAudit = type >= 1000
            let end = isAudit ? datagram.count : min(datagram.count, offset + max(length, headerSize))
            body(type, UnsafeRawBufferPointer(rebasing: datagram[(offset + headerSize)..<end]), messageSequence)
            guard !isAudit, length >= headerSize else { break }
            offset += (length + 3) & ~3
        }
    }

    static func failure(_ error: Int32, call: String) -> LinuxAuditNetlinkError {
        switch error {
        case EPERM, EACCES:
            LinuxAuditNetlinkError(
                code: .permissionDenied,
                message: "the kernel refused (run as root or grant CAP_AUDIT_CONTROL, in the initial namespaces)",
                errno: error, call: call)
        case ECONNREFUSED:
            LinuxAuditNetlinkError(
                code: .permissionDenied,
                message: "audit is only available in the initial user and network namespace; run on the host",
                errno: error, call: call)
        case EEXIST:
            LinuxAuditNetlinkError(
                code: .anotherDaemon,
                message: "another audit daemon is registered; stop it (`systemctl stop auditd`) and retry",
                errno: error, call: call)
        default:
            LinuxAuditNetlinkError(
                code: .systemCall, message: "audit netlink request failed", errno: error, call: call)
        }
    }
}

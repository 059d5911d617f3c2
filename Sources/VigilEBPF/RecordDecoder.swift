import CVigilEBPF
import VigilCore
import VigilLinux

/// Turns the kernel programs' records (`struct vigil_bpf_record`, see vigil_bpf_events.h) into events,
/// keeping the process cache current and resolving each record's workload.
///
/// Used by one thread only (the sensor's reader). A record that is shorter than it claims, or whose string
/// lengths run past its end, is counted as malformed and skipped.
struct RecordDecoder {
    /// Counts of what the decoder could not use.
    struct Skips: Sendable, Equatable {
        /// Records shorter than their fixed part, or with strings past their end.
        var malformed: UInt64 = 0
        /// Kinds this decoder does not know (a newer kernel program).
        var unknownKind: UInt64 = 0
        /// Payloads sent to port 53 that are not a DNS query.
        var notDNS: UInt64 = 0
    }

    let symbols: SymbolTable
    /// Unix-epoch nanoseconds minus boot-time nanoseconds: record times are boot times.
    let bootOffset: Int64
    var processes: ProcessCache
    var workloads: WorkloadResolver
    private(set) var skips = Skips()
    /// `process.snapshot` events for seeded processes the next event needs as ancestry; the reader hands
    /// them to the engine before that event.
    var snapshots = ContiguousArray<Event>()

    /// The x86_64 audit architecture, for syscall numbers.
    static let architecture: UInt32 = 0xC000_003E

    private static let headerSize = MemoryLayout<vigil_bpf_header>.size
    private static let syscallOffset = MemoryLayout<vigil_bpf_record>.offset(of: \vigil_bpf_record.syscall)!
    private static let socketOffset = MemoryLayout<vigil_bpf_record>.offset(of: \vigil_bpf_record.socket)!
    private static let lengthsOffset = MemoryLayout<vigil_bpf_record>.offset(of: \vigil_bpf_record.string_lengths)!
    private static let stringsOffset = MemoryLayout<vigil_bpf_record>.offset(of: \vigil_bpf_record.strings)!
    private static let stringMaximum = Int(VIGIL_STRING_MAX)

    init(symbols: SymbolTable, bootOffset: Int64, processes: ProcessCache, workloads: WorkloadResolver) {
        self.symbols = symbols
        self.bootOffset = bootOffset
        self.processes = processes
        self.workloads = workloads
    }

    /// A decoded record: its event (nil when the record carries none), and whether records were lost on
    /// its CPU just before it.
    struct Decoded {
        var event: Event?
        var lostBefore: Bool
    }

    /// Decodes one record.
    mutating func decode(_ bytes: UnsafeRawBufferPointer) -> Decoded {
        guard bytes.count >= Self.stringsOffset else {
            skips.malformed += 1
            return Decoded(event: nil, lostBefore: false)
        }
        let header = bytes.loadUnaligned(fromByteOffset: 0, as: vigil_bpf_header.self)
        let call = bytes.loadUnaligned(fromByteOffset: Self.syscallOffset, as: vigil_bpf_syscall.self)
        let lengths = bytes.loadUnaligned(fromByteOffset: Self.lengthsOffset, as: (UInt16, UInt16, UInt16, UInt16).self)
        let lostBefore = header.flags & UInt16(VIGIL_FLAG_LOST_BEFORE.rawValue) != 0
        var strings = Strings(bytes: bytes, lengths: lengths)
        guard strings.valid else {
            skips.malformed += 1
            return Decoded(event: nil, lostBefore: lostBefore)
        }
        guard let kind = EventKind(rawValue: UInt8(truncatingIfNeeded: header.kind)) else {
            skips.unknownKind += 1
            return Decoded(event: nil, lostBefore: lostBefore)
        }
        let process = ProcessKey(
            pid: Int32(bitPattern: header.pid), startTime: ProcFS.roundedStartTime(header.start_time))
        let parent = ProcessKey(
            pid: Int32(bitPattern: header.ppid), startTime: ProcFS.roundedStartTime(header.parent_start_time))
        let result = Int32(truncatingIfNeeded: call.result)
        let arguments = Arguments(call.arguments)
        // An exec belongs to the image that asked for it: on the host, where a workload is one executable,
        // "nginx ran /bin/sh" is news for nginx's profile.
        let executableBefore = processes[process]?.executable ?? .none
        let fields: EventFields
        switch kind {
        case .processExec:
            let executable = strings.symbol(0, symbols)
            let argumentList = strings.arguments(1, symbols)
            let workingDirectory = strings.symbol(2, symbols)
            processes.exec(
                process, parent: parent, executable: executable, arguments: argumentList,
                workingDirectory: workingDirectory, uid: header.uid, cgroup: header.cgroup_id)
            fields = .process(
                ProcessFields(
                    parent: parent, executable: executable, arguments: argumentList,
                    workingDirectory: workingDirectory, effectiveUID: header.euid, gid: header.gid,
                    argumentsTruncated: header.flags & UInt16(VIGIL_FLAG_TRUNCATED.rawValue) != 0,
                    fileName: strings.symbol(3, symbols), mountNamespace: header.mount_namespace))
        case .processFork:
            // The child runs its parent's image until it execs.
            let inherited = processes[parent]
            processes.insert(
                process,
                ProcessCache.Entry(
                    parent: parent, executable: inherited?.executable ?? .none,
                    arguments: inherited?.arguments ?? .none,
                    workingDirectory: inherited?.workingDirectory ?? .none, uid: header.uid, cgroup: header.cgroup_id))
            fields = .process(
                ProcessFields(
                    parent: parent, executable: inherited?.executable ?? .none,
                    arguments: inherited?.arguments ?? .none,
                    effectiveUID: header.euid, gid: header.gid))
        case .processExit:
            let known = processes[process]
            processes.exit(process)
            fields = .process(
                ProcessFields(
                    parent: parent, executable: known?.executable ?? .none, effectiveUID: header.euid, gid: header.gid,
                    exitStatus: call.exit_code))
        case .fileOpen, .fileUnlink, .fileRename, .fileLink, .fileSymlink, .fileChmod:
            fields = .file(fileFields(kind, number: call.number, arguments, call.details, result, &strings))
        case .networkConnect, .networkAccept, .networkBind, .networkListen:
            let socket = bytes.loadUnaligned(fromByteOffset: Self.socketOffset, as: vigil_bpf_socket.self)
            fields = .network(
                NetworkFields(
                    transport: Self.transport(socket), local: Self.local(socket), remote: Self.remote(socket),
                    result: result))
        case .networkSocket:
            let socket = bytes.loadUnaligned(fromByteOffset: Self.socketOffset, as: vigil_bpf_socket.self)
            // A raw socket's local address is its family's unspecified address (what it is bound to until it
            // binds); a packet socket has none. The descriptor on success is of no use later: the result is 0,
            // or -errno (a sniffer without CAP_NET_RAW).
            let local: SocketAddress =
                switch socket.family {
                case Self.packetFamily: .none
                case Self.inet6Family: SocketAddress(address: IPAddress(v6: [UInt8](repeating: 0, count: 16)), port: 0)
                default: SocketAddress(address: IPAddress(v4: 0, 0, 0, 0), port: 0)
                }
            fields = .network(
                NetworkFields(
                    transport: socket.family == Self.packetFamily ? .packet : .raw, local: local, result: min(result, 0)
                ))
        case .dnsQuery:
            let socket = bytes.loadUnaligned(fromByteOffset: Self.socketOffset, as: vigil_bpf_socket.self)
            guard let query = strings.withBytes(0, { DNSQuery(message: $0) }) else {
                skips.notDNS += 1
                return Decoded(event: nil, lostBefore: lostBefore)
            }
            fields = .dns(
                DNSFields(name: symbols.intern(query.name), queryType: query.type, server: Self.remote(socket)))
        case .ptrace:
            let targetPID = Int32(truncatingIfNeeded: arguments[1])
            fields = .ptrace(
                PtraceFields(
                    request: Int32(truncatingIfNeeded: arguments[0]),
                    target: processes.latest(pid: targetPID) ?? ProcessKey(pid: targetPID, startTime: 0), result: result
                ))
        case .moduleLoad:
            let fromFile = call.number == Syscall.finitModule
            // init_module passes the image in memory: only its parameters are there to name it by.
            let name = fromFile ? strings.symbol(0, symbols) : symbols.intern("init_module:" + strings.string(1))
            fields = .module(ModuleFields(name: name, fromFile: fromFile, result: result))
        case .mount:
            fields = .namespace(
                NamespaceFields(
                    flags: arguments[3], source: strings.symbol(0, symbols), target: strings.symbol(1, symbols),
                    filesystem: strings.symbol(2, symbols), result: result))
        case .unshare:
            fields = .namespace(NamespaceFields(flags: arguments[0], result: result))
        case .setns:
            // The namespace joined, named as /proc/PID/ns links name it: "net:[4026531840]".
            let type = strings.string(0)
            let source = type.isEmpty ? Symbol.none : symbols.intern("\(type):[\(call.details.0)]")
            fields = .namespace(NamespaceFields(flags: arguments[1], source: source, result: result))
        case .memfdCreate:
            fields = .memfd(
                MemfdFields(
                    name: strings.symbol(0, symbols), flags: UInt32(truncatingIfNeeded: arguments[1]), result: result))
        case .bpf:
            let command = Int32(truncatingIfNeeded: arguments[0])
            fields = .bpf(
                BPFFields(
                    command: command, programType: command == 5 ? UInt32(truncatingIfNeeded: call.details.0) : 0,
                    name: strings.symbol(0, symbols), result: result))
        case .credentialChange:
            guard let credentials = Self.credentials(call.number, arguments, call.details.0, result) else {
                skips.unknownKind += 1
                return Decoded(event: nil, lostBefore: lostBefore)
            }
            fields = .credentials(credentials)
        default:
            skips.unknownKind += 1
            return Decoded(event: nil, lostBefore: lostBefore)
        }
        announceSeeded(process, time: bootOffset &+ Int64(bitPattern: header.time))
        if kind == .processExec || kind == .processFork {
            announceSeeded(parent, time: bootOffset &+ Int64(bitPattern: header.time))
        }
        let executable = kind == .processExec ? executableBefore : (processes[process]?.executable ?? .none)
        let resolution = workloads.resolve(cgroup: header.cgroup_id, executable: executable)
        let event = Event(
            time: bootOffset &+ Int64(bitPattern: header.time), kind: kind, process: process,
            workload: resolution.workload, container: resolution.container, uid: header.uid,
            executable: processes[process]?.executable ?? .none, fields: fields)
        return Decoded(event: event, lostBefore: lostBefore)
    }

    /// Tells the engine about seeded processes in `key`'s ancestry the first time an event needs them.
    private mutating func announceSeeded(_ key: ProcessKey, time: Int64) {
        for ancestor in processes.unannouncedAncestry(of: key) {
            guard let entry = processes[ancestor] else { continue }
            let resolution = workloads.resolve(cgroup: entry.cgroup, executable: entry.executable)
            snapshots.append(
                Event(
                    time: time, kind: .processSnapshot, process: ancestor, workload: resolution.workload,
                    container: resolution.container, uid: entry.uid, executable: entry.executable,
                    fields: .process(
                        ProcessFields(
                            parent: entry.parent, executable: entry.executable, arguments: entry.arguments,
                            workingDirectory: entry.workingDirectory))))
        }
    }

    // MARK: Kinds

    /// x86_64 syscall numbers the decoder tells apart.
    enum Syscall {
        static let open: Int32 = 2
        static let creat: Int32 = 85
        static let openat: Int32 = 257
        static let openat2: Int32 = 437
        static let chmod: Int32 = 90
        static let fchmodat: Int32 = 268
        static let fchmodat2: Int32 = 452
        static let unlinkat: Int32 = 263
        static let finitModule: Int32 = 313
        static let setuid: Int32 = 105
        static let setgid: Int32 = 106
        static let setreuid: Int32 = 113
        static let setregid: Int32 = 114
        static let setgroups: Int32 = 116
        static let setresuid: Int32 = 117
        static let setresgid: Int32 = 119
        static let setfsuid: Int32 = 122
        static let setfsgid: Int32 = 123
        static let capset: Int32 = 126
    }

    private mutating func fileFields(
        _ kind: EventKind, number: Int32, _ arguments: Arguments, _ details: (UInt64, UInt64), _ result: Int32,
        _ strings: inout Strings
    ) -> FileFields {
        // Relative paths are joined to the directory the kernel program walked for them (cwd or dirfd).
        let path = strings.joinedPath(path: 0, base: 1, symbols)
        let target = strings.joinedPath(path: 2, base: 3, symbols)
        var flags: UInt64 = 0
        var mode: UInt64 = 0
        switch number {
        case Syscall.open: (flags, mode) = (arguments[1], arguments[2])
        case Syscall.openat: (flags, mode) = (arguments[2], arguments[3])
        case Syscall.openat2, Syscall.creat: (flags, mode) = details
        case Syscall.chmod: mode = arguments[1]
        case Syscall.fchmodat, Syscall.fchmodat2: mode = arguments[2]
        case Syscall.unlinkat: flags = arguments[2]
        default: break
        }
        if kind == .fileSymlink {
            // For a symlink the event's path is what the link points at, and the target the link itself.
            return FileFields(path: strings.symbol(0, symbols), target: target, result: result)
        }
        return FileFields(
            path: path, target: target, flags: UInt32(truncatingIfNeeded: flags),
            mode: UInt32(truncatingIfNeeded: mode),
            result: result)
    }

    /// Credential syscalls: the operation, and which arguments hold the new real and effective ids (nil: not
    /// changed by this call).
    private static let credentialCalls: [Int32: (CredentialOperation, real: Int?, effective: Int?)] = [
        Syscall.setuid: (.setuid, 0, 0), Syscall.setgid: (.setgid, 0, 0),
        Syscall.setreuid: (.setreuid, 0, 1), Syscall.setregid: (.setregid, 0, 1),
        Syscall.setresuid: (.setresuid, 0, 1), Syscall.setresgid: (.setresgid, 0, 1),
        Syscall.setfsuid: (.setfsuid, nil, 0), Syscall.setfsgid: (.setfsgid, nil, 0),
        Syscall.setgroups: (.setgroups, nil, nil), Syscall.capset: (.capset, nil, nil),
    ]

    private static func credentials(
        _ number: Int32, _ arguments: Arguments, _ capabilities: UInt64, _ result: Int32
    ) -> CredentialFields? {
        guard let (operation, real, effective) = credentialCalls[number] else { return nil }
        // An id of -1 leaves that id unchanged.
        func id(_ argument: Int?) -> UInt32 {
            guard let argument else { return Event.unknownUID }
            let id = UInt32(truncatingIfNeeded: arguments[argument])
            return id == UInt32.max ? Event.unknownUID : id
        }
        return CredentialFields(
            operation: operation, newID: id(real), newEffectiveID: id(effective),
            capabilities: operation == .capset ? capabilities : 0, result: result)
    }

    // MARK: Sockets

    /// AF_PACKET and AF_INET6.
    private static let packetFamily: UInt16 = 17
    private static let inet6Family: UInt16 = 10

    private static func transport(_ socket: vigil_bpf_socket) -> TransportProtocol {
        switch socket.protocol {
        case 6: return .tcp
        case 17: return .udp
        case 255: return .raw
        default: return socket.type == 3 ? .raw : .unknown  // SOCK_RAW
        }
    }

    private static func address(
        _ bytes: (
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
            UInt8
        ), family: UInt16
    ) -> IPAddress {
        switch family {
        case 2: return IPAddress(v4: bytes.0, bytes.1, bytes.2, bytes.3)
        case 10:
            return withUnsafeBytes(of: bytes) { IPAddress(v6: $0) }
        default: return .none
        }
    }

    private static func local(_ socket: vigil_bpf_socket) -> SocketAddress {
        SocketAddress(address: address(socket.local_address, family: socket.family), port: socket.local_port)
    }

    private static func remote(_ socket: vigil_bpf_socket) -> SocketAddress {
        SocketAddress(address: address(socket.remote_address, family: socket.family), port: socket.remote_port)
    }
}

/// A syscall's six arguments, read without copying them into an array.
struct Arguments {
    private let values: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    init(_ values: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)) { self.values = values }

    subscript(index: Int) -> UInt64 {
        withUnsafeBytes(of: values) { $0.load(fromByteOffset: index * 8, as: UInt64.self) }
    }
}

/// The string slots of one record.
struct Strings {
    typealias Lengths = (UInt16, UInt16, UInt16, UInt16)
    private let bytes: UnsafeRawBufferPointer
    private let lengthValues: Lengths
    private static let stringsOffset = MemoryLayout<vigil_bpf_record>.offset(of: \vigil_bpf_record.strings)!
    private static let slotSize = Int(VIGIL_STRING_MAX)

    init(bytes: UnsafeRawBufferPointer, lengths: Lengths) {
        self.bytes = bytes
        self.lengthValues = lengths
    }

    private var lengths: Slots { Slots(values: lengthValues) }

    struct Slots {
        var values: Lengths
        var indices: Range<Int> { 0..<4 }
        subscript(slot: Int) -> UInt16 {
            withUnsafeBytes(of: values) { $0.load(fromByteOffset: slot * 2, as: UInt16.self) }
        }
    }

    /// Whether every slot lies inside the record and within its bound.
    var valid: Bool {
        for slot in lengths.indices where lengths[slot] > 0 {
            let length = Int(lengths[slot])
            if length > Self.slotSize || Self.stringsOffset + slot * Self.slotSize + length > bytes.count {
                return false
            }
        }
        return true
    }

    /// The slot's bytes without trailing NULs.
    func withBytes<Result>(_ slot: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        let start = Self.stringsOffset + slot * Self.slotSize
        var length = Int(lengths[slot])
        while length > 0 && bytes[start + length - 1] == 0 { length -= 1 }
        return body(UnsafeRawBufferPointer(rebasing: bytes[start..<start + length]))
    }

    func string(_ slot: Int) -> String {
        withBytes(slot) { String(decoding: $0, as: UTF8.self) }
    }

    func symbol(_ slot: Int, _ symbols: SymbolTable) -> Symbol {
        lengths[slot] == 0 ? .none : symbols.intern(string(slot))
    }

    /// An exec's arguments as `/proc/PID/cmdline` holds them: each followed by a NUL.
    func arguments(_ slot: Int, _ symbols: SymbolTable) -> Symbol {
        guard lengths[slot] > 0 else { return .none }
        var text = string(slot)
        text.append("\0")
        return symbols.intern(text)
    }

    /// A path slot, joined to its base directory slot when it is relative, with `.` and `..` resolved.
    func joinedPath(path: Int, base: Int, _ symbols: SymbolTable) -> Symbol {
        guard lengths[path] > 0 else { return .none }
        let relative = string(path)
        if relative.hasPrefix("/") || lengths[base] == 0 { return symbols.intern(relative) }
        return symbols.intern(PathJoin.join(string(base), relative))
    }
}

/// Joins a directory and a relative path lexically, as the kernel resolved it when no symlink intervenes.
enum PathJoin {
    static func join(_ directory: String, _ relative: String) -> String {
        var parts: [Substring] = []
        for component in (directory + "/" + relative).split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(component)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}

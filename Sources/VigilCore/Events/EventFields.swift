/// The kind-specific fields of an ``Event``. Each ``EventKind`` uses exactly one case
/// (``EventKind/fieldGroup``); every case's payload is trivially copyable.
@frozen
public enum EventFields: Sendable, BitwiseCopyable, Equatable {
    /// `process.exec`, `process.exit`, `process.fork`.
    case process(ProcessFields)
    /// `file.*`.
    case file(FileFields)
    /// `network.connect`, `network.accept`, `network.bind`, `network.listen`.
    case network(NetworkFields)
    /// `network.dns_query`.
    case dns(DNSFields)
    /// `syscall`.
    case syscall(SyscallFields)
    /// `capability`.
    case capability(CapabilityFields)
    /// `ptrace`.
    case ptrace(PtraceFields)
    /// `module.load`.
    case module(ModuleFields)
    /// `namespace.mount`, `namespace.unshare`, `namespace.setns`.
    case namespace(NamespaceFields)
    /// `memfd.create`.
    case memfd(MemfdFields)
    /// `bpf`.
    case bpf(BPFFields)
    /// `credentials.change`.
    case credentials(CredentialFields)
    /// `audit.record`.
    case audit(AuditFields)
    /// `cloud.api_call`.
    case cloud(CloudFields)
    /// `k8s.request`.
    case kubernetes(KubernetesFields)
    /// `http.request`.
    case http(HTTPFields)

    /// Names the cases, for matching a kind to its payload without a value.
    public enum Group: String, Sendable, CaseIterable {
        /// ``ProcessFields``.
        case process
        /// ``FileFields``.
        case file
        /// ``NetworkFields``.
        case network
        /// ``DNSFields``.
        case dns
        /// ``SyscallFields``.
        case syscall
        /// ``CapabilityFields``.
        case capability
        /// ``PtraceFields``.
        case ptrace
        /// ``ModuleFields``.
        case module
        /// ``NamespaceFields``.
        case namespace
        /// ``MemfdFields``.
        case memfd
        /// ``BPFFields``.
        case bpf
        /// ``CredentialFields``.
        case credentials
        /// ``AuditFields``.
        case audit
        /// ``CloudFields``.
        case cloud
        /// ``KubernetesFields``.
        case kubernetes
        /// ``HTTPFields``.
        case http
    }

    /// Which case this is.
    public var group: Group {
        switch self {
        case .process: return .process
        case .file: return .file
        case .network: return .network
        case .dns: return .dns
        case .syscall: return .syscall
        case .capability: return .capability
        case .ptrace: return .ptrace
        case .module: return .module
        case .namespace: return .namespace
        case .memfd: return .memfd
        case .bpf: return .bpf
        case .credentials: return .credentials
        case .audit: return .audit
        case .cloud: return .cloud
        case .kubernetes: return .kubernetes
        case .http: return .http
        }
    }
}

/// Fields of process events. For `process.fork` the event's process is the child and ``parent`` the parent.
@frozen
public struct ProcessFields: Sendable, BitwiseCopyable, Equatable {
    /// The parent process.
    public var parent: ProcessKey
    /// The executable's full path.
    public var executable: Symbol
    /// The arguments, `argv[0]` first, each followed by a NUL byte (as in `/proc/PID/cmdline`); see
    /// ``ArgumentList``.
    public var arguments: Symbol
    /// The working directory.
    public var workingDirectory: Symbol
    /// The effective user id, or ``Event/unknownUID``.
    public var effectiveUID: UInt32
    /// The group id, or ``Event/unknownUID``.
    public var gid: UInt32
    /// The exit status for `process.exit` (the `wait` status: code in bits 8–15, signal in 0–6).
    public var exitStatus: Int32
    /// Whether the sensor cut the arguments at its bound.
    public var argumentsTruncated: Bool
    /// The file name given to `execve` as the caller wrote it (`./run.sh`; for a script the executable is its
    /// interpreter), or none.
    public var fileName: Symbol
    /// The inode number of the process's mount namespace, or 0 when unknown: a container's processes share
    /// one that is not the host's.
    public var mountNamespace: UInt32

    /// Creates process fields.
    public init(
        parent: ProcessKey = .none,
        executable: Symbol = .none,
        arguments: Symbol = .none,
        workingDirectory: Symbol = .none,
        effectiveUID: UInt32 = Event.unknownUID,
        gid: UInt32 = Event.unknownUID,
        exitStatus: Int32 = 0,
        argumentsTruncated: Bool = false,
        fileName: Symbol = .none,
        mountNamespace: UInt32 = 0
    ) {
        self.fileName = fileName
        self.mountNamespace = mountNamespace
        self.parent = parent
        self.executable = executable
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.effectiveUID = effectiveUID
        self.gid = gid
        self.exitStatus = exitStatus
        self.argumentsTruncated = argumentsTruncated
    }
}

/// Fields of file events.
@frozen
public struct FileFields: Sendable, BitwiseCopyable, Equatable {
    /// The file's full path (for `file.symlink`, what the link points at).
    public var path: Symbol
    /// The second path: the new name of a rename or link, the link itself for a symlink.
    public var target: Symbol
    /// `open` flags (`O_RDONLY`, `O_WRONLY|O_CREAT`, ...), as the kernel reports them.
    public var flags: UInt32
    /// The mode of `chmod` or of a created file.
    public var mode: UInt32
    /// The syscall's result: a file descriptor or 0 on success, `-errno` on failure.
    public var result: Int32

    /// Creates file fields.
    public init(path: Symbol, target: Symbol = .none, flags: UInt32 = 0, mode: UInt32 = 0, result: Int32 = 0) {
        self.path = path
        self.target = target
        self.flags = flags
        self.mode = mode
        self.result = result
    }
}

/// Transport protocols of network events.
public enum TransportProtocol: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    /// Unknown or not applicable.
    case unknown = 0
    /// TCP.
    case tcp = 6
    /// UDP.
    case udp = 17
    /// Packet sockets (`AF_PACKET`): whole link-layer frames.
    case packet = 254
    /// Raw IP sockets.
    case raw = 255

    /// `tcp`, `udp`, `packet`, `raw` or `unknown`.
    public var name: String {
        switch self {
        case .unknown: return "unknown"
        case .tcp: return "tcp"
        case .udp: return "udp"
        case .packet: return "packet"
        case .raw: return "raw"
        }
    }

    /// The protocol with the given name.
    public init?(name: String) {
        guard let value = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = value
    }
}

/// Fields of connect, accept, bind, listen and socket events.
@frozen
public struct NetworkFields: Sendable, BitwiseCopyable, Equatable {
    /// The transport protocol.
    public var transport: TransportProtocol
    /// The local address and port.
    public var local: SocketAddress
    /// The remote address and port (the destination of a connect, the client of an accept).
    public var remote: SocketAddress
    /// 0 on success, `-errno` on failure (`-EINPROGRESS` for a non-blocking connect in progress).
    public var result: Int32

    /// Creates network fields.
    public init(
        transport: TransportProtocol,
        local: SocketAddress = .none,
        remote: SocketAddress = .none,
        result: Int32 = 0
    ) {
        self.transport = transport
        self.local = local
        self.remote = remote
        self.result = result
    }
}

/// Fields of DNS query events.
@frozen
public struct DNSFields: Sendable, BitwiseCopyable, Equatable {
    /// The queried name, without the trailing dot.
    public var name: Symbol
    /// The query type (1 = A, 28 = AAAA, 16 = TXT, ...).
    public var queryType: UInt16
    /// The resolver the query went to.
    public var server: SocketAddress

    /// Creates DNS fields.
    public init(name: Symbol, queryType: UInt16, server: SocketAddress = .none) {
        self.name = name
        self.queryType = queryType
        self.server = server
    }
}

/// Fields of syscall-use events.
@frozen
public struct SyscallFields: Sendable, BitwiseCopyable, Equatable {
    /// The syscall number for the event's architecture.
    public var number: Int32
    /// The audit architecture (`AUDIT_ARCH_X86_64` = 0xc000003e, `AUDIT_ARCH_AARCH64` = 0xc00000b7), or 0.
    public var architecture: UInt32
    /// How many calls this event stands for (usage is aggregated in the kernel).
    public var count: UInt32

    /// Creates syscall fields.
    public init(number: Int32, architecture: UInt32 = 0, count: UInt32 = 1) {
        self.number = number
        self.architecture = architecture
        self.count = count
    }
}

/// Fields of capability events.
@frozen
public struct CapabilityFields: Sendable, BitwiseCopyable, Equatable {
    /// The capability number (`CAP_SYS_ADMIN` = 21, ...).
    public var capability: UInt8
    /// 0 when granted, `-EPERM` when denied.
    public var result: Int32

    /// Creates capability fields.
    public init(capability: UInt8, result: Int32 = 0) {
        self.capability = capability
        self.result = result
    }
}

/// Fields of ptrace events.
@frozen
public struct PtraceFields: Sendable, BitwiseCopyable, Equatable {
    /// The request (`PTRACE_ATTACH` = 16, `PTRACE_SEIZE` = 0x4206, `PTRACE_POKETEXT` = 4, ...).
    public var request: Int32
    /// The traced process.
    public var target: ProcessKey
    /// 0 on success, `-errno` on failure.
    public var result: Int32

    /// Creates ptrace fields.
    public init(request: Int32, target: ProcessKey, result: Int32 = 0) {
        self.request = request
        self.target = target
        self.result = result
    }
}

/// Fields of kernel-module load events.
@frozen
public struct ModuleFields: Sendable, BitwiseCopyable, Equatable {
    /// The module's name or file path.
    public var name: Symbol
    /// Whether the module came from a file descriptor (`finit_module`) rather than memory (`init_module`).
    public var fromFile: Bool
    /// 0 on success, `-errno` on failure.
    public var result: Int32

    /// Creates module fields.
    public init(name: Symbol, fromFile: Bool, result: Int32 = 0) {
        self.name = name
        self.fromFile = fromFile
        self.result = result
    }
}

/// Fields of mount, unshare and setns events.
@frozen
public struct NamespaceFields: Sendable, BitwiseCopyable, Equatable {
    /// `CLONE_*` flags for unshare and setns, `MS_*` flags for mount.
    public var flags: UInt64
    /// The mount source, or the namespace file joined by setns.
    public var source: Symbol
    /// The mount point.
    public var target: Symbol
    /// The filesystem type of a mount.
    public var filesystem: Symbol
    /// 0 on success, `-errno` on failure.
    public var result: Int32

    /// Creates namespace fields.
    public init(
        flags: UInt64,
        source: Symbol = .none,
        target: Symbol = .none,
        filesystem: Symbol = .none,
        result: Int32 = 0
    ) {
        self.flags = flags
        self.source = source
        self.target = target
        self.filesystem = filesystem
        self.result = result
    }
}

/// Fields of memfd_create events.
@frozen
public struct MemfdFields: Sendable, BitwiseCopyable, Equatable {
    /// The name given to the memory file.
    public var name: Symbol
    /// `MFD_*` flags.
    public var flags: UInt32
    /// The new file descriptor, or `-errno`.
    public var result: Int32

    /// Creates memfd fields.
    public init(name: Symbol, flags: UInt32 = 0, result: Int32 = 0) {
        self.name = name
        self.flags = flags
        self.result = result
    }
}

/// Fields of bpf() events.
@frozen
public struct BPFFields: Sendable, BitwiseCopyable, Equatable {
    /// The command (`BPF_PROG_LOAD` = 5, `BPF_MAP_CREATE` = 0, ...).
    public var command: Int32
    /// The program type for `BPF_PROG_LOAD`, else 0.
    public var programType: UInt32
    /// The program or map name, where given.
    public var name: Symbol
    /// The result: a file descriptor, 0, or `-errno`.
    public var result: Int32

    /// Creates bpf fields.
    public init(command: Int32, programType: UInt32 = 0, name: Symbol = .none, result: Int32 = 0) {
        self.command = command
        self.programType = programType
        self.name = name
        self.result = result
    }
}

/// Which credential change a `credentials.change` event records.
public enum CredentialOperation: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    /// `setuid`.
    case setuid = 1
    /// `setgid`.
    case setgid
    /// `setreuid`.
    case setreuid
    /// `setregid`.
    case setregid
    /// `setresuid`.
    case setresuid
    /// `setresgid`.
    case setresgid
    /// `setfsuid`.
    case setfsuid
    /// `setfsgid`.
    case setfsgid
    /// `capset`.
    case capset
    /// `setgroups`.
    case setgroups

    /// The syscall's name.
    public var name: String { String(describing: self) }

    /// The operation with the given syscall name.
    public init?(name: String) {
        guard let value = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = value
    }
}

/// Fields of credential-change events.
@frozen
public struct CredentialFields: Sendable, BitwiseCopyable, Equatable {
    /// The syscall.
    public var operation: CredentialOperation
    /// The new real id (uid or gid), or ``Event/unknownUID``.
    public var newID: UInt32
    /// The new effective id, or ``Event/unknownUID``.
    public var newEffectiveID: UInt32
    /// The new effective capability set for `capset`.
    public var capabilities: UInt64
    /// 0 on success, `-errno` on failure.
    public var result: Int32

    /// Creates credential fields.
    public init(
        operation: CredentialOperation,
        newID: UInt32 = Event.unknownUID,
        newEffectiveID: UInt32 = Event.unknownUID,
        capabilities: UInt64 = 0,
        result: Int32 = 0
    ) {
        self.operation = operation
        self.newID = newID
        self.newEffectiveID = newEffectiveID
        self.capabilities = capabilities
        self.result = result
    }
}

/// Fields of Linux audit records that map to no more specific kind.
@frozen
public struct AuditFields: Sendable, BitwiseCopyable, Equatable {
    /// The record type (`SYSCALL` = 1300, `USER_LOGIN` = 1112, ...).
    public var recordType: UInt16
    /// The audit event serial number.
    public var serial: UInt64
    /// The syscall number for SYSCALL records, else -1.
    public var syscall: Int32
    /// Whether the audited operation succeeded.
    public var success: Bool
    /// The login uid (`auid`), or ``Event/unknownUID``.
    public var loginUID: UInt32
    /// The login session id, or ``Event/unknownUID``.
    public var session: UInt32
    /// The audit rule key (`key=`), if any.
    public var key: Symbol
    /// The record's message or the operation it names (`op=`, `msg=`).
    public var message: Symbol

    /// Creates audit fields.
    public init(
        recordType: UInt16,
        serial: UInt64,
        syscall: Int32 = -1,
        success: Bool = true,
        loginUID: UInt32 = Event.unknownUID,
        session: UInt32 = Event.unknownUID,
        key: Symbol = .none,
        message: Symbol = .none
    ) {
        self.recordType = recordType
        self.serial = serial
        self.syscall = syscall
        self.success = success
        self.loginUID = loginUID
        self.session = session
        self.key = key
        self.message = message
    }
}

/// Cloud providers.
public enum CloudProvider: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    /// Unknown.
    case unknown = 0
    /// Amazon Web Services.
    case aws
    /// Google Cloud.
    case gcp
    /// Microsoft Azure.
    case azure

    /// `aws`, `gcp`, `azure` or `unknown`.
    public var name: String { String(describing: self) }

    /// The provider with the given name.
    public init?(name: String) {
        guard let value = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = value
    }
}

/// Fields of cloud control-plane API calls. The caller is the event's ``Event/principal``.
@frozen
public struct CloudFields: Sendable, BitwiseCopyable, Equatable {
    /// Flags of a cloud call.
    public struct Flags: OptionSet, Sendable, BitwiseCopyable, Hashable {
        /// The flag bits.
        public var rawValue: UInt8
        /// Flags from their bits.
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// The call only read state.
        public static let readOnly = Flags(rawValue: 1 << 0)
        /// The caller authenticated with MFA.
        public static let mfaAuthenticated = Flags(rawValue: 1 << 1)
    }

    /// The provider.
    public var provider: CloudProvider
    /// The service (`iam`, `s3`, `compute`, `Microsoft.Compute`).
    public var service: Symbol
    /// The action (`CreateUser`, `v1.compute.instances.insert`), version suffixes removed.
    public var action: Symbol
    /// The region (never validated against a fixed list).
    public var region: Symbol
    /// The account, project or subscription.
    public var account: Symbol
    /// The access key or credential id used.
    public var accessKey: Symbol
    /// The caller's address.
    public var sourceAddress: IPAddress
    /// The caller's user agent.
    public var userAgent: Symbol
    /// The error code, or none when the call succeeded.
    public var errorCode: Symbol
    /// The main resource acted on (a user name, a bucket, an instance id).
    public var resource: Symbol
    /// Compact JSON text of the parts of the original record that rules read beyond these fields, or none.
    ///
    /// For CloudTrail it is an object with whichever of `userIdentity`, `requestParameters`,
    /// `responseElements`, `additionalEventData`, `errorMessage` and `eventType` the record has (not null), in
    /// that order, each as the record gave it (Falco's `ct.request.*`, `ct.user.identitytype`,
    /// `json.value[/responseElements/ConsoleLogin]`… read it). The text is interned like any string: records
    /// that agree on these parts share one symbol.
    public var details: Symbol
    /// Read-only and MFA flags.
    public var flags: Flags

    /// Creates cloud fields.
    public init(
        provider: CloudProvider,
        service: Symbol,
        action: Symbol,
        region: Symbol = .none,
        account: Symbol = .none,
        accessKey: Symbol = .none,
        sourceAddress: IPAddress = .none,
        userAgent: Symbol = .none,
        errorCode: Symbol = .none,
        resource: Symbol = .none,
        flags: Flags = [],
        details: Symbol = .none
    ) {
        self.provider = provider
        self.service = service
        self.action = action
        self.region = region
        self.account = account
        self.accessKey = accessKey
        self.sourceAddress = sourceAddress
        self.userAgent = userAgent
        self.errorCode = errorCode
        self.resource = resource
        self.flags = flags
        self.details = details
    }
}

/// Fields of Kubernetes API requests. The user is the event's ``Event/principal``.
@frozen
public struct KubernetesFields: Sendable, BitwiseCopyable, Equatable {
    /// Security-relevant facts found in the request object.
    public struct Flags: OptionSet, Sendable, BitwiseCopyable, Hashable {
        /// The flag bits.
        public var rawValue: UInt16
        /// Flags from their bits.
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// A container runs privileged.
        public static let privileged = Flags(rawValue: 1 << 0)
        /// A hostPath volume is mounted.
        public static let hostPath = Flags(rawValue: 1 << 1)
        /// The pod uses the host network.
        public static let hostNetwork = Flags(rawValue: 1 << 2)
        /// The pod uses the host pid namespace.
        public static let hostPID = Flags(rawValue: 1 << 3)
        /// The pod uses the host IPC namespace.
        public static let hostIPC = Flags(rawValue: 1 << 4)
        /// A container adds capabilities.
        public static let addedCapabilities = Flags(rawValue: 1 << 5)
        /// The request was made anonymously.
        public static let anonymous = Flags(rawValue: 1 << 6)
        /// The request impersonated another user.
        public static let impersonated = Flags(rawValue: 1 << 7)
    }

    /// The verb (`get`, `create`, `delete`, ...).
    public var verb: Symbol
    /// The resource (`pods`, `secrets`, `clusterrolebindings`).
    public var resource: Symbol
    /// The subresource (`exec`, `attach`, `log`), or none.
    public var subresource: Symbol
    /// The namespace, or none for cluster-scoped resources.
    public var namespace: Symbol
    /// The object's name.
    public var name: Symbol
    /// The first source address.
    public var sourceAddress: IPAddress
    /// The client's user agent.
    public var userAgent: Symbol
    /// The response status code.
    public var responseCode: UInt16
    /// Security-relevant facts of the request object.
    public var flags: Flags
    /// Compact JSON text of the parts of the audit event that rules read beyond these fields, or none.
    ///
    /// It is an object with whichever of `user` (groups included), `impersonatedUser`, `requestURI`,
    /// `objectRef`, `requestObject`, `responseStatus`, `annotations` and `stage` the event has (not null), in
    /// that order, each as the event gave it (Falco's `ka.req.*`, `ka.user.groups`, `ka.auth.decision` and
    /// `jevt.value[/…]` read it). Time stamps, the audit id and the response object are left out, so that
    /// requests that agree on these parts share one interned symbol.
    public var details: Symbol

    /// Creates Kubernetes fields.
    public init(
        verb: Symbol,
        resource: Symbol,
        subresource: Symbol = .none,
        namespace: Symbol = .none,
        name: Symbol = .none,
        sourceAddress: IPAddress = .none,
        userAgent: Symbol = .none,
        responseCode: UInt16 = 0,
        flags: Flags = [],
        details: Symbol = .none
    ) {
        self.verb = verb
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
        self.sourceAddress = sourceAddress
        self.userAgent = userAgent
        self.responseCode = responseCode
        self.flags = flags
        self.details = details
    }
}

/// Fields of HTTP requests: served by the application (`http.request`; an authenticated user is the event's
/// principal) or made by it (`http.fetch`, a URL a handler fetched).
@frozen
public struct HTTPFields: Sendable, BitwiseCopyable, Equatable {
    /// The method (`GET`).
    public var method: Symbol
    /// The matched route pattern (`/users/:id`), or none; none for a fetch.
    public var route: Symbol
    /// The request path without the query.
    public var path: Symbol
    /// The parameters the sensor was configured to capture, as a query string; for a fetch, the URL's query.
    public var parameters: Symbol
    /// The response status (0 when no response came).
    public var status: UInt16
    /// How long the request took, in microseconds.
    public var durationMicroseconds: UInt32
    /// The other end: the client of a request served, the server of a fetch (when its address is known).
    public var client: SocketAddress
    /// The host: the request's `Host` header, or the fetched URL's host (`169.254.169.254`, `api.example.com`).
    public var host: Symbol

    /// Creates HTTP fields.
    public init(
        method: Symbol,
        route: Symbol = .none,
        path: Symbol,
        parameters: Symbol = .none,
        status: UInt16,
        durationMicroseconds: UInt32 = 0,
        client: SocketAddress = .none,
        host: Symbol = .none
    ) {
        self.method = method
        self.route = route
        self.path = path
        self.parameters = parameters
        self.status = status
        self.durationMicroseconds = durationMicroseconds
        self.client = client
        self.host = host
    }
}

extension CloudFields {
    /// An API name without its version suffix: a trailing 8-digit date and an optional `v<digits>`
    /// (`UpdateFunctionCode20150331v2` → `UpdateFunctionCode`, `GetFunction20150331` → `GetFunction`). Cloud
    /// events store actions this way, so rules written against either spelling match.
    public static func actionWithoutVersion(_ name: String) -> String {
        let utf8 = Array(name.utf8)
        func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
        var end = utf8.count
        // An optional `v<digits>` first.
        var index = end
        while index > 0, isDigit(utf8[index - 1]) { index -= 1 }
        if index < end, index > 0, utf8[index - 1] == UInt8(ascii: "v") { end = index - 1 }
        // Then exactly eight digits, preceded by a non-digit so that a longer number is left alone.
        var start = end
        while start > 0, isDigit(utf8[start - 1]) { start -= 1 }
        guard end - start == 8, start > 0 else { return name }
        return String(decoding: utf8[..<start], as: UTF8.self)
    }
}

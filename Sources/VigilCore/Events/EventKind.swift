/// What an event records. Raw values are stable (they appear in recorded files and kernel maps).
public enum EventKind: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    // Processes
    /// A program was executed (`execve`).
    case processExec = 1
    /// A process exited.
    case processExit = 2
    /// A process was created (`fork`/`clone`); the event's process is the child.
    case processFork = 3
    /// A process that was already running when a live sensor started, reported once so that the ancestry of
    /// later events is complete. It records no activity: profiles and rules ignore it.
    case processSnapshot = 4

    // Files
    /// A file was opened.
    case fileOpen = 10
    /// A file was written.
    case fileWrite = 11
    /// A file was removed.
    case fileUnlink = 12
    /// A file was renamed; the new name is in ``FileFields/target``.
    case fileRename = 13
    /// A hard link was made; the new name is in ``FileFields/target``.
    case fileLink = 14
    /// A symbolic link was made at ``FileFields/target`` pointing at ``FileFields/path``.
    case fileSymlink = 15
    /// A file's mode changed.
    case fileChmod = 16

    // Network
    /// An outbound connection.
    case networkConnect = 20
    /// An inbound connection was accepted.
    case networkAccept = 21
    /// A socket was bound to a local address.
    case networkBind = 22
    /// A socket started listening.
    case networkListen = 23
    /// A DNS query.
    case dnsQuery = 24
    /// A packet socket (`AF_PACKET`) or a raw IP socket was created: the tools of sniffing and spoofing. Sockets
    /// of other types are not recorded.
    case networkSocket = 25

    // Privileged operations
    /// Use of a syscall (counted per workload).
    case syscall = 30
    /// A capability was checked or used.
    case capability = 31
    /// A `ptrace` request.
    case ptrace = 32
    /// A kernel module was loaded.
    case moduleLoad = 33
    /// A filesystem was mounted.
    case mount = 34
    /// A process left one or more namespaces (`unshare`).
    case unshare = 35
    /// A process joined a namespace (`setns`).
    case setns = 36
    /// An anonymous in-memory file was created (`memfd_create`).
    case memfdCreate = 37
    /// A `bpf()` call.
    case bpf = 38
    /// A process changed its user, group or capabilities (`setuid`, `setgid`, `capset`, ...).
    case credentialChange = 39

    // Other layers
    /// A Linux audit record (from auditd or the audit netlink socket) with no better-fitting kind.
    case auditRecord = 50
    /// A call to a cloud provider's control-plane API.
    case cloudAPICall = 60
    /// A request to the Kubernetes API server.
    case kubernetesRequest = 70
    /// An HTTP request served by the application.
    case httpRequest = 80
    /// An HTTP request the application made to another service (a URL its handler fetched).
    case httpFetch = 81

    /// Whether events of this kind come in floods (file opens, connections, DNS queries, syscall usage).
    ///
    /// When the engine is overloaded these are shed first: a lost open is one of thousands like it, a
    /// lost exec or module load is the story itself. Every event shed is still counted.
    @inlinable
    public var isBulk: Bool {
        switch self {
        case .fileOpen, .fileWrite, .networkConnect, .networkAccept, .dnsQuery, .syscall: return true
        default: return false
        }
    }

    /// The layer events of this kind belong to.
    @inlinable
    public var layer: Layer {
        switch self {
        case .cloudAPICall: return .cloud
        case .kubernetesRequest: return .cluster
        case .httpRequest, .httpFetch: return .application
        default: return .workload
        }
    }

    /// Which ``EventFields`` case carries this kind's fields.
    public var fieldGroup: EventFields.Group {
        switch self {
        case .processExec, .processExit, .processFork, .processSnapshot: return .process
        case .fileOpen, .fileWrite, .fileUnlink, .fileRename, .fileLink, .fileSymlink, .fileChmod: return .file
        case .networkConnect, .networkAccept, .networkBind, .networkListen, .networkSocket: return .network
        case .dnsQuery: return .dns
        case .syscall: return .syscall
        case .capability: return .capability
        case .ptrace: return .ptrace
        case .moduleLoad: return .module
        case .mount, .unshare, .setns: return .namespace
        case .memfdCreate: return .memfd
        case .bpf: return .bpf
        case .credentialChange: return .credentials
        case .auditRecord: return .audit
        case .cloudAPICall: return .cloud
        case .kubernetesRequest: return .kubernetes
        case .httpRequest, .httpFetch: return .http
        }
    }

    /// The kind's stable name, as used in JSON: `process.exec`, `file.open`, `cloud.api_call`, ...
    public var name: String {
        switch self {
        case .processExec: return "process.exec"
        case .processExit: return "process.exit"
        case .processFork: return "process.fork"
        case .processSnapshot: return "process.snapshot"
        case .fileOpen: return "file.open"
        case .fileWrite: return "file.write"
        case .fileUnlink: return "file.unlink"
        case .fileRename: return "file.rename"
        case .fileLink: return "file.link"
        case .fileSymlink: return "file.symlink"
        case .fileChmod: return "file.chmod"
        case .networkConnect: return "network.connect"
        case .networkAccept: return "network.accept"
        case .networkBind: return "network.bind"
        case .networkListen: return "network.listen"
        case .dnsQuery: return "network.dns_query"
        case .networkSocket: return "network.socket"
        case .syscall: return "syscall"
        case .capability: return "capability"
        case .ptrace: return "ptrace"
        case .moduleLoad: return "module.load"
        case .mount: return "namespace.mount"
        case .unshare: return "namespace.unshare"
        case .setns: return "namespace.setns"
        case .memfdCreate: return "memfd.create"
        case .bpf: return "bpf"
        case .credentialChange: return "credentials.change"
        case .auditRecord: return "audit.record"
        case .cloudAPICall: return "cloud.api_call"
        case .kubernetesRequest: return "k8s.request"
        case .httpRequest: return "http.request"
        case .httpFetch: return "http.fetch"
        }
    }

    private static let byName: [String: EventKind] = Dictionary(
        uniqueKeysWithValues: allCases.map { ($0.name, $0) }
    )

    /// The kind with the given stable name.
    public init?(name: String) {
        guard let kind = Self.byName[name] else { return nil }
        self = kind
    }

    /// The number of slots a per-kind counter array needs (the largest raw value plus one).
    public static let counterSlots = Int(allCases.map(\.rawValue).max()!) + 1

    public var description: String { name }
}

/// Identifies one process for its whole life: pid plus start time, so a reused pid is a different key.
@frozen
public struct ProcessKey: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    /// The process's start time in nanoseconds since boot (0 when the source does not report it).
    public var startTime: UInt64
    /// The process id in the initial pid namespace (0 when the event has no process).
    public var pid: Int32

    /// Creates a process key.
    @inlinable
    public init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    /// No process: events of the cloud and cluster layers.
    public static let none = ProcessKey(pid: 0, startTime: 0)

    public var description: String { "\(pid)@\(startTime)" }

    /// Hashes one word: process tables hash keys on every exec and fork.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(startTime &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(UInt32(bitPattern: pid)))
    }
}

/// The layer of the stack an event comes from.
public enum Layer: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    /// The cloud control plane (CloudTrail, GCP and Azure audit logs).
    case cloud
    /// The Kubernetes API.
    case cluster
    /// Processes, files, network and syscalls on a node.
    case workload
    /// The application's own requests.
    case application

    /// The layer's name as used in JSON: `cloud`, `cluster`, `workload`, `application`.
    public var name: String {
        switch self {
        case .cloud: return "cloud"
        case .cluster: return "cluster"
        case .workload: return "workload"
        case .application: return "application"
        }
    }

    /// The layer with the given JSON name.
    public init?(name: String) {
        guard let layer = Layer.allCases.first(where: { $0.name == name }) else { return nil }
        self = layer
    }

    public var description: String { name }
}

/// An event: one thing that happened, normalised from any sensor.
///
/// Events are fixed-size and trivially copyable (strings are interned ``Symbol``s) so that they move in
/// contiguous batches with no per-event allocation. Every event carries its time, kind, workload, process
/// and principal; the kind-specific fields are in ``fields``.
@frozen
public struct Event: Sendable, BitwiseCopyable, Equatable {
    /// When it happened, in nanoseconds since the Unix epoch.
    public var time: Int64
    /// The process that did it, or ``ProcessKey/none``.
    public var process: ProcessKey
    /// The workload it belongs to: a container's workload, or the host.
    public var workload: WorkloadID
    /// The container instance id, or ``Symbol/none`` on the host and in the cloud and cluster layers.
    public var container: Symbol
    /// Who did it, where known: a user name, a Kubernetes user or service account, a cloud identity.
    public var principal: Symbol
    /// The Linux user id, or ``Event/unknownUID``.
    public var uid: UInt32
    /// The full path of the process's executable when the event happened, or ``Symbol/none`` when unknown or
    /// not a process's event. For `process.exec` it is the new image.
    public var executable: Symbol
    /// What happened.
    public var kind: EventKind
    /// The kind-specific fields.
    public var fields: EventFields

    /// The uid of events that have none (cloud and cluster events, or a source that does not report it).
    public static let unknownUID = UInt32.max

    /// Creates an event.
    @inlinable
    public init(
        time: Int64,
        kind: EventKind,
        process: ProcessKey = .none,
        workload: WorkloadID = .host,
        container: Symbol = .none,
        principal: Symbol = .none,
        uid: UInt32 = Event.unknownUID,
        executable: Symbol = .none,
        fields: EventFields
    ) {
        self.executable = executable
        self.time = time
        self.kind = kind
        self.process = process
        self.workload = workload
        self.container = container
        self.principal = principal
        self.uid = uid
        self.fields = fields
    }

    /// The layer of the event's kind.
    @inlinable
    public var layer: Layer { kind.layer }

    /// The key that decides the engine shard: the principal for control-plane events, else the workload.
    ///
    /// Events with the same key are handled by one shard in arrival order.
    @inlinable
    public var shardKey: UInt32 {
        switch kind.layer {
        case .cloud, .cluster: return principal.rawValue
        case .workload, .application: return workload.rawValue
        }
    }
}

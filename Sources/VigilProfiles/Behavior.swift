import VigilCore

/// A fixed-size fingerprint of what an event did, built from its symbols without touching strings.
///
/// Profiles remember the fingerprints of events they have already learned or matched, so checking an
/// event whose like was seen before is one set lookup; only new fingerprints take the slower path
/// through the normalized ``Observation``. Multi-field events (cloud and Kubernetes calls) fold their
/// extra fields into a 64-bit mix; a collision would only make one new combination look known.
@frozen
public struct Behavior: Hashable, Sendable, BitwiseCopyable {
    /// The event kind.
    public var kind: EventKind
    /// The first part of the fingerprint.
    public var first: UInt64
    /// The second part.
    public var second: UInt64

    /// Creates a fingerprint.
    @inlinable
    public init(kind: EventKind, first: UInt64, second: UInt64 = 0) {
        self.kind = kind
        self.first = first
        self.second = second
    }

    /// The fingerprint of `event`, or nil for kinds profiles do not track.
    @inlinable
    public init?(of event: Event) {
        switch event.fields {
        case .process(let f) where event.kind == .processExec:
            self.init(kind: .processExec, first: UInt64(f.executable.rawValue), second: UInt64(f.arguments.rawValue))
        case .file(let f):
            let access = event.kind == .fileOpen ? UInt64(f.flags & 0o3103) : 0
            self.init(kind: event.kind, first: UInt64(f.path.rawValue), second: access)
        case .network(let f) where event.kind == .networkConnect:
            self.init(
                kind: .networkConnect, first: Self.mix(f.remote.address),
                second: UInt64(f.remote.port) | UInt64(f.transport.rawValue) << 16)
        case .network(let f) where event.kind == .networkAccept:
            self.init(
                kind: .networkAccept, first: Self.mix(f.remote.address),
                second: UInt64(f.local.port) | UInt64(f.transport.rawValue) << 16)
        case .network where event.kind == .networkSocket:
            // The same fingerprint as a use of CAP_NET_RAW, which is what the observer learns it as.
            self.init(kind: .capability, first: UInt64(Capabilities.netRaw))
        case .dns(let f):
            self.init(kind: .dnsQuery, first: UInt64(f.name.rawValue))
        case .syscall(let f):
            self.init(kind: .syscall, first: UInt64(f.architecture) << 32 | UInt64(UInt32(bitPattern: f.number)))
        case .capability(let f):
            self.init(kind: .capability, first: UInt64(f.capability))
        case .http(let f) where event.kind == .httpFetch:
            self.init(kind: .httpFetch, first: UInt64(f.host.rawValue), second: UInt64(f.client.port))
        case .http(let f):
            let target = f.route.isNone ? f.path : f.route
            self.init(kind: .httpRequest, first: UInt64(f.method.rawValue) << 32 | UInt64(target.rawValue))
        case .cloud(let f):
            let rest =
                Self.mix(f.sourceAddress) ^ Self.mix(UInt64(f.region.rawValue) << 32 | UInt64(f.userAgent.rawValue))
            self.init(
                kind: .cloudAPICall, first: UInt64(f.service.rawValue) << 32 | UInt64(f.action.rawValue), second: rest)
        case .kubernetes(let f):
            let scope = UInt64(f.subresource.rawValue) << 32 | UInt64(f.namespace.rawValue)
            let rest = Self.mix(scope) ^ Self.mix(f.sourceAddress) ^ Self.mix(UInt64(f.userAgent.rawValue) &+ 1)
            self.init(
                kind: .kubernetesRequest, first: UInt64(f.verb.rawValue) << 32 | UInt64(f.resource.rawValue),
                second: rest)
        default:
            return nil
        }
    }

    /// Hashes one pre-mixed word: checking a seen event is a set lookup, so hashing is on the hot path.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(Self.mix(first &+ UInt64(kind.rawValue)) ^ second)
    }

    /// A 64-bit mix of a word (splitmix64's finalizer).
    @inlinable
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inlinable
    static func mix(_ address: IPAddress) -> UInt64 {
        mix(UInt64(address.words.0) << 32 | UInt64(address.words.1))
            ^ mix(UInt64(address.words.2) << 32 | UInt64(address.words.3) ^ UInt64(address.family.rawValue))
    }
}

/// Whose profile an event belongs to: its workload, or its principal for control-plane events (the same
/// split the engine shards by, so a subject's profile lives in exactly one shard's partition).
@frozen
public struct Subject: Hashable, Sendable, BitwiseCopyable {
    /// Whether the id is a principal symbol rather than a workload id.
    public var isPrincipal: Bool
    /// The workload id or principal symbol.
    public var id: UInt32

    /// The subject of `event`.
    @inlinable
    public init(of event: Event) {
        switch event.layer {
        case .cloud, .cluster:
            isPrincipal = true
            id = event.principal.rawValue
        case .workload, .application:
            isPrincipal = false
            id = event.workload.rawValue
        }
    }

    /// A subject from its parts.
    @inlinable
    public init(isPrincipal: Bool, id: UInt32) {
        self.isPrincipal = isPrincipal
        self.id = id
    }
}

import VigilCore

/// One thing a subject was seen doing, reduced to what a profile compares: the event kind and the
/// identity of what it touched (the executable, the path, the peer, the API action).
///
/// Fixed-size and hashable, so checking an event against a profile is one set lookup.
@frozen
public struct Behavior: Hashable, Sendable, BitwiseCopyable {
    /// The event kind.
    public var kind: EventKind
    /// The first part of the identity (a symbol, or an address word).
    public var first: UInt64
    /// The second part (a port, a resource, a namespace), or 0.
    public var second: UInt64

    /// Creates a behavior.
    @inlinable
    public init(kind: EventKind, first: UInt64, second: UInt64 = 0) {
        self.kind = kind
        self.first = first
        self.second = second
    }

    /// The behavior an event shows, or nil for kinds that profiles do not track.
    @inlinable
    public init?(of event: Event) {
        switch event.fields {
        case .process(let f) where event.kind == .processExec:
            self.init(kind: .processExec, first: UInt64(f.executable.rawValue))
        case .file(let f) where event.kind == .fileOpen:
            // Reads and writes of the same path are different behaviors.
            let writes = f.flags & 0b11 != 0
            self.init(kind: .fileOpen, first: UInt64(f.path.rawValue), second: writes ? 1 : 0)
        case .network(let f) where event.kind == .networkConnect:
            let address = f.remote.address
            let high = UInt64(address.words.0) << 32 | UInt64(address.words.1)
            let low = UInt64(address.words.2) << 32 | UInt64(address.words.3)
            self.init(
                kind: .networkConnect, first: high ^ (low &* 0x9E37_79B9_7F4A_7C15), second: UInt64(f.remote.port))
        case .dns(let f):
            self.init(kind: .dnsQuery, first: UInt64(f.name.rawValue))
        case .cloud(let f):
            self.init(kind: .cloudAPICall, first: UInt64(f.service.rawValue), second: UInt64(f.action.rawValue))
        case .kubernetes(let f):
            let resource = UInt64(f.resource.rawValue) << 32 | UInt64(f.subresource.rawValue)
            self.init(
                kind: .kubernetesRequest, first: UInt64(f.verb.rawValue) << 32 | UInt64(f.namespace.rawValue),
                second: resource)
        case .http(let f):
            let target = f.route.isNone ? f.path : f.route
            self.init(kind: .httpRequest, first: UInt64(f.method.rawValue), second: UInt64(target.rawValue))
        default:
            return nil
        }
    }
}

/// What one subject (a workload, or a cloud or Kubernetes principal) did while learning: a bounded set of
/// behaviors and, for explanations, a few readable examples per kind.
public struct Baseline: Sendable {
    /// The behaviors learned.
    public private(set) var behaviors: Set<Behavior> = []
    /// Readable descriptions of the first behaviors of each kind, for explanations.
    public private(set) var examples: [EventKind: [String]] = [:]
    /// Whether the bound was reached: later behaviors were not learned (and are not flagged).
    public private(set) var overflowed = false
    /// The most behaviors kept.
    public let capacity: Int

    /// How many examples per kind are kept for explanations.
    public static let examplesPerKind = 5

    /// Creates an empty baseline holding at most `capacity` behaviors.
    public init(capacity: Int) { self.capacity = capacity }

    /// Learns a behavior; returns false when the bound stopped it.
    @discardableResult
    public mutating func learn(_ behavior: Behavior, describedAs description: @autoclosure () -> String) -> Bool {
        if behaviors.contains(behavior) { return true }
        guard behaviors.count < capacity else {
            overflowed = true
            return false
        }
        behaviors.insert(behavior)
        if examples[behavior.kind, default: []].count < Self.examplesPerKind {
            examples[behavior.kind, default: []].append(description())
        }
        return true
    }

    /// Whether the behavior was learned.
    @inlinable
    public func contains(_ behavior: Behavior) -> Bool { behaviors.contains(behavior) }

    /// How many behaviors of `kind` were learned.
    public func count(of kind: EventKind) -> Int { behaviors.lazy.filter { $0.kind == kind }.count }
}

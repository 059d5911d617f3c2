import VigilCore

/// When a profile moves from learning to ready to completed.
public struct LifecyclePolicy: Sendable, Equatable {
    /// Events a profile needs before it is ready.
    public var readyAfterEvents: UInt64
    /// How long after its first event a profile completes, in nanoseconds.
    public var learningWindow: Int64
    /// A profile that has seen no new entry for this long completes early, in nanoseconds.
    public var quietPeriod: Int64

    /// Creates a policy (defaults: ready after 100 events, complete after 24 h or 2 h without news).
    public init(
        readyAfterEvents: UInt64 = 100,
        learningWindow: Int64 = 24 * 3_600_000_000_000,
        quietPeriod: Int64 = 2 * 3_600_000_000_000
    ) {
        self.readyAfterEvents = readyAfterEvents
        self.learningWindow = learningWindow
        self.quietPeriod = quietPeriod
    }
}

/// Where a profile is in its life, and the times that decide its next step.
public struct Lifecycle: Sendable, Equatable {
    /// The state.
    public var state: ProfileState
    /// The workload was already running when learning began, so its start-up was not seen.
    public var partial: Bool
    /// The first event learned, in nanoseconds since the epoch (0 before any).
    public var firstSeen: Int64
    /// The latest event seen.
    public var lastSeen: Int64
    /// The latest event that added an entry.
    public var lastNewEntry: Int64
    /// Events learned.
    public var events: UInt64

    /// A fresh profile, learning.
    public init(partial: Bool = false) {
        state = .learning
        self.partial = partial
        firstSeen = 0
        lastSeen = 0
        lastNewEntry = 0
        events = 0
    }

    /// Records an event at `time` that did (or did not) add an entry.
    @inlinable
    public mutating func observe(at time: Int64, addedEntry: Bool) {
        if firstSeen == 0 { firstSeen = time }
        if time > lastSeen { lastSeen = time }
        if addedEntry { lastNewEntry = max(lastNewEntry, time) }
        events &+= 1
    }

    /// Moves the state forward as `policy` says, at `now`.
    public mutating func advance(now: Int64, policy: LifecyclePolicy) {
        guard state != .completed, firstSeen != 0 else { return }
        if state == .learning && events >= policy.readyAfterEvents { state = .ready }
        let windowOver = now - firstSeen >= policy.learningWindow
        let quiet = state == .ready && now - max(lastNewEntry, firstSeen) >= policy.quietPeriod
        if windowOver || quiet { state = .completed }
    }

    /// Completes the profile now (the end of a replay's learn phase, or an operator's decision).
    public mutating func complete() { state = .completed }

    /// Starts learning again, keeping what was learned.
    public mutating func reopen(at time: Int64) {
        state = .learning
        firstSeen = time
        lastNewEntry = time
    }

    /// The lifecycle of two merged profiles: the less advanced state, the earliest start, the latest news.
    public func merged(with other: Lifecycle) -> Lifecycle {
        var result = self
        let order: [ProfileState] = [.learning, .ready, .completed]
        result.state = order[min(order.firstIndex(of: state)!, order.firstIndex(of: other.state)!)]
        result.partial = partial || other.partial
        result.firstSeen = [firstSeen, other.firstSeen].filter { $0 != 0 }.min() ?? 0
        result.lastSeen = max(lastSeen, other.lastSeen)
        result.lastNewEntry = max(lastNewEntry, other.lastNewEntry)
        result.events = events &+ other.events
        return result
    }
}

/// What one shard's detectors may ask of the behavioral profiles: whether the profile an event belongs to
/// is completed, and whether it already holds what the event did.
///
/// The profile an event belongs to is its workload's, or its principal's for cloud and Kubernetes events:
/// the same subject the engine shards by, so a shard's view answers from the profiles of that shard alone
/// and needs no lock. A view is made per shard by a ``ProfileViewFactory`` and used only by that shard's
/// thread, like a ``Detector``; it is not `Sendable`, and a reference-type view may keep caches. The rule
/// detector asks it only about events that matched a rule with a profile dependency, so its answers need
/// not be free, only cheap next to the finding they decide.
///
/// A view shows the profiles as they are when it is asked. A detector that reads them must see each batch
/// before the profile detector learns it, or every event it asks about during learning is already held:
/// run readers and the profile detector in a ``ProfileReadingChain``.
public protocol ProfileView {
    /// Whether the profile `event` belongs to is completed. An event whose subject has no profile yet
    /// belongs to none that is completed.
    func isCompleted(_ event: Event) -> Bool

    /// Whether the profile `event` belongs to already holds what the event did: the profile detector would
    /// find nothing new in it. An event of a kind profiles do not track, or whose subject has no profile,
    /// is not held.
    func holds(_ event: Event) -> Bool
}

/// Makes a shard's profile view. Called once per shard when the engine starts, like a ``DetectorFactory``.
public typealias ProfileViewFactory = @Sendable (ShardInfo) -> any ProfileView

/// Runs a shard's profile detector with detectors that read its profiles through a ``ProfileView``, so
/// that the readers see each batch before it is learned.
///
/// The readers inspect a batch first, then the profile detector learns it (or checks it against completed
/// profiles). A reader therefore sees the profiles as they stood after the previous batch: the first
/// occurrence of a behavior is not held when it is read, though the profile learns it a moment later; and
/// a behavior repeated within one batch is not held for any of its occurrences in that batch. Findings are
/// reported as a ``DetectorChain`` of the profile detector then the readers reports them: the profile
/// detector's first, then each reader's in turn.
public struct ProfileReadingChain: Detector {
    /// The detector that learns and checks the profiles.
    public var profiles: any Detector
    /// The detectors that read the profiles, in order.
    public var readers: [any Detector]
    /// The readers' findings of the batch being inspected; kept to reuse its storage.
    private var pending: [Finding] = []

    /// Creates a chain of the profile detector `profiles` and the `readers` of its profiles.
    public init(profiles: any Detector, readers: [any Detector]) {
        self.profiles = profiles
        self.readers = readers
    }

    public mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
        for index in readers.indices { readers[index].inspect(events, into: &pending) }
        profiles.inspect(events, into: &findings)
        findings.append(contentsOf: pending)
        pending.removeAll(keepingCapacity: true)
    }
}

/// What a profile describes.
public enum ProfileSubject: String, Sendable, Hashable, CaseIterable {
    /// A workload (all replicas of a container of an owner, or a host executable).
    case workload
    /// A cloud or Kubernetes identity.
    case principal
}

/// Names a stored profile.
public struct ProfileKey: Hashable, Sendable, CustomStringConvertible {
    /// What it describes.
    public var subject: ProfileSubject
    /// The workload's or principal's name.
    public var name: String

    /// Creates a key.
    public init(subject: ProfileSubject, name: String) {
        self.subject = subject
        self.name = name
    }

    public var description: String { "\(subject.rawValue):\(name)" }
}

/// Where a profile is in its life.
public enum ProfileState: String, Sendable, CaseIterable {
    /// Still learning; raises no deviations.
    case learning
    /// Learned enough to be useful, still accepting new entries.
    case ready
    /// Complete: deviations from it are findings.
    case completed
}

/// A profile as stored: its key, state and encoded body.
///
/// The store does not interpret the body; the profile model (in `VigilProfiles`) encodes and decodes it,
/// so the core and the stores need not know the model.
public struct StoredProfile: Sendable, Equatable {
    /// The profile's key.
    public var key: ProfileKey
    /// The profile's state.
    public var state: ProfileState
    /// When it last changed, in nanoseconds since the epoch.
    public var updatedAt: Int64
    /// The encoded profile.
    public var body: [UInt8]

    /// Creates a stored profile.
    public init(key: ProfileKey, state: ProfileState, updatedAt: Int64, body: [UInt8]) {
        self.key = key
        self.state = state
        self.updatedAt = updatedAt
        self.body = body
    }
}

/// Persists behavioral profiles: in memory, in files, in SQLite.
public protocol ProfileStore: Sendable {
    /// The profile with `key`, or nil.
    func load(_ key: ProfileKey) async throws -> StoredProfile?
    /// Saves the profiles, replacing any with the same key. Each profile is written atomically: a reader,
    /// or a restart after a crash, sees it whole, old or new, never half-written. Stores that can (SQLite)
    /// save the whole group in one transaction.
    func save(_ profiles: [StoredProfile]) async throws
    /// The keys of every stored profile.
    func keys() async throws -> [ProfileKey]
    /// Removes the profile with `key`; removing a missing key is not an error.
    func remove(_ key: ProfileKey) async throws
}

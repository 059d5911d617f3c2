import VigilCore

/// A profile store that keeps profiles in memory; nothing survives the process.
public actor InMemoryProfileStore: ProfileStore {
    private var profiles: [ProfileKey: StoredProfile] = [:]

    /// Creates an empty store, or one holding `profiles`.
    public init(_ profiles: [StoredProfile] = []) {
        for profile in profiles { self.profiles[profile.key] = profile }
    }

    public func load(_ key: ProfileKey) -> StoredProfile? { profiles[key] }

    public func save(_ profiles: [StoredProfile]) {
        for profile in profiles { self.profiles[profile.key] = profile }
    }

    public func keys() -> [ProfileKey] {
        profiles.keys.sorted { ($0.subject.rawValue, $0.name) < ($1.subject.rawValue, $1.name) }
    }

    public func remove(_ key: ProfileKey) { profiles[key] = nil }
}

/// A profile store that keeps profiles in memory (the agent's `--store memory`): nothing survives the
/// process, so every start learns anew.
///
/// A group is saved at once: another task sees all of it or none of it.
public actor MemoryProfileStore: ProfileStore {
    private var profiles: [ProfileKey: StoredProfile] = [:]

    /// Creates an empty store, or one holding `profiles` (a later profile replaces an earlier one with the
    /// same key).
    public init(_ profiles: [StoredProfile] = []) {
        for profile in profiles { self.profiles[profile.key] = profile }
    }

    /// The profile with `key`, or nil.
    public func load(_ key: ProfileKey) -> StoredProfile? { profiles[key] }

    /// Saves the profiles, replacing any with the same key.
    public func save(_ profiles: [StoredProfile]) {
        for profile in profiles { self.profiles[profile.key] = profile }
    }

    /// The keys of every profile, sorted by subject, then name.
    public func keys() -> [ProfileKey] {
        profiles.keys.sorted { ($0.subject.rawValue, $0.name) < ($1.subject.rawValue, $1.name) }
    }

    /// Removes the profile with `key`; removing a missing key is not an error.
    public func remove(_ key: ProfileKey) { profiles[key] = nil }
}

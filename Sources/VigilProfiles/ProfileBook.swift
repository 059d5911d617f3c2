import Synchronization
import VigilCore

/// Every subject's profile, split into one partition per engine shard.
///
/// A shard's detector touches only its own partition, and the engine sends each subject's events to one
/// shard, so partitions are never shared between threads and the per-event path takes no lock. Use the
/// book with engines of ``shardCount`` shards. Methods that read or change profiles directly (``load(_:)``,
/// ``completeAll()``, ``profiles``) must be called while no engine runs; while one runs, ask for a
/// snapshot (``snapshot(timeout:)``), which each shard hands over at its next batch boundary. Other detectors
/// of a shard (the rule detector) read its partition through the shard's view (``viewFactory``).
public final class ProfileBook: @unchecked Sendable {
    /// One subject's profile and the detector's caches for it.
    final class Entry {
        var profile: Profile
        /// Fingerprints already learned or matched: the fast path.
        var known: Set<Behavior> = []
        /// Deviations already reported, so a repeated one is reported once.
        var reported: Set<Behavior> = []
        /// Changed since the last snapshot.
        var dirty = true

        init(profile: Profile) { self.profile = profile }
    }

    /// One shard's profiles.
    final class Partition {
        var entries: [Subject: Entry] = [:]
        let snapshotRequested = Atomic<Bool>(false)
        let outbox = Mutex<[StoredProfile]?>(nil)
    }

    /// The number of shards of the engines this book serves.
    public let shardCount: Int
    /// The symbol table of those engines.
    public let symbols: SymbolTable
    /// When profiles become ready and complete.
    public let policy: LifecyclePolicy
    /// The bounds of each profile.
    public let limits: ProfileLimits
    private let partitions: [Partition]

    /// The most fingerprints cached per subject; the cache is emptied when it is full (it only saves work).
    static let knownCacheLimit = 16_384

    /// Creates an empty book.
    public init(
        shardCount: Int, symbols: SymbolTable, policy: LifecyclePolicy = LifecyclePolicy(),
        limits: ProfileLimits = ProfileLimits()
    ) {
        self.shardCount = shardCount
        self.symbols = symbols
        self.policy = policy
        self.limits = limits
        self.partitions = (0..<shardCount).map { _ in Partition() }
    }

    /// A detector factory for an engine of ``shardCount`` shards.
    public var detectorFactory: DetectorFactory {
        { shard in ProfileDetector(book: self, shard: shard) }
    }

    func partition(for shard: ShardInfo) -> Partition {
        precondition(
            shard.count == shardCount, "the book has \(shardCount) partitions, the engine \(shard.count) shards")
        return partitions[shard.index]
    }

    /// A new, empty profile for `subject`.
    func makeProfile(for subject: Subject) -> Profile {
        if subject.isPrincipal {
            return Profile(subject: .principal, name: symbols.string(Symbol(rawValue: subject.id)), limits: limits)
        }
        let workload = symbols.workload(WorkloadID(rawValue: subject.id))
        return Profile(subject: .workload, name: workload.profileName, workload: workload, limits: limits)
    }

    // MARK: While no engine runs

    /// Every profile, sorted by key.
    public var profiles: [Profile] {
        partitions.flatMap { $0.entries.values.map(\.profile) }.sorted {
            ($0.subject.rawValue, $0.name) < ($1.subject.rawValue, $1.name)
        }
    }

    /// Completes every profile (the end of a replay's learn phase).
    public func completeAll() {
        for partition in partitions {
            for entry in partition.entries.values where entry.profile.lifecycle.state != .completed {
                entry.profile.lifecycle.complete()
                entry.dirty = true
            }
        }
    }

    /// Reopens learning for the profile named `name`; returns false when there is none.
    @discardableResult
    public func reopen(_ name: String, at time: Int64) -> Bool {
        for partition in partitions {
            for entry in partition.entries.values where entry.profile.name == name {
                entry.profile.lifecycle.reopen(at: time)
                entry.reported.removeAll()
                entry.dirty = true
                return true
            }
        }
        return false
    }

    /// Marks the workload's profile partial: it was already running when learning began.
    public func markPartial(_ workload: WorkloadID) {
        let subject = Subject(isPrincipal: false, id: workload.rawValue)
        let partition = partitions[EventSink.shard(forKey: subject.id, shardCount: shardCount)]
        let entry = partition.entries[subject] ?? Entry(profile: makeProfile(for: subject))
        entry.profile.lifecycle.partial = true
        entry.dirty = true
        partition.entries[subject] = entry
    }

    /// Adds stored profiles, merging any with a profile already in the book (replicas, other nodes).
    /// Returns the keys of stored profiles that could not be decoded, with why.
    @discardableResult
    public func load(_ stored: [StoredProfile]) -> [(key: ProfileKey, error: ProfileCodingError)] {
        var failures: [(ProfileKey, ProfileCodingError)] = []
        for record in stored {
            let profile: Profile
            do {
                profile = try ProfileCoding.decode(record.body, limits: limits)
            } catch {
                failures.append((record.key, error))
                continue
            }
            let subject: Subject
            if profile.subject == .principal {
                subject = Subject(isPrincipal: true, id: symbols.intern(profile.name).rawValue)
            } else {
                let workload = profile.workload ?? .host
                subject = Subject(isPrincipal: false, id: symbols.intern(workload).rawValue)
            }
            let partition = partitions[EventSink.shard(forKey: subject.id, shardCount: shardCount)]
            if let existing = partition.entries[subject] {
                existing.profile.merge(profile)
                existing.dirty = true
            } else {
                let entry = Entry(profile: profile)
                entry.dirty = false
                partition.entries[subject] = entry
            }
        }
        return failures
    }

    /// Every profile encoded for a store, at `time`.
    public func storedProfiles(at time: Int64, onlyChanged: Bool = false) -> [StoredProfile] {
        partitions.flatMap { Self.encode($0, at: time, onlyChanged: onlyChanged) }
    }

    static func encode(_ partition: Partition, at time: Int64, onlyChanged: Bool) -> [StoredProfile] {
        partition.entries.values.compactMap { entry in
            if onlyChanged && !entry.dirty { return nil }
            entry.dirty = false
            return StoredProfile(
                key: entry.profile.key, state: entry.profile.lifecycle.state, updatedAt: time,
                body: ProfileCoding.encode(entry.profile))
        }
    }

    // MARK: While an engine runs

    /// Asks every shard for its changed profiles and waits for them (at most `timeout`); a shard that
    /// sees no batch in that time hands its changes over at the next snapshot.
    public func snapshot(timeout: Duration = .seconds(2)) async -> [StoredProfile] {
        for partition in partitions { partition.snapshotRequested.store(true, ordering: .releasing) }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var collected: [StoredProfile] = []
        var pending = Set(partitions.indices)
        while !pending.isEmpty {
            for index in pending.sorted() {
                if let handed = partitions[index].outbox.withLock({ outbox in
                    defer { outbox = nil }; return outbox
                }) {
                    collected += handed
                    pending.remove(index)
                }
            }
            if pending.isEmpty || clock.now >= deadline { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return collected
    }
}

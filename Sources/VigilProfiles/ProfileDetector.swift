import Synchronization
import VigilCore

/// Learns each subject's profile while it is learning, and once it is completed flags every event that
/// leaves it: a finding that says what was new and what the profile held nearby.
///
/// Only completed profiles raise deviations; an overflowed part raises none (its gaps are not evidence);
/// each deviation is reported once per subject until learning is reopened.
public struct ProfileDetector: Detector {
    private let book: ProfileBook
    private let partition: ProfileBook.Partition
    private let symbols: SymbolTable
    private let observer: Observer

    /// Creates the detector of one shard.
    public init(book: ProfileBook, shard: ShardInfo) {
        self.book = book
        self.partition = book.partition(for: shard)
        self.symbols = shard.symbols
        self.observer = Observer(symbols: shard.symbols)
    }

    public mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
        if partition.snapshotRequested.load(ordering: .acquiring) { handOverSnapshot(at: events.last?.time ?? 0) }
        // Consecutive events usually belong to one subject: skip the dictionary lookup for them.
        var lastSubject: Subject?
        var lastEntry: ProfileBook.Entry?
        for event in events.events {
            guard let behavior = Behavior(of: event) else { continue }
            let subject = Subject(of: event)
            let entry: ProfileBook.Entry
            if subject == lastSubject, let lastEntry {
                entry = lastEntry
            } else if let existing = partition.entries[subject] {
                entry = existing
            } else {
                entry = ProfileBook.Entry(profile: book.makeProfile(for: subject))
                partition.entries[subject] = entry
            }
            lastSubject = subject
            lastEntry = entry
            if entry.profile.lifecycle.state != .completed {
                learn(event, behavior, into: entry)
            } else if !entry.known.contains(behavior) {
                check(event, behavior, against: entry, into: &findings)
            }
        }
    }

    private func learn(_ event: Event, _ behavior: Behavior, into entry: ProfileBook.Entry) {
        var added = false
        if remember(behavior, in: entry), let observation = observer.observe(event) {
            added = entry.profile.learn(observation)
            if added { entry.dirty = true }
        }
        entry.profile.lifecycle.observe(at: event.time, addedEntry: added)
        let before = entry.profile.lifecycle.state
        entry.profile.lifecycle.advance(now: event.time, policy: book.policy)
        if entry.profile.lifecycle.state != before { entry.dirty = true }
    }

    private func check(
        _ event: Event, _ behavior: Behavior, against entry: ProfileBook.Entry, into findings: inout [Finding]
    ) {
        guard let observation = observer.observe(event) else { return }
        let differences = entry.profile.differences(observation)
        if differences.isEmpty {
            remember(behavior, in: entry)
            return
        }
        guard entry.reported.insert(behavior).inserted else { return }
        findings.append(
            Deviation.finding(for: event, profile: entry.profile, differences: differences, symbols: symbols))
    }

    /// Adds a fingerprint to the subject's cache; returns false when it was already there.
    @discardableResult
    private func remember(_ behavior: Behavior, in entry: ProfileBook.Entry) -> Bool {
        if entry.known.count >= ProfileBook.knownCacheLimit { entry.known.removeAll(keepingCapacity: true) }
        return entry.known.insert(behavior).inserted
    }

    private func handOverSnapshot(at time: Int64) {
        partition.snapshotRequested.store(false, ordering: .relaxed)
        let changed = ProfileBook.encode(partition, at: time, onlyChanged: true)
        partition.outbox.withLock { outbox in outbox = (outbox ?? []) + changed }
    }
}

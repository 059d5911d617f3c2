import VigilCore

extension ProfileBook {
    /// A factory of per-shard views of the book, for detectors that read the profiles (the rule detector,
    /// for rules that depend on them).
    ///
    /// Shard N's view reads shard N's partition, the one shard N's ``ProfileDetector`` writes; both run on
    /// that shard's thread, so the view takes no lock. Use it with engines of ``shardCount`` shards, and
    /// run its readers before the book's detector, in a `ProfileReadingChain`, so that they see each batch
    /// before it is learned.
    public var viewFactory: ProfileViewFactory {
        { shard in View(partition: self.partition(for: shard), observer: Observer(symbols: shard.symbols)) }
    }

    /// One shard's view of the book.
    ///
    /// It decides whether an event is held as the ``ProfileDetector`` does: the subject's cache of
    /// fingerprints first, then the event's normalized ``Observation`` against the profile. It changes
    /// nothing: the profile detector caches what it learns or matches when it sees the same batch.
    struct View: ProfileView {
        let partition: Partition
        let observer: Observer

        func isCompleted(_ event: Event) -> Bool {
            partition.entries[Subject(of: event)]?.profile.lifecycle.state == .completed
        }

        func holds(_ event: Event) -> Bool {
            guard let behavior = Behavior(of: event), let entry = partition.entries[Subject(of: event)] else {
                return false
            }
            if entry.known.contains(behavior) { return true }
            guard let observation = observer.observe(event) else { return false }
            return entry.profile.contains(observation)
        }
    }
}

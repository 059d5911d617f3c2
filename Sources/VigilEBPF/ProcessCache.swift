import VigilCore
import VigilLinux

/// What the sensor knows about each process, keyed by its identity (pid and start time): parent,
/// executable, arguments, working directory. Seeded from /proc at start for processes already running, then
/// kept current from exec, fork and exit records. Used by one thread only (the sensor's reader).
struct ProcessCache {
    struct Entry {
        var parent: ProcessKey
        var executable: Symbol
        var arguments: Symbol
        var workingDirectory: Symbol
        var uid: UInt32
        /// The cgroup id, or 0 when unknown.
        var cgroup: UInt64 = 0
        /// Found in /proc at start rather than seen starting: the engine has not heard of it yet.
        var seeded = false
        /// A seeded process the engine has been told about (with a `process.snapshot` event).
        var announced = false
    }

    private var entries: [ProcessKey: Entry] = [:]
    /// The newest process with each pid, for records that name another process by pid (ptrace).
    private var latestByPID: [Int32: ProcessKey] = [:]
    /// Exited processes, oldest first: forgotten once the cache is over capacity.
    private var exited: [ProcessKey] = []
    private var exitedStart = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(16, capacity)
    }

    var count: Int { entries.count }

    subscript(key: ProcessKey) -> Entry? { entries[key] }

    /// The newest process known with this pid.
    func latest(pid: Int32) -> ProcessKey? { latestByPID[pid] }

    /// Records a process (a fork's child, an exec's new image, a process found in /proc).
    mutating func insert(_ key: ProcessKey, _ entry: Entry) {
        entries[key] = entry
        latestByPID[key.pid] = key
        if entries.count > capacity { forgetOldestExited() }
    }

    /// Updates a process's image after exec; the pid and start time stay the same.
    mutating func exec(
        _ key: ProcessKey, parent: ProcessKey, executable: Symbol, arguments: Symbol, workingDirectory: Symbol,
        uid: UInt32, cgroup: UInt64
    ) {
        insert(
            key,
            Entry(
                parent: parent, executable: executable, arguments: arguments, workingDirectory: workingDirectory,
                uid: uid, cgroup: cgroup))
    }

    /// The seeded processes in `key`'s ancestry (itself included) that the engine has not heard of, outermost
    /// first, now marked as announced.
    mutating func unannouncedAncestry(of key: ProcessKey) -> [ProcessKey] {
        guard let entry = entries[key], entry.seeded, !entry.announced else { return [] }
        var chain: [ProcessKey] = []
        var next: ProcessKey? = key
        while let current = next, chain.count < 16, let found = entries[current], found.seeded, !found.announced {
            chain.append(current)
            entries[current]?.announced = true
            next = found.parent
        }
        return chain.reversed()
    }

    /// Marks a process as exited: it is kept for late lookups until the cache needs the room.
    mutating func exit(_ key: ProcessKey) {
        guard entries[key] != nil else { return }
        exited.append(key)
        if entries.count > capacity { forgetOldestExited() }
    }

    private mutating func forgetOldestExited() {
        while entries.count > capacity, exitedStart < exited.count {
            let key = exited[exitedStart]
            exitedStart += 1
            entries[key] = nil
            if latestByPID[key.pid] == key { latestByPID[key.pid] = nil }
        }
        // Compact the queue now and then so it does not grow without bound.
        if exitedStart > 4096 {
            exited.removeFirst(exitedStart)
            exitedStart = 0
        }
    }

    /// Seeds the cache from a /proc snapshot.
    mutating func seed(_ snapshots: [ProcessSnapshot], symbols: SymbolTable, cgroupID: (String) -> UInt64) {
        var startTimes: [Int32: UInt64] = [:]
        for snapshot in snapshots { startTimes[snapshot.pid] = snapshot.startTime }
        for snapshot in snapshots where !snapshot.isKernelThread {
            let parent = ProcessKey(pid: snapshot.parentPID, startTime: startTimes[snapshot.parentPID] ?? 0)
            insert(
                ProcessKey(pid: snapshot.pid, startTime: snapshot.startTime),
                Entry(
                    parent: parent, executable: symbols.intern(snapshot.executable),
                    arguments: symbols.intern(ArgumentList.join(snapshot.arguments)),
                    workingDirectory: symbols.intern(snapshot.workingDirectory), uid: snapshot.uid,
                    cgroup: snapshot.cgroupPath.isEmpty ? 0 : cgroupID(snapshot.cgroupPath), seeded: true))
        }
    }
}

import Metrics
import Synchronization

/// The engine's memory of the processes it has seen, for the process and ancestry of findings, shared by
/// all shards: a child's events and its parent's may belong to different workloads, hence to different
/// shards. Sinks feed it as sensors deliver, before any shard sees the batch, so a finding's ancestry never
/// depends on how far behind its parent's shard is, nor on whether the engine kept the parent's events.
/// It is locked once per batch, never per event.
final class SharedProcessTable: Sendable {
    private let table: Mutex<ProcessTable>
    private let forgottenTotal = Atomic<UInt64>(0)
    private let forgottenMetric = Counter(label: "vigil_processes_forgotten_total")

    init(capacity: Int) {
        table = Mutex(ProcessTable(capacity: capacity))
    }

    /// Processes forgotten because the table was full: findings about them lose their ancestry.
    var forgotten: UInt64 { forgottenTotal.load(ordering: .relaxed) }

    /// Learns from the process events among `events`, in order.
    func observe(_ events: some Collection<Event>) {
        guard events.contains(where: { $0.kind.fieldGroup == .process }) else { return }
        let forgotten = table.withLock { table in
            let before = table.evicted
            table.observe(events)
            return table.evicted - before
        }
        if forgotten > 0 {
            forgottenTotal.add(forgotten, ordering: .relaxed)
            forgottenMetric.increment(by: Int(forgotten))
        }
    }

    /// The process and its ancestors, as far as known.
    func describe(_ key: ProcessKey, symbols: SymbolTable) -> (ProcessSummary?, [ProcessSummary]) {
        table.withLock { $0.describe(key, symbols: symbols) }
    }
}

/// A memory of processes, fed by exec, fork, snapshot and exit events in arrival order. Bounded: when full
/// it forgets exited processes first, then the oldest half of what is left, and counts what it forgot.
struct ProcessTable {
    struct Entry {
        var parent: ProcessKey
        var executable: Symbol
        var arguments: Symbol
        var exited: Bool
        var order: UInt64
    }

    private(set) var entries: [ProcessKey: Entry] = [:]
    private var clock: UInt64 = 0
    let capacity: Int
    private(set) var evicted: UInt64 = 0

    /// The most ancestors reported with a finding.
    static let maximumAncestry = 16

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        entries.reserveCapacity(self.capacity)
    }

    mutating func observe(_ events: some Collection<Event>) {
        for event in events {
            guard case .process(let fields) = event.fields else { continue }
            switch event.kind {
            case .processExec, .processSnapshot:
                insert(
                    event.process,
                    Entry(
                        parent: fields.parent, executable: fields.executable, arguments: fields.arguments,
                        exited: false, order: 0))
            case .processFork:
                // A child starts as a copy of its parent until it execs.
                let parent = entries[fields.parent]
                insert(
                    event.process,
                    Entry(
                        parent: fields.parent,
                        executable: fields.executable.isNone ? (parent?.executable ?? .none) : fields.executable,
                        arguments: fields.arguments.isNone ? (parent?.arguments ?? .none) : fields.arguments,
                        exited: false, order: 0))
            case .processExit:
                entries[event.process]?.exited = true
            default:
                break
            }
        }
    }

    private mutating func insert(_ key: ProcessKey, _ entry: Entry) {
        if key.pid == 0 { return }
        // Only a full table needs the extra lookup.
        if entries.count >= capacity && entries[key] == nil { evict() }
        var entry = entry
        clock &+= 1
        entry.order = clock
        entries[key] = entry
    }

    private mutating func evict() {
        let before = entries.count
        entries = entries.filter { !$0.value.exited }
        if entries.count >= capacity * 3 / 4 {
            let cutoff = entries.values.map(\.order).sorted()[entries.count / 2]
            entries = entries.filter { $0.value.order >= cutoff }
        }
        entries.reserveCapacity(capacity)
        evicted &+= UInt64(before - entries.count)
    }

    /// The summary of `key` and of its known ancestors (parent first).
    func describe(_ key: ProcessKey, symbols: SymbolTable) -> (ProcessSummary?, [ProcessSummary]) {
        guard key.pid != 0 else { return (nil, []) }
        func summary(_ key: ProcessKey, _ entry: Entry?) -> ProcessSummary {
            ProcessSummary(
                key: key,
                executable: entry.map { symbols.string($0.executable) } ?? "",
                arguments: entry.map { ArgumentList.split(symbols.string($0.arguments)) } ?? [])
        }
        let entry = entries[key]
        var ancestry: [ProcessSummary] = []
        var next = entry?.parent
        while let parentKey = next, parentKey.pid != 0, ancestry.count < Self.maximumAncestry {
            let parent = entries[parentKey]
            ancestry.append(summary(parentKey, parent))
            next = parent?.parent
        }
        return (summary(key, entry), ancestry)
    }
}

/// Arguments travel as one string, each argument followed by a NUL byte, as in `/proc/PID/cmdline`; so
/// no arguments (`""`) and one empty argument (`"\0"`) stay different.
public enum ArgumentList {
    /// Joins arguments, ending each with a NUL byte.
    public static func join(_ arguments: some Sequence<String>) -> String {
        arguments.reduce(into: "") { joined, argument in
            joined += argument
            joined += "\u{0}"
        }
    }

    /// Splits a joined argument string. A missing final NUL (a truncated command line) still gives the
    /// last argument.
    public static func split(_ joined: String) -> [String] {
        if joined.isEmpty { return [] }
        var parts = joined.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
        if joined.hasSuffix("\u{0}") { parts.removeLast() }
        return parts
    }

    /// Arguments as a shell-like line for humans (`sh -c 'id; whoami'`).
    public static func display(_ joined: String) -> String {
        split(joined).map { $0.contains(" ") || $0.isEmpty ? "'\($0)'" : $0 }.joined(separator: " ")
    }
}

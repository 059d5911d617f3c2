import VigilCore

/// Undirected links between ``Entity`` values, each stamped with the last time it was seen.
///
/// The graph is bounded: when it holds more than ``capacity`` nodes it drops the least recently seen
/// tenth of them (with their links), so memory stays flat however many processes and addresses pass by.
/// Evicting in batches keeps the cost of a single link constant on average.
public struct EntityGraph: Sendable {
    private struct Node: Sendable {
        var lastSeen: Int64
        var links: [Entity: Int64]
    }

    private var nodes: [Entity: Node] = [:]

    /// The largest number of nodes kept.
    public let capacity: Int

    /// How many nodes were evicted to stay within ``capacity``.
    public private(set) var evicted: Int = 0

    /// Creates an empty graph holding at most `capacity` nodes (at least 2).
    public init(capacity: Int = 100_000) {
        self.capacity = max(2, capacity)
    }

    /// How many nodes the graph holds.
    public var count: Int { nodes.count }

    /// Whether `entity` is in the graph.
    public func contains(_ entity: Entity) -> Bool { nodes[entity] != nil }

    /// Adds `entity` (or refreshes it) as seen at `time`.
    public mutating func add(_ entity: Entity, at time: Int64) {
        var node = nodes[entity] ?? Node(lastSeen: time, links: [:])
        node.lastSeen = max(node.lastSeen, time)
        nodes[entity] = node
        evictIfNeeded()
    }

    /// Links `a` and `b` as seen together at `time`, adding them when new. A self-link is ignored.
    public mutating func link(_ a: Entity, _ b: Entity, at time: Int64) {
        guard a != b else { return add(a, at: time) }
        for (from, to) in [(a, b), (b, a)] {
            var node = nodes[from] ?? Node(lastSeen: time, links: [:])
            node.lastSeen = max(node.lastSeen, time)
            node.links[to] = max(node.links[to] ?? time, time)
            nodes[from] = node
        }
        evictIfNeeded()
    }

    /// The entities linked to `entity`, with the time each link was last seen.
    public func neighbors(of entity: Entity) -> [Entity: Int64] { nodes[entity]?.links ?? [:] }

    /// The entities reachable from `start` through links seen at or after `since`, `start` included,
    /// visiting at most `limit` nodes (breadth first, so the nearest come first).
    public func reachable(from start: [Entity], since: Int64, limit: Int = 256) -> [Entity] {
        var seen = Set(start)
        var order = start
        var next = 0
        while next < order.count, order.count < limit {
            for (neighbor, time) in nodes[order[next]]?.links ?? [:] where time >= since && !seen.contains(neighbor) {
                seen.insert(neighbor)
                order.append(neighbor)
                if order.count >= limit { break }
            }
            next += 1
        }
        return order
    }

    private mutating func evictIfNeeded() {
        guard nodes.count > capacity else { return }
        let keep = capacity - capacity / 10
        let oldest = nodes.sorted { $0.value.lastSeen < $1.value.lastSeen }.prefix(nodes.count - keep)
        for (entity, node) in oldest {
            for neighbor in node.links.keys { nodes[neighbor]?.links[entity] = nil }
            nodes[entity] = nil
        }
        evicted += oldest.count
    }
}

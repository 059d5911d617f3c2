import VigilCore

/// Undirected links between ``Entity`` values, each stamped with the last time it was seen.
///
/// The graph is bounded: when it holds more than ``capacity`` nodes it drops the least recently seen
/// tenth of them (with their links), so memory stays flat however many processes and addresses pass by.
/// Evicting in batches keeps the cost of a single link constant on average.
///
/// Each entity is hashed once, when it is looked up: it gets a dense slot, and the node in that slot holds
/// its last-seen time, its search mark and its first links (the neighbor's slot and the link's time,
/// updated in place), so a search follows integers and reads one small record per node. Slots of evicted
/// nodes are reused; a ``NodeReference`` carries the slot's incarnation, so that it is never taken for the
/// node that reuses it.
public struct EntityGraph: Sendable {
    /// A node while it is in the graph: its slot, and which incarnation of the slot it is.
    package struct NodeReference: Hashable, Sendable {
        /// The node's index in the graph's arrays.
        package var slot: Int32
        /// Counts the entities that have held the slot, so that a reference outlived by its node is known.
        package var stamp: UInt32
    }

    private struct Link {
        var neighbor: Int32
        var time: Int64
    }

    /// Three links, held in a node's record: most nodes have no more.
    private struct InlineLinks {
        var neighbors: (Int32, Int32, Int32) = (0, 0, 0)
        var times: (Int64, Int64, Int64) = (0, 0, 0)

        subscript(position: Int) -> Link {
            get {
                switch position {
                case 0: Link(neighbor: neighbors.0, time: times.0)
                case 1: Link(neighbor: neighbors.1, time: times.1)
                default: Link(neighbor: neighbors.2, time: times.2)
                }
            }
            set {
                switch position {
                case 0: (neighbors.0, times.0) = (newValue.neighbor, newValue.time)
                case 1: (neighbors.1, times.1) = (newValue.neighbor, newValue.time)
                default: (neighbors.2, times.2) = (newValue.neighbor, newValue.time)
                }
            }
        }
    }

    /// What a search reads of a node, in one record.
    private struct Node {
        var lastSeen: Int64
        var first = InlineLinks()
        /// The number of links: the first ones inline, the rest in `more`; -1 when the slot is free.
        var degree: Int32 = 0
        /// The last search that reached the node.
        var mark: UInt32 = 0
        /// Counts the entities that have held the slot.
        var stamp: UInt32 = 0
    }

    private static let inline = 3
    /// A node with more links than this keeps an index from neighbor to link, so that linking it stays
    /// constant time however many processes share it.
    private static let indexedDegree = 16

    private var slots: [Entity: Int32] = [:]
    // By slot: the node, its entity (nil when the slot is free), its links past the first three, the index of
    // its links when it has many.
    private var nodes: [Node] = []
    private var entities: [Entity?] = []
    private var more: [ContiguousArray<Link>] = []
    private var positions: [[Int32: Int32]] = []
    private var search: UInt32 = 0
    private var free: [Int32] = []

    /// The largest number of nodes kept.
    public let capacity: Int

    /// How many nodes were evicted to stay within ``capacity``.
    public private(set) var evicted: Int = 0

    /// Creates an empty graph holding at most `capacity` nodes (at least 2).
    public init(capacity: Int = 100_000) {
        self.capacity = max(2, capacity)
    }

    /// How many nodes the graph holds.
    public var count: Int { slots.count }

    /// Whether `entity` is in the graph.
    public func contains(_ entity: Entity) -> Bool { slots[entity] != nil }

    /// Adds `entity` (or refreshes it) as seen at `time`.
    public mutating func add(_ entity: Entity, at time: Int64) {
        _ = insert(entity, at: time)
        evictIfNeeded()
    }

    /// Links `a` and `b` as seen together at `time`, adding them when new. A self-link is ignored.
    public mutating func link(_ a: Entity, _ b: Entity, at time: Int64) {
        guard a != b else { return add(a, at: time) }
        let first = insert(a, at: time).node
        let second = insert(b, at: time).node
        link(first, second, at: time)
        evictIfNeeded()
    }

    /// The entities linked to `entity`, with the time each link was last seen.
    public func neighbors(of entity: Entity) -> [Entity: Int64] {
        guard let slot = slots[entity] else { return [:] }
        var neighbors: [Entity: Int64] = [:]
        for position in 0..<Int(nodes[Int(slot)].degree) {
            let link = link(at: position, of: Int(slot))
            neighbors[entities[Int(link.neighbor)]!] = link.time
        }
        return neighbors
    }

    /// The entities reachable from `start` through links seen at or after `since`, `start` included,
    /// visiting at most `limit` nodes (breadth first, so the nearest come first).
    public func reachable(from start: [Entity], since: Int64, limit: Int = 256) -> [Entity] {
        var order = start
        var seen: Set<Int32> = []
        var queue: [Int32] = []
        for entity in start {
            if let slot = slots[entity], seen.insert(slot).inserted { queue.append(slot) }
        }
        var next = 0
        while next < queue.count, order.count < limit {
            let from = Int(queue[next])
            next += 1
            for position in 0..<Int(nodes[from].degree) {
                let link = link(at: position, of: from)
                guard link.time >= since, seen.insert(link.neighbor).inserted else { continue }
                queue.append(link.neighbor)
                order.append(entities[Int(link.neighbor)]!)
                if order.count >= limit { break }
            }
        }
        return order
    }

    // MARK: - By node, for the correlator

    /// How many slots there are: every slot is below this.
    package var slotCount: Int { nodes.count }

    /// The node of `entity` when it is in the graph.
    package func reference(of entity: Entity) -> NodeReference? {
        slots[entity].map { NodeReference(slot: $0, stamp: nodes[Int($0)].stamp) }
    }

    /// Whether `node` is still in the graph (its slot was not given to another entity since).
    package func isCurrent(_ node: NodeReference) -> Bool {
        Int(node.slot) < nodes.count && nodes[Int(node.slot)].stamp == node.stamp && nodes[Int(node.slot)].degree >= 0
    }

    /// Adds `entity` (or refreshes it) as seen at `time`, without evicting: the caller calls
    /// ``evictIfNeeded(into:)`` when it no longer holds references it needs. Returns the entity's node and
    /// whether it is new to the graph.
    package mutating func insert(_ entity: Entity, at time: Int64) -> (node: NodeReference, inserted: Bool) {
        if slots.count == slots.capacity, slots.count >= capacity / 8 {
            // A graph in use grows to its capacity: growing the table once rehashes fewer entities than
            // doubling it all the way.
            slots.reserveCapacity(capacity + 64)
        }
        // One lookup: the slot the entity would get is written in place when it has none.
        let candidate = free.last ?? Int32(nodes.count)
        let slot = Self.claim(&slots[entity, default: -1], candidate)
        guard slot == -1 else {
            nodes[Int(slot)].lastSeen = max(nodes[Int(slot)].lastSeen, time)
            return (NodeReference(slot: slot, stamp: nodes[Int(slot)].stamp), false)
        }
        let index = Int(candidate)
        if free.popLast() != nil {
            entities[index] = entity
            nodes[index].lastSeen = time
            nodes[index].degree = 0
            nodes[index].stamp &+= 1
        } else {
            entities.append(entity)
            nodes.append(Node(lastSeen: time))
            more.append([])
            positions.append([:])
        }
        return (NodeReference(slot: candidate, stamp: nodes[index].stamp), true)
    }

    /// Refreshes `node`, which is current, as seen at `time`: what ``insert(_:at:)`` does to a node already in
    /// the graph, without hashing its entity.
    package mutating func see(_ node: NodeReference, at time: Int64) {
        nodes[Int(node.slot)].lastSeen = max(nodes[Int(node.slot)].lastSeen, time)
    }

    /// The slot in `value`, or -1 after writing `candidate` there when it had none.
    private static func claim(_ value: inout Int32, _ candidate: Int32) -> Int32 {
        guard value == -1 else { return value }
        value = candidate
        return -1
    }

    /// Links two nodes that are in the graph as seen together at `time`. A self-link is ignored.
    package mutating func link(_ a: NodeReference, _ b: NodeReference, at time: Int64) {
        let (first, second) = (Int(a.slot), Int(b.slot))
        nodes[first].lastSeen = max(nodes[first].lastSeen, time)
        nodes[second].lastSeen = max(nodes[second].lastSeen, time)
        guard first != second else { return }
        // A link is in both lists or in neither: look in the shorter one, often a new node's empty list.
        let (short, long) = nodes[first].degree <= nodes[second].degree ? (first, second) : (second, first)
        if let forth = position(of: Int32(long), in: short) {
            refresh(short, at: forth, to: time)
            refresh(long, at: position(of: Int32(short), in: long)!, to: time)
        } else {
            append(Link(neighbor: Int32(long), time: time), to: short)
            append(Link(neighbor: Int32(short), time: time), to: long)
        }
    }

    /// The slots reachable from `start` through links seen at or after `since`, `start` included, at most
    /// `limit` of them, breadth first; as ``reachable(from:since:limit:)``, without hashing or allocating.
    package mutating func search(
        from start: [NodeReference], since: Int64, limit: Int, into order: inout ContiguousArray<Int32>
    ) {
        order.removeAll(keepingCapacity: true)
        search &+= 1
        if search == 0 {
            // The marks wrapped around: clear them so that no old mark equals a new search.
            for index in nodes.indices { nodes[index].mark = 0 }
            search = 1
        }
        let current = search
        for node in start {
            order.append(node.slot)
            nodes[Int(node.slot)].mark = current
        }
        var next = 0
        while next < order.count, order.count < limit {
            let from = Int(order[next])
            next += 1
            let degree = Int(nodes[from].degree)
            for position in 0..<min(degree, Self.inline) {
                let link = nodes[from].first[position]
                guard link.time >= since, nodes[Int(link.neighbor)].mark != current else { continue }
                nodes[Int(link.neighbor)].mark = current
                order.append(link.neighbor)
                if order.count >= limit { return }
            }
            guard degree > Self.inline else { continue }
            for link in more[from] where link.time >= since && nodes[Int(link.neighbor)].mark != current {
                nodes[Int(link.neighbor)].mark = current
                order.append(link.neighbor)
                if order.count >= limit { return }
            }
        }
    }

    /// Evicts the least recently seen tenth of the nodes when there are more than ``capacity``, appending the
    /// slot and entity of each to `evicted`. The tenth is found by selection on the last-seen times, in time
    /// linear in the number of nodes, not by sorting them.
    package mutating func evictIfNeeded(into evicted: inout [(slot: Int32, entity: Entity)]) {
        guard slots.count > capacity else { return }
        let excess = slots.count - (capacity - capacity / 10)
        // The time of the last node to go: every node seen before it goes, and enough of those seen then.
        var times: ContiguousArray<Int64> = []
        times.reserveCapacity(slots.count)
        for node in nodes where node.degree >= 0 { times.append(node.lastSeen) }
        let threshold = Self.select(excess - 1, in: &times)
        var ties = excess - times.lazy.filter { $0 < threshold }.count
        for slot in nodes.indices where nodes[slot].degree >= 0 {
            let time = nodes[slot].lastSeen
            guard time < threshold || (time == threshold && ties > 0) else { continue }
            if time == threshold { ties -= 1 }
            evicted.append((Int32(slot), remove(Int32(slot))))
        }
        self.evicted += excess
    }

    // MARK: - Internals

    private mutating func evictIfNeeded() {
        var evicted: [(slot: Int32, entity: Entity)] = []
        evictIfNeeded(into: &evicted)
    }

    private func link(at position: Int, of slot: Int) -> Link {
        position < Self.inline ? nodes[slot].first[position] : more[slot][position - Self.inline]
    }

    private mutating func refresh(_ slot: Int, at position: Int, to time: Int64) {
        if position < Self.inline {
            nodes[slot].first[position].time = max(nodes[slot].first[position].time, time)
        } else {
            more[slot][position - Self.inline].time = max(more[slot][position - Self.inline].time, time)
        }
    }

    private mutating func set(_ link: Link, at position: Int, of slot: Int) {
        if position < Self.inline {
            nodes[slot].first[position] = link
        } else {
            more[slot][position - Self.inline] = link
        }
    }

    /// Adds `link` to the links of `slot`, which has none to its neighbor yet.
    private mutating func append(_ link: Link, to slot: Int) {
        let position = Int(nodes[slot].degree)
        if position < Self.inline {
            nodes[slot].first[position] = link
        } else {
            more[slot].append(link)
        }
        nodes[slot].degree += 1
        if position == Self.indexedDegree {
            for index in 0...position { positions[slot][self.link(at: index, of: slot).neighbor] = Int32(index) }
        } else if position > Self.indexedDegree {
            positions[slot][link.neighbor] = Int32(position)
        }
    }

    private func position(of neighbor: Int32, in slot: Int) -> Int? {
        let degree = Int(nodes[slot].degree)
        if degree > Self.indexedDegree { return positions[slot][neighbor].map { Int($0) } }
        for position in 0..<degree where link(at: position, of: slot).neighbor == neighbor { return position }
        return nil
    }

    /// Frees `slot` and removes its links from its neighbors; returns the entity it held.
    private mutating func remove(_ slot: Int32) -> Entity {
        let index = Int(slot)
        for position in 0..<Int(nodes[index].degree) {
            let neighbor = Int(link(at: position, of: index).neighbor)
            guard let at = self.position(of: slot, in: neighbor) else { continue }
            // The neighbor's last link takes the place of the removed one.
            let indexed = nodes[neighbor].degree > Self.indexedDegree
            let lastPosition = Int(nodes[neighbor].degree) - 1
            let last = link(at: lastPosition, of: neighbor)
            if at < lastPosition {
                set(last, at: at, of: neighbor)
                if indexed { positions[neighbor][last.neighbor] = Int32(at) }
            }
            if lastPosition >= Self.inline { more[neighbor].removeLast() }
            nodes[neighbor].degree -= 1
            if indexed {
                positions[neighbor][slot] = nil
                if nodes[neighbor].degree <= Self.indexedDegree { positions[neighbor] = [:] }
            }
        }
        // A slot keeps a small list's storage for its next entity; a large one goes, so memory stays bounded.
        more[index].removeAll(keepingCapacity: more[index].capacity <= 8)
        positions[index] = [:]
        nodes[index].degree = -1
        let entity = entities[index].take()!
        slots[entity] = nil
        free.append(slot)
        return entity
    }

    /// The element that would be at `rank` were `values` sorted (quickselect, three-way partition).
    private static func select(_ rank: Int, in values: inout ContiguousArray<Int64>) -> Int64 {
        values.withUnsafeMutableBufferPointer { values in
            var low = 0
            var high = values.count - 1
            while low < high {
                let middle = low + (high - low) / 2
                let (a, b, c) = (values[low], values[middle], values[high])
                let pivot = max(min(a, b), min(max(a, b), c))
                // [low, less) < pivot, [less, index) == pivot, (greater, high] > pivot.
                var less = low
                var index = low
                var greater = high
                while index <= greater {
                    if values[index] < pivot {
                        values.swapAt(less, index)
                        less += 1
                        index += 1
                    } else if values[index] > pivot {
                        values.swapAt(index, greater)
                        greater -= 1
                    } else {
                        index += 1
                    }
                }
                if rank < less {
                    high = less - 1
                } else if rank > greater {
                    low = greater + 1
                } else {
                    return pivot
                }
            }
            return values[low]
        }
    }
}

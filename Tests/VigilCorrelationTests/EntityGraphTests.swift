import Testing
import VigilCore
import VigilCorrelation
import VigilTestKit

/// The graph's contract, checked against a plain model of it: links keep their latest time in both
/// directions, a search follows only links seen since its bound, breadth first, up to its limit, and
/// eviction keeps the most recently seen nodes within the capacity and drops the links of those it evicts.
@Suite("EntityGraph semantics")
struct EntityGraphSemanticsTests {
    static func process(_ pid: Int) -> Entity { .process(ProcessKey(pid: Int32(pid), startTime: 7)) }

    /// A plain, unbounded model of the graph: links by entity, each with its latest time.
    struct Model {
        var links: [Entity: [Entity: Int64]] = [:]
        var lastSeen: [Entity: Int64] = [:]

        mutating func link(_ a: Entity, _ b: Entity, at time: Int64) {
            for entity in [a, b] { lastSeen[entity] = max(lastSeen[entity] ?? time, time) }
            guard a != b else { return }
            links[a, default: [:]][b] = max(links[a]?[b] ?? time, time)
            links[b, default: [:]][a] = max(links[b]?[a] ?? time, time)
        }

        /// The distance of each node reachable from `start` through links seen at or after `since`.
        func distances(from start: [Entity], since: Int64) -> [Entity: Int] {
            var distance: [Entity: Int] = [:]
            for entity in start { distance[entity] = 0 }
            var queue = start
            var next = 0
            while next < queue.count {
                let from = queue[next]
                next += 1
                for (to, time) in links[from] ?? [:] where time >= since && distance[to] == nil {
                    distance[to] = distance[from]! + 1
                    queue.append(to)
                }
            }
            return distance
        }
    }

    /// A small deterministic generator, so that a failure can be replayed.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var value = state
            value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
            value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
            return value ^ (value >> 31)
        }
    }

    @Test("a link keeps its latest time, in both directions")
    func linkTimes() {
        var graph = EntityGraph()
        let (a, b) = (Self.process(1), Entity.container("c1"))
        graph.link(a, b, at: 100)
        graph.link(b, a, at: 50)
        #expect(graph.neighbors(of: a) == [b: 100])
        #expect(graph.neighbors(of: b) == [a: 100])
        graph.link(a, b, at: 200)
        #expect(graph.neighbors(of: a) == [b: 200])
        #expect(graph.neighbors(of: b) == [a: 200])
        graph.link(a, a, at: 300)
        #expect(graph.neighbors(of: a) == [b: 200])
        #expect(graph.count == 2)
    }

    @Test("a search follows only links seen since its bound; a refreshed link is followed again")
    func sinceBound() {
        var graph = EntityGraph()
        let (a, b, c) = (Self.process(1), Self.process(2), Self.process(3))
        graph.link(a, b, at: 100)
        graph.link(b, c, at: 50)
        #expect(graph.reachable(from: [a], since: 100) == [a, b])
        #expect(graph.reachable(from: [a], since: 101) == [a])
        #expect(graph.reachable(from: [a], since: 50) == [a, b, c])
        graph.link(c, b, at: 120)
        #expect(graph.reachable(from: [a], since: 110) == [a])
        #expect(graph.reachable(from: [b], since: 110) == [b, c])
        // An entity not in the graph is its own result.
        #expect(graph.reachable(from: [.container("unknown")], since: 0) == [.container("unknown")])
    }

    @Test("a search is breadth first, nearest first, and stops at its limit")
    func breadthFirstAndLimit() {
        var graph = EntityGraph()
        // A hub with 40 spokes (past the size at which a node indexes its links), each with a leaf.
        let hub = Entity.workload("default/Deployment/web/web")
        for index in 0..<40 {
            graph.link(hub, Self.process(index), at: 10)
            graph.link(Self.process(index), .container("leaf\(index)"), at: 10)
        }
        let all = graph.reachable(from: [hub], since: 0, limit: 1_000)
        #expect(all.count == 81)
        #expect(all.first == hub)
        #expect(Set(all[1...40]) == Set((0..<40).map(Self.process)))
        #expect(Set(all[41...]) == Set((0..<40).map { Entity.container("leaf\($0)") }))
        let limited = graph.reachable(from: [hub], since: 0, limit: 10)
        #expect(limited.count == 10)
        #expect(limited.dropFirst().allSatisfy { $0.kind == "process" })
        // The start is kept whole even over the limit.
        let start = (0..<5).map(Self.process)
        #expect(graph.reachable(from: start, since: 0, limit: 3) == start)
        // Relinking a spoke later updates its link in place: no duplicate neighbor.
        graph.link(Self.process(7), hub, at: 20)
        #expect(graph.neighbors(of: hub).count == 40)
        #expect(graph.neighbors(of: hub)[Self.process(7)] == 20)
        #expect(graph.reachable(from: [hub], since: 15) == [hub, Self.process(7)])
    }

    @Test("searches agree with a plain model on random graphs")
    func randomGraphsAgreeWithModel() {
        var random = Generator(state: 42)
        for round in 0..<20 {
            var graph = EntityGraph()
            var model = Model()
            let nodes = 5 + round * 3
            for step in 0..<(nodes * 3) {
                let a = Self.process(Int.random(in: 0..<nodes, using: &random))
                let b = Self.process(Int.random(in: 0..<nodes, using: &random))
                let time = Int64(step % 17)
                graph.link(a, b, at: time)
                model.link(a, b, at: time)
            }
            for entity in model.lastSeen.keys {
                #expect(graph.neighbors(of: entity) == (model.links[entity] ?? [:]))
            }
            for _ in 0..<10 {
                let start = [Self.process(Int.random(in: 0..<nodes, using: &random))]
                let since = Int64.random(in: 0..<17, using: &random)
                let limit = Int.random(in: 1..<(nodes + 2), using: &random)
                let distance = model.distances(from: start, since: since)
                let found = graph.reachable(from: start, since: since, limit: limit)
                #expect(found.count == min(limit, distance.count))
                #expect(Set(found).count == found.count)
                // Nearest first, and nothing nearer than the farthest found is left out.
                let depths = found.map { distance[$0] ?? -1 }
                #expect(depths == depths.sorted())
                #expect(!depths.contains(-1))
                let farthest = depths.last ?? 0
                #expect(distance.filter { $0.value < farthest }.keys.allSatisfy { found.contains($0) })
                // The correlator's search by node finds the same nodes in the same order.
                let nodes = start.map { graph.reference(of: $0) ?? graph.insert($0, at: 0).node }
                var order: ContiguousArray<Int32> = []
                graph.search(from: nodes, since: since, limit: limit, into: &order)
                #expect(Array(order) == found.map { graph.reference(of: $0)!.slot })
            }
        }
    }

    @Test("eviction keeps the most recently seen nodes within the capacity and drops the links of the others")
    func evictionBound() {
        var random = Generator(state: 7)
        var graph = EntityGraph(capacity: 50)
        var model = Model()
        let hub = Entity.workload("default/Deployment/hub/hub")
        var present: Set<Entity> = []
        var time: Int64 = 0
        var inserted = 0
        for index in 0..<2_000 {
            time += 1
            // The hub is touched often, so it stays; other nodes are new, or one of the last 60.
            let a = index % 3 == 0 ? hub : Self.process(max(0, index - Int.random(in: 0..<60, using: &random)))
            let b = Self.process(index)
            inserted += Set([a, b]).filter { !graph.contains($0) }.count
            graph.link(a, b, at: time)
            model.link(a, b, at: time)
            present.formUnion([a, b])
            #expect(graph.count <= 50)
            let gone = present.filter { !graph.contains($0) }
            if !gone.isEmpty {
                // The evicted were seen no later than any node kept.
                let kept = present.subtracting(gone)
                let newestGone = gone.map { model.lastSeen[$0]! }.max()!
                let oldestKept = kept.map { model.lastSeen[$0]! }.min()!
                #expect(newestGone <= oldestKept)
                present = kept
            }
        }
        #expect(graph.contains(hub))
        #expect(graph.evicted == inserted - graph.count)
        // No link leads to an evicted node, links are symmetric, and a kept link keeps its time.
        for entity in present {
            for (neighbor, time) in graph.neighbors(of: entity) {
                #expect(present.contains(neighbor))
                #expect(graph.neighbors(of: neighbor)[entity] == time)
                #expect(model.links[entity]?[neighbor] == time)
            }
        }
        // An evicted entity comes back with no links; its slot's new owner has none of the old ones.
        let old = Self.process(0)
        #expect(!graph.contains(old))
        graph.add(old, at: time + 1)
        #expect(graph.neighbors(of: old).isEmpty)
        #expect(graph.reachable(from: [old], since: 0) == [old])
    }

    @Test("eviction drops exactly the least recently seen tenth over the capacity")
    func evictionExact() {
        var graph = EntityGraph(capacity: 100)
        for index in 0..<100 { graph.add(Self.process(index), at: Int64(index)) }
        #expect(graph.count == 100)
        #expect(graph.evicted == 0)
        // Refreshing the oldest ten keeps them.
        for index in 0..<10 { graph.add(Self.process(index), at: 1_000) }
        graph.add(Self.process(100), at: 100)
        #expect(graph.count == 90)
        #expect(graph.evicted == 11)
        #expect((0..<10).allSatisfy { graph.contains(Self.process($0)) })
        #expect((10..<21).allSatisfy { !graph.contains(Self.process($0)) })
        #expect((21...100).allSatisfy { graph.contains(Self.process($0)) })
    }
}

@Suite("StoryCorrelator and the bounded graph")
struct StoryGraphBoundTests {
    @Test("an entity the graph evicted still leads to its open story")
    func evictedEntityKeepsItsStory() {
        let symbols = SymbolTable()
        var build = EventBuilder(symbols: symbols, step: second)
        var correlator = StoryCorrelator(symbols: symbols, configuration: .init(maximumGraphNodes: 20))
        var incidents: [Incident] = []
        let web = build.workload(deployment: "web")
        correlator.correlate(
            [finding(build.exec(pid: 100, executable: "/bin/sh", workload: web), rule: "shell")], into: &incidents)
        let story = incidents[0].id
        // Sixty other workloads push the shell and its workload out of the graph.
        for index in 0..<60 {
            let other = build.workload(deployment: "other\(index)")
            correlator.correlate(
                [finding(build.exec(pid: Int32(1_000 + index), executable: "/bin/sh", workload: other), rule: "shell")],
                into: &incidents)
        }
        #expect(correlator.graph.count <= 20)
        #expect(!correlator.graph.contains(.workload(symbols.workload(web).name)))
        #expect(!correlator.graph.contains(.process(EventBuilder.process(100))))
        // A child of the shell joins the shell's story, through the shell.
        incidents.removeAll()
        let child = build.exec(pid: 101, parent: 100, executable: "/usr/bin/curl", workload: web)
        correlator.correlate([finding(child, rule: "download", ancestry: [summary(100, "/bin/sh")])], into: &incidents)
        #expect(incidents.map(\.id) == [story])
        #expect(incidents.first?.steps.count == 2)
        #expect(correlator.statistics.opened == 61)
    }
}

@Suite("Entity names")
struct EntityNameTests {
    @Test("a process is named pid@start, as its key describes itself")
    func processNames() {
        let pids: [Int32] = [0, 1, 7, 10, 99, 100, 12_345, -1, -42, .max, .min]
        let starts: [UInt64] = [0, 1, 9, 10, 1_000_007, 1_700_000_000_123_456_789, .max]
        for pid in pids {
            for start in starts {
                let key = ProcessKey(pid: pid, startTime: start)
                #expect(Entity.process(key).id == key.description)
            }
        }
    }
}

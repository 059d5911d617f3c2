import Testing
import VigilCore
import VigilCorrelation
import VigilTestKit

@Suite("StoryCorrelator story lifetime")
struct StoryLifetimeTests {
    /// A shell in its own workload, and a child of that shell: the child joins the shell's story.
    struct Stories {
        var build: EventBuilder
        var workloads: [WorkloadID] = []

        init(symbols: SymbolTable, count: Int) {
            build = EventBuilder(symbols: symbols, step: second)
            workloads = (0..<count).map { build.workload(deployment: "app\($0)") }
        }

        mutating func shell(_ index: Int) -> Finding {
            finding(
                build.exec(pid: Int32(100 + index), executable: "/bin/sh", workload: workloads[index]), rule: "shell")
        }

        mutating func child(_ index: Int, pid: Int32) -> Finding {
            finding(
                build.exec(
                    pid: pid, parent: Int32(100 + index), executable: "/usr/bin/curl", workload: workloads[index]),
                // A rule of its own, so that the child adds a step rather than repeating one.
                rule: "download-\(pid)", ancestry: [summary(Int32(100 + index), "/bin/sh")])
        }
    }

    @Test("over the bound, the least recently active story closes, not the oldest")
    func leastRecentlyActiveCloses() throws {
        let symbols = SymbolTable()
        var stories = Stories(symbols: symbols, count: 6)
        var correlator = StoryCorrelator(symbols: symbols, configuration: .init(maximumOpenIncidents: 5))
        var opened: [Incident] = []
        correlator.correlate((0..<5).map { stories.shell($0) }, into: &opened)
        try #require(opened.count == 5)
        // Story 0 is active again; story 1 is now the least recently active.
        var grown: [Incident] = []
        correlator.correlate([stories.child(0, pid: 200)], into: &grown)
        #expect(grown.map(\.id) == [opened[0].id])
        var sixth: [Incident] = []
        correlator.correlate([stories.shell(5)], into: &sixth)
        #expect(correlator.openIncidents == 5)
        var later: [Incident] = []
        correlator.correlate([stories.child(0, pid: 201), stories.child(1, pid: 202)], into: &later)
        // Story 0 is still open and grows; story 1 was closed, so its child starts a story of its own.
        #expect(later.count == 2)
        #expect(later.contains { $0.id == opened[0].id })
        #expect(!later.contains { $0.id == opened[1].id })
        #expect(correlator.statistics.opened == 7)
    }

    @Test("a story active within the window stays open while older ones expire")
    func expiry() {
        let symbols = SymbolTable()
        var stories = Stories(symbols: symbols, count: 3)
        var correlator = StoryCorrelator(symbols: symbols, configuration: .init(window: .seconds(60)))
        var incidents: [Incident] = []
        correlator.correlate((0..<3).map { stories.shell($0) }, into: &incidents)
        stories.build.time += 50 * second
        correlator.correlate([stories.child(1, pid: 300)], into: &incidents)
        #expect(correlator.openIncidents == 3)
        // 65 s after the shells, 15 s after story 1 grew: stories 0 and 2 are past the window.
        stories.build.time += 15 * second
        correlator.correlate([stories.child(1, pid: 301)], into: &incidents)
        #expect(correlator.openIncidents == 1)
        stories.build.time += 61 * second
        correlator.correlate([stories.shell(0)], into: &incidents)
        #expect(correlator.openIncidents == 1)
        #expect(correlator.statistics.opened == 4)
    }

    @Test("many stories opening and growing stay within the bound and close in order of activity")
    func churn() {
        let symbols = SymbolTable()
        var stories = Stories(symbols: symbols, count: 400)
        var correlator = StoryCorrelator(symbols: symbols, configuration: .init(maximumOpenIncidents: 50))
        var incidents: [Incident] = []
        for index in 0..<400 {
            var batch = [stories.shell(index)]
            // Keep story 0 active throughout: it must never close.
            if index % 10 == 0 { batch.append(stories.child(0, pid: Int32(10_000 + index))) }
            correlator.correlate(batch, into: &incidents)
            #expect(correlator.openIncidents <= 50)
        }
        let first = incidents[0].id
        #expect(latest(incidents).count == 400)
        // Story 0 never closed: it was reported as it grew, always under its first id.
        #expect(incidents.filter { $0.id == first }.count == 40)
        var end: [Incident] = []
        correlator.finish(into: &end)
        #expect(correlator.openIncidents == 0)
    }
}

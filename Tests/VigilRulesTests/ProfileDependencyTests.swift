import Synchronization
import Testing
import VigilCore
import VigilRules
import VigilTestKit

/// A profile view that answers from fixed sets of workloads, and counts the questions it is asked.
private final class ScriptedView: ProfileView {
    let completed: Set<WorkloadID>
    let holding: Set<WorkloadID>
    private(set) var questions = 0

    init(completed: Set<WorkloadID>, holding: Set<WorkloadID>) {
        self.completed = completed
        self.holding = holding
    }

    func isCompleted(_ event: Event) -> Bool {
        questions += 1
        return completed.contains(event.workload)
    }

    func holds(_ event: Event) -> Bool {
        questions += 1
        return holding.contains(event.workload)
    }
}

/// Three rules on one condition (a shell executed), one per profile dependency.
private let dependentRules = ProfileDependency.allCases.map { dependency in
    """
    - rule: Shell \(dependency.rawValue)
      id: test.\(dependency.rawValue)
      desc: A shell ran.
      condition: evt.type = execve and proc.name = sh
      output: shell (workload=%workload.name)
      severity: medium
      mitre: {tactic: execution, technique: T1059.004}
      profile: \(dependency.rawValue)
      tags: [test]
    """
}.joined(separator: "\n\n")

private func compiledRules() throws -> [Rule] {
    var loader = RuleLoader()
    try loader.addFile(text: dependentRules, name: "dependent.yaml")
    let compiled = loader.compile()
    #expect(compiled.failures.isEmpty, "\(compiled.failures)")
    #expect(compiled.rules.map(\.profile) == [.none, .completed, .suppressed])
    return compiled.rules
}

@Suite("Rules' profile dependency")
struct ProfileDependencyTests {
    @Test("each dependency decides from the profile's state and what it holds")
    func dependencies() throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let learning = b.workload(deployment: "learning")
        let learningHolding = b.workload(deployment: "learning-holding")
        let completed = b.workload(deployment: "completed")
        let completedHolding = b.workload(deployment: "completed-holding")
        let view = ScriptedView(
            completed: [completed, completedHolding], holding: [learningHolding, completedHolding])
        var detector = RuleDetector(rules: try compiledRules(), symbols: symbols, profiles: view)
        var fired: [WorkloadID: [String]] = [:]
        for workload in [learning, learningHolding, completed, completedHolding] {
            var findings: [Finding] = []
            detector.inspect(EventBatch([b.exec(pid: 7, executable: "/bin/sh", workload: workload)]), into: &findings)
            fired[workload] = findings.map(\.rule.id)
        }
        // Learning, not held: the first occurrence of a shell fires the suppressed rule, not the completed one.
        #expect(fired[learning] == ["test.none", "test.suppressed"])
        // Learning, held: what was learned suppresses before completion too.
        #expect(fired[learningHolding] == ["test.none"])
        // Completed, not held: new behavior fires every rule.
        #expect(fired[completed] == ["test.none", "test.completed", "test.suppressed"])
        // Completed and held: only the rule without a dependency.
        #expect(fired[completedHolding] == ["test.none"])
    }

    @Test("the profiles are consulted only after a rule with a dependency matched")
    func consultedOnlyOnDependentMatches() throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let web = b.workload(deployment: "web")
        let view = ScriptedView(completed: [], holding: [])
        let rules = try compiledRules()
        var independent = RuleDetector(rules: rules.filter { $0.profile == .none }, symbols: symbols, profiles: view)
        var findings: [Finding] = []
        independent.inspect(EventBatch([b.exec(pid: 1, executable: "/bin/sh", workload: web)]), into: &findings)
        #expect(findings.map(\.rule.id) == ["test.none"])
        #expect(view.questions == 0, "a rule without a dependency never asks")

        var all = RuleDetector(rules: rules, symbols: symbols, profiles: view)
        findings = []
        all.inspect(
            EventBatch([
                b.exec(pid: 2, executable: "/usr/bin/python3", workload: web),
                b.open(pid: 2, path: "/etc/hosts", workload: web),
            ]), into: &findings)
        #expect(findings.isEmpty)
        #expect(view.questions == 0, "events that match no rule never ask")
    }

    @Test("without a view every match is reported, whatever the dependency")
    func withoutView() throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        var detector = RuleDetector(rules: try compiledRules(), symbols: symbols)
        var findings: [Finding] = []
        detector.inspect(
            EventBatch([b.exec(pid: 1, executable: "/bin/sh", workload: b.workload(deployment: "web"))]),
            into: &findings)
        #expect(findings.map(\.rule.id) == ["test.none", "test.completed", "test.suppressed"])
    }

    @Test("a rule set's factory gives each shard's detector that shard's view")
    func factoryPassesShardViews() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let workloads = (0..<6).map { b.workload(deployment: "app-\($0)") }
        let events = workloads.enumerated().map { index, workload in
            b.exec(pid: Int32(10 + index), executable: "/bin/sh", workload: workload)
        }
        let asked = ShardLog()
        let set = RuleSet(rules: try compiledRules())
        let output = CollectingOutput()
        try await Engine(
            configuration: EngineConfiguration(shards: 2), symbols: symbols, sensors: [InMemorySensor(events: events)],
            detectors: set.detectorFactory(profiles: { shard in
                asked.record(shard.index)
                // Every profile is completed and holds nothing: all three rules fire.
                return ScriptedView(completed: Set(workloads), holding: [])
            }), outputs: [output]
        ).run()
        #expect(asked.shards == [0, 1])
        #expect(output.findings.count == 18)
        #expect(Set(output.findings.map(\.rule.id)) == ["test.none", "test.completed", "test.suppressed"])
    }
}

/// The shards a factory was called for.
private final class ShardLog: Sendable {
    private let state = Mutex<[Int]>([])
    func record(_ shard: Int) { state.withLock { $0.append(shard) } }
    var shards: [Int] { state.withLock { $0.sorted() } }
}

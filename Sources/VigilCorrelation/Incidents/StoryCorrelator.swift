import VigilCore

/// What a ``StoryCorrelator`` has done, for metrics and tests.
public struct CorrelationStatistics: Sendable, Equatable {
    /// Findings taken.
    public var findings = 0
    /// Findings counted on an existing step because they repeated one within the cooldown.
    public var deduplicated = 0
    /// Incidents opened.
    public var opened = 0
    /// Incidents absorbed into another when a finding linked them.
    public var merged = 0
    /// Lone low-severity incidents held back and closed without ever being joined.
    public var heldBackDropped = 0
    /// Findings that joined an incident already holding its maximum of steps, so added no step.
    public var stepsDropped = 0
}

/// Joins findings into attack stories through an ``EntityGraph``.
///
/// Findings that share an entity, directly or through links seen within the window, join one incident.
/// Its steps are in time order; its root cause is its earliest finding; its severity is the highest of its
/// findings, raised one level when two or more layers corroborate (and at least high when the node's role
/// was used from outside the node). An incident is reported when it opens and again, under the same id,
/// each time it gains steps; repeats of one rule on one subject within the cooldown only count.
///
/// Credential exfiltration: a cloud call by the node's role from an address that is not the node's adds a
/// derived step (no finding of its own) with technique T1552.005 (Cloud Instance Metadata API, credential
/// access): the credentials the metadata service handed to the node are being used elsewhere. T1552.005
/// was chosen over T1550.001 because the story is the theft of the instance credentials; the use itself is
/// the cloud finding's own step. A ``NodeCredentialDetector`` finding for the same address tells the same
/// act: it takes the derived step's place, so that the story says it once.
public struct StoryCorrelator: Correlator {
    private struct Step {
        var step: IncidentStep
        var finding: Finding?
        // Whether the summary tells the step as it is: it is written when the story is reported, not on every
        // repeat. Until then `latest` holds the step's latest repeat, if any.
        var summarized: Bool
        var latest: Finding?
        var count: Int
        // Nil for a derived step.
        var key: StepKey?
        var lastTime: Int64
        var order: Int
        // The address the node's credentials were used from, for a derived step and for the step of a
        // ``NodeCredentialDetector`` finding, which covers the derived step of the same act.
        var exfiltration: IPAddress? = nil
        // Whether the step was covered since it was added: it stays, so that indices hold, but is not told.
        var retired = false
        // How the narrative tells the step's finding, and for how many repeats.
        var phrase: Phrase? = nil
        var phraseCount = 0
        // Where the story's narrative told the step (-1: not told), and for how many repeats.
        var toldAt = -1
        var toldRepeats = 0
        // Whether repeats of its key are counted on this step.
        var counting = false
    }

    /// What repeats are counted on. The layer is part of it: a deviation seen by the application and the same
    /// one seen by the kernel are two views, two steps.
    private struct StepKey: Hashable {
        var rule: String
        var layer: Layer
        var subject: String
        // The executable a workload finding's subject goes with, kept apart: not joined into a new string.
        var executable: Symbol
    }

    /// What is read of a story on every finding and every call, kept by slot apart from its record: a field
    /// read through the slot's optional record can copy the whole record (a retain of each of its arrays and
    /// strings), and these few numbers sit together in one small record.
    private struct StoryClock {
        // The order in which stories opened: reports of one call come in that order.
        var serial = 0
        var firstTime: Int64 = 0
        var lastTime: Int64 = 0
        // The last call of ``correlate(_:into:)`` that listed the story as touched.
        var listed = 0
    }

    private struct Story {
        var id: String
        var steps: [Step] = []
        // The step counted on for each key. A few steps are searched; past ``indexedSteps`` the steps are indexed
        // by key. Each step says whether it is its key's.
        var stepByKey: [StepKey: Int] = [:]
        var indexed = false
        static let indexedSteps = 16
        var entities: [Entity] = []
        // The graph node of each entity, when it was added.
        var nodes: [EntityGraph.NodeReference] = []
        var severity = Severity.info
        var exfiltrations: Set<IPAddress> = []
        var extraFindings = 0
        // What was last reported: the number of steps and of findings.
        var reportedSteps = 0
        var reportedFindings = 0
        // The narrative as last reported, told step by step; how many steps it tells.
        var told = NarrativeText()
        var toldCount = 0
        // The head of the last title, and the steps it was made from: the first, and the root finding's.
        var titleHead: String?
        var titleFrom = (first: -1, root: -1)

        var findingCount: Int {
            // By index: `reduce` would take each step by copy.
            var count = 0
            for index in steps.indices { count += steps[index].count }
            return count
        }

        /// A lone low finding waits for company when so configured.
        func isHeld(holdingLoneLow: Bool) -> Bool {
            holdingLoneLow && steps.count == 1 && severity <= .low && exfiltrations.isEmpty
        }

        /// The incident telling the story as it is now, which is then reported.
        /// `order` is storage reused from report to report.
        mutating func report(_ narrative: Narrative, _ writer: inout PhraseWriter, order: inout [Int]) -> Incident {
            summarize(&writer)
            let incident = incident(narrative, &writer, order: &order)
            reportedSteps = steps.count
            reportedFindings = findingCount
            return incident
        }

        /// The incident telling the story; its steps' summaries must be written. `order` is storage reused from
        /// report to report.
        mutating func incident(_ narrative: Narrative, _ writer: inout PhraseWriter, order: inout [Int]) -> Incident {
            Self.order(of: steps, into: &order)
            let ordered = order.map { steps[$0].step }
            // Sized at once: `compactMap` would grow the list finding by finding.
            var findings: [Finding] = []
            findings.reserveCapacity(order.count)
            for index in order {
                if let finding = steps[index].finding { findings.append(finding) }
            }
            var severity = severity
            if let first = ordered.first?.layer, ordered.contains(where: { $0.layer != first }) {
                // Two layers or more corroborate.
                severity = severity.raised
            }
            if !exfiltrations.isEmpty { severity = max(severity, .high) }
            var incident = Incident(
                id: id, severity: severity, title: "", rootCause: findings.first?.id ?? "", steps: ordered,
                entities: entities, findings: findings)
            if let first = order.first {
                // The head of the title changes only with the first step or the root finding.
                let root = order.first { steps[$0].finding != nil } ?? -1
                if titleHead == nil || titleFrom.first != first || titleFrom.root != root {
                    titleHead = narrative.titleHead(
                        ordered[0], root: root < 0 ? nil : findings[0], writer: &writer)
                    titleFrom = (first, root)
                }
                incident.title = Narrative.title(head: titleHead!, steps: ordered)
            } else {
                incident.title = narrative.title(incident, writer: &writer)
            }
            incident.narrative = tell(order, writer: &writer)
            return incident
        }

        /// The step repeats of `key` are counted on.
        func step(for key: StepKey) -> Int? {
            if indexed { return stepByKey[key] }
            // By index: a closure would take each step, findings and all, by copy.
            var index = steps.count - 1
            while index >= 0 {
                if steps[index].counting, steps[index].key == key { return index }
                index -= 1
            }
            return nil
        }

        /// Counts repeats of `key` on step `index` from now on.
        mutating func count(_ key: StepKey, on index: Int) {
            if let previous = step(for: key) { steps[previous].counting = false }
            steps[index].counting = true
            if indexed {
                stepByKey[key] = index
            } else if steps.count > Self.indexedSteps {
                for (index, step) in steps.enumerated() where step.counting { stepByKey[step.key!] = index }
                indexed = true
            }
        }

        /// Adds `finding`, under `key`: as a repeat of the step counting `key` within `cooldown`, or as a step of
        /// its own while the story has fewer than `maximumSteps`; `order` numbers new steps.
        mutating func add(
            _ finding: Finding, _ key: StepKey, exfiltratedFrom: IPAddress?, cooldown: Int64, maximumSteps: Int,
            order: inout Int
        ) -> Addition {
            severity = max(severity, finding.severity)
            let addition: Addition
            if let index = step(for: key), abs(finding.time - steps[index].lastTime) <= cooldown {
                steps[index].count += 1
                steps[index].lastTime = max(steps[index].lastTime, finding.time)
                // The ids are bounded: the count says how many there were.
                if steps[index].step.findingIDs.count < 64 { steps[index].step.findingIDs.append(finding.id) }
                steps[index].summarized = false
                steps[index].latest = finding
                addition = .repeated
            } else if steps.count < maximumSteps {
                let step = IncidentStep(
                    time: finding.time, layer: finding.layer, mitre: finding.mitre, summary: "",
                    findingIDs: [finding.id])
                steps.append(
                    Step(
                        step: step, finding: finding, summarized: false, count: 1, key: key, lastTime: finding.time,
                        order: order))
                count(key, on: steps.count - 1)
                order += 1
                addition = .step
            } else {
                extraFindings += 1
                addition = .dropped
            }
            if let address = exfiltratedFrom, finding.rule.id == NodeCredentialDetector.rule.id {
                // The detector's finding tells the exfiltration itself: a step derived for the same act goes.
                exfiltrations.insert(address)
                if let step = steps.lastIndex(where: { $0.key == nil && $0.exfiltration == address }) {
                    steps[step].retired = true
                }
                if let step = step(for: key) { steps[step].exfiltration = address }
            } else if let address = exfiltratedFrom, exfiltrations.insert(address).inserted, steps.count < maximumSteps
            {
                let step = IncidentStep(
                    time: finding.time, layer: .cloud,
                    mitre: MITREMapping(tactic: .credentialAccess, technique: "T1552.005"),
                    summary: PhraseWriter.exfiltration(from: address), findingIDs: [])
                steps.append(
                    Step(
                        step: step, finding: nil, summarized: true, count: 0, key: nil, lastTime: finding.time,
                        order: order, exfiltration: address))
                order += 1
            }
            return addition
        }

        /// Lists `entity`, at `node` in `graph`, among the story's entities unless it is there or the list is full.
        mutating func include(_ entity: Entity, at node: EntityGraph.NodeReference, in graph: EntityGraph) {
            guard entities.count < 256, !holds(entity, at: node, in: graph) else { return }
            if entities.isEmpty {
                // A story starts with two or three entities: room for them at once, not one by one.
                entities.reserveCapacity(4)
                nodes.reserveCapacity(4)
            }
            entities.append(entity)
            nodes.append(node)
        }

        /// Whether ``entities`` holds `entity`, whose current node in `graph` is `node`. An entity whose node is
        /// still current is told by its node alone: two current nodes are two entities. Only the entities the
        /// graph evicted since are compared.
        func holds(_ entity: Entity, at node: EntityGraph.NodeReference, in graph: EntityGraph) -> Bool {
            for (index, held) in nodes.enumerated() {
                if held == node { return true }
                if !graph.isCurrent(held), entities[index] == entity { return true }
            }
            return false
        }

        /// Retires the derived steps whose act a ``NodeCredentialDetector`` finding of the story tells.
        mutating func retireCoveredSteps() {
            let covered = steps.compactMap { $0.key != nil && !$0.retired ? $0.exfiltration : nil }
            guard !covered.isEmpty else { return }
            for index in steps.indices where steps[index].key == nil {
                if let address = steps[index].exfiltration, covered.contains(address) { steps[index].retired = true }
            }
        }

        /// The indices of `steps` in time order. Sorted by index: a step holds its findings, too big to move around.
        static func order(of steps: [Step], into order: inout [Int]) {
            // Steps are mostly added in time order: sorted only when they are not. Each step's `order` is unique.
            order.removeAll(keepingCapacity: true)
            order.reserveCapacity(steps.count)
            var inOrder = true
            for index in steps.indices where !steps[index].retired {
                if let last = order.last,
                    (steps[index].step.time, steps[index].order) < (steps[last].step.time, steps[last].order)
                {
                    inOrder = false
                }
                order.append(index)
            }
            if !inOrder {
                order.sort { (steps[$0].step.time, steps[$0].order) < (steps[$1].step.time, steps[$1].order) }
            }
        }

        /// The narrative of the steps in `order`, as ``Narrative/render(_:repeats:)`` tells it with each step's
        /// number of findings. Only the steps after those told at the last report are told, when the order and
        /// the counts of those did not change; otherwise the whole story is told again.
        mutating func tell(_ order: [Int], writer: inout PhraseWriter) -> String {
            var still = order.count >= toldCount
            if still {
                for position in 0..<toldCount {
                    let index = order[position]
                    guard steps[index].toldAt == position, steps[index].toldRepeats == max(1, steps[index].count)
                    else {
                        still = false
                        break
                    }
                }
            }
            if !still {
                told = NarrativeText()
                toldCount = 0
                for index in steps.indices { steps[index].toldAt = -1 }
            }
            for index in order[toldCount...] {
                let repeats = max(1, steps[index].count)
                told.tell(
                    phrase(index, count: repeats, writer: &writer), layer: steps[index].step.layer,
                    time: steps[index].step.time)
                steps[index].toldAt = toldCount
                steps[index].toldRepeats = repeats
                toldCount += 1
            }
            return told.text
        }

        /// How the narrative tells step `index` standing for `count` findings: by its first finding, or by its
        /// summary when it has none.
        mutating func phrase(_ index: Int, count: Int, writer: inout PhraseWriter) -> Phrase {
            guard let finding = steps[index].finding else {
                return Phrase(actor: "", predicate: steps[index].step.summary, origin: "")
            }
            if let phrase = steps[index].phrase, steps[index].phraseCount == count { return phrase }
            let phrase = writer.phrase(finding, count: count)
            steps[index].phrase = phrase
            steps[index].phraseCount = count
            return phrase
        }

        /// Writes the summaries of the steps that repeated since they were last written.
        mutating func summarize(_ writer: inout PhraseWriter) {
            for index in steps.indices where !steps[index].summarized {
                if let latest = steps[index].latest {
                    steps[index].step.summary = writer.phrase(latest, count: steps[index].count).line
                } else if steps[index].finding != nil {
                    // Told by its first finding, as the narrative tells it: one phrase, and one line, serve both.
                    let line = phrase(index, count: steps[index].count, writer: &writer).line
                    steps[index].phrase!.written = line
                    steps[index].step.summary = line
                } else {
                    continue
                }
                steps[index].summarized = true
                steps[index].latest = nil
            }
        }
    }

    /// The settings.
    public let configuration: CorrelationConfiguration
    /// The entities and links seen so far.
    public private(set) var graph: EntityGraph
    /// Counters of what the correlator did.
    public private(set) var statistics = CorrelationStatistics()

    private let reader: FactReader
    private var writer: PhraseWriter
    private let narrative: Narrative
    // The open stories by slot (nil: free), each slot's incarnation, the free slots.
    private var stories: [Story?] = []
    private var storyStamps: [UInt32] = []
    private var clocks: [StoryClock] = []
    private var freeStories: [Int32] = []
    private var openCount = 0
    // The stories by last activity, least recent first, so that expiry and the bound on open stories find
    // the stories to close without scanning them all on every call.
    private var activity = ActivityHeap()
    // The story owning each graph node, by slot; and the owners of entities the graph evicted while their story
    // was open, given back when the entity is seen again.
    private var owner: [StoryID] = []
    private var detached: [Entity: StoryID] = [:]
    // Reused on every finding: the finding's nodes, the nodes its search reached, the stories it reached.
    private var start: [EntityGraph.NodeReference] = []
    private var reached: ContiguousArray<Int32> = []
    private var checked: [StoryID] = []
    private var joined: [StoryID] = []
    private var evictions: [(slot: Int32, entity: Entity)] = []
    // Reused on every report: the order of the story's steps.
    private var order: [Int] = []
    private var facts = FindingFacts()
    // The graph node of each workload's entity, by workload id; checked with the graph before use.
    private var workloadNodes: [EntityGraph.NodeReference?] = []
    private var nextSerial = 0
    private var calls = 0
    private var now = Int64.min
    private var nextOrder = 0

    /// Creates a correlator resolving symbols through the engine's `symbols` table.
    public init(symbols: SymbolTable, configuration: CorrelationConfiguration = CorrelationConfiguration()) {
        self.configuration = configuration
        self.graph = EntityGraph(capacity: configuration.maximumGraphNodes)
        self.reader = FactReader(symbols: symbols, node: configuration.node, kubernetes: configuration.kubernetes)
        self.writer = PhraseWriter(symbols: symbols, node: configuration.node)
        self.narrative = Narrative(symbols: symbols, node: configuration.node)
    }

    /// How many incidents are open.
    public var openIncidents: Int { openCount }

    /// Takes new findings; appends the incidents they opened or grew, and those that closed with changes
    /// not yet reported.
    public mutating func correlate(_ findings: [Finding], into incidents: inout [Incident]) {
        var touched: [StoryID] = []
        // Each story touched is listed once: it carries the number of the last call that listed it.
        calls &+= 1
        // Through the buffer, each finding is lent to `take`: a loop over the array would copy it first.
        findings.withUnsafeBufferPointer { findings in
            for index in findings.indices {
                let story = take(findings[index])
                if clocks[Int(story.slot)].listed != calls {
                    clocks[Int(story.slot)].listed = calls
                    touched.append(story)
                }
            }
        }
        for story in inOpeningOrder(touched) {
            let slot = Int(story.slot)
            guard stories[slot]!.steps.count > stories[slot]!.reportedSteps,
                !stories[slot]!.isHeld(holdingLoneLow: configuration.holdLoneLow)
            else { continue }
            report(story, into: &incidents)
        }
        closeExpired(into: &incidents)
    }

    /// Appends every open incident with changes not yet reported, and closes them all.
    public mutating func finish(into incidents: inout [Incident]) {
        let open = stories.indices.compactMap { slot in
            stories[slot] == nil ? nil : StoryID(slot: Int32(slot), stamp: storyStamps[slot])
        }
        for story in inOpeningOrder(open) { close(story, into: &incidents) }
        activity = ActivityHeap()
    }

    // MARK: - Joining

    private mutating func take(_ finding: Finding) -> StoryID {
        statistics.findings += 1
        now = max(now, finding.time)
        // The reused facts are taken out while they are read, so that their storage is not copied.
        var facts = FindingFacts()
        swap(&facts, &self.facts)
        defer { swap(&facts, &self.facts) }
        reader.read(finding, workloads: &writer.workloads, into: &facts)
        // Each entity is hashed once, here; the rest goes by node. The graph evicts only once the finding is
        // taken, so that these nodes stay valid until then.
        start.removeAll(keepingCapacity: true)
        for (index, entity) in facts.entities.enumerated() {
            if let workload = facts.workload, workload.index == index {
                start.append(node(entity, of: workload.id, at: finding.time))
            } else {
                start.append(node(entity, at: finding.time))
            }
        }
        for (first, second) in facts.links { graph.link(start[first], start[second], at: finding.time) }
        let window = configuration.window.nanoseconds
        let since = finding.time &- window
        graph.search(from: start, since: since, limit: configuration.maximumSearchNodes, into: &reached)
        joined.removeAll(keepingCapacity: true)
        checked.removeAll(keepingCapacity: true)
        for slot in reached {
            // Most nodes reached belong to one story: look each story up once.
            let story = owner[Int(slot)]
            guard isOpen(story), !checked.contains(story) else { continue }
            checked.append(story)
            let slot = Int(story.slot)
            if clocks[slot].lastTime >= since && clocks[slot].firstTime <= finding.time &+ window {
                joined.append(story)
            }
        }
        // The oldest story absorbs the others: its id is the one already reported first.
        joined.sort { clocks[Int($0.slot)].firstTime < clocks[Int($1.slot)].firstTime }
        let story = joined.first ?? open(at: finding.time)
        for other in joined.dropFirst() { merge(other, into: story) }
        add(finding, facts, to: story)
        evictNodes()
        return story
    }

    /// The node of `entity`, added to the graph (or refreshed) as seen at `time`. An entity the graph
    /// evicted while its story was open gets its owner back.
    private mutating func node(_ entity: Entity, at time: Int64) -> EntityGraph.NodeReference {
        let (node, inserted) = graph.insert(entity, at: time)
        if graph.slotCount > owner.count {
            owner.append(contentsOf: repeatElement(.none, count: graph.slotCount - owner.count))
        }
        if inserted { owner[Int(node.slot)] = detached.isEmpty ? .none : detached.removeValue(forKey: entity) ?? .none }
        return node
    }

    /// The node of the entity of `workload`, as ``node(_:at:)`` gives it, from the node kept for the workload
    /// while that node is still the entity's.
    private mutating func node(_ entity: Entity, of workload: WorkloadID, at time: Int64) -> EntityGraph.NodeReference {
        let index = Int(workload.rawValue)
        if index < workloadNodes.count, let kept = workloadNodes[index], graph.isCurrent(kept) {
            graph.see(kept, at: time)
            return kept
        }
        let node = node(entity, at: time)
        if index < 1 << 22 {
            if index >= workloadNodes.count {
                workloadNodes.append(contentsOf: repeatElement(nil, count: index + 1 - workloadNodes.count))
            }
            workloadNodes[index] = node
        }
        return node
    }

    /// Keeps the graph within its capacity; an evicted entity owned by an open story keeps its owner aside.
    private mutating func evictNodes() {
        guard graph.count > graph.capacity else { return }
        evictions.removeAll(keepingCapacity: true)
        graph.evictIfNeeded(into: &evictions)
        for (slot, entity) in evictions {
            let story = owner[Int(slot)]
            owner[Int(slot)] = .none
            if isOpen(story) { detached[entity] = story }
        }
        if detached.count > graph.capacity {
            // Owners of entities past a story's list of entities are not cleared when it closes.
            detached = detached.filter { isOpen($0.value) }
        }
    }

    /// Sets the owner of a story's entity when `condition` holds of its owner, wherever the entity is now: in
    /// the graph, or evicted from it.
    private mutating func setOwner(
        _ entity: Entity, _ node: EntityGraph.NodeReference, to story: StoryID,
        when condition: (StoryID) -> Bool = { _ in true }
    ) {
        if graph.isCurrent(node) {
            if condition(owner[Int(node.slot)]) { owner[Int(node.slot)] = story }
        } else if let current = graph.reference(of: entity) {
            // Evicted, then seen again: the entity has a new node.
            if condition(owner[Int(current.slot)]) { owner[Int(current.slot)] = story }
        } else if condition(detached[entity] ?? .none) {
            detached[entity] = story == .none ? nil : story
        }
    }

    private mutating func open(at time: Int64) -> StoryID {
        nextSerial += 1
        let story = Story(id: FindingID.nextIncident())
        let clock = StoryClock(serial: nextSerial, firstTime: time, lastTime: time)
        let id: StoryID
        if let slot = freeStories.popLast() {
            stories[Int(slot)] = story
            clocks[Int(slot)] = clock
            id = StoryID(slot: slot, stamp: storyStamps[Int(slot)])
        } else {
            id = StoryID(slot: Int32(stories.count), stamp: 0)
            stories.append(story)
            storyStamps.append(0)
            clocks.append(clock)
        }
        openCount += 1
        activity.push(time, id)
        statistics.opened += 1
        return id
    }

    /// What adding a finding did to a story, for the correlator's books.
    private enum Addition {
        case step, repeated, dropped
    }

    private mutating func add(_ finding: Finding, _ facts: FindingFacts, to id: StoryID) {
        let key = StepKey(
            rule: finding.rule.id, layer: finding.layer, subject: facts.subject, executable: facts.executable)
        let lastTime = clocks[Int(id.slot)].lastTime
        clocks[Int(id.slot)].firstTime = min(clocks[Int(id.slot)].firstTime, finding.time)
        clocks[Int(id.slot)].lastTime = max(lastTime, finding.time)
        // Changed in place, through one access: moving a story out and back costs a copy of its record.
        let addition = stories[Int(id.slot)]!.add(
            finding, key, exfiltratedFrom: facts.exfiltratedFrom, cooldown: configuration.cooldown.nanoseconds,
            maximumSteps: configuration.maximumStepsPerIncident, order: &nextOrder)
        if finding.time > lastTime { activity.push(finding.time, id) }
        switch addition {
        case .step: break
        case .repeated: statistics.deduplicated += 1
        case .dropped: statistics.stepsDropped += 1
        }
        for (index, entity) in facts.entities.enumerated() {
            let node = start[index]
            if owner[Int(node.slot)] != id {
                stories[Int(id.slot)]!.include(entity, at: node, in: graph)
            }
            owner[Int(node.slot)] = id
        }
    }

    private mutating func merge(_ source: StoryID, into target: StoryID) {
        guard isOpen(source), isOpen(target) else { return }
        let absorbed = Self.takeStory(&stories[Int(source.slot)])
        let absorbedClock = clocks[Int(source.slot)]
        release(source)
        var story = Self.takeStory(&stories[Int(target.slot)])
        clocks[Int(target.slot)].firstTime = min(clocks[Int(target.slot)].firstTime, absorbedClock.firstTime)
        if absorbedClock.lastTime > clocks[Int(target.slot)].lastTime {
            clocks[Int(target.slot)].lastTime = absorbedClock.lastTime
            activity.push(absorbedClock.lastTime, target)
        }
        story.severity = max(story.severity, absorbed.severity)
        story.exfiltrations.formUnion(absorbed.exfiltrations)
        story.extraFindings += absorbed.extraFindings
        for var step in absorbed.steps {
            // Told in the absorbed story's narrative, not yet in this one's; counting in this one only for a key
            // this one did not have.
            step.toldAt = -1
            step.counting = false
            story.steps.append(step)
            if let key = step.key, story.step(for: key) == nil { story.count(key, on: story.steps.count - 1) }
        }
        if !absorbed.exfiltrations.isEmpty { story.retireCoveredSteps() }
        for (entity, node) in zip(absorbed.entities, absorbed.nodes) {
            setOwner(entity, node, to: target)
            if story.entities.count < 256, !story.entities.contains(entity) {
                story.entities.append(entity)
                story.nodes.append(node)
            }
        }
        stories[Int(target.slot)] = consume story
        statistics.merged += 1
    }

    // MARK: - Stories by slot

    /// The story in `slot`, which holds one, moved out and the slot left empty. `Optional.take()` and an
    /// unwrap copy the story (a retain of each of its arrays and strings); a consuming switch moves it.
    private static func takeStory(_ slot: inout Story?) -> Story {
        let value = consume slot
        slot = nil
        switch consume value {
        case .some(let story): return story
        case .none: preconditionFailure("no story in the slot")
        }
    }

    /// Whether `story` is open: its slot still holds the story it named.
    private func isOpen(_ story: StoryID) -> Bool {
        story.slot >= 0 && storyStamps[Int(story.slot)] == story.stamp
    }

    /// The open ones of `ids`, in the order their stories opened.
    private func inOpeningOrder(_ ids: [StoryID]) -> [StoryID] {
        // Sorted by serial, read once per story rather than on every comparison; serials are unique.
        var open: [(serial: Int, id: StoryID)] = []
        open.reserveCapacity(ids.count)
        for id in ids where isOpen(id) { open.append((clocks[Int(id.slot)].serial, id)) }
        open.sort { $0.serial < $1.serial }
        return open.map(\.id)
    }

    /// Frees the slot of `story`, which is open; the next story in the slot has another stamp.
    private mutating func release(_ story: StoryID) {
        stories[Int(story.slot)] = nil
        storyStamps[Int(story.slot)] &+= 1
        freeStories.append(story.slot)
        openCount -= 1
    }

    // MARK: - Reporting

    private mutating func closeExpired(into incidents: inout [Incident]) {
        let horizon = now &- configuration.window.nanoseconds
        var closing: [StoryID] = []
        // The least recently active first: those past the window, then, over the bound, the next least
        // recently active.
        while let (time, story) = activity.least {
            guard isOpen(story), clocks[Int(story.slot)].lastTime == time else {
                // Stale: the story was active again since, or is closed.
                activity.removeLeast()
                continue
            }
            guard time < horizon || openCount - closing.count > configuration.maximumOpenIncidents else { break }
            closing.append(story)
            activity.removeLeast()
        }
        for story in inOpeningOrder(closing) { close(story, into: &incidents) }
        if activity.count > 2 * openCount + 1_024 {
            // Stale entries are dropped only when they come first; rebuild before they outnumber the stories.
            activity = ActivityHeap(
                stories.indices.compactMap { slot in
                    stories[slot] == nil
                        ? nil : (clocks[slot].lastTime, StoryID(slot: Int32(slot), stamp: storyStamps[slot]))
                })
        }
    }

    private mutating func close(_ id: StoryID, into incidents: inout [Incident]) {
        guard isOpen(id) else { return }
        let slot = Int(id.slot)
        if stories[slot]!.isHeld(holdingLoneLow: configuration.holdLoneLow) {
            statistics.heldBackDropped += 1
        } else if stories[slot]!.steps.count > stories[slot]!.reportedSteps
            || stories[slot]!.findingCount > stories[slot]!.reportedFindings
        {
            report(id, into: &incidents)
        }
        let story = Self.takeStory(&stories[slot])
        release(id)
        for (entity, node) in zip(story.entities, story.nodes) { setOwner(entity, node, to: .none) { $0 == id } }
    }

    private mutating func report(_ id: StoryID, into incidents: inout [Incident]) {
        guard isOpen(id) else { return }
        incidents.append(stories[Int(id.slot)]!.report(narrative, &writer, order: &order))
    }
}

/// A story's slot in the correlator, and which story of that slot it is.
private struct StoryID: Equatable {
    var slot: Int32
    var stamp: UInt32

    /// No story.
    static let none = StoryID(slot: -1, stamp: 0)
}

/// A binary min-heap of (last activity, story). A story has one current entry, the one holding its
/// last activity; older entries of a story stay until they come first and are then dropped as stale.
private struct ActivityHeap {
    private var entries: [(time: Int64, story: StoryID)] = []

    init() {}

    init(_ entries: [(time: Int64, story: StoryID)]) {
        self.entries = entries
        for index in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    var count: Int { entries.count }

    /// The entry with the earliest time.
    var least: (time: Int64, story: StoryID)? { entries.first }

    mutating func push(_ time: Int64, _ story: StoryID) {
        entries.append((time, story))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].time < entries[parent].time else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeLeast() {
        guard !entries.isEmpty else { return }
        entries.swapAt(0, entries.count - 1)
        entries.removeLast()
        siftDown(0)
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var least = parent
            if left < entries.count, entries[left].time < entries[least].time { least = left }
            if right < entries.count, entries[right].time < entries[least].time { least = right }
            guard least != parent else { return }
            entries.swapAt(parent, least)
            parent = least
        }
    }
}

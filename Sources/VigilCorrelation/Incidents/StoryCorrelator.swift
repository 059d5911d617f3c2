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
/// the cloud finding's own step.
public struct StoryCorrelator: Correlator {
    private struct Step {
        var step: IncidentStep
        var finding: Finding?
        var count: Int
        var key: String
        var lastTime: Int64
        var order: Int
    }

    private struct Story {
        var id: String
        var firstTime: Int64
        var lastTime: Int64
        var steps: [Step] = []
        var stepByKey: [String: Int] = [:]
        var entities: [Entity] = []
        var severity = Severity.info
        var exfiltrations: Set<IPAddress> = []
        var extraFindings = 0
        // What was last reported: the number of steps and of findings.
        var reportedSteps = 0
        var reportedFindings = 0

        var findingCount: Int { steps.reduce(0) { $0 + $1.count } }
    }

    /// The settings.
    public let configuration: CorrelationConfiguration
    /// The entities and links seen so far.
    public private(set) var graph: EntityGraph
    /// Counters of what the correlator did.
    public private(set) var statistics = CorrelationStatistics()

    private let reader: FactReader
    private let writer: PhraseWriter
    private let narrative: Narrative
    private var stories: [Int: Story] = [:]
    // The stories by last activity, least recent first, so that expiry and the bound on open stories find
    // the stories to close without scanning them all on every call.
    private var activity = ActivityHeap()
    private var owner: [Entity: Int] = [:]
    private var nextSerial = 0
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
    public var openIncidents: Int { stories.count }

    /// Takes new findings; appends the incidents they opened or grew, and those that closed with changes
    /// not yet reported.
    public mutating func correlate(_ findings: [Finding], into incidents: inout [Incident]) {
        var touched: [Int] = []
        for finding in findings {
            let serial = take(finding)
            if !touched.contains(serial) { touched.append(serial) }
        }
        for serial in touched.sorted() where stories[serial] != nil {
            guard let story = stories[serial], story.steps.count > story.reportedSteps, !isHeld(story) else {
                continue
            }
            report(serial, into: &incidents)
        }
        closeExpired(into: &incidents)
    }

    /// Appends every open incident with changes not yet reported, and closes them all.
    public mutating func finish(into incidents: inout [Incident]) {
        for serial in stories.keys.sorted() { close(serial, into: &incidents) }
        activity = ActivityHeap()
    }

    // MARK: - Joining

    private mutating func take(_ finding: Finding) -> Int {
        statistics.findings += 1
        now = max(now, finding.time)
        let facts = reader.facts(of: finding)
        for entity in facts.entities { graph.add(entity, at: finding.time) }
        for (a, b) in facts.links { graph.link(a, b, at: finding.time) }
        let window = configuration.window.nanoseconds
        let since = finding.time &- window
        var serials: [Int] = []
        var checked: [Int] = []
        for entity in graph.reachable(from: facts.entities, since: since, limit: configuration.maximumSearchNodes) {
            // Most entities reached belong to one story: look each story up once.
            guard let serial = owner[entity], !checked.contains(serial) else { continue }
            checked.append(serial)
            guard let story = stories[serial] else { continue }
            if story.lastTime >= since && story.firstTime <= finding.time &+ window { serials.append(serial) }
        }
        // The oldest story absorbs the others: its id is the one already reported first.
        serials.sort { stories[$0]!.firstTime < stories[$1]!.firstTime }
        let serial = serials.first ?? open(at: finding.time)
        for other in serials.dropFirst() { merge(other, into: serial) }
        add(finding, facts, to: serial)
        return serial
    }

    private mutating func open(at time: Int64) -> Int {
        nextSerial += 1
        stories[nextSerial] = Story(id: FindingID.nextIncident(), firstTime: time, lastTime: time)
        activity.push(time, nextSerial)
        statistics.opened += 1
        return nextSerial
    }

    private mutating func add(_ finding: Finding, _ facts: FindingFacts, to serial: Int) {
        // Taken out while it changes, so that its arrays are not copied on write.
        var story = stories.removeValue(forKey: serial)!
        story.firstTime = min(story.firstTime, finding.time)
        if finding.time > story.lastTime {
            story.lastTime = finding.time
            activity.push(finding.time, serial)
        }
        story.severity = max(story.severity, finding.severity)
        // The layer is part of the key: a deviation seen by the application and the same one seen by the
        // kernel are two views, two steps.
        let key = finding.rule.id + "|" + finding.layer.name + "|" + facts.subject
        let cooldown = configuration.cooldown.nanoseconds
        if let index = story.stepByKey[key], abs(finding.time - story.steps[index].lastTime) <= cooldown {
            story.steps[index].count += 1
            story.steps[index].lastTime = max(story.steps[index].lastTime, finding.time)
            // The ids are bounded: the count says how many there were.
            if story.steps[index].step.findingIDs.count < 64 { story.steps[index].step.findingIDs.append(finding.id) }
            story.steps[index].step.summary = writer.phrase(finding, count: story.steps[index].count).line
            statistics.deduplicated += 1
        } else if story.steps.count < configuration.maximumStepsPerIncident {
            story.stepByKey[key] = story.steps.count
            let step = IncidentStep(
                time: finding.time, layer: finding.layer, mitre: finding.mitre,
                summary: writer.phrase(finding, count: 1).line, findingIDs: [finding.id])
            story.steps.append(
                Step(step: step, finding: finding, count: 1, key: key, lastTime: finding.time, order: nextOrder))
            nextOrder += 1
        } else {
            story.extraFindings += 1
            statistics.stepsDropped += 1
        }
        if let address = facts.exfiltratedFrom, story.exfiltrations.insert(address).inserted,
            story.steps.count < configuration.maximumStepsPerIncident
        {
            let summary =
                "credentials of the node's role were used from \(address), outside the node (credential exfiltration)"
            let step = IncidentStep(
                time: finding.time, layer: .cloud,
                mitre: MITREMapping(tactic: .credentialAccess, technique: "T1552.005"), summary: summary, findingIDs: []
            )
            story.steps.append(
                Step(step: step, finding: nil, count: 0, key: "", lastTime: finding.time, order: nextOrder))
            nextOrder += 1
        }
        for entity in facts.entities {
            if owner[entity] != serial, story.entities.count < 256, !story.entities.contains(entity) {
                story.entities.append(entity)
            }
            owner[entity] = serial
        }
        stories[serial] = story
    }

    private mutating func merge(_ source: Int, into target: Int) {
        guard let absorbed = stories.removeValue(forKey: source), var story = stories.removeValue(forKey: target) else {
            return
        }
        story.firstTime = min(story.firstTime, absorbed.firstTime)
        if absorbed.lastTime > story.lastTime {
            story.lastTime = absorbed.lastTime
            activity.push(absorbed.lastTime, target)
        }
        story.severity = max(story.severity, absorbed.severity)
        story.exfiltrations.formUnion(absorbed.exfiltrations)
        story.extraFindings += absorbed.extraFindings
        for step in absorbed.steps {
            if !step.key.isEmpty, story.stepByKey[step.key] == nil { story.stepByKey[step.key] = story.steps.count }
            story.steps.append(step)
        }
        for entity in absorbed.entities {
            owner[entity] = target
            if story.entities.count < 256, !story.entities.contains(entity) { story.entities.append(entity) }
        }
        stories[target] = story
        statistics.merged += 1
    }

    // MARK: - Reporting

    /// A lone low finding waits for company when so configured.
    private func isHeld(_ story: Story) -> Bool {
        configuration.holdLoneLow && story.steps.count == 1 && story.severity <= .low && story.exfiltrations.isEmpty
    }

    private mutating func closeExpired(into incidents: inout [Incident]) {
        let horizon = now &- configuration.window.nanoseconds
        var closing: [Int] = []
        // The least recently active first: those past the window, then, over the bound, the next least
        // recently active.
        while let (time, serial) = activity.least {
            guard stories[serial]?.lastTime == time else {
                // Stale: the story was active again since, or is closed.
                activity.removeLeast()
                continue
            }
            guard time < horizon || stories.count - closing.count > configuration.maximumOpenIncidents else { break }
            closing.append(serial)
            activity.removeLeast()
        }
        for serial in closing.sorted() { close(serial, into: &incidents) }
        if activity.count > 2 * stories.count + 1_024 {
            // Stale entries are dropped only when they come first; rebuild before they outnumber the stories.
            activity = ActivityHeap(stories.map { ($0.value.lastTime, $0.key) })
        }
    }

    private mutating func close(_ serial: Int, into incidents: inout [Incident]) {
        guard let story = stories[serial] else { return }
        if isHeld(story) {
            statistics.heldBackDropped += 1
        } else if story.steps.count > story.reportedSteps || story.findingCount > story.reportedFindings {
            report(serial, into: &incidents)
        }
        for entity in story.entities where owner[entity] == serial { owner[entity] = nil }
        stories[serial] = nil
    }

    private mutating func report(_ serial: Int, into incidents: inout [Incident]) {
        guard var story = stories[serial] else { return }
        incidents.append(incident(of: story))
        story.reportedSteps = story.steps.count
        story.reportedFindings = story.findingCount
        stories[serial] = story
    }

    private func incident(of story: Story) -> Incident {
        let steps = story.steps.sorted { ($0.step.time, $0.order) < ($1.step.time, $1.order) }
        let findings = steps.compactMap(\.finding)
        let layers = Set(steps.map(\.step.layer))
        var severity = story.severity
        if layers.count >= 2 { severity = severity.raised }
        if !story.exfiltrations.isEmpty { severity = max(severity, .high) }
        var incident = Incident(
            id: story.id, severity: severity, title: "", rootCause: findings.first?.id ?? "",
            steps: steps.map(\.step), entities: story.entities, findings: findings)
        incident.title = narrative.title(incident)
        incident.narrative = narrative.render(incident, repeats: steps.map { max(1, $0.count) })
        return incident
    }
}

/// A binary min-heap of (last activity, story serial). A story has one current entry, the one holding its
/// last activity; older entries of a story stay until they come first and are then dropped as stale.
private struct ActivityHeap {
    private var entries: [(time: Int64, serial: Int)] = []

    init() {}

    init(_ entries: [(time: Int64, serial: Int)]) {
        self.entries = entries
        for index in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    var count: Int { entries.count }

    /// The entry with the earliest time.
    var least: (time: Int64, serial: Int)? { entries.first }

    mutating func push(_ time: Int64, _ serial: Int) {
        entries.append((time, serial))
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

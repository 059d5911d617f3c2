import VigilCore

/// Renders incidents as one self-contained HTML5 page: inline CSS and SVG, no scripts, no external URLs, so
/// the file can be mailed, attached to a ticket or opened offline.
///
/// The page starts with the generation time and counts (incidents by severity, steps, findings), then shows
/// each incident as a section: its title, severity, id and layers; the root cause highlighted; the narrative;
/// a timeline of the steps (time, layer, tactic and technique, summary, the root-cause step marked); a graph
/// of its entities drawn in SVG, one column per kind, with an edge between entities that appear in the same
/// finding (and a dashed edge from the root cause's entity to any entity no finding shows with another);
/// the table of its findings; and the response actions taken.
///
/// Every text is escaped for HTML. Elements carry stable names for tools and tests: each incident is a
/// `section.incident` with `data-incident-id` and `data-severity`; each step an `li.step` (plus
/// `root-cause` for the root cause's) with `data-finding-ids`; the graph an `svg.entity-graph` holding one
/// `g.entity` with `data-kind` and `data-id` per entity, and one `path.edge` per edge; each finding a
/// `tr.finding` with `data-finding-id`.
public struct HTMLIncidentReport: Sendable {
    /// The page's title.
    public var title: String
    /// When the report was made, in nanoseconds since the epoch.
    public var generatedAt: Int64

    /// Creates a report made at `generatedAt` (nanoseconds since the epoch).
    public init(title: String = "Vigil incident report", generatedAt: Int64) {
        self.title = title
        self.generatedAt = generatedAt
    }

    /// The whole page for `incidents`, in the order given.
    public func render(_ incidents: [IncidentRecord]) -> String {
        var page = HTMLPage()
        page.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        page.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        page.append("<title>\(html(title))</title>\n<style>\n\(Self.style)</style>\n</head>\n<body>\n")
        renderHeader(incidents, into: &page)
        page.append("<main>\n")
        if incidents.isEmpty { page.append("<p class=\"empty\">No incidents.</p>\n") }
        for incident in incidents { IncidentSection(incident: incident).render(into: &page) }
        page.append("</main>\n<footer>Vigil — behavioral detection and response. All times are UTC.</footer>\n")
        page.append("</body>\n</html>\n")
        return page.text
    }

    private func renderHeader(_ incidents: [IncidentRecord], into page: inout HTMLPage) {
        let stamp = RFC3339.format(nanoseconds: generatedAt)
        page.append("<header class=\"report-header\">\n<h1>\(html(title))</h1>\n")
        page.append(
            "<p class=\"generated\">Generated <time datetime=\"\(stamp)\">\(HTMLPage.time(generatedAt))</time></p>\n")
        page.append("<dl class=\"counts\">\n")
        func count(_ name: String, _ label: String, _ value: Int) {
            page.append("<div><dt>\(label)</dt><dd data-count=\"\(name)\">\(value)</dd></div>\n")
        }
        count("incidents", "Incidents", incidents.count)
        for severity in Severity.allCases.reversed() {
            count(severity.name, severity.name.capitalizedFirst, incidents.filter { $0.severity == severity }.count)
        }
        count("steps", "Steps", incidents.reduce(0) { $0 + $1.steps.count })
        count("findings", "Findings", incidents.reduce(0) { $0 + $1.findingIDs.count })
        page.append("</dl>\n")
        if !incidents.isEmpty {
            page.append("<nav class=\"toc\"><ol>\n")
            for incident in incidents {
                page.append("<li><a href=\"#incident-\(html(incident.id))\">")
                page.append(HTMLPage.badge(incident.severity))
                page.append(" \(html(incident.title.isEmpty ? incident.id : incident.title))</a></li>\n")
            }
            page.append("</ol></nav>\n")
        }
        page.append("</header>\n")
    }

    /// The page's style: light, readable, printable.
    static let style = """
        :root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --paper: #ffffff; --wash: #f5f7fa;
          --critical: #b42318; --high: #d9480f; --medium: #b7791f; --low: #2563eb; --info: #6b7280;
          --cloud: #7c3aed; --cluster: #0e7490; --workload: #1d4ed8; --application: #15803d; }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--wash); color: var(--ink);
          font: 15px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", Roboto, Helvetica, Arial, sans-serif; }
        code, .mono, time { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9em; }
        .report-header { background: #102a43; color: #f0f4f8; padding: 24px 40px; }
        .report-header h1 { margin: 0 0 4px; font-size: 26px; }
        .generated { margin: 0 0 16px; color: #bcccdc; }
        .counts { display: flex; flex-wrap: wrap; gap: 12px; margin: 0 0 16px; }
        .counts div { background: rgba(255,255,255,0.08); border-radius: 8px; padding: 8px 14px; min-width: 92px; }
        .counts dt { font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; color: #bcccdc; }
        .counts dd { margin: 0; font-size: 22px; font-weight: 600; }
        .toc ol { margin: 0; padding-left: 20px; }
        .toc a { color: #f0f4f8; text-decoration: none; }
        .toc a:hover { text-decoration: underline; }
        main { max-width: 1200px; margin: 0 auto; padding: 24px 24px 8px; }
        .incident { background: var(--paper); border: 1px solid var(--line); border-left: 6px solid var(--info);
          border-radius: 10px; padding: 20px 28px; margin-bottom: 28px; box-shadow: 0 1px 3px rgba(16,42,67,0.08); }
        .incident.sev-critical { border-left-color: var(--critical); }
        .incident.sev-high { border-left-color: var(--high); }
        .incident.sev-medium { border-left-color: var(--medium); }
        .incident.sev-low { border-left-color: var(--low); }
        .incident h2 { margin: 6px 0 4px; font-size: 21px; line-height: 1.3; }
        .incident h3 { margin: 22px 0 8px; font-size: 14px; text-transform: uppercase; letter-spacing: 0.06em;
          color: var(--muted); }
        .meta { margin: 0; color: var(--muted); }
        .badge { display: inline-block; padding: 1px 9px; border-radius: 999px; color: #fff; font-size: 12px;
          font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em; vertical-align: middle; }
        .badge.sev-critical { background: var(--critical); } .badge.sev-high { background: var(--high); }
        .badge.sev-medium { background: var(--medium); } .badge.sev-low { background: var(--low); }
        .badge.sev-info { background: var(--info); }
        .layer { display: inline-block; padding: 0 8px; border-radius: 4px; font-size: 12px; font-weight: 600;
          color: #fff; background: var(--info); }
        .layer-cloud { background: var(--cloud); } .layer-cluster { background: var(--cluster); }
        .layer-workload { background: var(--workload); } .layer-application { background: var(--application); }
        .root-cause-summary { background: #fff4e5; border: 1px solid #f9c784; border-radius: 8px; padding: 10px 16px; }
        .root-cause-summary mark { background: #ffe0a3; padding: 1px 4px; border-radius: 3px; font-weight: 600; }
        .root-cause-summary p { margin: 4px 0; }
        .narrative { margin: 0; white-space: pre-line; }
        .timeline { list-style: none; margin: 0; padding: 0 0 0 18px; border-left: 2px solid var(--line); }
        .step { position: relative; padding: 6px 0 10px 16px; }
        .step::before { content: ""; position: absolute; left: -25px; top: 12px; width: 12px; height: 12px;
          border-radius: 50%; background: var(--info); border: 2px solid var(--paper); }
        .step[data-layer="cloud"]::before { background: var(--cloud); }
        .step[data-layer="cluster"]::before { background: var(--cluster); }
        .step[data-layer="workload"]::before { background: var(--workload); }
        .step[data-layer="application"]::before { background: var(--application); }
        .step.root-cause { background: #fff4e5; border-radius: 6px; }
        .step.root-cause::before { box-shadow: 0 0 0 3px #f59f00; }
        .step-head { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; color: var(--muted); }
        .step-head .offset { color: var(--muted); font-size: 12px; }
        .technique { font-size: 13px; }
        .root-marker { font-size: 11px; font-weight: 700; color: #8a4b00; background: #ffe0a3; padding: 0 6px;
          border-radius: 4px; text-transform: uppercase; }
        .summary { margin: 2px 0 0; }
        .graph { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; background: #fbfcfe; }
        .entity-graph { display: block; max-width: 100%; height: auto; }
        .entity-graph .column-label { font-size: 12px; font-weight: 600; fill: #52606d; text-transform: uppercase; }
        .entity-graph .edge { fill: none; stroke: #9aa5b1; stroke-width: 1.5; }
        .entity-graph .edge.inferred { stroke-dasharray: 5 4; stroke: #bcccdc; }
        .entity-graph .entity text { font: 11.5px "DejaVu Sans Mono", Menlo, Consolas, monospace; fill: #102a43; }
        .entity-graph .entity rect { stroke-width: 1.5; }
        .entity-graph .entity.root-entity rect { stroke-width: 3; }
        table { width: 100%; border-collapse: collapse; font-size: 14px; }
        th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
        th { font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
        td.explanation { max-width: 420px; }
        tr.finding.root-cause td { background: #fff9f0; }
        .small { font-size: 12px; color: var(--muted); }
        .none, .empty { color: var(--muted); font-style: italic; }
        footer { text-align: center; color: var(--muted); font-size: 12px; padding: 8px 0 24px; }
        @media print { body { background: #fff; } .incident { box-shadow: none; break-inside: avoid-page; } }

        """
}

/// `text` escaped for HTML content and attribute values: `&`, `<`, `>`, `"` and `'`.
func html(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for character in text.unicodeScalars {
        switch character {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        case "'": result += "&#39;"
        default: result.unicodeScalars.append(character)
        }
    }
    return result
}

/// The text of a page being built, with the small pieces several parts share.
struct HTMLPage {
    private(set) var text = ""

    mutating func append(_ piece: String) { text += piece }

    /// `2026-11-29 09:00:05.000 UTC`.
    static func time(_ nanoseconds: Int64) -> String {
        let stamp = RFC3339.format(nanoseconds: nanoseconds)
        return stamp.prefix(10) + " " + stamp.dropFirst(11).prefix(12) + " UTC"
    }

    /// `09:00:05.000`.
    static func clock(_ nanoseconds: Int64) -> String {
        String(RFC3339.format(nanoseconds: nanoseconds).dropFirst(11).prefix(12))
    }

    static func badge(_ severity: Severity) -> String {
        "<span class=\"badge sev-\(severity.name)\">\(severity.name)</span>"
    }

    static func layer(_ layer: Layer) -> String {
        "<span class=\"layer layer-\(layer.name)\">\(layer.name)</span>"
    }
}

/// One incident's section of the page.
private struct IncidentSection {
    let incident: IncidentRecord

    func render(into page: inout HTMLPage) {
        let id = html(incident.id)
        let severity = incident.severity.name
        page.append(
            "<section class=\"incident sev-\(severity)\" id=\"incident-\(id)\" data-incident-id=\"\(id)\""
                + " data-severity=\"\(severity)\">\n")
        page.append("<header>\n\(HTMLPage.badge(incident.severity))\n")
        page.append("<h2>\(html(incident.title.isEmpty ? incident.id : incident.title))</h2>\n")
        page.append("<p class=\"meta\"><code class=\"incident-id\">\(id)</code>")
        if !incident.steps.isEmpty {
            page.append(" · \(HTMLPage.time(incident.firstTime)) → \(HTMLPage.clock(incident.lastTime))")
        }
        page.append(" · \(incident.steps.count) steps · \(incident.findingIDs.count) findings · ")
        page.append(incident.layers.map(HTMLPage.layer).joined(separator: " "))
        page.append("</p>\n</header>\n")
        renderRootCause(into: &page)
        if !incident.narrative.isEmpty {
            page.append("<h3>What happened</h3>\n<p class=\"narrative\">\(html(incident.narrative))</p>\n")
        }
        renderTimeline(into: &page)
        page.append("<h3>Entities</h3>\n<div class=\"graph\">\n")
        EntityGraphDrawing(incident: incident).render(into: &page)
        page.append("</div>\n")
        renderFindings(into: &page)
        renderResponse(into: &page)
        page.append("</section>\n")
    }

    /// The step that holds the root-cause finding, or the first step.
    private var rootStep: IncidentRecord.Step? {
        incident.steps.first { $0.findingIDs.contains(incident.rootCause) } ?? incident.steps.first
    }

    private func renderRootCause(into page: inout HTMLPage) {
        page.append("<h3>Root cause</h3>\n")
        page.append("<div class=\"root-cause-summary\" data-finding-id=\"\(html(incident.rootCause))\">\n")
        if let step = rootStep {
            page.append("<p><mark>\(html(step.summary))</mark></p>\n")
        }
        if let finding = incident.rootCauseFinding {
            page.append(
                "<p class=\"small\">\(html(finding.ruleName)) <code>\(html(finding.ruleID))</code>")
            page.append(" · \(html(finding.technique)) · finding <code>\(html(finding.id))</code></p>\n")
            if !finding.explanation.isEmpty { page.append("<p>\(html(finding.explanation))</p>\n") }
        } else if !incident.rootCause.isEmpty {
            page.append("<p class=\"small\">finding <code>\(html(incident.rootCause))</code></p>\n")
        }
        page.append("</div>\n")
    }

    private func renderTimeline(into page: inout HTMLPage) {
        page.append("<h3>Timeline</h3>\n<ol class=\"timeline\">\n")
        let root = rootStep
        for step in incident.steps {
            let isRoot = root == step
            page.append("<li class=\"step\(isRoot ? " root-cause" : "")\" data-layer=\"\(step.layer.name)\"")
            page.append(" data-finding-ids=\"\(html(step.findingIDs.joined(separator: " ")))\">\n")
            page.append("<div class=\"step-head\"><time datetime=\"\(RFC3339.format(nanoseconds: step.time))\">")
            page.append("\(HTMLPage.clock(step.time))</time>")
            page.append("<span class=\"offset\">\(Self.offset(step.time - incident.firstTime))</span>")
            page.append(HTMLPage.layer(step.layer))
            page.append("<span class=\"technique\">\(html(TacticNames.title(step.tactic))) · ")
            page.append("<code>\(html(step.technique))</code></span>")
            if isRoot { page.append("<span class=\"root-marker\">root cause</span>") }
            if step.findingIDs.count > 1 { page.append("<span class=\"small\">×\(step.findingIDs.count)</span>") }
            page.append("</div>\n<p class=\"summary\">\(html(step.summary))</p>\n</li>\n")
        }
        page.append("</ol>\n")
    }

    /// `+0 s`, `+40 s`, `+2 min 5 s`, `+1 h 3 min` after the first step.
    static func offset(_ nanoseconds: Int64) -> String {
        let seconds = max(0, nanoseconds / 1_000_000_000)
        if seconds < 60 { return "+\(seconds) s" }
        if seconds < 3_600 { return "+\(seconds / 60) min \(seconds % 60) s" }
        return "+\(seconds / 3_600) h \(seconds % 3_600 / 60) min"
    }

    private func renderFindings(into page: inout HTMLPage) {
        page.append("<h3>Findings</h3>\n")
        guard !incident.findingIDs.isEmpty else {
            page.append("<p class=\"none\">No findings.</p>\n")
            return
        }
        page.append("<table class=\"findings\">\n<thead><tr><th>Rule</th><th>Severity</th><th>Technique</th>")
        page.append("<th>Process / principal</th><th>Explanation</th></tr></thead>\n<tbody>\n")
        let records = Dictionary(incident.findings.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for id in incident.findingIDs {
            let root = id == incident.rootCause ? " root-cause" : ""
            page.append("<tr class=\"finding\(root)\" data-finding-id=\"\(html(id))\">")
            guard let finding = records[id] else {
                page.append(
                    "<td colspan=\"5\"><code>\(html(id))</code> <span class=\"small\">(record not available)")
                page.append("</span></td></tr>\n")
                continue
            }
            page.append(
                "<td>\(html(finding.ruleName))<br><code class=\"small\">\(html(finding.ruleID))</code></td>"
            )
            page.append("<td>\(HTMLPage.badge(finding.severity))</td>")
            page.append(
                "<td>\(html(TacticNames.title(finding.tactic)))<br><code>\(html(finding.technique))</code></td>"
            )
            page.append("<td>\(Self.subject(finding))</td>")
            page.append("<td class=\"explanation\">\(html(finding.explanation))</td></tr>\n")
        }
        page.append("</tbody>\n</table>\n")
    }

    /// The process (executable, pid, command line) or the principal, escaped.
    private static func subject(_ finding: FindingRecord) -> String {
        var parts: [String] = []
        if finding.pid != 0 {
            let name = finding.executable.isEmpty ? "pid" : finding.executable
            parts.append("<code>\(html(name))</code> <span class=\"small\">(\(finding.pid))</span>")
            if finding.arguments.count > 1 {
                parts.append("<code class=\"small\">\(html(finding.arguments.joined(separator: " ")))</code>")
            }
        }
        if !finding.principal.isEmpty { parts.append("<code>\(html(finding.principal))</code>") }
        if finding.workload != "host" && !finding.workload.isEmpty {
            parts.append("<span class=\"small\">\(html(finding.workload))</span>")
        }
        return parts.isEmpty ? "<span class=\"small\">—</span>" : parts.joined(separator: "<br>")
    }

    private func renderResponse(into page: inout HTMLPage) {
        page.append("<h3>Response</h3>\n")
        guard !incident.response.isEmpty else {
            page.append("<p class=\"none\">No response actions were taken.</p>\n")
            return
        }
        page.append("<table class=\"responses\">\n<thead><tr><th>Time</th><th>Action</th><th>Outcome</th>")
        page.append("<th>Target</th><th>Detail</th></tr></thead>\n<tbody>\n")
        for action in incident.response {
            page.append("<tr class=\"response\"><td><time>\(HTMLPage.clock(action.time))</time></td>")
            page.append("<td>\(html(action.action))</td><td>\(html(action.outcome))</td>")
            page.append(
                "<td>\(action.pid == 0 ? "—" : "pid \(action.pid)")</td><td>\(html(action.detail))</td></tr>\n")
        }
        page.append("</tbody>\n</table>\n")
    }
}

/// The entity graph of one incident, drawn as SVG: one column per kind of entity (workloads, containers,
/// processes, addresses, then the cloud and cluster identities), at most ``rowsPerColumn`` entities high.
private struct EntityGraphDrawing {
    let incident: IncidentRecord

    static let rowsPerColumn = 10
    static let nodeWidth = 176
    static let nodeHeight = 30
    static let columnStep = 236
    static let rowStep = 44
    static let top = 44
    static let margin = 16

    /// The order of columns, so a story reads from the workload to the cloud.
    static let kindOrder = [
        "workload", "pod", "container", "process", "address", "node", "principal", "session", "access_key",
        "k8s_user", "resource",
    ]

    /// Fill and stroke per kind.
    static func colors(_ kind: String) -> (fill: String, stroke: String) {
        switch kind {
        case "workload": return ("#e0e7ff", "#4338ca")
        case "pod": return ("#e0f2fe", "#0369a1")
        case "container": return ("#ccfbf1", "#0f766e")
        case "process": return ("#dbeafe", "#1d4ed8")
        case "address": return ("#ffedd5", "#c2410c")
        case "node": return ("#e5e7eb", "#374151")
        case "principal": return ("#ede9fe", "#6d28d9")
        case "session": return ("#f3e8ff", "#7e22ce")
        case "access_key": return ("#fef3c7", "#b45309")
        case "k8s_user": return ("#cffafe", "#0e7490")
        case "resource": return ("#fce7f3", "#be185d")
        default: return ("#f1f5f9", "#475569")
        }
    }

    func render(into page: inout HTMLPage) {
        let entities = Self.unique(incident.entities)
        guard !entities.isEmpty else {
            page.append("<p class=\"none\">No entities.</p>\n")
            return
        }
        let layout = Self.layout(entities)
        let (edges, root) = Self.edges(entities, incident: incident)
        let programs = Self.programs(incident)
        let columns = (layout.values.map(\.column).max() ?? 0) + 1
        let rows = min(Self.rowsPerColumn, layout.values.map(\.row).max().map { $0 + 1 } ?? 1)
        let width = Self.margin * 2 + (columns - 1) * Self.columnStep + Self.nodeWidth
        let height = Self.top + rows * Self.rowStep + Self.margin
        page.append(
            "<svg class=\"entity-graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\""
                + " viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"Entities of \(html(incident.id))\">\n"
        )
        // Column labels, once per kind (a kind may span several columns).
        var labelled: Set<String> = []
        for entity in entities where labelled.insert(entity.kind).inserted {
            let x = Self.margin + layout[entity]!.column * Self.columnStep
            page.append(
                "<text class=\"column-label\" x=\"\(x)\" y=\"\(Self.top - 16)\">\(html(entity.kind))</text>\n")
        }
        // Edges first, so the nodes are drawn over them.
        for edge in edges {
            let a = layout[edge.a]!
            let b = layout[edge.b]!
            page.append(
                "<path class=\"edge\(edge.inferred ? " inferred" : "")\" data-from=\"\(html(edge.a.id))\""
                    + " data-to=\"\(html(edge.b.id))\" d=\"\(Self.curve(a, b))\"/>\n")
        }
        for entity in entities {
            let place = layout[entity]!
            let (x, y) = Self.origin(place)
            let (fill, stroke) = Self.colors(entity.kind)
            let isRoot = entity == root
            page.append(
                "<g class=\"entity\(isRoot ? " root-entity" : "")\" data-kind=\"\(html(entity.kind))\""
                    + " data-id=\"\(html(entity.id))\">")
            page.append(
                "<title>\(html(entity.kind)): \(html(entity.id))\(isRoot ? " (root cause)" : "")</title>")
            page.append(
                "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(Self.nodeWidth)\" height=\"\(Self.nodeHeight)\" rx=\"6\""
                    + " fill=\"\(fill)\" stroke=\"\(stroke)\"/>")
            page.append(
                "<text x=\"\(x + 8)\" y=\"\(y + 19)\">\(html(Self.label(entity, programs: programs)))</text></g>\n"
            )
        }
        page.append("</svg>\n")
    }

    private static func unique(_ entities: [Entity]) -> [Entity] {
        var seen: Set<Entity> = []
        return entities.filter { seen.insert($0).inserted }
    }

    /// Column and row of each entity: kinds in ``kindOrder`` (others after, in order of appearance), each
    /// kind's entities down its column and on into the next when the column is full.
    private static func layout(_ entities: [Entity]) -> [Entity: (column: Int, row: Int)] {
        var kinds = kindOrder.filter { kind in entities.contains { $0.kind == kind } }
        for entity in entities where !kinds.contains(entity.kind) { kinds.append(entity.kind) }
        var places: [Entity: (column: Int, row: Int)] = [:]
        var column = 0
        for kind in kinds {
            let members = entities.filter { $0.kind == kind }
            for (index, entity) in members.enumerated() {
                places[entity] = (column + index / rowsPerColumn, index % rowsPerColumn)
            }
            column += (members.count + rowsPerColumn - 1) / rowsPerColumn
        }
        return places
    }

    private static func origin(_ place: (column: Int, row: Int)) -> (x: Int, y: Int) {
        (margin + place.column * columnStep, top + place.row * rowStep)
    }

    /// A curve from the side of one node to the facing side of the other; around the right of a column for
    /// two nodes in one column; and along the gap below the first node's row when the nodes are further than
    /// one column apart, so the edge passes between the nodes in the way rather than under them.
    private static func curve(_ a: (column: Int, row: Int), _ b: (column: Int, row: Int)) -> String {
        let (left, right) = a.column <= b.column ? (a, b) : (b, a)
        let (x1, y1) = origin(left)
        let (x2, y2) = origin(right)
        let middleA = y1 + nodeHeight / 2
        let middleB = y2 + nodeHeight / 2
        let start = x1 + nodeWidth
        if left.column == right.column {
            return "M\(start),\(middleA) C\(start + 36),\(middleA) \(start + 36),\(middleB) \(start),\(middleB)"
        }
        if right.column - left.column == 1 {
            let bend = (start + x2) / 2
            return "M\(start),\(middleA) C\(bend),\(middleA) \(bend),\(middleB) \(x2),\(middleB)"
        }
        let lane = y1 + nodeHeight + (rowStep - nodeHeight) / 2
        let gap = (columnStep - nodeWidth) / 2
        return "M\(start),\(middleA) C\(start + gap),\(middleA) \(start),\(lane) \(start + gap),\(lane)"
            + " L\(x2 - gap),\(lane) C\(x2),\(lane) \(x2 - gap),\(middleB) \(x2),\(middleB)"
    }

    /// A short label: the process's program with its pid, a workload's namespace and owner, the kind and
    /// name of an ARN, a container's short id; cut to fit.
    private static func label(_ entity: Entity, programs: [String: String]) -> String {
        var text = entity.id
        switch entity.kind {
        case "process":
            let pid = text.split(separator: "@").first.map(String.init) ?? text
            if let program = programs[text] { text = program + " · " + pid }
        case "workload":
            // `namespace/Kind/owner/container`.
            let parts = text.split(separator: "/")
            if parts.count == 4 { text = parts[0] + "/" + parts[2] }
        case "container":
            text = String(text.prefix(12))
        case "principal" where text.hasPrefix("arn:"), "session" where text.hasPrefix("arn:"):
            let resource = text.split(separator: ":", maxSplits: 5).last.map(String.init) ?? text
            let kind = resource.split(separator: "/").first.map(String.init) ?? ""
            text = kind.isEmpty || kind == resource ? resource : kind + "/" + text.baseName
        default:
            break
        }
        let limit = 22
        return text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }

    /// The program of each process the findings show, by entity id (`200@…` → `sh`).
    private static func programs(_ incident: IncidentRecord) -> [String: String] {
        var programs: [String: String] = [:]
        for finding in incident.findings {
            let details = RecordDetails(finding)
            let id = details.processEntityID(pid: finding.pid)
            let executable = finding.executable.isEmpty ? finding.arguments.first ?? "" : finding.executable
            if !id.isEmpty, !executable.isEmpty { programs[id] = executable.baseName }
            for ancestor in details.ancestry where !ancestor.executable.isEmpty {
                programs["\(ancestor.pid)@\(ancestor.startTime)"] = ancestor.executable.baseName
            }
        }
        return programs
    }

    struct Edge {
        var a: Entity
        var b: Entity
        var inferred: Bool
    }

    /// Links between entities that appear in the same finding, from the finding's own subject (its process,
    /// or its principal) to the others; then a dashed link from the root cause's subject to every entity no
    /// finding links, so that each entity hangs on the story. Also returns that root entity.
    private static func edges(_ entities: [Entity], incident: IncidentRecord) -> ([Edge], Entity?) {
        var edges: [Edge] = []
        var linked: Set<Entity> = []
        var pairs: Set<[String]> = []
        var root: Entity?
        for finding in incident.findings {
            let mentions = RecordDetails.mentions(finding)
            let involved = entities.filter { entity in
                if mentions.contains(entity.id) { return true }
                // A principal a cloud call created or changed is named by the call's resource.
                return finding.layer == .cloud && entity.kind == "principal"
                    && (entity.id.contains(":user/") || entity.id.contains(":role/"))
                    && mentions.contains(entity.id.baseName)
            }
            guard let hub = subject(of: finding, among: involved) else { continue }
            if finding.id == incident.rootCause { root = hub }
            for other in involved where other != hub {
                let key = [hub.kind + ":" + hub.id, other.kind + ":" + other.id].sorted()
                guard pairs.insert(key).inserted else { continue }
                edges.append(Edge(a: hub, b: other, inferred: false))
                linked.insert(hub)
                linked.insert(other)
            }
        }
        let anchor = root ?? entities.first!
        for entity in entities where entity != anchor && !linked.contains(entity) {
            edges.append(Edge(a: anchor, b: entity, inferred: true))
        }
        return (edges, root ?? anchor)
    }

    /// The entity a finding is about: its process, else its principal, else the first it involves.
    private static func subject(of finding: FindingRecord, among involved: [Entity]) -> Entity? {
        let details = RecordDetails(finding)
        let process = details.processEntityID(pid: finding.pid)
        return involved.first { $0.kind == "process" && $0.id == process }
            ?? involved.first { $0.id == finding.principal }
            ?? involved.first
    }
}

extension String {
    /// The string with its first character in upper case (`Critical`).
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}

import VigilCore

/// Renders findings and incidents as OCSF Detection Finding events (class 2004, category 2 Findings), the
/// form that SIEMs and security lakes (Amazon Security Lake, Splunk, Elastic, Sentinel) ingest natively.
///
/// Times are in milliseconds since the epoch, as OCSF's `timestamp_t`. A finding becomes one event whose
/// `finding_info` names the rule as its `analytic` (type Rule, or Behavioral for a learned-profile check) with
/// its ATT&CK tactic and technique in `attacks`; the process or principal is the `actor`, the workload,
/// container or cloud resource the `resources`, and the triggering event's details the `evidences`.
///
/// An incident becomes one event too: `finding_info.uid` is the incident's id, `desc` its narrative, and
/// `related_events` lists its steps in time order (each with the id of its first finding, its summary as
/// `title`, its time and technique). The alert stream reports an incident again, under the same id, each time
/// it grows: render those reports with ``Activity/update`` so that consumers update the finding they hold.
///
/// Fields follow OCSF 1.6.0 (``schemaVersion``); every attribute used also exists, at the same place, in
/// 1.1.0 except the `related_events` members beyond `uid` and `type_uid`, which 1.1.0 consumers ignore.
public struct OCSFDetectionFinding: Sendable {
    /// What happened to the finding: OCSF's `activity_id`.
    public enum Activity: Int, Sendable, CaseIterable {
        /// The finding is new (the first report of an incident).
        case create = 1
        /// The finding changed (an incident reported again after it grew).
        case update = 2
        /// The finding was closed.
        case close = 3

        /// OCSF's caption (`Create`).
        public var name: String {
            switch self {
            case .create: return "Create"
            case .update: return "Update"
            case .close: return "Close"
            }
        }
    }

    /// The OCSF schema version written in `metadata.version`.
    public static let schemaVersion = "1.6.0"
    /// Detection Finding.
    public static let classUID = 2004
    /// Findings.
    public static let categoryUID = 2

    /// Vigil's version, written as `metadata.product.version` when not empty.
    public var productVersion: String
    /// The name of the host the findings come from, written as `device.hostname` when not empty.
    public var hostname: String

    /// Creates a renderer.
    public init(productVersion: String = "", hostname: String = "") {
        self.productVersion = productVersion
        self.hostname = hostname
    }

    /// OCSF's `severity_id` for a Vigil severity: info 1, low 2, medium 3, high 4, critical 5.
    public static func severityID(_ severity: Severity) -> Int {
        switch severity {
        case .info: return 1
        case .low: return 2
        case .medium: return 3
        case .high: return 4
        case .critical: return 5
        }
    }

    /// OCSF's `type_uid`: the class times 100 plus the activity (`200401`).
    public static func typeUID(_ activity: Activity) -> Int { classUID * 100 + activity.rawValue }

    /// One finding as a Detection Finding, on one line.
    public func render(_ finding: FindingRecord, activity: Activity = .create) -> String {
        var writer = JSONWriter(capacity: 2048)
        write(finding, activity: activity, to: &writer)
        return writer.text
    }

    /// One incident as a Detection Finding, on one line.
    public func render(_ incident: IncidentRecord, activity: Activity = .create) -> String {
        var writer = JSONWriter(capacity: 4096)
        write(incident, activity: activity, to: &writer)
        return writer.text
    }

    /// Writes one finding as a Detection Finding object.
    public func write(_ finding: FindingRecord, activity: Activity = .create, to writer: inout JSONWriter) {
        let details = RecordDetails(finding)
        let time = Self.milliseconds(finding.time)
        writer.beginObject()
        writeClass(activity, severity: finding.severity, time: time, to: &writer)
        writer.field("message", finding.ruleName.isEmpty ? finding.explanation : finding.ruleName)
        writeMetadata(uid: finding.id, correlationUID: "", to: &writer)
        writer.key("finding_info")
        writer.beginObject()
        writer.field("uid", finding.id)
        writer.field("title", finding.ruleName.isEmpty ? finding.ruleID : finding.ruleName)
        writer.field("desc", finding.explanation)
        writer.key("types")
        writer.beginArray()
        writer.string(finding.kind)
        writer.endArray()
        writer.field("created_time", time)
        writer.field("first_seen_time", time)
        writer.field("last_seen_time", time)
        writer.key("analytic")
        writer.beginObject()
        writer.field("uid", finding.ruleID)
        writer.field("name", finding.ruleName)
        // A check against a learned profile flags a deviation from behaviour, not a pattern.
        let behavioral = finding.ruleID.hasPrefix("profile.")
        writer.field("type_id", behavioral ? 2 : 1)
        writer.field("type", behavioral ? "Behavioral" : "Rule")
        writer.endObject()
        writer.key("attacks")
        writer.beginArray()
        Self.writeAttack(tactic: finding.tactic, technique: finding.technique, to: &writer)
        writer.endArray()
        writer.endObject()
        writeActor(finding, details, to: &writer)
        writer.key("resources")
        writer.beginArray()
        Self.writeResources(finding, details, to: &writer)
        writer.endArray()
        writer.key("evidences")
        writer.beginArray()
        Self.writeEvidence(finding, details, to: &writer)
        writer.endArray()
        writeDevice(to: &writer)
        writer.key("unmapped")
        writer.beginObject()
        writer.field("layer", finding.layer.name)
        writer.field("kind", finding.kind)
        if !finding.workload.isEmpty { writer.field("workload", finding.workload) }
        writer.endObject()
        writer.endObject()
    }

    /// Writes one incident as a Detection Finding object.
    public func write(_ incident: IncidentRecord, activity: Activity = .create, to writer: inout JSONWriter) {
        let first = Self.milliseconds(incident.firstTime)
        let last = Self.milliseconds(incident.lastTime)
        let records = Dictionary(incident.findings.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        writer.beginObject()
        writeClass(activity, severity: incident.severity, time: last, to: &writer)
        writer.field("start_time", first)
        writer.field("end_time", last)
        // Layers that corroborate one another make the story more certain than any one detection.
        let corroborated = incident.layers.count >= 2
        writer.field("confidence_id", corroborated ? 3 : 2)
        writer.field("confidence", corroborated ? "High" : "Medium")
        writer.field("message", incident.title)
        writeMetadata(uid: "", correlationUID: incident.id, to: &writer)
        writer.key("finding_info")
        writer.beginObject()
        writer.field("uid", incident.id)
        writer.field("title", incident.title)
        if !incident.narrative.isEmpty { writer.field("desc", incident.narrative) }
        writer.key("types")
        writer.beginArray()
        writer.string("Attack Story")
        writer.endArray()
        writer.field("created_time", first)
        writer.field("first_seen_time", first)
        writer.field("last_seen_time", last)
        if activity != .create { writer.field("modified_time", last) }
        writer.key("analytic")
        writer.beginObject()
        writer.field("uid", "vigil.correlation")
        writer.field("name", "Attack story correlation")
        // Neither a rule nor a model: findings joined through the entities they share.
        writer.field("type_id", 99)
        writer.field("type", "Correlation")
        writer.endObject()
        writer.key("attacks")
        writer.beginArray()
        var seen: Set<String> = []
        for step in incident.steps where seen.insert(step.tactic + "|" + step.technique).inserted {
            Self.writeAttack(tactic: step.tactic, technique: step.technique, to: &writer)
        }
        writer.endArray()
        writer.key("related_events")
        writer.beginArray()
        for (index, step) in incident.steps.enumerated() {
            writeRelatedEvent(step, index: index, incident: incident, records: records, to: &writer)
        }
        writer.endArray()
        writer.endObject()
        if let root = incident.rootCauseFinding { writeActor(root, RecordDetails(root), to: &writer) }
        writer.key("resources")
        writer.beginArray()
        // The places and identities of the story; processes, addresses and keys are in the evidences.
        for entity in incident.entities where !["process", "address", "access_key", "session"].contains(entity.kind) {
            writer.beginObject()
            writer.field("uid", entity.id)
            writer.field("type", entity.kind)
            writer.endObject()
        }
        writer.endArray()
        writer.key("evidences")
        writer.beginArray()
        for finding in incident.findings.prefix(64) { Self.writeEvidence(finding, RecordDetails(finding), to: &writer) }
        writer.endArray()
        writeDevice(to: &writer)
        writer.key("unmapped")
        writer.beginObject()
        writer.field("root_cause", incident.rootCause)
        writer.key("layers")
        writer.beginArray()
        for layer in incident.layers { writer.string(layer.name) }
        writer.endArray()
        writer.key("response")
        writer.beginArray()
        for action in incident.response {
            writer.beginObject()
            writer.field("action", action.action)
            writer.field("outcome", action.outcome)
            writer.field("time", Self.milliseconds(action.time))
            if action.pid != 0 { writer.field("pid", Int(action.pid)) }
            if !action.detail.isEmpty { writer.field("detail", action.detail) }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        writer.endObject()
    }

    // MARK: - Parts

    static func milliseconds(_ nanoseconds: Int64) -> Int64 { nanoseconds / 1_000_000 }

    private static func severityName(_ severity: Severity) -> String {
        switch severity {
        case .info: return "Informational"
        case .low: return "Low"
        case .medium: return "Medium"
        case .high: return "High"
        case .critical: return "Critical"
        }
    }

    /// The class, activity, time, severity and status members every event starts with.
    private func writeClass(_ activity: Activity, severity: Severity, time: Int64, to writer: inout JSONWriter) {
        writer.field("class_uid", Self.classUID)
        writer.field("class_name", "Detection Finding")
        writer.field("category_uid", Self.categoryUID)
        writer.field("category_name", "Findings")
        writer.field("activity_id", activity.rawValue)
        writer.field("activity_name", activity.name)
        writer.field("type_uid", Self.typeUID(activity))
        writer.field("type_name", "Detection Finding: " + activity.name)
        writer.field("time", time)
        writer.field("severity_id", Self.severityID(severity))
        writer.field("severity", Self.severityName(severity))
        writer.field("status_id", 1)
        writer.field("status", "New")
        // A closed finding asks for no attention.
        if activity != .close { writer.field("is_alert", true) }
    }

    private func writeMetadata(uid: String, correlationUID: String, to writer: inout JSONWriter) {
        writer.key("metadata")
        writer.beginObject()
        writer.field("version", Self.schemaVersion)
        if !uid.isEmpty { writer.field("uid", uid) }
        if !correlationUID.isEmpty { writer.field("correlation_uid", correlationUID) }
        writer.key("product")
        writer.beginObject()
        writer.field("name", "Vigil")
        writer.field("vendor_name", "Vigil")
        if !productVersion.isEmpty { writer.field("version", productVersion) }
        writer.endObject()
        writer.endObject()
    }

    private func writeDevice(to writer: inout JSONWriter) {
        guard !hostname.isEmpty else { return }
        writer.key("device")
        writer.beginObject()
        writer.field("hostname", hostname)
        writer.field("type_id", 0)
        writer.field("type", "Unknown")
        writer.endObject()
    }

    /// An ATT&CK object: the tactic, and the technique with its sub-technique split out as OCSF models them.
    private static func writeAttack(tactic: String, technique: String, to writer: inout JSONWriter) {
        writer.beginObject()
        if !tactic.isEmpty {
            writer.key("tactic")
            writer.beginObject()
            let id = TacticNames.id(tactic)
            if !id.isEmpty { writer.field("uid", id) }
            writer.field("name", TacticNames.title(tactic))
            writer.endObject()
        }
        if !technique.isEmpty {
            let parts = technique.split(separator: ".", maxSplits: 1)
            writer.key("technique")
            writer.beginObject()
            writer.field("uid", String(parts[0]))
            writer.endObject()
            if parts.count == 2 {
                writer.key("sub_technique")
                writer.beginObject()
                writer.field("uid", technique)
                writer.endObject()
            }
        }
        writer.endObject()
    }

    private func writeRelatedEvent(
        _ step: IncidentRecord.Step, index: Int, incident: IncidentRecord, records: [String: FindingRecord],
        to writer: inout JSONWriter
    ) {
        writer.beginObject()
        if let id = step.findingIDs.first {
            writer.field("uid", id)
            // The step's findings are Detection Findings themselves when rendered through this type.
            writer.field("type_uid", Self.typeUID(.create))
            writer.field("type_name", "Detection Finding: Create")
        } else {
            // A derived step (credential exfiltration) has no finding of its own.
            writer.field("uid", "\(incident.id)/steps/\(index)")
            writer.field("type", "Derived step")
        }
        writer.field("title", step.summary)
        writer.field("first_seen_time", Self.milliseconds(step.time))
        if step.findingIDs.count > 1 { writer.field("count", step.findingIDs.count) }
        if let severity = step.findingIDs.first.flatMap({ records[$0]?.severity }) {
            writer.field("severity_id", Self.severityID(severity))
        }
        writer.key("attacks")
        writer.beginArray()
        Self.writeAttack(tactic: step.tactic, technique: step.technique, to: &writer)
        writer.endArray()
        writer.endObject()
    }

    /// The process or principal that acted.
    private func writeActor(_ finding: FindingRecord, _ details: RecordDetails, to writer: inout JSONWriter) {
        guard finding.pid != 0 || !finding.principal.isEmpty else { return }
        writer.key("actor")
        writer.beginObject()
        if finding.pid != 0 {
            writer.key("process")
            Self.writeProcess(finding, details, to: &writer)
        }
        Self.writeUser(finding, details, to: &writer)
        writer.endObject()
    }

    private static func writeProcess(_ finding: FindingRecord, _ details: RecordDetails, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("pid", Int(finding.pid))
        let uid = details.processEntityID(pid: finding.pid)
        if !uid.isEmpty { writer.field("uid", uid) }
        let name = (finding.executable.isEmpty ? finding.arguments.first ?? "" : finding.executable).baseName
        if !name.isEmpty { writer.field("name", name) }
        if !finding.arguments.isEmpty { writer.field("cmd_line", finding.arguments.joined(separator: " ")) }
        if !finding.executable.isEmpty { writeFile(finding.executable, to: &writer) }
        if let uid = details.uid {
            writer.key("user")
            writer.beginObject()
            writer.field("uid", String(uid))
            writer.endObject()
        }
        if let parent = details.ancestry.first, parent.pid != 0 {
            writer.key("parent_process")
            writer.beginObject()
            writer.field("pid", parent.pid)
            writer.field("uid", "\(parent.pid)@\(parent.startTime)")
            if !parent.executable.isEmpty {
                writer.field("name", parent.executable.baseName)
                writeFile(parent.executable, to: &writer)
            }
            if !parent.arguments.isEmpty { writer.field("cmd_line", parent.arguments.joined(separator: " ")) }
            writer.endObject()
        }
        writer.endObject()
    }

    /// A regular file, by path.
    private static func writeFile(_ path: String, key: String = "file", to writer: inout JSONWriter) {
        writer.key(key)
        writer.beginObject()
        writer.field("name", path.baseName)
        writer.field("path", path)
        writer.field("type_id", 1)
        writer.field("type", "Regular File")
        writer.endObject()
    }

    private static func writeContainer(
        _ finding: FindingRecord, _ details: RecordDetails, to writer: inout JSONWriter
    ) {
        writer.key("container")
        writer.beginObject()
        writer.field("uid", finding.containerID)
        let name = details.workload("container")
        if !name.isEmpty { writer.field("name", name) }
        let image = details.workload("image")
        if !image.isEmpty {
            writer.key("image")
            writer.beginObject()
            writer.field("name", image)
            writer.endObject()
        }
        writer.endObject()
    }

    /// The principal (a cloud identity with its access key, a Kubernetes user, an application user).
    private static func writeUser(_ finding: FindingRecord, _ details: RecordDetails, to writer: inout JSONWriter) {
        guard !finding.principal.isEmpty else { return }
        writer.key("user")
        writer.beginObject()
        writer.field("name", finding.principal.hasPrefix("arn:") ? finding.principal.baseName : finding.principal)
        writer.field("uid", finding.principal)
        let key = details.string("access_key")
        if finding.layer == .cloud, !key.isEmpty { writer.field("credential_uid", key) }
        writer.endObject()
    }

    private static func writeResources(
        _ finding: FindingRecord, _ details: RecordDetails, to writer: inout JSONWriter
    ) {
        func resource(_ uid: String, name: String = "", type: String, region: String = "") {
            writer.beginObject()
            writer.field("uid", uid)
            if !name.isEmpty { writer.field("name", name) }
            writer.field("type", type)
            if !region.isEmpty { writer.field("region", region) }
            writer.endObject()
        }
        switch finding.layer {
        case .cloud:
            let name = details.string("resource")
            if !name.isEmpty {
                resource(name, name: name, type: details.string("service"), region: details.string("region"))
            }
        case .cluster:
            let name = details.string("name")
            let namespace = details.string("namespace")
            if !name.isEmpty {
                resource(
                    namespace.isEmpty ? name : namespace + "/" + name, name: name, type: details.string("resource"))
            }
        case .workload, .application:
            if finding.workload != "host", !finding.workload.isEmpty {
                resource(finding.workload, name: details.workload("owner"), type: "workload")
            }
            if !finding.containerID.isEmpty { resource(finding.containerID, type: "container") }
        }
    }

    /// What the triggering event shows: the process, the peer, the file, the API call.
    private static func writeEvidence(_ finding: FindingRecord, _ details: RecordDetails, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("uid", finding.id)
        writer.field("name", finding.kind)
        if finding.pid != 0 {
            writer.key("process")
            writeProcess(finding, details, to: &writer)
        }
        if !finding.containerID.isEmpty { writeContainer(finding, details, to: &writer) }
        if !finding.principal.isEmpty {
            writer.key("actor")
            writer.beginObject()
            writeUser(finding, details, to: &writer)
            writer.endObject()
        }
        switch finding.layer {
        case .workload:
            let remote = details.string("remote_address")
            if !remote.isEmpty {
                // The peer of an accepted connection is its source; of anything else, its destination.
                writeEndpoint(
                    finding.kind == "network.accept" ? "src_endpoint" : "dst_endpoint", ip: remote,
                    port: details.integer("remote_port"), to: &writer)
            }
            let path = details.string("path")
            if finding.kind.hasPrefix("file."), !path.isEmpty { writeFile(path, to: &writer) }
            let name = details.string("name")
            if finding.kind == "network.dns_query", !name.isEmpty {
                writer.key("query")
                writer.beginObject()
                writer.field("hostname", name)
                writer.endObject()
            }
        case .cloud, .cluster:
            let operation = details.string(finding.layer == .cloud ? "action" : "verb")
            if !operation.isEmpty {
                writer.key("api")
                writer.beginObject()
                writer.field("operation", operation)
                writer.key("service")
                writer.beginObject()
                writer.field("name", finding.layer == .cloud ? details.string("service") : "kubernetes")
                writer.endObject()
                writer.endObject()
            }
            let source = details.string("source_address")
            if !source.isEmpty { writeEndpoint("src_endpoint", ip: source, port: nil, to: &writer) }
        case .application:
            let method = details.string("method")
            if !method.isEmpty {
                writer.key("http_request")
                writer.beginObject()
                writer.field("http_method", method)
                writer.key("url")
                writer.beginObject()
                let host = details.string("host")
                if !host.isEmpty { writer.field("hostname", host) }
                writer.field("path", details.string("path"))
                let query = details.string("parameters")
                if !query.isEmpty { writer.field("query_string", query) }
                writer.endObject()
                writer.endObject()
            }
            let client = details.string("client_address")
            if !client.isEmpty {
                writeEndpoint("src_endpoint", ip: client, port: details.integer("client_port"), to: &writer)
            }
        }
        writer.endObject()
    }

    private static func writeEndpoint(_ key: String, ip: String, port: Int64?, to writer: inout JSONWriter) {
        writer.key(key)
        writer.beginObject()
        writer.field("ip", ip)
        if let port { writer.field("port", port) }
        writer.endObject()
    }
}

import VigilCore

/// Renders a finding as the JSON alert Falco writes with `json_output: true`, so that falcosidekick (and
/// its many destinations) and any tool that reads Falco alerts take Vigil's findings unchanged.
///
/// The members are Falco's, in Falco's (alphabetical) order: `hostname`, `output`, `output_fields`,
/// `priority`, `rule`, `source`, `tags`, `time`. `output` is Falco's text line (`09:00:05.000003000: Error …`,
/// in UTC); `priority` maps Vigil's severity to Falco's names (critical → Critical, high → Error,
/// medium → Warning, low → Notice, info → Informational); `source` names the Falco event source the layer
/// matches (`syscall`, `k8s_audit`, `aws_cloudtrail`, `gcp_auditlog`, or `vigil_cloud` and `vigil_app`
/// where Falco has none); `output_fields` uses Falco's field names for that source (`proc.pid`,
/// `proc.exepath`, `ka.user.name`, `ct.name`, …); and `tags` carry the ATT&CK technique and tactic as
/// Falco's rules do (`T1552.005`, `mitre_credential_access`).
public struct FalcoAlert: Sendable {
    /// The host name written in `hostname` (Falco writes the node's name).
    public var hostname: String

    /// Creates a renderer for alerts from `hostname`.
    public init(hostname: String = "") {
        self.hostname = hostname
    }

    /// Falco's priority name for a Vigil severity.
    public static func priority(_ severity: Severity) -> String {
        switch severity {
        case .critical: return "Critical"
        case .high: return "Error"
        case .medium: return "Warning"
        case .low: return "Notice"
        case .info: return "Informational"
        }
    }

    /// The Falco event source of a finding: by its layer, and for the cloud layer by its provider.
    public static func source(_ finding: FindingRecord) -> String {
        switch finding.layer {
        case .workload: return "syscall"
        case .cluster: return "k8s_audit"
        case .application: return "vigil_app"
        case .cloud:
            switch RecordDetails(finding).string("provider") {
            case "gcp": return "gcp_auditlog"
            case "azure": return "vigil_cloud"
            default: return "aws_cloudtrail"
            }
        }
    }

    /// The alert for `finding`, on one line.
    public func render(_ finding: FindingRecord) -> String {
        var writer = JSONWriter(capacity: 1024)
        write(finding, to: &writer)
        return writer.text
    }

    /// Writes the alert for `finding` as one JSON object.
    public func write(_ finding: FindingRecord, to writer: inout JSONWriter) {
        let details = RecordDetails(finding)
        let source = Self.source(finding)
        // Falco writes its fields sorted by name.
        let fields = Self.outputFields(finding, details, source: source).sorted { $0.key < $1.key }
        let priority = Self.priority(finding.severity)
        writer.beginObject()
        writer.field("hostname", hostname)
        writer.field("output", Self.output(finding, priority: priority, fields: fields))
        writer.key("output_fields")
        writer.beginObject()
        for (key, value) in fields {
            writer.key(key)
            writer.value(value)
        }
        writer.endObject()
        writer.field("priority", priority)
        writer.field("rule", finding.ruleName.isEmpty ? finding.ruleID : finding.ruleName)
        writer.field("source", source)
        writer.key("tags")
        writer.beginArray()
        for tag in Self.tags(finding, details) { writer.string(tag) }
        writer.endArray()
        writer.field("time", RFC3339.format(nanoseconds: finding.time))
        writer.endObject()
    }

    // MARK: - Parts

    /// Falco's text line: the time of day with nanoseconds, the priority, then the rule's output, which
    /// here is the explanation followed by the fields in Falco's `name=value` form.
    static func output(
        _ finding: FindingRecord, priority: String, fields: [(key: String, value: JSONValue)]
    ) -> String {
        let stamp = RFC3339.format(nanoseconds: finding.time)
        // `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`: the time of day is characters 11 to 29.
        let clock = stamp.dropFirst(11).prefix(18)
        let shown = fields.filter { $0.key != "evt.time" }.map { key, value in
            switch value {
            case .string(let text): return "\(key)=\(text)"
            case .integer(let number): return "\(key)=\(number)"
            default: return "\(key)=\(value.serialized())"
            }
        }
        var text = "\(clock): \(priority) \(finding.explanation.isEmpty ? finding.ruleName : finding.explanation)"
        if !shown.isEmpty { text += " (" + shown.joined(separator: " ") + ")" }
        return text
    }

    static func tags(_ finding: FindingRecord, _ details: RecordDetails) -> [String] {
        var tags: [String] = []
        if !finding.technique.isEmpty { tags.append(finding.technique) }
        if !finding.tactic.isEmpty { tags.append(TacticNames.falcoTag(finding.tactic)) }
        switch finding.layer {
        case .workload: tags.append(finding.containerID.isEmpty ? "host" : "container")
        case .cluster: tags.append("k8s")
        case .cloud: tags.append(details.string("provider").isEmpty ? "cloud" : details.string("provider"))
        case .application: tags.append("application")
        }
        tags.append("vigil")
        return tags
    }

    static func outputFields(
        _ finding: FindingRecord, _ details: RecordDetails, source: String
    ) -> [(key: String, value: JSONValue)] {
        var fields = FieldList()
        fields.add("evt.time", finding.time)
        switch finding.layer {
        case .workload, .application:
            if finding.pid != 0 {
                fields.add("proc.pid", Int64(finding.pid))
                fields.add("proc.exepath", finding.executable)
                let name = (finding.executable.isEmpty ? finding.arguments.first ?? "" : finding.executable).baseName
                fields.add("proc.name", name)
                // Falco's command line is the process name followed by the arguments after argv[0].
                if !finding.arguments.isEmpty {
                    fields.add("proc.cmdline", ([name] + finding.arguments.dropFirst()).joined(separator: " "))
                }
                if let parent = details.ancestry.first {
                    fields.add("proc.ppid", parent.pid)
                    fields.add("proc.pname", parent.executable.baseName)
                }
            }
            // Falco names the host `host` where a container id would be.
            fields.add("container.id", finding.containerID.isEmpty ? "host" : String(finding.containerID.prefix(12)))
            fields.add("container.name", details.workload("container"))
            fields.add("container.image.repository", details.workload("image"))
            fields.add("k8s.ns.name", details.workload("namespace"))
            fields.add("user.uid", details.uid)
            fields.add("user.name", finding.principal)
            if finding.layer == .workload {
                fields.add("evt.type", Self.syscall(finding.kind, details))
                addWorkloadFields(finding, details, into: &fields)
            } else {
                fields.add("evt.type", finding.kind)
                fields.add("http.method", details.string("method"))
                fields.add("http.route", details.string("route"))
                fields.add("http.host", details.string("host"))
                fields.add("http.path", details.string("path"))
                fields.add("http.status", details.integer("status"))
                fields.add("http.client_ip", details.string("client_address"))
            }
        case .cluster:
            fields.add("ka.user.name", finding.principal)
            fields.add("ka.verb", details.string("verb"))
            fields.add("ka.target.resource", details.string("resource"))
            fields.add("ka.target.subresource", details.string("subresource"))
            fields.add("ka.target.namespace", details.string("namespace"))
            fields.add("ka.target.name", details.string("name"))
            fields.add("ka.sourceips", details.string("source_address"))
            fields.add("ka.useragent", details.string("user_agent"))
            fields.add("ka.response.code", details.integer("response_code"))
        case .cloud where source == "gcp_auditlog":
            fields.add("gcp.user", finding.principal)
            fields.add("gcp.methodName", details.string("action"))
            fields.add("gcp.serviceName", details.string("service"))
            fields.add("gcp.location", details.string("region"))
            fields.add("gcp.projectId", details.string("account"))
            fields.add("gcp.callerIP", details.string("source_address"))
            fields.add("gcp.resourceName", details.string("resource"))
        case .cloud where source == "aws_cloudtrail":
            fields.add("ct.user", finding.principal.hasPrefix("arn:") ? finding.principal.baseName : finding.principal)
            fields.add("ct.user.arn", finding.principal)
            fields.add("ct.user.accountid", details.string("account"))
            fields.add("ct.name", details.string("action"))
            let service = details.string("service")
            fields.add("ct.src", service.isEmpty ? "" : service + ".amazonaws.com")
            fields.add("ct.shortsrc", service)
            fields.add("ct.region", details.string("region"))
            fields.add("ct.srcip", details.string("source_address"))
            fields.add("ct.useragent", details.string("user_agent"))
            fields.add("ct.error", details.string("error_code"))
            fields.add("ct.request.resource", details.string("resource"))
        case .cloud:
            fields.add("cloud.user", finding.principal)
            fields.add("cloud.provider", details.string("provider"))
            fields.add("cloud.service", details.string("service"))
            fields.add("cloud.action", details.string("action"))
            fields.add("cloud.region", details.string("region"))
            fields.add("cloud.srcip", details.string("source_address"))
            fields.add("cloud.resource", details.string("resource"))
        }
        return fields.items
    }

    /// Output fields in the order they are added; empty values are left out, as Falco leaves out `<NA>`.
    struct FieldList {
        var items: [(key: String, value: JSONValue)] = []

        mutating func add(_ key: String, _ text: String) {
            if !text.isEmpty { items.append((key, .string(text))) }
        }

        mutating func add(_ key: String, _ number: Int64?) {
            if let number { items.append((key, .integer(number))) }
        }
    }

    /// The file, peer or name a workload event is about, under Falco's `fd.*` names.
    private static func addWorkloadFields(
        _ finding: FindingRecord, _ details: RecordDetails, into fields: inout FieldList
    ) {
        if finding.kind.hasPrefix("file.") {
            fields.add("fd.name", details.string("path"))
            fields.add("fs.path.target", details.string("target"))
        } else if ["network.connect", "network.accept", "network.bind", "network.listen"].contains(finding.kind) {
            fields.add("fd.rip", details.string("remote_address"))
            fields.add("fd.rport", details.integer("remote_port"))
            fields.add("fd.lip", details.string("local_address"))
            fields.add("fd.lport", details.integer("local_port"))
            fields.add("fd.l4proto", details.string("transport"))
        } else {
            // A queried name, a module, a memory file or a BPF program.
            fields.add("evt.arg.name", details.string("name"))
        }
    }

    /// The syscall Falco would name for the event's kind (`execve` for `process.exec`).
    static func syscall(_ kind: String, _ details: RecordDetails) -> String {
        switch kind {
        case "process.exec": return "execve"
        case "process.fork": return "clone"
        case "process.exit": return "procexit"
        case "file.open": return "openat"
        case "file.write": return "write"
        case "file.unlink": return "unlinkat"
        case "file.rename": return "renameat2"
        case "file.link": return "linkat"
        case "file.symlink": return "symlinkat"
        case "file.chmod": return "fchmodat"
        case "network.connect": return "connect"
        case "network.accept": return "accept4"
        case "network.bind": return "bind"
        case "network.listen": return "listen"
        case "network.dns_query": return "sendto"
        case "ptrace": return "ptrace"
        case "module.load": return details.fields["from_file"]?.bool == true ? "finit_module" : "init_module"
        case "namespace.mount": return "mount"
        case "namespace.unshare": return "unshare"
        case "namespace.setns": return "setns"
        case "memfd.create": return "memfd_create"
        case "bpf": return "bpf"
        case "capability": return "capset"
        case "credentials.change":
            let operation = details.string("operation")
            return operation.isEmpty ? kind : operation
        default: return kind
        }
    }
}

import Foundation
import Testing
import VigilCore
import VigilCorrelation
import VigilTestKit

@Suite("OCSF Detection Finding")
struct OCSFDetectionFindingTests {
    let renderer = OCSFDetectionFinding(productVersion: "0.9.0", hostname: "node-1")

    @Test("a finding is a Detection Finding with its class, severity, time in ms and ATT&CK mapping")
    func finding() throws {
        let record = LayerFindings().workload
        let value = try JSONParser.parse(renderer.render(record))
        #expect(value["class_uid"]?.int64 == 2004)
        #expect(value["category_uid"]?.int64 == 2)
        #expect(value["activity_id"]?.int64 == 1)
        #expect(value["type_uid"]?.int64 == 200401)
        #expect(value["type_name"]?.string == "Detection Finding: Create")
        #expect(value["severity_id"]?.int64 == 4)
        #expect(value["severity"]?.string == "High")
        #expect(value["status_id"]?.int64 == 1)
        #expect(value["is_alert"]?.bool == true)
        #expect(value["time"]?.int64 == record.time / 1_000_000)
        #expect(value["metadata"]?["version"]?.string == OCSFDetectionFinding.schemaVersion)
        #expect(value["metadata"]?["uid"]?.string == record.id)
        #expect(value["metadata"]?["product"]?["name"]?.string == "Vigil")
        #expect(value["metadata"]?["product"]?["vendor_name"]?.string == "Vigil")
        #expect(value["metadata"]?["product"]?["version"]?.string == "0.9.0")
        #expect(value["device"]?["hostname"]?.string == "node-1")
        let info = try #require(value["finding_info"])
        #expect(info["uid"]?.string == record.id)
        #expect(info["title"]?.string == "Shell in a server")
        #expect(info["desc"]?.string == "python3 started a shell")
        #expect(info["types"]?.array == [.string("process.exec")])
        #expect(info["first_seen_time"]?.int64 == record.time / 1_000_000)
        #expect(info["analytic"]?["uid"]?.string == "vigil.workload.shell-in-server")
        #expect(info["analytic"]?["type_id"]?.int64 == 1)
        #expect(info["analytic"]?["type"]?.string == "Rule")
        let attack = try #require(info["attacks"]?.array?.first)
        #expect(attack["tactic"]?["uid"]?.string == "TA0002")
        #expect(attack["tactic"]?["name"]?.string == "Execution")
        #expect(attack["technique"]?["uid"]?.string == "T1059")
        #expect(attack["sub_technique"]?["uid"]?.string == "T1059.004")
        let process = try #require(value["actor"]?["process"])
        #expect(process["pid"]?.int64 == 200)
        #expect(process["uid"]?.string == "200@\(EventBuilder.startTime(of: 200))")
        #expect(process["name"]?.string == "sh")
        #expect(process["cmd_line"]?.string == "sh -c curl -s http://169.254.169.254/latest/meta-data/")
        #expect(process["file"]?["path"]?.string == "/bin/sh")
        #expect(process["parent_process"]?["pid"]?.int64 == 100)
        #expect(process["parent_process"]?["file"]?["path"]?.string == "/usr/bin/python3")
        let resources = try #require(value["resources"]?.array)
        #expect(resources.first?["uid"]?.string == "shop/Deployment/web/web")
        #expect(resources.first?["type"]?.string == "workload")
        #expect(value["evidences"]?.array?.first?["process"]?["pid"]?.int64 == 200)
        #expect(value["unmapped"]?["layer"]?.string == "workload")
    }

    @Test("severities map to OCSF severity ids 1 to 5")
    func severities() throws {
        var record = LayerFindings().cloud
        let expected: [Severity: Int64] = [.info: 1, .low: 2, .medium: 3, .high: 4, .critical: 5]
        for (severity, id) in expected {
            record.severity = severity
            #expect(try JSONParser.parse(renderer.render(record))["severity_id"]?.int64 == id)
            #expect(OCSFDetectionFinding.severityID(severity) == Int(id))
        }
    }

    @Test("a cloud finding names the principal, its key, the API call and the resource")
    func cloud() throws {
        let value = try JSONParser.parse(renderer.render(LayerFindings().cloud))
        let user = try #require(value["actor"]?["user"])
        #expect(user["uid"]?.string == "arn:aws:sts::111122223333:assumed-role/node/i-0abc")
        #expect(user["name"]?.string == "i-0abc")
        #expect(user["credential_uid"]?.string == "ASIAEXAMPLEKEY")
        #expect(value["actor"]?["process"] == nil)
        let evidence = try #require(value["evidences"]?.array?.first)
        #expect(evidence["api"]?["operation"]?.string == "CreateUser")
        #expect(evidence["api"]?["service"]?["name"]?.string == "iam")
        #expect(evidence["src_endpoint"]?["ip"]?.string == "192.0.2.66")
        let resource = try #require(value["resources"]?.array?.first)
        #expect(resource["uid"]?.string == "x")
        #expect(resource["type"]?.string == "iam")
        #expect(resource["region"]?.string == "us-east-1")
        let attack = try #require(value["finding_info"]?["attacks"]?.array?.first)
        #expect(attack["tactic"]?["uid"]?.string == "TA0003")
        #expect(attack["technique"]?["uid"]?.string == "T1136")
        #expect(attack["sub_technique"]?["uid"]?.string == "T1136.003")
    }

    @Test("a learned-profile check is a behavioral analytic; a technique without sub-technique has none")
    func behavioral() throws {
        let layers = LayerFindings()
        let profile = try JSONParser.parse(renderer.render(layers.profile))
        #expect(profile["finding_info"]?["analytic"]?["type_id"]?.int64 == 2)
        #expect(profile["finding_info"]?["analytic"]?["type"]?.string == "Behavioral")
        #expect(profile["evidences"]?.array?.first?["dst_endpoint"]?["ip"]?.string == "169.254.169.254")
        #expect(profile["evidences"]?.array?.first?["dst_endpoint"]?["port"]?.int64 == 80)
        let cluster = try JSONParser.parse(renderer.render(layers.cluster))
        let attack = try #require(cluster["finding_info"]?["attacks"]?.array?.first)
        #expect(attack["technique"]?["uid"]?.string == "T1609")
        #expect(attack["sub_technique"] == nil)
        #expect(cluster["resources"]?.array?.first?["uid"]?.string == "shop/web-7d9")
        #expect(cluster["evidences"]?.array?.first?["api"]?["operation"]?.string == "create")
    }

    @Test("an incident is one Detection Finding whose related events are its steps and whose desc is its narrative")
    func incident() throws {
        let fixture = RenderingFixture()
        let story = fixture.incidents[0]
        let value = try JSONParser.parse(renderer.render(story))
        #expect(value["class_uid"]?.int64 == 2004)
        #expect(value["type_uid"]?.int64 == 200401)
        #expect(value["severity_id"]?.int64 == 5)
        #expect(value["time"]?.int64 == story.lastTime / 1_000_000)
        #expect(value["start_time"]?.int64 == story.firstTime / 1_000_000)
        #expect(value["confidence_id"]?.int64 == 3)
        #expect(value["message"]?.string == story.title)
        #expect(value["metadata"]?["correlation_uid"]?.string == story.id)
        let info = try #require(value["finding_info"])
        #expect(info["uid"]?.string == story.id)
        #expect(info["title"]?.string == story.title)
        #expect(info["desc"]?.string == story.narrative)
        #expect(info["analytic"]?["type_id"]?.int64 == 99)
        let related = try #require(info["related_events"]?.array)
        #expect(related.count == story.steps.count)
        for (event, step) in zip(related, story.steps) {
            #expect(event["title"]?.string == step.summary)
            #expect(event["first_seen_time"]?.int64 == step.time / 1_000_000)
            #expect(event["attacks"]?.array?.first?["technique"]?["uid"]?.string == String(step.technique.prefix(5)))
            if let id = step.findingIDs.first {
                #expect(event["uid"]?.string == id)
                #expect(event["type_uid"]?.int64 == 200401)
            } else {
                // The derived credential-exfiltration step.
                #expect(event["uid"]?.string?.hasPrefix(story.id + "/steps/") == true)
            }
        }
        #expect(related.first?["uid"]?.string == story.rootCause)
        #expect(related.contains { $0["count"]?.int64 == 3 })
        let attacks = try #require(info["attacks"]?.array)
        #expect(attacks.contains { $0["sub_technique"]?["uid"]?.string == "T1552.005" })
        #expect(value["actor"]?["process"]?["pid"]?.int64 == 200)
        let resources = try #require(value["resources"]?.array)
        #expect(resources.contains { $0["uid"]?.string == "arn:aws:iam::111122223333:user/x" })
        #expect(value["evidences"]?.array?.count == story.findings.count)
        #expect(value["unmapped"]?["root_cause"]?.string == story.rootCause)
    }

    @Test("an incident reported again is an Update")
    func update() throws {
        let fixture = RenderingFixture()
        let value = try JSONParser.parse(renderer.render(fixture.incidents[1], activity: .update))
        #expect(value["activity_id"]?.int64 == 2)
        #expect(value["activity_name"]?.string == "Update")
        #expect(value["type_uid"]?.int64 == 200402)
        #expect(value["finding_info"]?["modified_time"]?.int64 == fixture.incidents[1].lastTime / 1_000_000)
        // One layer only: medium confidence.
        #expect(value["confidence_id"]?.int64 == 2)
        let response = try #require(value["unmapped"]?["response"]?.array?.first)
        #expect(response["action"]?.string == "kill")
        #expect(response["outcome"]?.string == "dry_run")
        #expect(response["pid"]?.int64 == 410)
        let closed = try JSONParser.parse(renderer.render(fixture.incidents[1], activity: .close))
        #expect(closed["type_uid"]?.int64 == 200403)
        #expect(closed["is_alert"] == nil)
    }
}

@Suite("Falco alert")
struct FalcoAlertTests {
    let renderer = FalcoAlert(hostname: "node-1")

    @Test("a workload finding reads as a Falco syscall alert")
    func workload() throws {
        let record = LayerFindings().workload
        let value = try JSONParser.parse(renderer.render(record))
        #expect(
            value.object?.keys == ["hostname", "output", "output_fields", "priority", "rule", "source", "tags", "time"])
        #expect(value["hostname"]?.string == "node-1")
        #expect(value["priority"]?.string == "Error")
        #expect(value["rule"]?.string == "Shell in a server")
        #expect(value["source"]?.string == "syscall")
        #expect(value["time"]?.string == RFC3339.format(nanoseconds: record.time))
        #expect(value["tags"]?.array == ["T1059.004", "mitre_execution", "host", "vigil"].map(JSONValue.string))
        let fields = try #require(value["output_fields"]?.object)
        #expect(fields.keys == fields.keys.sorted())
        #expect(fields["proc.pid"]?.int64 == 200)
        #expect(fields["proc.exepath"]?.string == "/bin/sh")
        #expect(fields["proc.name"]?.string == "sh")
        #expect(fields["proc.cmdline"]?.string == "sh -c curl -s http://169.254.169.254/latest/meta-data/")
        #expect(fields["proc.ppid"]?.int64 == 100)
        #expect(fields["proc.pname"]?.string == "python3")
        #expect(fields["container.id"]?.string == "host")
        #expect(fields["k8s.ns.name"]?.string == "shop")
        #expect(fields["evt.type"]?.string == "execve")
        #expect(fields["evt.time"]?.int64 == record.time)
        let output = try #require(value["output"]?.string)
        let clock = RFC3339.format(nanoseconds: record.time).dropFirst(11).prefix(18)
        #expect(output.hasPrefix("\(clock): Error python3 started a shell ("))
        #expect(output.contains("proc.exepath=/bin/sh"))
        #expect(clock.count == 18 && clock.hasSuffix("000"))
    }

    @Test("severities map to Falco priorities")
    func priorities() throws {
        var record = LayerFindings().workload
        let expected: [Severity: String] = [
            .critical: "Critical", .high: "Error", .medium: "Warning", .low: "Notice", .info: "Informational",
        ]
        for (severity, priority) in expected {
            record.severity = severity
            #expect(try JSONParser.parse(renderer.render(record))["priority"]?.string == priority)
            #expect(FalcoAlert.priority(severity) == priority)
        }
    }

    @Test("each layer has its Falco source and fields")
    func sources() throws {
        let layers = LayerFindings()
        let cloud = try JSONParser.parse(renderer.render(layers.cloud))
        #expect(cloud["source"]?.string == "aws_cloudtrail")
        #expect(cloud["priority"]?.string == "Critical")
        #expect(cloud["output_fields"]?["ct.name"]?.string == "CreateUser")
        #expect(cloud["output_fields"]?["ct.src"]?.string == "iam.amazonaws.com")
        #expect(cloud["output_fields"]?["ct.srcip"]?.string == "192.0.2.66")
        #expect(cloud["output_fields"]?["ct.user"]?.string == "i-0abc")
        #expect(cloud["output_fields"]?["ct.region"]?.string == "us-east-1")
        #expect(cloud["output_fields"]?["proc.pid"] == nil)
        #expect(cloud["tags"]?.array == ["T1136.003", "mitre_persistence", "aws", "vigil"].map(JSONValue.string))
        let cluster = try JSONParser.parse(renderer.render(layers.cluster))
        #expect(cluster["source"]?.string == "k8s_audit")
        #expect(cluster["output_fields"]?["ka.user.name"]?.string == "system:serviceaccount:shop:deployer")
        #expect(cluster["output_fields"]?["ka.verb"]?.string == "create")
        #expect(cluster["output_fields"]?["ka.target.subresource"]?.string == "exec")
        #expect(cluster["output_fields"]?["ka.target.namespace"]?.string == "shop")
        #expect(cluster["tags"]?.array?.contains(.string("k8s")) == true)
        let application = try JSONParser.parse(renderer.render(layers.application))
        #expect(application["source"]?.string == "vigil_app")
        #expect(application["priority"]?.string == "Notice")
        #expect(application["output_fields"]?["http.path"]?.string == "/fetch")
        #expect(application["tags"]?.array?.first == .string("T1190"))
        #expect(application["tags"]?.array?.contains(.string("mitre_initial_access")) == true)
        let network = try JSONParser.parse(renderer.render(layers.profile))
        #expect(network["source"]?.string == "syscall")
        #expect(network["output_fields"]?["evt.type"]?.string == "connect")
        #expect(network["output_fields"]?["fd.rip"]?.string == "169.254.169.254")
        #expect(network["output_fields"]?["fd.rport"]?.int64 == 80)
        #expect(network["tags"]?.array?.contains(.string("mitre_credential_access")) == true)
        #expect(
            layers.all.map(FalcoAlert.source) == ["syscall", "aws_cloudtrail", "k8s_audit", "vigil_app", "syscall"])
    }
}

@Suite("HTML incident report")
struct HTMLIncidentReportTests {
    @Test("the page shows each incident with its steps, root cause, entity graph, findings and response")
    func structure() throws {
        let fixture = RenderingFixture()
        let page = HTMLIncidentReport(generatedAt: 1_795_910_400_000_000_000).render(fixture.incidents)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("data-count=\"incidents\">2<"))
        #expect(page.contains("<time datetime=\"2026-11-29T00:00:00.000000000Z\">2026-11-29 00:00:00.000 UTC</time>"))
        let sections = page.sections(between: "<section class=\"incident", and: "</section>")
        try #require(sections.count == 2)
        for (section, incident) in zip(sections, fixture.incidents) {
            #expect(section.contains("data-incident-id=\"\(incident.id)\""))
            #expect(section.contains("data-severity=\"\(incident.severity.name)\""))
            #expect(section.occurrences(of: "<li class=\"step") == incident.steps.count)
            #expect(section.occurrences(of: "<li class=\"step root-cause\"") == 1)
            #expect(section.occurrences(of: "<g class=\"entity") == incident.entities.count)
            for entity in incident.entities {
                #expect(section.contains("data-kind=\"\(entity.kind)\" data-id=\"\(entity.id)\""))
            }
            #expect(section.occurrences(of: "<tr class=\"finding") == incident.findingIDs.count)
            #expect(section.contains("<div class=\"root-cause-summary\" data-finding-id=\"\(incident.rootCause)\""))
            #expect(section.contains("<p class=\"narrative\">"))
        }
        // Edges join entities that share a finding: the shell's process and its parent, container-less workload.
        #expect(sections[0].contains("class=\"edge\" data-from=\"200@"))
        #expect(sections[1].contains("<tr class=\"response\">"))
        #expect(sections[1].contains("dry-run: would send SIGKILL to 410"))
        #expect(sections[0].contains("No response actions were taken."))
        // Self-contained: no scripts, no external references.
        #expect(!page.contains("<script"))
        #expect(!page.contains("src="))
        #expect(!page.contains("href=\"http"))
    }

    @Test("hostile titles, summaries, explanations and entity ids are escaped")
    func escaping() throws {
        let hostile = "<script>alert(1)</script>\"&'"
        let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;"
        let symbols = SymbolTable()
        var build = EventBuilder(symbols: symbols, step: second)
        var live = finding(build.exec(pid: 10, executable: "/bin/sh", arguments: ["sh", hostile]), rule: hostile)
        live.explanation = hostile
        live.process = summary(10, "/bin/sh", ["sh", hostile])
        var incident = Incident(
            severity: .high, title: hostile, rootCause: live.id,
            steps: [
                IncidentStep(
                    time: live.time, layer: .workload, mitre: live.mitre, summary: hostile, findingIDs: [live.id])
            ],
            entities: [Entity(kind: "process", id: hostile), Entity(kind: hostile, id: "x")], findings: [live],
            narrative: hostile)
        incident.response = [
            ResponseRecord(
                action: ResponseAction(
                    kind: .kill, target: ResponseTarget(process: EventBuilder.process(10)), reason: incident.id),
                outcome: .failed, detail: hostile, time: live.time)
        ]
        let record = IncidentRecord(incident, symbols: symbols)
        let page = HTMLIncidentReport(title: hostile, generatedAt: 0).render([record])
        #expect(!page.contains("<script"))
        #expect(!page.contains("alert(1)</"))
        #expect(!page.contains("\"&'"))
        #expect(page.occurrences(of: escaped) >= 9)
        #expect(page.contains("<title>\(escaped)</title>"))
        #expect(page.contains("<h2>\(escaped)</h2>"))
        #expect(page.contains("<p class=\"narrative\">\(escaped)</p>"))
        #expect(page.contains("<p class=\"summary\">\(escaped)</p>"))
        #expect(page.contains("data-kind=\"process\" data-id=\"\(escaped)\""))
        #expect(page.contains("data-kind=\"\(escaped)\" data-id=\"x\""))
        #expect(page.contains("<td class=\"explanation\">\(escaped)</td>"))
    }

    @Test("an empty report says so")
    func empty() {
        let page = HTMLIncidentReport(generatedAt: 0).render([])
        #expect(page.contains("data-count=\"incidents\">0<"))
        #expect(page.contains("No incidents."))
    }
}

extension String {
    /// How many times `needle` occurs, without overlaps.
    func occurrences(of needle: String) -> Int {
        components(separatedBy: needle).count - 1
    }

    /// The parts that start with `start` and end with `end` (both included), in order.
    func sections(between start: String, and end: String) -> [String] {
        components(separatedBy: start).dropFirst().map { part in
            let body = part.components(separatedBy: end).first ?? part
            return start + body + end
        }
    }
}

import Testing
import VigilCore
import VigilTestKit

@Suite("Alert stream encoding")
struct AlertEncoderTests {
    @Test("a finding line has the documented fields")
    func findingLine() throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let web = builder.workload(namespace: "shop", deployment: "web")
        let parent = builder.exec(pid: 10, executable: "/usr/bin/python3", workload: web)
        var finding = Finding(
            severity: .high, rule: RuleReference(id: "vigil.shell", name: "Shell in server"),
            mitre: MITREMapping(tactic: .execution, technique: "T1059.004"),
            event: builder.exec(pid: 11, parent: 10, executable: "/bin/sh", arguments: ["sh", "-i"], workload: web),
            evidence: [parent], explanation: "web ran a shell")
        finding.process = ProcessSummary(key: EventBuilder.process(11), executable: "/bin/sh", arguments: ["sh", "-i"])
        finding.ancestry = [
            ProcessSummary(key: EventBuilder.process(10), executable: "/usr/bin/python3", arguments: [])
        ]
        finding.eventsLostBefore = 3
        finding.response = [
            ResponseRecord(
                action: ResponseAction(
                    kind: .kill, target: ResponseTarget(process: EventBuilder.process(11)), reason: finding.id),
                outcome: .dryRun, detail: "would SIGKILL", time: finding.time)
        ]
        var encoder = AlertEncoder(symbols: symbols)
        let object = try #require(try JSONParser.parse(encoder.line(for: .finding(finding))).object)
        #expect(object["type"]?.string == "finding")
        #expect(object["id"]?.string == finding.id)
        #expect(object["time"]?.string == RFC3339.format(nanoseconds: finding.time))
        #expect(object["severity"]?.string == "high")
        #expect(object["rule"]?["id"]?.string == "vigil.shell")
        #expect(object["rule"]?["name"]?.string == "Shell in server")
        #expect(object["mitre"]?["tactic"]?.string == "execution")
        #expect(object["mitre"]?["tactic_id"]?.string == "TA0002")
        #expect(object["mitre"]?["technique"]?.string == "T1059.004")
        #expect(object["layer"]?.string == "workload")
        #expect(object["workload"]?["name"]?.string == "shop/Deployment/web/web")
        #expect(object["process"]?["pid"]?.int64 == 11)
        #expect(object["process"]?["exe"]?.string == "/bin/sh")
        #expect(object["process"]?["args"]?.array?.compactMap(\.string) == ["sh", "-i"])
        #expect(object["process"]?["ancestry"]?.array?.first?["exe"]?.string == "/usr/bin/python3")
        #expect(object["explanation"]?.string == "web ran a shell")
        #expect(object["events_lost_before"]?.int64 == 3)
        let evidence = try #require(object["evidence"]?.array)
        #expect(evidence.count == 2)
        #expect(evidence.first?["kind"]?.string == "process.exec")
        #expect(object["response"]?.array?.first?["action"]?.string == "kill")
        #expect(object["response"]?.array?.first?["outcome"]?.string == "dry_run")
        // Evidence events are themselves valid events.
        let decoded = try EventDecoder(symbols: symbols).decode(evidence[0])
        #expect(decoded == finding.event)
    }

    @Test("an incident line has the documented fields")
    func incidentLine() throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let first = Finding(
            severity: .medium, rule: RuleReference(id: "a", name: "A"),
            mitre: MITREMapping(tactic: .initialAccess, technique: "T1190"),
            event: builder.httpRequest(pid: 3, route: "/fetch", path: "/fetch"), explanation: "odd request")
        let second = Finding(
            severity: .high, rule: RuleReference(id: "b", name: "B"),
            mitre: MITREMapping(tactic: .persistence, technique: "T1136.003"),
            event: builder.cloudCall(principal: "role/node", service: "iam", action: "CreateUser"),
            explanation: "new user")
        let incident = Incident(
            severity: .critical, title: "SSRF to cloud admin", rootCause: first.id,
            steps: [
                IncidentStep(
                    time: first.time, layer: .application, mitre: first.mitre, summary: "request",
                    findingIDs: [first.id]),
                IncidentStep(
                    time: second.time, layer: .cloud, mitre: second.mitre, summary: "user", findingIDs: [second.id]),
            ],
            entities: [Entity(kind: "principal", id: "role/node")], findings: [first, second], narrative: "a story")
        var encoder = AlertEncoder(symbols: symbols)
        let object = try #require(try JSONParser.parse(encoder.line(for: .incident(incident))).object)
        #expect(object["type"]?.string == "incident")
        #expect(object["id"]?.string == incident.id)
        #expect(object["severity"]?.string == "critical")
        #expect(object["title"]?.string == "SSRF to cloud admin")
        #expect(object["root_cause"]?.string == first.id)
        #expect(object["layers"]?.array?.compactMap(\.string) == ["application", "cloud"])
        let steps = try #require(object["steps"]?.array)
        #expect(steps.map { $0["technique"]?.string } == ["T1190", "T1136.003"])
        #expect(steps.map { $0["layer"]?.string } == ["application", "cloud"])
        #expect(steps[1]["finding_ids"]?.array?.first?.string == second.id)
        #expect(steps[0]["summary"]?.string == "request")
        #expect(object["entities"]?.array?.first?["kind"]?.string == "principal")
        #expect(object["response"]?.array?.isEmpty == true)
        #expect(object["narrative"]?.string == "a story")
    }

    @Test("MITRE technique ids are validated and tactics parse from Falco tags")
    func mitre() {
        #expect(MITREMapping.isTechniqueID("T1059"))
        #expect(MITREMapping.isTechniqueID("T1059.004"))
        #expect(!MITREMapping.isTechniqueID("T159"))
        #expect(!MITREMapping.isTechniqueID("X1059"))
        #expect(MITRETactic("mitre_privilege_escalation") == .privilegeEscalation)
        #expect(MITRETactic("TA0010") == .exfiltration)
        #expect(MITRETactic("command-and-control") == .commandAndControl)
        #expect(Severity.low < Severity.critical)
        #expect(Severity.critical.raised == .critical)
    }
}

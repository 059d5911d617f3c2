import VigilCore
import VigilCorrelation
import VigilTestKit

/// The node of the scenarios: its role and the address its cloud calls come from.
let nodeRole = "arn:aws:iam::111122223333:role/node"
let nodeAddress = "198.51.100.10"
let node = NodeIdentity(instanceID: "i-0123456789abcdef0", roleARN: nodeRole, addresses: [IPAddress(nodeAddress)!])

let second: Int64 = 1_000_000_000

/// A finding about `event`, with its process and ancestry as the engine would fill them.
func finding(
    _ event: Event, severity: Severity = .medium, rule: String, tactic: MITRETactic = .execution,
    technique: String = "T1059", process: ProcessSummary? = nil, ancestry: [ProcessSummary] = []
) -> Finding {
    var finding = Finding(
        severity: severity, rule: RuleReference(id: rule, name: rule),
        mitre: MITREMapping(tactic: tactic, technique: technique),
        event: event, explanation: "test")
    finding.process = process
    finding.ancestry = ancestry
    return finding
}

func summary(_ pid: Int32, _ executable: String, _ arguments: [String]? = nil) -> ProcessSummary {
    ProcessSummary(key: EventBuilder.process(pid), executable: executable, arguments: arguments ?? [executable])
}

/// Changes the cloud fields of a cloud event.
func editCloud(_ event: Event, _ edit: (inout CloudFields) -> Void) -> Event {
    var event = event
    guard case .cloud(var cloud) = event.fields else { return event }
    edit(&cloud)
    event.fields = .cloud(cloud)
    return event
}

/// Runs findings one batch at a time and gathers what the correlator reports, `finish` included.
func run(_ correlator: inout StoryCorrelator, _ batches: [[Finding]]) -> [Incident] {
    var incidents: [Incident] = []
    for batch in batches { correlator.correlate(batch, into: &incidents) }
    correlator.finish(into: &incidents)
    return incidents
}

/// The last report of each incident, in order of first report.
func latest(_ incidents: [Incident]) -> [Incident] {
    var order: [String] = []
    var byID: [String: Incident] = [:]
    for incident in incidents {
        if byID[incident.id] == nil { order.append(incident.id) }
        byID[incident.id] = incident
    }
    return order.map { byID[$0]! }
}

/// The SSRF-to-cloud scenario: a shell from the web server fetches the node's credentials from the metadata
/// service; 40 s later the node's role creates user `x`, makes it an admin and gives it a key, and `x` reads
/// 120 objects from bucket `y`. `roleAddress` is where the role's calls come from.
struct Scenario {
    var symbols = SymbolTable()
    var findings: [Finding] = []
    var shell: Finding { findings[0] }

    init(roleAddress: String = nodeAddress, reads: Int = 120) {
        var build = EventBuilder(symbols: symbols, step: second)
        let web = build.workload(deployment: "web")
        let python = summary(100, "/usr/bin/python3", ["python3", "app.py"])
        let shellCommand = ["sh", "-c", "curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/"]
        let shell = build.exec(pid: 200, parent: 100, executable: "/bin/sh", arguments: shellCommand, workload: web)
        findings.append(
            finding(
                shell, severity: .high, rule: "vigil.workload.shell-in-server", technique: "T1059.004",
                process: summary(200, "/bin/sh", shellCommand), ancestry: [python]))
        let fetch = build.connect(pid: 300, to: "169.254.169.254", port: 80, workload: web)
        findings.append(
            finding(
                fetch, severity: .medium, rule: "vigil.workload.metadata-access", tactic: .credentialAccess,
                technique: "T1552.005", process: summary(300, "/usr/bin/curl"),
                ancestry: [summary(200, "/bin/sh", shellCommand), python]))
        build.time = fetch.time + 40 * second
        let create = build.cloudCall(
            principal: nodeRole, service: "iam", action: "CreateUser", sourceAddress: roleAddress, resource: "x")
        findings.append(
            finding(
                create, severity: .high, rule: "vigil.cloud.create-user", tactic: .persistence, technique: "T1136.003"))
        let attach = editCloud(
            build.cloudCall(
                principal: nodeRole, service: "iam", action: "AttachUserPolicy", sourceAddress: roleAddress,
                resource: "x")
        ) {
            $0.details = symbols.intern(
                #"{"requestParameters":{"policyArn":"arn:aws:iam::aws:policy/AdministratorAccess","userName":"x"}}"#)
        }
        findings.append(
            finding(
                attach, severity: .high, rule: "vigil.cloud.attach-admin", tactic: .privilegeEscalation,
                technique: "T1098.003"))
        let key = editCloud(
            build.cloudCall(
                principal: nodeRole, service: "iam", action: "CreateAccessKey", sourceAddress: roleAddress,
                resource: "x")
        ) {
            $0.details = symbols.intern(
                #"{"requestParameters":{"userName":"x"},"responseElements":{"accessKey":{"accessKeyId":"AKIANEWKEY","userName":"x"}}}"#
            )
        }
        findings.append(
            finding(
                key, severity: .medium, rule: "vigil.cloud.create-access-key", tactic: .persistence,
                technique: "T1098.001"))
        // `x` works from elsewhere, with the key it was given: only that key ties it to the story.
        let reader = "arn:aws:iam::111122223333:user/x"
        for _ in 0..<reads {
            let read = editCloud(
                build.cloudCall(
                    principal: reader, service: "s3", action: "GetObject", sourceAddress: "203.0.113.99", resource: "y")
            ) { $0.accessKey = symbols.intern("AKIANEWKEY") }
            findings.append(
                finding(read, severity: .low, rule: "vigil.cloud.bulk-read", tactic: .collection, technique: "T1530"))
        }
    }
}

import VigilCore
import VigilCorrelation
import VigilTestKit

/// Incidents and findings for the renderer tests, read back from the alert stream as the renderers take them.
struct RenderingFixture {
    let symbols: SymbolTable
    /// The SSRF-to-cloud story and a crypto-miner story in another workload, with a response taken.
    let incidents: [IncidentRecord]

    init() {
        let scenario = Scenario(roleAddress: "192.0.2.66", reads: 3)
        let symbols = scenario.symbols
        self.symbols = symbols
        var build = EventBuilder(symbols: symbols, start: scenario.findings.last!.time + second, step: second)
        let worker = build.workload(namespace: "payments", deployment: "worker", image: "registry.example/worker:2.1")
        let python = summary(400, "/usr/bin/python3", ["python3", "worker.py"])
        let miner = ["/tmp/.x/xmrig", "-o", "pool.example:3333", "--donate-level", "0"]
        let start = build.exec(pid: 410, parent: 400, executable: "/tmp/.x/xmrig", arguments: miner, workload: worker)
        var minerFinding = finding(
            start, severity: .high, rule: "vigil.workload.crypto-miner", tactic: .impact, technique: "T1496",
            process: summary(410, "/tmp/.x/xmrig", miner), ancestry: [python])
        minerFinding.explanation = "worker started xmrig, a known crypto-miner, from /tmp"
        let pool = build.connect(pid: 410, to: "198.51.100.77", port: 3333, workload: worker)
        var poolFinding = finding(
            pool, severity: .medium, rule: "vigil.workload.mining-pool", tactic: .commandAndControl,
            technique: "T1071", process: summary(410, "/tmp/.x/xmrig", miner), ancestry: [python])
        poolFinding.explanation = "xmrig connected to 198.51.100.77:3333, a port mining pools use"
        var correlator = StoryCorrelator(symbols: symbols, configuration: .init(node: node))
        var live = latest(run(&correlator, [scenario.findings, [minerFinding, poolFinding]]))
        let kill = ResponseRecord(
            action: ResponseAction(
                kind: .kill, target: ResponseTarget(process: EventBuilder.process(410), workload: worker),
                reason: live[1].id),
            outcome: .dryRun, detail: "dry-run: would send SIGKILL to 410", time: pool.time + 1_000_000)
        live[1].response = [kill]
        incidents = live.map { IncidentRecord($0, symbols: symbols) }
    }

}

/// A finding record of each layer, for the Falco and OCSF mappings.
struct LayerFindings {
    let workload: FindingRecord
    let cloud: FindingRecord
    let cluster: FindingRecord
    let application: FindingRecord
    let profile: FindingRecord

    init() {
        let symbols = SymbolTable()
        var build = EventBuilder(symbols: symbols, step: second)
        let web = build.workload(namespace: "shop", deployment: "web")
        let shellCommand = ["sh", "-c", "curl -s http://169.254.169.254/latest/meta-data/"]
        let shell = build.exec(pid: 200, parent: 100, executable: "/bin/sh", arguments: shellCommand, workload: web)
        var workloadFinding = finding(
            shell, severity: .high, rule: "vigil.workload.shell-in-server", technique: "T1059.004",
            process: summary(200, "/bin/sh", shellCommand), ancestry: [summary(100, "/usr/bin/python3")])
        workloadFinding.rule.name = "Shell in a server"
        workloadFinding.explanation = "python3 started a shell"
        workload = FindingRecord(workloadFinding, symbols: symbols)
        let call = build.cloudCall(
            principal: "arn:aws:sts::111122223333:assumed-role/node/i-0abc", service: "iam", action: "CreateUser",
            sourceAddress: "192.0.2.66", resource: "x")
        cloud = FindingRecord(
            finding(
                call, severity: .critical, rule: "vigil.cloud.create-user", tactic: .persistence, technique: "T1136.003"
            ),
            symbols: symbols)
        let exec = build.kubernetesRequest(
            user: "system:serviceaccount:shop:deployer", verb: "create", resource: "pods", namespace: "shop",
            name: "web-7d9", subresource: "exec")
        cluster = FindingRecord(
            finding(exec, severity: .medium, rule: "vigil.cluster.pod-exec", technique: "T1609"), symbols: symbols)
        let request = build.httpRequest(
            pid: 300, method: "GET", route: "/fetch", path: "/fetch", parameters: "url=http://169.254.169.254/",
            workload: web)
        application = FindingRecord(
            finding(request, severity: .low, rule: "vigil.app.ssrf", tactic: .initialAccess, technique: "T1190"),
            symbols: symbols)
        let fetch = build.connect(pid: 200, to: "169.254.169.254", port: 80, workload: web)
        profile = FindingRecord(
            finding(
                fetch, severity: .info, rule: "profile.unexpected-egress", tactic: .credentialAccess,
                technique: "T1552.005", process: summary(200, "/bin/sh", shellCommand)),
            symbols: symbols)
    }

    var all: [FindingRecord] { [workload, cloud, cluster, application, profile] }
}

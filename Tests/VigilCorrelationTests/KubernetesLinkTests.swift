import Testing
import VigilCore
import VigilCorrelation
import VigilTestKit

/// The cluster layer joined with the workload layer through the pods behind containers and the service
/// accounts processes hold (``KubernetesContext``).
@Suite("Kubernetes links")
struct KubernetesLinkTests {
    static let container = String(repeating: "ab", count: 32)
    static let account = "system:serviceaccount:shop:web"

    /// An exec into pod shop/web-1 by alice, then a shell in the container of that pod.
    func execThenShell(_ symbols: SymbolTable) -> [Finding] {
        var build = EventBuilder(symbols: symbols, step: second)
        let web = build.workload(deployment: "web")
        let exec = build.kubernetesRequest(
            user: "alice", verb: "create", resource: "pods", namespace: "shop", name: "web-1", subresource: "exec")
        var shell = build.exec(pid: 4_100, parent: 4_000, executable: "/bin/sh", workload: web)
        shell.container = symbols.intern(Self.container)
        var reader = build.open(pid: 4_100, path: "/etc/shadow", workload: web)
        reader.container = shell.container
        return [
            finding(exec, severity: .medium, rule: "vigil.k8s.pod-exec", technique: "T1609"),
            finding(
                shell, severity: .medium, rule: "profile.unexpected-process", process: summary(4_100, "/bin/sh"),
                ancestry: [summary(4_000, "/usr/bin/runc")]),
            finding(
                reader, severity: .high, rule: "vigil.workload.read-shadow", tactic: .credentialAccess,
                technique: "T1003.008"),
        ]
    }

    @Test("an exec into a pod joins what the processes of that pod's container do next")
    func execJoinsPodProcesses() {
        let symbols = SymbolTable()
        let inventory = KubernetesInventory()
        inventory.setPod(
            KubernetesPodReference(namespace: "shop", name: "web-1", container: "web"), forContainer: Self.container)
        var correlator = StoryCorrelator(
            symbols: symbols, configuration: CorrelationConfiguration(kubernetes: inventory))
        let incidents = latest(run(&correlator, [execThenShell(symbols)]))
        #expect(incidents.count == 1)
        let incident = try! #require(incidents.first)
        #expect(incident.layers == [.cluster, .workload])
        #expect(incident.rootCause == incident.findings.first { $0.rule.id == "vigil.k8s.pod-exec" }?.id)
        #expect(incident.entities.contains(Entity.pod(namespace: "shop", name: "web-1")))

        // Without knowing the pod, the cluster finding stays apart.
        var blind = StoryCorrelator(symbols: symbols)
        #expect(latest(run(&blind, [execThenShell(symbols)])).count == 2)
    }

    @Test("a read of the service-account token joins the API requests made with that account")
    func tokenReadJoinsAPIRequests() {
        let symbols = SymbolTable()
        var build = EventBuilder(symbols: symbols, step: second)
        let web = build.workload(deployment: "web")
        var read = build.open(pid: 5_100, path: "/var/run/secrets/kubernetes.io/serviceaccount/token", workload: web)
        read.container = symbols.intern(Self.container)
        var list = build.kubernetesRequest(user: Self.account, verb: "list", resource: "secrets", namespace: "")
        list.principal = symbols.intern(Self.account)
        let findings = [
            finding(
                read, severity: .medium, rule: "vigil.workload.read-serviceaccount-token", tactic: .credentialAccess,
                technique: "T1528", process: summary(5_100, "/usr/bin/cat")),
            finding(
                list, severity: .high, rule: "vigil.k8s.secrets-listed-cluster-wide", tactic: .discovery,
                technique: "T1613"),
        ]
        let inventory = KubernetesInventory()
        inventory.setServiceAccount(Self.account, forProcess: 5_100)
        var correlator = StoryCorrelator(
            symbols: symbols, configuration: CorrelationConfiguration(kubernetes: inventory))
        let incidents = latest(run(&correlator, [findings]))
        #expect(incidents.count == 1)
        #expect(incidents.first?.layers == [.workload, .cluster])
        #expect(incidents.first?.entities.contains(Entity.kubernetesUser(Self.account)) == true)

        var blind = StoryCorrelator(symbols: symbols)
        #expect(latest(run(&blind, [findings])).count == 2)
    }
}

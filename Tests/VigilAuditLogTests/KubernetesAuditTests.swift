import Testing
import VigilAuditLog
import VigilCore

@Suite("Kubernetes audit logs")
struct KubernetesAuditTests {
    static func replay(
        _ relative: String, symbols: SymbolTable
    ) async throws
        -> (events: [Event], statistics: KubernetesAuditParser.Statistics)
    {
        let sensor = KubernetesAuditFileSensor(path: TestData.path(relative))
        var events: [Event] = []
        try await sensor.run(symbols: symbols) { batch in
            events += batch.events
            batch.removeAll()
        }
        return (events, sensor.statistics)
    }

    static func record(_ relative: String) throws -> KubernetesAuditRecord {
        var parser = KubernetesAuditParser(symbols: SymbolTable())
        let value = try JSONParser.parse(TestData.read(TestData.path(relative)))
        return try #require(parser.records(in: value).first)
    }

    @Test("every Falco audit fixture parses; the CloudTrail plugin files and fal_01_003 are not audit events")
    func falcoCorpus() async throws {
        // falcosecurity/falco @2583ea9b/@8dd4beac: k8s-audit/falco/{k8s_audit,psp,plugins}/*.json, a mix of
        // audit.k8s.io/v1, v1beta1 and no apiVersion at all.
        let files = TestData.files(under: "k8s-audit/falco").filter { $0.hasSuffix(".json") }
        #expect(files.count == 81)
        var events = 0
        for file in files {
            let relative = String(file.dropFirst(TestData.root.count + 1))
            let (parsed, statistics) = try await Self.replay(relative, symbols: SymbolTable())
            if file.contains("/plugins/") || file.hasSuffix("fal_01_003.json") {
                // alice_start_instances*.json are CloudTrail `{"Records": […]}` documents for Falco's plugin;
                // fal_01_003.json is `{"kind": 0}`, which Falco's own test expects to be rejected ("data
                // not recognized as a k8s audit event").
                #expect(parsed.isEmpty, "\(relative)")
                #expect(statistics.skipped == [.notAuditEvent: 1], "\(relative)")
            } else {
                #expect(statistics.skipped.isEmpty, "\(relative)")
                #expect(parsed.count >= 1, "\(relative)")
                #expect(parsed.allSatisfy { $0.kind == .kubernetesRequest })
                events += parsed.count
            }
        }
        // 77 one-event files and one JSON-lines file of six events.
        #expect(events == 83)
    }

    @Test("Panther's EKS and AKS records unwrap; GKE protoPayload entries are counted, not read")
    func pantherCorpus() async throws {
        // panther-labs/panther-analysis @daa10c88: k8s-audit/panther/kubernetes_rules.tests.jsonl
        // (168 Amazon.EKS.Audit, 35 Azure.MonitorActivity, 34 GCP.AuditLog test records).
        let (events, statistics) = try await Self.replay(
            "k8s-audit/panther/kubernetes_rules.tests.jsonl", symbols: SymbolTable())
        #expect(statistics.skipped[.unsupportedWrapper] == 34)
        #expect(statistics.skipped[.invalidJSON] == nil)
        #expect(events.count + statistics.totalSkipped == 237)
        #expect(events.count >= 190)
    }

    @Test("non-JSON files in the corpus (YAML cases, gzip captures, licenses) give no events and no crash")
    func nonJSONFiles() async throws {
        for relative in [
            "k8s-audit/falco/falco_k8s_audit_tests.yaml", "k8s-audit/falco/psp/privileged.scap",
            "k8s-audit/falco/COPYING",
        ] {
            let (events, statistics) = try await Self.replay(relative, symbols: SymbolTable())
            #expect(events.isEmpty)
            #expect(statistics.totalSkipped > 0)
        }
    }

    @Test("an exec into a pod (falco k8s_audit/exec_pod.json)")
    func execSubresource() async throws {
        let symbols = SymbolTable()
        let (events, _) = try await Self.replay("k8s-audit/falco/k8s_audit/exec_pod.json", symbols: symbols)
        let event = try #require(events.first)
        guard case .kubernetes(let fields) = event.fields else { Issue.record("not kubernetes fields"); return }
        #expect(symbols.string(event.principal) == "minikube-user")
        #expect(symbols.string(fields.verb) == "create")
        #expect(symbols.string(fields.resource) == "pods")
        #expect(symbols.string(fields.subresource) == "exec")
        #expect(symbols.string(fields.namespace) == "default")
        #expect(symbols.string(fields.name) == "nginx-deployment-7998647bdf-phvq7")
        #expect(fields.sourceAddress == IPAddress(v4: 192, 168, 99, 1))
        #expect(fields.responseCode == 101)
        #expect(fields.flags.isEmpty)
    }

    @Test("a privileged pod and a hostPath mount of /etc (falco create_nginx_pod_privileged/sensitive_mount)")
    func privilegedAndHostPath() throws {
        let privileged = try Self.record("k8s-audit/falco/k8s_audit/create_nginx_pod_privileged.json")
        #expect(privileged.flags.contains(.privileged))
        #expect(!privileged.flags.contains(.hostPath))
        #expect(privileged.images.contains(where: { $0.hasPrefix("nginx") }))
        let mount = try Self.record("k8s-audit/falco/k8s_audit/create_nginx_pod_sensitive_mount.json")
        #expect(mount.flags.contains(.hostPath))
        #expect(mount.hostPaths == ["/etc"])
        #expect(!mount.flags.contains(.privileged))
        let hostNetwork = try Self.record("k8s-audit/falco/k8s_audit/create_nginx_pod_hostnetwork.json")
        #expect(hostNetwork.flags.contains(.hostNetwork))
        let hostPID = try Self.record("k8s-audit/falco/psp/host_pid.json")
        #expect(hostPID.flags.contains(.hostPID))
        let hostIPC = try Self.record("k8s-audit/falco/psp/host_ipc.json")
        #expect(hostIPC.flags.contains(.hostIPC))
        let capability = try Self.record("k8s-audit/falco/psp/capability_add_sys_time.json")
        #expect(capability.flags.contains(.addedCapabilities))
        #expect(capability.addedCapabilities.contains("SYS_TIME"))
    }

    @Test("a ClusterRoleBinding to cluster-admin with its subjects (falco attach_cluster_admin_role.json)")
    func clusterAdminBinding() throws {
        let record = try Self.record("k8s-audit/falco/k8s_audit/attach_cluster_admin_role.json")
        #expect(record.resource == "clusterrolebindings")
        #expect(record.roleRefKind == "ClusterRole")
        #expect(record.roleRefName == "cluster-admin")
        #expect(record.subjects == [.init(kind: "User", name: "minikube", namespace: "")])
        #expect(record.groups == ["system:masters", "system:authenticated"])
    }

    @Test("an anonymous request (falco anonymous_creates_namespace_foo.json)")
    func anonymous() throws {
        let record = try Self.record("k8s-audit/falco/k8s_audit/anonymous_creates_namespace_foo.json")
        #expect(record.flags.contains(.anonymous))
        #expect(record.username == "system:anonymous")
        #expect(record.name == "foo")
    }

    @Test("an impersonated request and an EventList")
    func impersonationAndEventList() throws {
        let text = """
            {"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[
            {"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get","user":{"username":"alice"},
             "impersonatedUser":{"username":"system:admin"},"objectRef":{"resource":"secrets","namespace":"x"}},
            {"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"list","user":{"username":"bob"},
             "objectRef":{"resource":"pods"}}]}
            """
        var parser = KubernetesAuditParser(symbols: SymbolTable())
        let records = parser.records(in: try JSONParser.parse(text))
        #expect(records.count == 2)
        #expect(records[0].flags == [.impersonated])
        #expect(records[0].impersonatedUser == "system:admin")
        #expect(records[1].flags.isEmpty)
    }

    @Test("content recognition tells the two log formats apart")
    func detection() {
        let audit = TestData.read(TestData.path("linux-audit/otrf/sh_arp_cache_2020-11-10074812.log"))
        let kubernetes = TestData.read(TestData.path("k8s-audit/falco/k8s_audit/exec_pod.json"))
        #expect(LinuxAuditParser.detect(audit))
        #expect(!LinuxAuditParser.detect(kubernetes))
        #expect(KubernetesAuditParser.detect(kubernetes))
        #expect(!KubernetesAuditParser.detect(audit))
        #expect(!LinuxAuditParser.detect([UInt8]()))
        #expect(!KubernetesAuditParser.detect([UInt8]()))
    }
}

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

    @Test("Panther's EKS, AKS and GKE records unwrap; only 3 records are not audit events")
    func pantherCorpus() async throws {
        // panther-labs/panther-analysis @daa10c88: k8s-audit/panther/kubernetes_rules.tests.jsonl
        // (168 Amazon.EKS.Audit, 35 Azure.MonitorActivity, 34 GCP.AuditLog test records). Of the GCP ones,
        // 33 are GKE Kubernetes entries (serviceName k8s.io); "Non-K8s GCP Activity (Excluded)" is a
        // compute.googleapis.com entry. It is not an audit event, nor is an Azure VM write, nor an EKS "event"
        // with neither verb, objectRef nor requestURI.
        let (events, statistics) = try await Self.replay(
            "k8s-audit/panther/kubernetes_rules.tests.jsonl", symbols: SymbolTable())
        #expect(statistics.skipped == [.notAuditEvent: 3])
        #expect(events.count + statistics.totalSkipped == 237)
        #expect(events.count == 234)
    }

    /// The record of the Panther test named `testName` whose log is (or, with `gke` false, is not) a GKE entry.
    static func pantherRecord(_ testName: String, gke: Bool = true) throws -> KubernetesAuditRecord {
        let bytes = TestData.read(TestData.path("k8s-audit/panther/kubernetes_rules.tests.jsonl"))
        for line in bytes.split(separator: 0x0A) {
            let value = try JSONParser.parse(Array(line))
            guard value["test_name"]?.string == testName, (value["log"]?["protoPayload"] != nil) == gke else {
                continue
            }
            var parser = KubernetesAuditParser(symbols: SymbolTable())
            let records = parser.records(in: value)
            #expect(parser.statistics.skipped.isEmpty, "\(testName)")
            return try #require(records.first, "\(testName)")
        }
        Issue.record("no Panther test named \(testName)")
        return KubernetesAuditRecord()
    }

    @Test("a GKE exec into a pod maps onto the same event fields as an audit Event")
    func gkeExec() throws {
        // methodName io.k8s.core.v1.pods.exec.create, resourceName core/v1/namespaces/default/pods/nginx-pod/exec.
        let record = try Self.pantherRecord("GCP GKE Exec Into Pod")
        #expect(record.username == "user@company.com")
        #expect(record.verb == "create")
        #expect(record.apiGroup == "")
        #expect(record.resource == "pods")
        #expect(record.subresource == "exec")
        #expect(record.namespace == "default")
        #expect(record.name == "nginx-pod")
        #expect(record.sourceIPs == ["1.2.3.4"])
        #expect(record.userAgent == "kubectl/v1.27.0")
        #expect(record.responseCode == 200)
        #expect(record.flags.isEmpty)

        let symbols = SymbolTable()
        let event = record.event(symbols: symbols)
        guard case .kubernetes(let fields) = event.fields else { Issue.record("not kubernetes fields"); return }
        #expect(event.kind == .kubernetesRequest)
        #expect(symbols.string(event.principal) == "user@company.com")
        #expect(symbols.string(fields.verb) == "create")
        #expect(symbols.string(fields.resource) == "pods")
        #expect(symbols.string(fields.subresource) == "exec")
        #expect(symbols.string(fields.namespace) == "default")
        #expect(symbols.string(fields.name) == "nginx-pod")
        #expect(fields.sourceAddress == IPAddress(v4: 1, 2, 3, 4))
        #expect(symbols.string(fields.userAgent) == "kubectl/v1.27.0")
        #expect(fields.responseCode == 200)
    }

    @Test("a denied GKE secret get (status.code 7) and an anonymous GKE pod get (authoritySelector)")
    func gkeDeniedAndAnonymous() throws {
        let denied = try Self.pantherRecord("GKE failed secret get")
        #expect(denied.username == "user@company.com")
        #expect(denied.verb == "get")
        #expect(denied.resource == "secrets")
        #expect(denied.subresource == "")
        #expect(denied.namespace == "production")
        #expect(denied.name == "tls-cert")
        #expect(denied.sourceIPs == ["8.8.8.8"])
        #expect(denied.userAgent == "")
        #expect(denied.responseCode == 403)

        let anonymous = try Self.pantherRecord("GCP GKE Anonymous API Access")
        #expect(anonymous.username == "system:anonymous")
        #expect(anonymous.flags == [.anonymous])
        #expect(anonymous.verb == "get")
        #expect(anonymous.resource == "pods")
        #expect(anonymous.namespace == "default")
        #expect(anonymous.name == "test-pod")
        #expect(anonymous.sourceIPs == ["8.8.8.8"])
        #expect(anonymous.userAgent == "kubectl/v1.27.0")
        #expect(anonymous.responseCode == 200)

        // A cluster-wide list (core/v1/secrets) has no namespace and no name; io.k8s.readyz is a non-resource
        // request, its path kept as the request URI.
        let list = try Self.pantherRecord("GKE cluster-wide secret list")
        #expect(list.verb == "list")
        #expect(list.resource == "secrets")
        #expect(list.namespace == "")
        #expect(list.name == "")
        let readyz = try Self.pantherRecord("GKE system:anonymous Health Check (Excluded - Anonymous)")
        #expect(readyz.requestURI == "/readyz")
        #expect(readyz.verb == "")
        #expect(readyz.resource == "")
        #expect(readyz.username == "system:anonymous")
        #expect(readyz.userAgent == "GoogleHC/1.0")
    }

    @Test("GKE request bodies give the same highlights as requestObject: pod spec, role rules, binding")
    func gkeRequestBodies() throws {
        // The same privileged pod as an EKS audit Event and as a GKE entry.
        let gke = try Self.pantherRecord("GCP GKE Privileged Pod Created")
        let eks = try Self.pantherRecord("EKS Privileged Pod Created", gke: false)
        #expect(gke.flags == [.privileged])
        #expect(gke.flags == eks.flags)
        #expect(gke.images == ["nginx"])
        #expect(gke.images == eks.images)
        #expect(gke.objectKind == "Pod")
        #expect(
            [gke.verb, gke.resource, gke.namespace, gke.name] == [eks.verb, eks.resource, eks.namespace, eks.name])
        #expect(gke.username == eks.username)

        let hostPath = try Self.pantherRecord("GCP GKE Pod With HostPath")
        #expect(hostPath.flags == [.hostPath])
        #expect(hostPath.hostPaths == ["/var/lib/kubelet"])
        // "2024-02-16 11:48:22.742" has no time zone: not RFC 3339, so no time.
        #expect(hostPath.time == 0)
        #expect(try Self.pantherRecord("GCP GKE Pod With Host PID").flags == [.hostPID])
        #expect(try Self.pantherRecord("GKE Pod with HostIPC").flags == [.hostIPC])
        let capability = try Self.pantherRecord("GKE Pod with BPF Capability")
        #expect(capability.flags.contains(.addedCapabilities))
        #expect(capability.addedCapabilities.contains("BPF"))

        let binding = try Self.pantherRecord("GKE ClusterRoleBinding to admin role")
        #expect(binding.apiGroup == "rbac.authorization.k8s.io")
        #expect(binding.resource == "clusterrolebindings")
        #expect(binding.namespace == "")
        #expect(binding.name == "admin-binding")
        #expect(binding.roleRefKind == "ClusterRole")
        #expect(binding.roleRefName == "admin")
        #expect(binding.subjects == [.init(kind: "User", name: "user@company.com")])

        let role = try Self.pantherRecord("GKE ClusterRole with wildcard resources only")
        #expect(role.resource == "clusterroles")
        #expect(role.rules == [.init(verbs: ["get", "list", "watch"], resources: ["*"], apiGroups: [""])])
    }

    @Test("hand-made GKE entries: time, google.rpc status codes, denied authorization, callerIp, namespaces")
    func gkeHandMade() throws {
        func record(_ entry: String) throws -> KubernetesAuditRecord {
            var parser = KubernetesAuditParser(symbols: SymbolTable())
            let records = parser.records(in: try JSONParser.parse(entry))
            #expect(parser.statistics.skipped.isEmpty, "\(entry)")
            return try #require(records.first, "\(entry)")
        }
        func payload(_ members: String) -> String {
            #"{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.get""# + members + "}}"
        }
        let stamped = try record(
            #"{"timestamp":"2024-01-02T03:04:05.5Z","receiveTimestamp":"2024-01-02T03:04:06Z","#
                + #""protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.apps.v1.deployments.patch","#
                + #""resourceName":"apps/v1/namespaces/web/deployments/front","#
                + #""requestMetadata":{"callerIp":"2001:db8::1"}}}"#)
        #expect(stamped.time == 1_704_164_645_500_000_000)
        #expect(stamped.verb == "patch")
        #expect(stamped.apiGroup == "apps")
        #expect([stamped.resource, stamped.namespace, stamped.name] == ["deployments", "web", "front"])
        #expect(stamped.sourceIPs == ["2001:db8::1"])
        let received = try record(
            #"{"receiveTimestamp":"2024-01-02T03:04:06Z","protoPayload":{"serviceName":"k8s.io","#
                + #""methodName":"io.k8s.core.v1.namespaces.create","resourceName":"core/v1/namespaces/team-a"}}"#)
        #expect(received.time == 1_704_164_646_000_000_000)
        #expect([received.resource, received.namespace, received.name] == ["namespaces", "", "team-a"])

        let codes: [(String, UInt16)] = [
            (#","status":{"code":0}"#, 200), (#","status":{"code":3}"#, 400), (#","status":{"code":5}"#, 404),
            (#","status":{"code":6}"#, 409), (#","status":{"code":7}"#, 403), (#","status":{"code":16}"#, 401),
            (#","status":{"code":13}"#, 500), (#","status":{"code":-1}"#, 500), (#","status":{}"#, 200),
            (#","status":{"code":"7"}"#, 200), ("", 200),
            (#","authorizationInfo":[{"granted":true},{"granted":false}]"#, 403),
            (#","authorizationInfo":[{"granted":false}],"status":{"code":0}"#, 200),
        ]
        for (members, code) in codes {
            #expect(try record(payload(members)).responseCode == code, "\(members)")
        }
        let attach = try record(
            #"{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.attach.create","#
                + #""resourceName":"core/v1/namespaces/default/pods/p/attach","#
                + #""authenticationInfo":{"principalEmail":"","authoritySelector":"alice"}}}"#)
        #expect([attach.verb, attach.resource, attach.subresource, attach.name] == ["create", "pods", "attach", "p"])
        #expect(attach.username == "alice")
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

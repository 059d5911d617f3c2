import VigilCore

/// Builds realistic events for tests with little ceremony. Each built event is one `step` later than
/// the previous one, so sequences have increasing times.
public struct EventBuilder {
    /// The table strings are interned into.
    public let symbols: SymbolTable
    /// The time of the next event, in nanoseconds since the epoch.
    public var time: Int64
    /// How far apart consecutive events are, in nanoseconds.
    public var step: Int64

    /// Creates a builder starting at `start` (default 2026-11-29T00:00:00Z).
    public init(symbols: SymbolTable, start: Int64 = 1_795_910_400_000_000_000, step: Int64 = 1_000_000) {
        self.symbols = symbols
        self.time = start
        self.step = step
    }

    /// The start time tests use for a pid: stable, so keys built twice match.
    public static func startTime(of pid: Int32) -> UInt64 { UInt64(pid) * 1_000 + 7 }

    /// The process key of `pid` with its test start time.
    public static func process(_ pid: Int32) -> ProcessKey { ProcessKey(pid: pid, startTime: startTime(of: pid)) }

    /// Interns a Kubernetes workload: a Deployment's container.
    public func workload(
        namespace: String = "default",
        deployment: String,
        container: String? = nil,
        image: String = "registry.example/app:1"
    ) -> WorkloadID {
        symbols.intern(
            Workload(
                kind: .kubernetes, namespace: namespace, ownerKind: "Deployment", ownerName: deployment,
                containerName: container ?? deployment, image: image))
    }

    private mutating func next() -> Int64 {
        defer { time += step }
        return time
    }

    private func s(_ text: String) -> Symbol { symbols.intern(text) }

    /// A `process.exec` of `executable` with `arguments` (argv[0] first).
    public mutating func exec(
        pid: Int32, parent: Int32 = 1, executable: String, arguments: [String]? = nil,
        workload: WorkloadID = .host, uid: UInt32 = 0
    ) -> Event {
        let argv = arguments ?? [executable]
        return Event(
            time: next(), kind: .processExec, process: Self.process(pid), workload: workload, uid: uid,
            fields: .process(
                ProcessFields(
                    parent: Self.process(parent), executable: s(executable), arguments: s(ArgumentList.join(argv)),
                    workingDirectory: s("/"), effectiveUID: uid, gid: uid)))
    }

    /// A `process.fork`: `parent` created `pid`.
    public mutating func fork(pid: Int32, parent: Int32, workload: WorkloadID = .host) -> Event {
        Event(
            time: next(), kind: .processFork, process: Self.process(pid), workload: workload,
            fields: .process(ProcessFields(parent: Self.process(parent))))
    }

    /// A `process.exit` with exit code `code`.
    public mutating func exit(pid: Int32, code: Int32 = 0, workload: WorkloadID = .host) -> Event {
        Event(
            time: next(), kind: .processExit, process: Self.process(pid), workload: workload,
            fields: .process(ProcessFields(exitStatus: code << 8)))
    }

    /// A successful `file.open` of `path` (flags 0 = read-only).
    public mutating func open(pid: Int32, path: String, flags: UInt32 = 0, workload: WorkloadID = .host) -> Event {
        Event(
            time: next(), kind: .fileOpen, process: Self.process(pid), workload: workload,
            fields: .file(FileFields(path: s(path), flags: flags, result: 3)))
    }

    /// A successful TCP `network.connect` to `address:port`.
    public mutating func connect(pid: Int32, to address: String, port: UInt16, workload: WorkloadID = .host) -> Event {
        Event(
            time: next(), kind: .networkConnect, process: Self.process(pid), workload: workload,
            fields: .network(
                NetworkFields(
                    transport: .tcp, local: SocketAddress(address: IPAddress(v4: 10, 0, 0, 5), port: 40_000),
                    remote: SocketAddress(address: IPAddress(address)!, port: port))))
    }

    /// A successful `network.socket`: a packet socket, or a raw IP socket (`transport: .raw`).
    public mutating func socket(
        pid: Int32, transport: TransportProtocol = .packet, workload: WorkloadID = .host
    )
        -> Event
    {
        Event(
            time: next(), kind: .networkSocket, process: Self.process(pid), workload: workload,
            fields: .network(NetworkFields(transport: transport)))
    }

    /// A DNS A query for `name`.
    public mutating func dns(pid: Int32, name: String, workload: WorkloadID = .host) -> Event {
        Event(
            time: next(), kind: .dnsQuery, process: Self.process(pid), workload: workload,
            fields: .dns(
                DNSFields(
                    name: s(name), queryType: 1, server: SocketAddress(address: IPAddress(v4: 127, 0, 0, 53), port: 53))
            ))
    }

    /// An AWS API call by `principal`.
    public mutating func cloudCall(
        principal: String, service: String, action: String, region: String = "us-east-1",
        sourceAddress: String = "203.0.113.7", resource: String = ""
    ) -> Event {
        Event(
            time: next(), kind: .cloudAPICall, principal: s(principal),
            fields: .cloud(
                CloudFields(
                    provider: .aws, service: s(service), action: s(action), region: s(region),
                    account: s("111122223333"),
                    accessKey: s("ASIAEXAMPLEKEY"), sourceAddress: IPAddress(sourceAddress) ?? .none,
                    userAgent: s("aws-cli/2.15"), resource: s(resource))))
    }

    /// A Kubernetes API request by `user`.
    public mutating func kubernetesRequest(
        user: String, verb: String, resource: String, namespace: String = "default", name: String = "",
        subresource: String = "", flags: KubernetesFields.Flags = []
    ) -> Event {
        Event(
            time: next(), kind: .kubernetesRequest, principal: s(user),
            fields: .kubernetes(
                KubernetesFields(
                    verb: s(verb), resource: s(resource), subresource: s(subresource), namespace: s(namespace),
                    name: s(name), sourceAddress: IPAddress(v4: 10, 0, 0, 9), userAgent: s("kubectl/v1.30"),
                    responseCode: 200, flags: flags)))
    }

    /// An HTTP request served by the application.
    public mutating func httpRequest(
        pid: Int32, method: String = "GET", route: String, path: String, parameters: String = "",
        status: UInt16 = 200, workload: WorkloadID = .host
    ) -> Event {
        Event(
            time: next(), kind: .httpRequest, process: Self.process(pid), workload: workload,
            fields: .http(
                HTTPFields(
                    method: s(method), route: s(route), path: s(path), parameters: s(parameters), status: status,
                    durationMicroseconds: 1_250,
                    client: SocketAddress(address: IPAddress(v4: 127, 0, 0, 1), port: 51_000))))
    }

    /// A URL the application fetched while serving a request.
    public mutating func httpFetch(
        pid: Int32, method: String = "GET", host: String, address: SocketAddress = .none, path: String,
        query: String = "", status: UInt16 = 200, workload: WorkloadID = .host
    ) -> Event {
        Event(
            time: next(), kind: .httpFetch, process: Self.process(pid), workload: workload,
            fields: .http(
                HTTPFields(
                    method: s(method), path: s(path), parameters: s(query), status: status,
                    durationMicroseconds: 900, client: address, host: s(host))))
    }

    /// An event of `kind` with every field of its group set to a non-default value: for round-trip tests.
    public mutating func sample(of kind: EventKind, workload: WorkloadID = .host) -> Event {
        let fields: EventFields
        switch kind.fieldGroup {
        case .process:
            fields = .process(
                ProcessFields(
                    parent: Self.process(100), executable: s("/usr/bin/curl"),
                    arguments: s(ArgumentList.join(["curl", "-s", "http://a b/", ""])), workingDirectory: s("/srv"),
                    effectiveUID: 0, gid: 1000, exitStatus: kind == .processExit ? 256 : 0, argumentsTruncated: true))
        case .file:
            fields = .file(
                FileFields(path: s("/etc/shadow"), target: s("/tmp/x"), flags: 0o101, mode: 0o644, result: -13))
        case .network:
            fields = .network(
                NetworkFields(
                    transport: .tcp, local: SocketAddress(address: IPAddress("fe80::1")!, port: 41_000),
                    remote: SocketAddress(address: IPAddress("2001:db8::7")!, port: 443), result: -115))
        case .dns:
            fields = .dns(
                DNSFields(
                    name: s("pool.minexmr.com"), queryType: 28,
                    server: SocketAddress(address: IPAddress(v4: 127, 0, 0, 53), port: 53)))
        case .syscall:
            fields = .syscall(SyscallFields(number: 321, architecture: 0xc000_003e, count: 12))
        case .capability:
            fields = .capability(CapabilityFields(capability: 21, result: -1))
        case .ptrace:
            fields = .ptrace(PtraceFields(request: 16, target: Self.process(4242), result: 0))
        case .module:
            fields = .module(ModuleFields(name: s("rootkit.ko"), fromFile: true, result: 0))
        case .namespace:
            fields = .namespace(
                NamespaceFields(
                    flags: 0x2000_0000, source: s("/proc/1/ns/mnt"), target: s("/host"), filesystem: s("overlay"),
                    result: -1))
        case .memfd:
            fields = .memfd(MemfdFields(name: s("payload"), flags: 1, result: 5))
        case .bpf:
            fields = .bpf(BPFFields(command: 5, programType: 2, name: s("xdp_prog"), result: 7))
        case .credentials:
            fields = .credentials(
                CredentialFields(
                    operation: .setresuid, newID: 0, newEffectiveID: 0, capabilities: 0x1ff, result: 0))
        case .audit:
            fields = .audit(
                AuditFields(
                    recordType: 1112, serial: 9_876_543_210, syscall: 59, success: false, loginUID: 1000, session: 4,
                    key: s("exec-watch"), message: s("op=login acct=\"root\"")))
        case .cloud:
            fields = .cloud(
                CloudFields(
                    provider: .aws, service: s("iam"), action: s("CreateUser"), region: s("apiso-centralnorth-2r"),
                    account: s("111122223333"), accessKey: s("ASIAEXAMPLE"), sourceAddress: IPAddress("203.0.113.7")!,
                    userAgent: s("aws-cli/2"), errorCode: s("AccessDenied"), resource: s("backdoor"),
                    flags: [.mfaAuthenticated]))
        case .kubernetes:
            fields = .kubernetes(
                KubernetesFields(
                    verb: s("create"), resource: s("pods"), subresource: s("exec"), namespace: s("kube-system"),
                    name: s("web-1"), sourceAddress: IPAddress("::1")!, userAgent: s("kubectl"), responseCode: 101,
                    flags: [.privileged, .hostPID]))
        case .http:
            fields = .http(
                HTTPFields(
                    method: s("GET"), route: s("/fetch"), path: s("/fetch"),
                    parameters: s("url=http://169.254.169.254/"),
                    status: 200, durationMicroseconds: 1234,
                    client: SocketAddress(address: IPAddress(v4: 127, 0, 0, 1), port: 5555), host: s("web.local")))
        }
        let isControlPlane = kind.layer == .cloud || kind.layer == .cluster
        return Event(
            time: next(), kind: kind, process: isControlPlane ? .none : Self.process(4000),
            workload: isControlPlane ? .host : workload, container: isControlPlane ? .none : s("c0ffee"),
            principal: s("arn:aws:iam::111122223333:role/node"), uid: isControlPlane ? Event.unknownUID : 1000,
            fields: fields)
    }
}

import VigilCore

/// The kind of value a field holds, which decides the operators it takes and how constants are read.
public enum FieldType: Sendable, Equatable {
    /// Text (paths, names); compared by content.
    case string
    /// A whole number (pids, ports, codes, flags).
    case number
    /// An IPv4 or IPv6 address; `in` also takes CIDR ranges.
    case address
    /// true or false.
    case bool
}

/// Every value a rule can read from an event. Extraction is one switch (``FieldReader``): no closures or
/// allocations per event.
public enum FieldID: Sendable, Hashable {
    // Any event
    case eventType, eventKind, eventDirection, eventTime, eventResult, eventRawResult, eventFailed, layer
    /// The event's number in its shard's stream, from 1 (Falco's `evt.num` numbers all events of one host).
    case eventNumber
    case userID, userName, principal
    case containerID, containerName, containerImage, containerImageRepository
    case workloadName, workloadKind, kubernetesNamespace
    // Processes
    case processID, parentProcessID, executablePath, executableName, processArgv0
    case commandLine, arguments, argumentCount, workingDirectory, fileName
    case parentName, parentExecutablePath, parentCommandLine, ancestorName(Int?), exitStatus, effectiveUserID
    /// The parent's first argument (Falco's `proc.pexe`, the parent's `proc.exe`).
    case parentArgv0
    // Files
    case filePath, fileDirectory, fileBaseName, fileTarget, openFlags, fileMode, isOpenRead, isOpenWrite
    /// The descriptor an open returned, -1 when it failed (Falco's `fd.num` on open events).
    case descriptorNumber
    case descriptorType, descriptorTypeChar
    // Network
    case transport, socketDomain, localAddress, localPort, remoteAddress, remotePort, serverAddress, serverPort
    case clientAddress, clientPort, descriptorName
    // DNS
    case dnsName, dnsType
    // Privileged operations
    case ptraceRequest, ptraceTarget, moduleName, moduleFromFile, namespaceFlags, mountSource, mountTarget
    case mountFilesystem, memfdName, memfdFlags, bpfCommand, bpfProgramType, bpfName
    case credentialOperation, credentialNewID, credentialNewEffectiveID, capabilities, syscallNumber
    // Cloud
    case cloudProvider, cloudService, cloudSource, cloudAction, cloudRegion, cloudAccount, cloudAccessKey
    case cloudSourceAddress, cloudUserAgent, cloudError, cloudResource, cloudReadOnly, cloudMFA
    /// Falco's `ct.info`: `<user> via <address> <!><←|→> <action>`, then the bucket, key or host (for outputs).
    case cloudSummary
    // Kubernetes
    case k8sVerb, k8sResource, k8sSubresource, k8sNamespace, k8sName, k8sSourceAddress, k8sUserAgent
    case k8sResponseCode, k8sPrivileged, k8sHostPath, k8sHostNetwork, k8sHostPID, k8sHostIPC
    case k8sAddedCapabilities, k8sAnonymous, k8sImpersonated
    // HTTP
    case httpMethod, httpRoute, httpPath, httpStatus, httpClientAddress, httpParameters, httpHost, httpPeerAddress
    /// A value read from the event's JSON details (Falco's `ka.req.*`, `ct.request.*`, `jevt.value[…]`).
    ///
    /// Boxed, so that a field id is a few bytes and the reader's switch over it is a jump, not a compare of
    /// the whole detail path for every case.
    indirect case detail(DetailField)
}

/// A field as the compiler knows it: what it reads, its type, and which event kinds carry it.
public struct FieldDefinition: Sendable {
    /// What it reads.
    public var id: FieldID
    /// Its type.
    public var type: FieldType
    /// The kinds whose events carry it; empty means every kind.
    public var kinds: Set<EventKind>
}

/// Resolves field names — Vigil's (`process.executable`, `file.path`, `cloud.action`) and Falco's (`proc.name`,
/// `fd.name`, `ct.name`, `ka.verb`) — to definitions, and names the Falco fields Vigil's events do not carry.
public enum FieldCatalog {
    static let processKinds: Set<EventKind> = [.processExec, .processExit, .processFork, .processSnapshot]
    static let fileKinds: Set<EventKind> = [
        .fileOpen, .fileWrite, .fileUnlink, .fileRename, .fileLink, .fileSymlink, .fileChmod,
    ]
    static let networkKinds: Set<EventKind> = [
        .networkConnect, .networkAccept, .networkBind, .networkListen, .networkSocket,
    ]
    static let workloadKinds: Set<EventKind> = Set(EventKind.allCases.filter { $0.layer == .workload })

    /// The definition for `name` with its bracket argument, or an error naming why not.
    public static func resolve(_ reference: FieldReference) -> Result<FieldDefinition, RuleError> {
        if reference.name == "proc.aname" || reference.name == "process.ancestor.name" {
            var depth: Int?
            if let argument = reference.argument {
                guard let value = Int(argument), value >= 1, value <= 16 else {
                    return .failure(
                        RuleError(
                            code: .invalidValue, location: reference.location, token: reference.spelled,
                            message: "an ancestor index is a number from 1 to 16"))
                }
                depth = value
            }
            return .success(FieldDefinition(id: .ancestorName(depth), type: .string, kinds: workloadKinds))
        }
        if let definition = table[reference.name], reference.argument == nil {
            return .success(definition)
        }
        if let definition = argumentAliases[reference.spelled] { return .success(definition) }
        if let result = FalcoPluginFields.resolve(reference) { return result }
        let family = reference.name.split(separator: ".").first.map(String.init) ?? reference.name
        if falcoFamiliesVigilLacks.contains(family) || falcoFieldsVigilLacks.contains(reference.name) {
            return .failure(
                RuleError(
                    code: .unsupportedField, location: reference.location, token: reference.spelled,
                    message: "Vigil's events do not carry this Falco field"))
        }
        return .failure(
            RuleError(
                code: .unknownField, location: reference.location, token: reference.spelled,
                message: "no event has a field of this name"))
    }

    /// Falco field families of which Vigil's catalog has at most a few fields: any other name in them is a
    /// Falco field Vigil's events do not carry.
    static let falcoFamiliesVigilLacks: Set<String> = [
        "jevt", "ka", "ct", "thread", "fdlist", "fs", "group", "syscall", "span", "mesos", "k8smeta", "json", "gcp",
        "s3", "aws", "cloudtrail",
    ]

    /// Falco fields (of the families Vigil mostly covers) that Vigil's events do not carry. Other unknown
    /// names there are typos.
    static let falcoFieldsVigilLacks: Set<String> = [
        "evt.rawtime", "evt.latency", "evt.cpu", "evt.args", "evt.info", "evt.buffer", "evt.category",
        "evt.arg.data", "evt.arg.fd", "evt.arg.pid", "evt.arg.size",
        "evt.is_io", "evt.is_io_read", "evt.is_io_write", "evt.is_syslog", "evt.source", "evt.hostname",
        "evt.is_open_exec", "evt.arg.path", "evt.arg.filename", "evt.arg.dirfd",
        "proc.tty", "proc.sname", "proc.vpid", "proc.vpgid", "proc.sid", "proc.loginshellid",
        "proc.is_exe_upper_layer", "proc.is_exe_writable", "proc.is_exe_from_memfd", "proc.exe_ino",
        "proc.exe_ino.ctime", "proc.exe_ino.mtime", "proc.is_container_healthcheck", "proc.is_container_liveness_probe",
        "proc.is_container_readiness_probe", "proc.env", "proc.duration", "proc.stdin.type", "proc.stdout.type",
        "proc.stdin.name", "proc.stdout.name", "proc.pid.ts", "proc.apid", "proc.aexe", "proc.aexepath",
        "proc.is_vpgid_leader", "proc.fdopencount", "proc.cap_permitted", "proc.cap_effective",
        "fd.sip.name", "fd.rip.name", "fd.cip.name", "fd.lip.name", "fd.nameraw", "fd.ino", "fd.dev",
        "fd.connected", "fd.name_changed", "fd.ip", "fd.port", "fd.proto", "fd.lproto", "fd.rproto", "fd.cproto",
        "fd.sproto", "fd.net", "fd.is_server", "fd.uid", "fd.containername", "fd.containerdirectory",
        "container.privileged", "container.mounts", "container.mount", "container.image.tag", "container.image.id",
        "container.type", "container.healthcheck", "container.liveness_probe", "container.readiness_probe",
        "container.start_ts", "container.ip", "container.cni.json", "container.image.digest",
        "user.loginuid", "user.loginname", "user.homedir", "user.shell",
        "k8s.pod.name", "k8s.pod.id", "k8s.pod.uid", "k8s.pod.label", "k8s.pod.labels", "k8s.pod.ip",
        "k8s.rc.name", "k8s.svc.name", "k8s.deployment.name", "k8s.ns.label", "k8s.ns.id", "k8s.pod.sandbox_id",
    ]

    /// Names with a bracket argument that Vigil reads (`evt.arg[flags]` and friends).
    static let argumentAliases: [String: FieldDefinition] = {
        var aliases: [String: FieldDefinition] = [:]
        for (argument, name) in [
            ("flags", "evt.arg.flags"), ("name", "evt.arg.name"), ("newpath", "evt.arg.newpath"),
            ("oldpath", "evt.arg.oldpath"),
            ("target", "evt.arg.target"), ("linkpath", "evt.arg.linkpath"), ("request", "evt.arg.request"),
            ("mode", "evt.arg.mode"), ("uid", "evt.arg.uid"), ("cmd", "evt.arg.cmd"), ("res", "evt.res"),
        ] {
            if let definition = table[name] { aliases["evt.arg[\(argument)]"] = definition }
        }
        return aliases
    }()

    /// Every plain field name, Vigil's and Falco's.
    static let table: [String: FieldDefinition] = {
        var table: [String: FieldDefinition] = [:]
        func add(_ names: [String], _ id: FieldID, _ type: FieldType, _ kinds: Set<EventKind> = []) {
            for name in names { table[name] = FieldDefinition(id: id, type: type, kinds: kinds) }
        }
        // Application events are made by a process too (the one serving the request).
        let process = workloadKinds.union([.httpRequest, .httpFetch])
        // Any event.
        add(["evt.type", "event.syscall"], .eventType, .string)
        add(["event.kind"], .eventKind, .string)
        add(["evt.dir"], .eventDirection, .string)
        add(["evt.time", "event.time"], .eventTime, .number)
        add(["evt.res", "event.result"], .eventResult, .string)
        add(["evt.rawres"], .eventRawResult, .number)
        add(["evt.failed", "event.failed"], .eventFailed, .bool)
        add(["evt.num"], .eventNumber, .number)
        add(["event.layer"], .layer, .string)
        add(["user.uid", "event.uid"], .userID, .number)
        add(["user.name"], .userName, .string)
        add(["event.principal"], .principal, .string)
        add(["container.id", "event.container"], .containerID, .string)
        add(["container.name", "workload.container"], .containerName, .string)
        add(["container.image", "workload.image"], .containerImage, .string)
        add(["container.image.repository"], .containerImageRepository, .string)
        add(["workload.name"], .workloadName, .string)
        add(["workload.kind"], .workloadKind, .string)
        add(["k8s.ns.name", "workload.namespace"], .kubernetesNamespace, .string)
        // Processes.
        add(["proc.pid", "process.pid"], .processID, .number, process)
        add(["proc.ppid", "process.parent.pid"], .parentProcessID, .number, process)
        add(["proc.exepath", "process.executable"], .executablePath, .string, process)
        add(["proc.name", "process.name"], .executableName, .string, process)
        add(["proc.exe", "process.argv0"], .processArgv0, .string, process)
        add(["proc.cmdline", "process.command_line"], .commandLine, .string, process)
        add(["proc.args", "process.args"], .arguments, .string, process)
        add(["proc.nargs"], .argumentCount, .number, process)
        add(["proc.cwd", "process.cwd"], .workingDirectory, .string, process)
        add(["process.filename"], .fileName, .string, [.processExec])
        add(["proc.pname", "process.parent.name"], .parentName, .string, process)
        add(["proc.pexepath", "process.parent.executable"], .parentExecutablePath, .string, process)
        add(["proc.pcmdline", "process.parent.command_line"], .parentCommandLine, .string, process)
        add(["proc.pexe", "process.parent.argv0"], .parentArgv0, .string, process)
        add(["evt.arg.status", "process.exit_status"], .exitStatus, .number, [.processExit])
        add(["user.euid", "process.euid"], .effectiveUserID, .number, [.processExec])
        // Files.
        add(["fd.name", "file.path"], .filePath, .string, fileKinds.union(networkKinds))
        add(["fd.directory", "file.directory"], .fileDirectory, .string, fileKinds)
        add(["fd.filename", "file.name"], .fileBaseName, .string, fileKinds)
        add(["evt.arg.newpath", "evt.arg.linkpath", "file.target"], .fileTarget, .string, fileKinds)
        add(["evt.arg.target"], .filePath, .string, [.fileSymlink])
        add(["evt.arg.oldpath"], .filePath, .string, [.fileLink, .fileRename])
        add(["fd.num"], .descriptorNumber, .number, [.fileOpen])
        add(["evt.arg.flags", "file.flags"], .openFlags, .number, [.fileOpen, .fileUnlink, .memfdCreate])
        add(["evt.arg.mode", "file.mode"], .fileMode, .number, [.fileOpen, .fileChmod])
        add(["evt.is_open_read"], .isOpenRead, .bool, [.fileOpen])
        add(["evt.is_open_write"], .isOpenWrite, .bool, [.fileOpen])
        add(["fd.type"], .descriptorType, .string, fileKinds.union(networkKinds))
        add(["fd.typechar"], .descriptorTypeChar, .string, fileKinds.union(networkKinds))
        // Network.
        add(["fd.l4proto", "network.transport"], .transport, .string, networkKinds)
        add(["evt.arg.domain", "network.domain"], .socketDomain, .string, networkKinds)
        add(["fd.lip", "fd.lnet", "network.local.address"], .localAddress, .address, networkKinds)
        add(["fd.lport", "network.local.port"], .localPort, .number, networkKinds)
        add(["fd.rip", "fd.rnet", "network.remote.address"], .remoteAddress, .address, networkKinds.union([.dnsQuery]))
        add(["fd.rport", "network.remote.port"], .remotePort, .number, networkKinds.union([.dnsQuery]))
        // Falco's fd.*net fields match an end's address against networks (`fd.snet in (10.0.0.0/8)`), as
        // addresses do here.
        add(["fd.sip", "fd.snet"], .serverAddress, .address, networkKinds)
        add(["fd.sport"], .serverPort, .number, networkKinds)
        add(["fd.cip", "fd.cnet"], .clientAddress, .address, networkKinds)
        add(["fd.cport"], .clientPort, .number, networkKinds)
        add(["fd.sockname", "network.connection"], .descriptorName, .string, networkKinds)
        // DNS.
        add(["dns.name"], .dnsName, .string, [.dnsQuery])
        add(["dns.type"], .dnsType, .number, [.dnsQuery])
        // Privileged operations.
        add(["evt.arg.request", "ptrace.request"], .ptraceRequest, .number, [.ptrace])
        add(["ptrace.target.pid"], .ptraceTarget, .number, [.ptrace])
        add(["module.name"], .moduleName, .string, [.moduleLoad])
        add(["module.from_file"], .moduleFromFile, .bool, [.moduleLoad])
        add(["namespace.flags"], .namespaceFlags, .number, [.mount, .unshare, .setns])
        add(["evt.arg.source", "mount.source", "setns.namespace"], .mountSource, .string, [.mount, .setns])
        add(["evt.arg.dir", "mount.target"], .mountTarget, .string, [.mount])
        add(["evt.arg.type", "mount.filesystem"], .mountFilesystem, .string, [.mount])
        add(["evt.arg.name", "memfd.name"], .memfdName, .string, [.memfdCreate])
        add(["memfd.flags"], .memfdFlags, .number, [.memfdCreate])
        add(["evt.arg.cmd", "bpf.command"], .bpfCommand, .number, [.bpf])
        add(["bpf.program_type"], .bpfProgramType, .number, [.bpf])
        add(["bpf.name"], .bpfName, .string, [.bpf])
        add(["credentials.operation"], .credentialOperation, .string, [.credentialChange])
        add(["evt.arg.uid", "credentials.new_id"], .credentialNewID, .number, [.credentialChange])
        add(["credentials.new_effective_id"], .credentialNewEffectiveID, .number, [.credentialChange])
        add(["credentials.capabilities"], .capabilities, .number, [.credentialChange])
        add(["syscall.number"], .syscallNumber, .number, [.syscall])
        // Cloud (Falco's CloudTrail plugin names, ct.*).
        let cloud: Set<EventKind> = [.cloudAPICall]
        add(["cloud.provider"], .cloudProvider, .string, cloud)
        add(["cloud.service"], .cloudService, .string, cloud)
        add(["ct.src"], .cloudSource, .string, cloud)
        add(["ct.name", "cloud.action"], .cloudAction, .string, cloud)
        add(["ct.region", "cloud.region"], .cloudRegion, .string, cloud)
        add(["ct.user.accountid", "cloud.account"], .cloudAccount, .string, cloud)
        add(["ct.user.accesskeyid", "cloud.access_key"], .cloudAccessKey, .string, cloud)
        add(["ct.srcip", "cloud.source_address"], .cloudSourceAddress, .address, cloud)
        add(["ct.useragent", "cloud.user_agent"], .cloudUserAgent, .string, cloud)
        add(["ct.error", "cloud.error"], .cloudError, .string, cloud)
        add(["cloud.resource"], .cloudResource, .string, cloud)
        add(["ct.readonly", "cloud.read_only"], .cloudReadOnly, .bool, cloud)
        add(["ct.additionaleventdata.mfaused", "cloud.mfa"], .cloudMFA, .bool, cloud)
        add(["cloud.principal"], .principal, .string, cloud)
        add(["ct.shortsrc"], .cloudService, .string, cloud)
        add(["ct.info"], .cloudSummary, .string, cloud)
        // Kubernetes (Falco's k8s audit names, ka.*).
        let k8s: Set<EventKind> = [.kubernetesRequest]
        add(["ka.verb", "k8s.verb"], .k8sVerb, .string, k8s)
        add(["ka.target.resource", "k8s.resource"], .k8sResource, .string, k8s)
        add(["ka.target.subresource", "k8s.subresource"], .k8sSubresource, .string, k8s)
        add(["ka.target.namespace", "k8s.namespace"], .k8sNamespace, .string, k8s)
        add(["ka.target.name", "k8s.name"], .k8sName, .string, k8s)
        add(["ka.sourceips", "k8s.source_address"], .k8sSourceAddress, .address, k8s)
        add(["ka.useragent", "k8s.user_agent"], .k8sUserAgent, .string, k8s)
        add(["ka.response.code", "k8s.response_code"], .k8sResponseCode, .number, k8s)
        add(["ka.user.name", "k8s.user"], .principal, .string, k8s)
        add(["k8s.pod.privileged"], .k8sPrivileged, .bool, k8s)
        add(["k8s.pod.host_path"], .k8sHostPath, .bool, k8s)
        add(["k8s.pod.host_network"], .k8sHostNetwork, .bool, k8s)
        add(["k8s.pod.host_pid"], .k8sHostPID, .bool, k8s)
        add(["k8s.pod.host_ipc"], .k8sHostIPC, .bool, k8s)
        add(["k8s.pod.added_capabilities"], .k8sAddedCapabilities, .bool, k8s)
        add(["k8s.anonymous"], .k8sAnonymous, .bool, k8s)
        add(["k8s.impersonated"], .k8sImpersonated, .bool, k8s)
        // The time of JSON events (Falco's json plugin): always there, so `jevt.rawtime exists` is always true.
        add(["jevt.rawtime", "json.rawtime"], .eventTime, .number, [.kubernetesRequest, .cloudAPICall])
        // HTTP.
        let http: Set<EventKind> = [.httpRequest, .httpFetch]
        add(["http.method"], .httpMethod, .string, http)
        add(["http.route"], .httpRoute, .string, [.httpRequest])
        add(["http.path"], .httpPath, .string, http)
        add(["http.parameters", "http.query"], .httpParameters, .string, http)
        add(["http.host"], .httpHost, .string, http)
        add(["http.status"], .httpStatus, .number, http)
        add(["http.client.address"], .httpClientAddress, .address, [.httpRequest])
        // The server a fetch reached, when its address is known.
        add(["http.peer.address"], .httpPeerAddress, .address, [.httpFetch])
        return table
    }()
}

/// Writes events as JSON objects: the stable Vigil event format used for recording and replay.
///
/// One event per line (JSON Lines). Symbols are written as their strings and ``Symbol/none`` fields are
/// left out; ``EventDecoder`` reads the result back into an equal event. The schema is in
/// `Documentation/alert-schema.md` and the README.
public struct EventEncoder: Sendable {
    /// The table the events' symbols come from.
    public let symbols: SymbolTable
    private var writer = JSONWriter(capacity: 1024)

    /// Creates an encoder resolving symbols in `symbols`.
    public init(symbols: SymbolTable) {
        self.symbols = symbols
    }

    /// One event as a JSON line, without the trailing newline.
    public mutating func line(for event: Event) -> String {
        writer.reset()
        write(event, to: &writer)
        return writer.text
    }

    /// Writes one event as a JSON object into `writer` (for embedding events in alerts).
    public func write(_ event: Event, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("type", "event")
        writer.field("time", RFC3339.format(nanoseconds: event.time))
        writer.field("kind", event.kind.name)
        writer.field("layer", event.layer.name)
        writer.key("workload")
        writeWorkload(event.workload, to: &writer)
        symbol("container_id", event.container, &writer)
        if event.process.pid != 0 {
            writer.key("process")
            writer.beginObject()
            writer.field("pid", Int64(event.process.pid))
            writer.field("start_time", event.process.startTime)
            symbol("exe", event.executable, &writer)
            writer.endObject()
        }
        if event.uid != Event.unknownUID { writer.field("uid", UInt64(event.uid)) }
        symbol("principal", event.principal, &writer)
        writer.key("fields")
        writer.beginObject()
        writeFields(event.fields, to: &writer)
        writer.endObject()
        writer.endObject()
    }

    /// Writes a workload identity as a JSON object.
    public func writeWorkload(_ id: WorkloadID, to writer: inout JSONWriter) {
        let workload = symbols.workload(id)
        writer.beginObject()
        writer.field("kind", workload.kind.rawValue)
        writer.field("name", workload.name)
        text("namespace", workload.namespace, &writer)
        text("owner_kind", workload.ownerKind, &writer)
        text("owner", workload.ownerName, &writer)
        text("container", workload.containerName, &writer)
        text("image", workload.image, &writer)
        text("cgroup", workload.cgroup, &writer)
        text("executable", workload.executable, &writer)
        writer.endObject()
    }

    /// Writes a process key as `{"pid":…,"start_time":…}`.
    public func writeProcessKey(_ key: ProcessKey, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("pid", Int64(key.pid))
        writer.field("start_time", key.startTime)
        writer.endObject()
    }

    private func writeFields(_ fields: EventFields, to writer: inout JSONWriter) {
        switch fields {
        case .process(let f):
            if f.parent.pid != 0 {
                writer.key("parent")
                writeProcessKey(f.parent, to: &writer)
            }
            symbol("executable", f.executable, &writer)
            if !f.arguments.isNone {
                writer.key("args")
                writer.beginArray()
                for argument in ArgumentList.split(symbols.string(f.arguments)) { writer.string(argument) }
                writer.endArray()
            }
            symbol("cwd", f.workingDirectory, &writer)
            id("euid", f.effectiveUID, &writer)
            id("gid", f.gid, &writer)
            if f.exitStatus != 0 { writer.field("exit_status", Int64(f.exitStatus)) }
            if f.argumentsTruncated { writer.field("args_truncated", true) }
            symbol("filename", f.fileName, &writer)
            if f.mountNamespace != 0 { writer.field("mnt_ns", UInt64(f.mountNamespace)) }
        case .file(let f):
            symbol("path", f.path, &writer)
            symbol("target", f.target, &writer)
            writer.field("flags", UInt64(f.flags))
            writer.field("mode", UInt64(f.mode))
            writer.field("result", Int64(f.result))
        case .network(let f):
            writer.field("transport", f.transport.name)
            socket("local", f.local, &writer)
            socket("remote", f.remote, &writer)
            writer.field("result", Int64(f.result))
        case .dns(let f):
            symbol("name", f.name, &writer)
            writer.field("query_type", UInt64(f.queryType))
            socket("server", f.server, &writer)
        case .syscall(let f):
            writer.field("number", Int64(f.number))
            writer.field("arch", UInt64(f.architecture))
            writer.field("count", UInt64(f.count))
        case .capability(let f):
            writer.field("capability", UInt64(f.capability))
            writer.field("result", Int64(f.result))
        case .ptrace(let f):
            writer.field("request", Int64(f.request))
            writer.key("target")
            writeProcessKey(f.target, to: &writer)
            writer.field("result", Int64(f.result))
        case .module(let f):
            symbol("name", f.name, &writer)
            writer.field("from_file", f.fromFile)
            writer.field("result", Int64(f.result))
        case .namespace(let f):
            writer.field("flags", f.flags)
            symbol("source", f.source, &writer)
            symbol("target", f.target, &writer)
            symbol("filesystem", f.filesystem, &writer)
            writer.field("result", Int64(f.result))
        case .memfd(let f):
            symbol("name", f.name, &writer)
            writer.field("flags", UInt64(f.flags))
            writer.field("result", Int64(f.result))
        case .bpf(let f):
            writer.field("command", Int64(f.command))
            writer.field("program_type", UInt64(f.programType))
            symbol("name", f.name, &writer)
            writer.field("result", Int64(f.result))
        case .credentials(let f):
            writer.field("operation", f.operation.name)
            id("new_id", f.newID, &writer)
            id("new_effective_id", f.newEffectiveID, &writer)
            writer.field("capabilities", f.capabilities)
            writer.field("result", Int64(f.result))
        case .audit(let f):
            writer.field("record_type", UInt64(f.recordType))
            writer.field("serial", f.serial)
            writer.field("syscall", Int64(f.syscall))
            writer.field("success", f.success)
            id("auid", f.loginUID, &writer)
            id("session", f.session, &writer)
            symbol("key", f.key, &writer)
            symbol("message", f.message, &writer)
        case .cloud(let f):
            writer.field("provider", f.provider.name)
            symbol("service", f.service, &writer)
            symbol("action", f.action, &writer)
            symbol("region", f.region, &writer)
            symbol("account", f.account, &writer)
            symbol("access_key", f.accessKey, &writer)
            address("source_address", f.sourceAddress, &writer)
            symbol("user_agent", f.userAgent, &writer)
            symbol("error_code", f.errorCode, &writer)
            symbol("resource", f.resource, &writer)
            writer.field("read_only", f.flags.contains(.readOnly))
            writer.field("mfa", f.flags.contains(.mfaAuthenticated))
            symbol("details", f.details, &writer)
        case .kubernetes(let f):
            symbol("verb", f.verb, &writer)
            symbol("resource", f.resource, &writer)
            symbol("subresource", f.subresource, &writer)
            symbol("namespace", f.namespace, &writer)
            symbol("name", f.name, &writer)
            address("source_address", f.sourceAddress, &writer)
            symbol("user_agent", f.userAgent, &writer)
            writer.field("response_code", UInt64(f.responseCode))
            writer.key("flags")
            writer.beginArray()
            for (flag, name) in KubernetesFlagNames.all where f.flags.contains(flag) { writer.string(name) }
            writer.endArray()
            symbol("details", f.details, &writer)
        case .http(let f):
            symbol("method", f.method, &writer)
            symbol("route", f.route, &writer)
            symbol("path", f.path, &writer)
            symbol("parameters", f.parameters, &writer)
            writer.field("status", UInt64(f.status))
            writer.field("duration_us", UInt64(f.durationMicroseconds))
            socket("client", f.client, &writer)
            symbol("host", f.host, &writer)
        }
    }

    private func symbol(_ key: String, _ value: Symbol, _ writer: inout JSONWriter) {
        if !value.isNone { writer.field(key, symbols.string(value)) }
    }

    private func text(_ key: String, _ value: String, _ writer: inout JSONWriter) {
        if !value.isEmpty { writer.field(key, value) }
    }

    private func id(_ key: String, _ value: UInt32, _ writer: inout JSONWriter) {
        if value != Event.unknownUID { writer.field(key, UInt64(value)) }
    }

    private func address(_ key: String, _ value: IPAddress, _ writer: inout JSONWriter) {
        if value.family != .none { writer.field(key, value.description) }
    }

    private func socket(_ prefix: String, _ value: SocketAddress, _ writer: inout JSONWriter) {
        address(prefix + "_address", value.address, &writer)
        if value.port != 0 { writer.field(prefix + "_port", UInt64(value.port)) }
    }
}

/// The JSON names of ``KubernetesFields/Flags``.
enum KubernetesFlagNames {
    static let all: [(KubernetesFields.Flags, String)] = [
        (.privileged, "privileged"), (.hostPath, "host_path"), (.hostNetwork, "host_network"),
        (.hostPID, "host_pid"), (.hostIPC, "host_ipc"), (.addedCapabilities, "added_capabilities"),
        (.anonymous, "anonymous"), (.impersonated, "impersonated"),
    ]
}

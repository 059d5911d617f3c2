/// Why an event line could not be read.
public struct EventDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; a struct so that codes can be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The line is not valid JSON.
        public static let invalidJSON = Code("invalid JSON")
        /// The line is JSON but not an event object.
        public static let notAnEvent = Code("not an event")
        /// A required field is missing.
        public static let missingField = Code("missing field")
        /// A field has the wrong type or an impossible value.
        public static let invalidField = Code("invalid field")
        /// The event kind is not one Vigil knows.
        public static let unknownKind = Code("unknown kind")
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// The offending field's path (`fields.remote_port`), or empty.
    public var field: String
    /// Details in plain words.
    public var message: String

    /// Creates an error.
    public init(code: Code, field: String = "", message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String {
        field.isEmpty ? "\(code): \(message)" : "\(code) '\(field)': \(message)"
    }
}

/// Reads events written by ``EventEncoder``, interning their strings into a symbol table.
///
/// Unknown members are ignored, so files from newer versions still load; missing optional members take
/// their defaults; a wrong type or an impossible value is an error naming the field.
public struct EventDecoder: Sendable {
    /// The table strings are interned into.
    public let symbols: SymbolTable

    /// Creates a decoder interning into `symbols`.
    public init(symbols: SymbolTable) {
        self.symbols = symbols
    }

    /// Decodes one JSON line.
    public func decode(line: some StringProtocol) throws(EventDecodingError) -> Event {
        let value: JSONValue
        do {
            value = try JSONParser.parse(Substring(line))
        } catch {
            throw EventDecodingError(code: .invalidJSON, message: error.description)
        }
        return try decode(value)
    }

    /// Decodes a parsed event object.
    public func decode(_ value: JSONValue) throws(EventDecodingError) -> Event {
        guard let object = value.object else {
            throw EventDecodingError(code: .notAnEvent, message: "an event is a JSON object")
        }
        let top = Reader(object: object, path: "", symbols: symbols)
        if let type = try top.optionalString("type"), type != "event" {
            throw EventDecodingError(code: .notAnEvent, field: "type", message: "'\(type)' lines are not events")
        }
        let kindName = try top.string("kind")
        guard let kind = EventKind(name: kindName) else {
            throw EventDecodingError(code: .unknownKind, field: "kind", message: "'\(kindName)' is not an event kind")
        }
        let timeText = try top.string("time")
        guard let time = RFC3339.parse(timeText) else {
            throw EventDecodingError(code: .invalidField, field: "time", message: "'\(timeText)' is not RFC 3339")
        }
        let workload =
            try top.optionalObject("workload").map { reader throws(EventDecodingError) in
                try decodeWorkload(reader)
            } ?? .host
        let processReader = try top.optionalObject("process")
        let process =
            try processReader.map { reader throws(EventDecodingError) in try processKey(reader) } ?? .none
        let executable = try processReader?.symbol("exe") ?? .none
        let fieldsReader =
            try top.optionalObject("fields") ?? Reader(object: JSONObject(), path: "fields", symbols: symbols)
        return Event(
            time: time,
            kind: kind,
            process: process,
            workload: workload,
            container: try top.symbol("container_id"),
            principal: try top.symbol("principal"),
            uid: try top.id("uid"),
            executable: executable,
            fields: try decodeFields(kind.fieldGroup, fieldsReader))
    }

    private func decodeWorkload(_ r: Reader) throws(EventDecodingError) -> WorkloadID {
        let kindName = try r.optionalString("kind") ?? "host"
        guard let kind = Workload.Kind(rawValue: kindName) else {
            throw EventDecodingError(
                code: .invalidField, field: r.path + ".kind", message: "'\(kindName)' is not a workload kind")
        }
        let workload = Workload(
            kind: kind,
            namespace: try r.optionalString("namespace") ?? "",
            ownerKind: try r.optionalString("owner_kind") ?? "",
            ownerName: try r.optionalString("owner") ?? "",
            containerName: try r.optionalString("container") ?? "",
            image: try r.optionalString("image") ?? "",
            cgroup: try r.optionalString("cgroup") ?? "",
            executable: try r.optionalString("executable") ?? "")
        return workload == .host ? .host : symbols.intern(workload)
    }

    private func processKey(_ r: Reader) throws(EventDecodingError) -> ProcessKey {
        ProcessKey(pid: try r.int32("pid"), startTime: try r.uint64("start_time"))
    }

    private func decodeFields(_ group: EventFields.Group, _ r: Reader) throws(EventDecodingError) -> EventFields {
        switch group {
        case .process:
            let arguments = try r.optionalArray("args")?.enumerated().map { (index, value) throws(EventDecodingError) in
                guard let text = value.string else {
                    throw EventDecodingError(
                        code: .invalidField, field: "\(r.path).args[\(index)]", message: "expected a string")
                }
                return text
            }
            return .process(
                ProcessFields(
                    parent: try r.optionalObject("parent").map { reader throws(EventDecodingError) in
                        try processKey(reader)
                    } ?? .none,
                    executable: try r.symbol("executable"),
                    arguments: arguments.map { symbols.intern(ArgumentList.join($0)) } ?? .none,
                    workingDirectory: try r.symbol("cwd"),
                    effectiveUID: try r.id("euid"),
                    gid: try r.id("gid"),
                    exitStatus: try r.int32("exit_status", default: 0),
                    argumentsTruncated: try r.bool("args_truncated", default: false),
                    fileName: try r.symbol("filename"),
                    mountNamespace: UInt32(truncatingIfNeeded: try r.uint64("mnt_ns", default: 0))))
        case .file:
            return .file(
                FileFields(
                    path: try r.symbol("path"), target: try r.symbol("target"),
                    flags: try r.uint32("flags"), mode: try r.uint32("mode"), result: try r.int32("result", default: 0))
            )
        case .network:
            let transportName = try r.optionalString("transport") ?? "unknown"
            guard let transport = TransportProtocol(name: transportName) else {
                throw EventDecodingError(
                    code: .invalidField, field: r.path + ".transport",
                    message: "'\(transportName)' is not tcp, udp or raw")
            }
            return .network(
                NetworkFields(
                    transport: transport, local: try r.socket("local"), remote: try r.socket("remote"),
                    result: try r.int32("result", default: 0)))
        case .dns:
            return .dns(
                DNSFields(
                    name: try r.symbol("name"), queryType: UInt16(try r.uint(("query_type"), max: UInt64(UInt16.max))),
                    server: try r.socket("server")))
        case .syscall:
            return .syscall(
                SyscallFields(
                    number: try r.int32("number"), architecture: try r.uint32("arch"),
                    count: UInt32(try r.uint("count", max: UInt64(UInt32.max), default: 1))))
        case .capability:
            return .capability(
                CapabilityFields(
                    capability: UInt8(try r.uint("capability", max: UInt64(UInt8.max))),
                    result: try r.int32("result", default: 0)))
        case .ptrace:
            guard let target = try r.optionalObject("target") else {
                throw EventDecodingError(
                    code: .missingField, field: r.path + ".target", message: "a ptrace event names its target")
            }
            return .ptrace(
                PtraceFields(
                    request: try r.int32("request"), target: try processKey(target),
                    result: try r.int32("result", default: 0)))
        case .module:
            return .module(
                ModuleFields(
                    name: try r.symbol("name"), fromFile: try r.bool("from_file", default: false),
                    result: try r.int32("result", default: 0)))
        case .namespace:
            return .namespace(
                NamespaceFields(
                    flags: try r.uint64("flags", default: 0), source: try r.symbol("source"),
                    target: try r.symbol("target"),
                    filesystem: try r.symbol("filesystem"), result: try r.int32("result", default: 0)))
        case .memfd:
            return .memfd(
                MemfdFields(
                    name: try r.symbol("name"), flags: try r.uint32("flags"), result: try r.int32("result", default: 0))
            )
        case .bpf:
            return .bpf(
                BPFFields(
                    command: try r.int32("command"), programType: try r.uint32("program_type"),
                    name: try r.symbol("name"),
                    result: try r.int32("result", default: 0)))
        case .credentials:
            let operationName = try r.string("operation")
            guard let operation = CredentialOperation(name: operationName) else {
                throw EventDecodingError(
                    code: .invalidField, field: r.path + ".operation",
                    message: "'\(operationName)' is not a credential syscall")
            }
            return .credentials(
                CredentialFields(
                    operation: operation, newID: try r.id("new_id"), newEffectiveID: try r.id("new_effective_id"),
                    capabilities: try r.uint64("capabilities", default: 0), result: try r.int32("result", default: 0)))
        case .audit:
            return .audit(
                AuditFields(
                    recordType: UInt16(try r.uint("record_type", max: UInt64(UInt16.max))),
                    serial: try r.uint64("serial", default: 0), syscall: try r.int32("syscall", default: -1),
                    success: try r.bool("success", default: true), loginUID: try r.id("auid"),
                    session: try r.id("session"),
                    key: try r.symbol("key"), message: try r.symbol("message")))
        case .cloud:
            let providerName = try r.optionalString("provider") ?? "unknown"
            guard let provider = CloudProvider(name: providerName) else {
                throw EventDecodingError(
                    code: .invalidField, field: r.path + ".provider",
                    message: "'\(providerName)' is not aws, gcp or azure")
            }
            var flags: CloudFields.Flags = []
            if try r.bool("read_only", default: false) { flags.insert(.readOnly) }
            if try r.bool("mfa", default: false) { flags.insert(.mfaAuthenticated) }
            return .cloud(
                CloudFields(
                    provider: provider, service: try r.symbol("service"), action: try r.symbol("action"),
                    region: try r.symbol("region"), account: try r.symbol("account"),
                    accessKey: try r.symbol("access_key"),
                    sourceAddress: try r.address("source_address"), userAgent: try r.symbol("user_agent"),
                    errorCode: try r.symbol("error_code"), resource: try r.symbol("resource"), flags: flags,
                    details: try r.details()))
        case .kubernetes:
            var flags: KubernetesFields.Flags = []
            for (index, value) in (try r.optionalArray("flags") ?? []).enumerated() {
                guard let name = value.string, let flag = KubernetesFlagNames.all.first(where: { $0.1 == name }) else {
                    throw EventDecodingError(
                        code: .invalidField, field: "\(r.path).flags[\(index)]", message: "not a known flag")
                }
                flags.insert(flag.0)
            }
            return .kubernetes(
                KubernetesFields(
                    verb: try r.symbol("verb"), resource: try r.symbol("resource"),
                    subresource: try r.symbol("subresource"),
                    namespace: try r.symbol("namespace"), name: try r.symbol("name"),
                    sourceAddress: try r.address("source_address"), userAgent: try r.symbol("user_agent"),
                    responseCode: UInt16(try r.uint("response_code", max: 999, default: 0)), flags: flags,
                    details: try r.details()))
        case .http:
            return .http(
                HTTPFields(
                    method: try r.symbol("method"), route: try r.symbol("route"), path: try r.symbol("path"),
                    parameters: try r.symbol("parameters"), status: UInt16(try r.uint("status", max: 999, default: 0)),
                    durationMicroseconds: UInt32(try r.uint("duration_us", max: UInt64(UInt32.max), default: 0)),
                    client: try r.socket("client"), host: try r.symbol("host")))
        }
    }
}

/// Typed access to one JSON object's members, with errors that name the member's path.
private struct Reader {
    let object: JSONObject
    let path: String
    let symbols: SymbolTable

    private func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    private func invalid(_ key: String, _ message: String) -> EventDecodingError {
        EventDecodingError(code: .invalidField, field: name(key), message: message)
    }

    func optionalString(_ key: String) throws(EventDecodingError) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let text = value.string else { throw invalid(key, "expected a string") }
        return text
    }

    func string(_ key: String) throws(EventDecodingError) -> String {
        guard let text = try optionalString(key) else {
            throw EventDecodingError(code: .missingField, field: name(key), message: "required")
        }
        return text
    }

    func symbol(_ key: String) throws(EventDecodingError) -> Symbol {
        try optionalString(key).map { symbols.intern($0) } ?? .none
    }

    func optionalObject(_ key: String) throws(EventDecodingError) -> Reader? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let nested = value.object else { throw invalid(key, "expected an object") }
        return Reader(object: nested, path: name(key), symbols: symbols)
    }

    func optionalArray(_ key: String) throws(EventDecodingError) -> [JSONValue]? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let array = value.array else { throw invalid(key, "expected an array") }
        return array
    }

    func bool(_ key: String, default fallback: Bool) throws(EventDecodingError) -> Bool {
        guard let value = object[key], !value.isNull else { return fallback }
        guard let flag = value.bool else { throw invalid(key, "expected true or false") }
        return flag
    }

    func int64(_ key: String, default fallback: Int64? = nil) throws(EventDecodingError) -> Int64 {
        guard let value = object[key], !value.isNull else {
            if let fallback { return fallback }
            throw EventDecodingError(code: .missingField, field: name(key), message: "required")
        }
        guard let number = value.int64 else { throw invalid(key, "expected an integer") }
        return number
    }

    func int32(_ key: String, default fallback: Int32? = nil) throws(EventDecodingError) -> Int32 {
        let number = try int64(key, default: fallback.map(Int64.init))
        guard let narrow = Int32(exactly: number) else { throw invalid(key, "\(number) is out of range") }
        return narrow
    }

    func uint(_ key: String, max: UInt64, default fallback: UInt64? = nil) throws(EventDecodingError) -> UInt64 {
        guard let value = object[key], !value.isNull else {
            if let fallback { return fallback }
            throw EventDecodingError(code: .missingField, field: name(key), message: "required")
        }
        guard let number = value.uint64, number <= max else {
            throw invalid(key, "expected an integer from 0 to \(max)")
        }
        return number
    }

    func uint64(_ key: String, default fallback: UInt64? = nil) throws(EventDecodingError) -> UInt64 {
        try uint(key, max: .max, default: fallback)
    }

    func uint32(_ key: String) throws(EventDecodingError) -> UInt32 {
        UInt32(try uint(key, max: UInt64(UInt32.max), default: 0))
    }

    /// A user or group id; absent means unknown.
    func id(_ key: String) throws(EventDecodingError) -> UInt32 {
        UInt32(try uint(key, max: UInt64(UInt32.max), default: UInt64(Event.unknownUID)))
    }

    func address(_ key: String) throws(EventDecodingError) -> IPAddress {
        guard let text = try optionalString(key) else { return .none }
        guard let address = IPAddress(text) else { throw invalid(key, "'\(text)' is not an IP address") }
        return address
    }

    /// The `details` member: a string holding the JSON text of an object (see ``KubernetesFields/details``).
    func details() throws(EventDecodingError) -> Symbol {
        guard let text = try optionalString("details") else { return .none }
        guard case .object? = try? JSONParser.parse(text) else {
            throw invalid("details", "expected the JSON text of an object")
        }
        return symbols.intern(text)
    }

    func socket(_ prefix: String) throws(EventDecodingError) -> SocketAddress {
        SocketAddress(
            address: try address(prefix + "_address"),
            port: UInt16(try uint(prefix + "_port", max: UInt64(UInt16.max), default: 0)))
    }
}

import Foundation
import VigilCore

/// One field's value in one event.
public enum FieldValue: Sendable, Equatable {
    /// The event does not carry the field: every comparison on it is false.
    case missing
    /// Text, interned.
    case symbol(Symbol)
    /// The texts of a list field (Falco's `string (list)` fields, such as `ka.req.pod.containers.image`), never
    /// empty. A comparison holds when any element passes it, except `in`, which needs every element in its
    /// list (Falco's rule), and `!=`, which needs no element equal.
    case symbols([Symbol])
    case number(Int64)
    case address(IPAddress)
    case bool(Bool)
}

/// Reads field values out of events for one shard's rules.
///
/// Derived text (a path's base name, a command line, a short container id) is interned once and cached
/// by the symbol it comes from, so that reading a field allocates nothing once an event's strings have been
/// seen. It keeps a view of the processes its shard has seen (arguments and parent, from exec, fork and
/// snapshot events) for fields of later events of the same process. Not thread-safe: one per shard.
public final class FieldReader {
    /// The symbol table of the engine.
    public let symbols: SymbolTable

    private struct ProcessInfo {
        var executable: Symbol
        var arguments: Symbol
        var parent: ProcessKey
    }

    private struct ProcessLookup {
        var key = ProcessKey(pid: 0, startTime: 0)
        var version: UInt64 = .max
        var info: ProcessInfo?
    }

    private struct WorkloadInfo {
        var name: Symbol
        var kind: Symbol
        var namespace: Symbol
        var containerName: Symbol
        var image: Symbol
        var repository: Symbol
    }

    // Unchecked exclusivity here and below: one shard's detector alone reads and writes a reader, one event at
    // a time, and the per-event path should not pay for checks.
    @exclusivity(unchecked) private var processes: [ProcessKey: ProcessInfo] = [:] {
        didSet { processesChanged &+= 1 }
    }
    /// Counts changes to ``processes``, so that the last lookups below stay valid until the view changes.
    @exclusivity(unchecked) private var processesChanged: UInt64 = 0
    /// The last process looked up for an event and for an event's parent: every rule checked against an
    /// event reads the same ones, so they are hashed once per event rather than once per rule.
    @exclusivity(unchecked) private var lastProcess = ProcessLookup()
    /// Recent lookups in the process view, direct-mapped by pid: the view changes only when a batch is
    /// observed, so within a batch each process is hashed once rather than once per event.
    private let recentProcesses: UnsafeMutablePointer<ProcessLookup> = {
        let table = UnsafeMutablePointer<ProcessLookup>.allocate(capacity: recentProcessSlots)
        table.initialize(repeating: ProcessLookup(), count: recentProcessSlots)
        return table
    }()
    private static let recentProcessSlots = 1 << 10
    @exclusivity(unchecked) private var lastParent = ProcessLookup()
    @exclusivity(unchecked) private var workloads = SymbolMemo<WorkloadInfo>(
        maximumCapacity: 1 << 16,
        placeholder: WorkloadInfo(
            name: .none, kind: .none, namespace: .none, containerName: .none, image: .none, repository: .none))
    // Text derived from a symbol, by that symbol (flat tables: no hashing per read).
    @exclusivity(unchecked) private var baseNames = SymbolMemo<Symbol>(maximumCapacity: 1 << 16, placeholder: .none)
    @exclusivity(unchecked) private var directories = SymbolMemo<Symbol>(maximumCapacity: 1 << 16, placeholder: .none)
    @exclusivity(unchecked) private var commandLines = SymbolMemo<Symbol>(maximumCapacity: 1 << 16, placeholder: .none)
    @exclusivity(unchecked) private var argumentTexts = SymbolMemo<Symbol>(maximumCapacity: 1 << 16, placeholder: .none)
    @exclusivity(unchecked) private var argumentCounts = SymbolMemo<Int64>(maximumCapacity: 1 << 16, placeholder: 0)
    @exclusivity(unchecked) private var argv0s = SymbolMemo<Symbol>(maximumCapacity: 1 << 16, placeholder: .none)
    @exclusivity(unchecked) private var shortContainerIDs = SymbolMemo<Symbol>(
        maximumCapacity: 1 << 16, placeholder: .none)
    @exclusivity(unchecked) private var cloudSources = SymbolMemo<Symbol>(maximumCapacity: 1 << 16, placeholder: .none)
    /// The user names already resolved, in front of ``userNames``.
    @exclusivity(unchecked) private var userNameMemo = SymbolMemo<Symbol>(maximumCapacity: 1 << 12, placeholder: .none)
    /// Parsed details texts by symbol, bounded by ``detailsCacheLimit`` entries and ``detailsCacheBytes`` bytes.
    private var parsedDetails: [Symbol: JSONValue] = [:]
    private var parsedDetailsBytes = 0
    private let detailsCacheLimit = 4096
    private let detailsCacheBytes = 64 << 20
    private var userNames: [UInt32: Symbol] = [:]
    private let eventTypes: [Symbol]
    private let results: [Int32: Symbol]
    private let host: Symbol
    private let kindNames: [Symbol]
    private let layerNames: [Symbol]
    private let credentialNames: [Symbol]
    private let transportNames: [Symbol]
    private let providerNames: [Symbol]
    private let constants: Constants

    /// Text values that never change, interned once.
    private struct Constants {
        let exit: Symbol, file: Symbol, fileChar: Symbol, ipv4: Symbol, ipv6: Symbol, ipv4Char: Symbol
        let ipv6Char: Symbol, initModule: Symbol
        /// Socket domains as Falco's `evt.arg.domain` names them.
        let packetDomain: Symbol, inetDomain: Symbol, inet6Domain: Symbol
    }

    private func credentialName(_ operation: CredentialOperation) -> Symbol {
        credentialNames[CredentialOperation.allCases.firstIndex(of: operation) ?? 0]
    }
    private let success: Symbol
    private let cacheLimit = 1 << 16
    /// How many events the detector has read, the current one included (``FieldID/eventNumber``).
    @exclusivity(unchecked) private(set) var eventNumber: Int64 = 0

    /// Creates a reader; `userNames` maps uids to names (by default from /etc/passwd).
    public init(symbols: SymbolTable, userNames: [UInt32: String]? = nil) {
        self.symbols = symbols
        var types = [Symbol](repeating: .none, count: EventKind.counterSlots)
        for kind in EventKind.allCases { types[Int(kind.rawValue)] = symbols.intern(Self.syscallName(kind)) }
        self.eventTypes = types
        self.host = symbols.intern("host")
        var kindNames = [Symbol](repeating: .none, count: EventKind.counterSlots)
        for kind in EventKind.allCases { kindNames[Int(kind.rawValue)] = symbols.intern(kind.name) }
        self.kindNames = kindNames
        self.layerNames = Layer.allCases.map { symbols.intern($0.name) }
        self.credentialNames = CredentialOperation.allCases.map { symbols.intern($0.name) }
        self.transportNames = TransportProtocol.allCases.map { symbols.intern($0.name) }
        self.providerNames = CloudProvider.allCases.map { symbols.intern(String(describing: $0)) }
        self.constants = Constants(
            exit: symbols.intern("<"), file: symbols.intern("file"), fileChar: symbols.intern("f"),
            ipv4: symbols.intern("ipv4"), ipv6: symbols.intern("ipv6"), ipv4Char: symbols.intern("4"),
            ipv6Char: symbols.intern("6"), initModule: symbols.intern("init_module"),
            packetDomain: symbols.intern("AF_PACKET"), inetDomain: symbols.intern("AF_INET"),
            inet6Domain: symbols.intern("AF_INET6"))
        self.success = symbols.intern("SUCCESS")
        var results: [Int32: Symbol] = [:]
        for (code, name) in Self.errnoNames { results[-code] = symbols.intern(name) }
        self.results = results
        for (uid, name) in userNames ?? Self.readPasswd() { self.userNames[uid] = symbols.intern(name) }
    }

    /// Learns the processes of a batch (before its events are checked).
    public func observe(_ events: EventBatch) {
        for event in events.events {
            guard case .process(let fields) = event.fields else { continue }
            switch event.kind {
            case .processExec, .processSnapshot:
                processes[event.process] = ProcessInfo(
                    executable: fields.executable, arguments: fields.arguments, parent: fields.parent)
            case .processFork:
                let parent = processes[fields.parent]
                processes[event.process] = ProcessInfo(
                    executable: parent?.executable ?? fields.executable,
                    arguments: parent?.arguments ?? fields.arguments,
                    parent: fields.parent)
            case .processExit:
                processes[event.process] = nil
            default:
                break
            }
        }
        if processes.count > cacheLimit { processes.removeAll(keepingCapacity: true) }
    }

    /// Counts the event about to be checked, numbering it for ``FieldID/eventNumber``.
    func countEvent() { eventNumber &+= 1 }

    // The per-event cache of field values: slot i holds a field's value for event ``eventNumber`` when
    // `slotEvents[i]` equals it. Raw memory, so that a read is a load and a compare (no uniqueness or
    // exclusivity checks); a detector's predicates own the slots (see ``reserveSlots(_:)``).
    @exclusivity(unchecked) private var slotEvents = UnsafeMutablePointer<Int64>.allocate(capacity: 0)
    @exclusivity(unchecked) private var slotValues = UnsafeMutablePointer<FieldValue>.allocate(capacity: 0)
    /// Each slot's value again as a ``Scalar``, which predicates read without copying an enum that may hold
    /// an array.
    @exclusivity(unchecked) private var slotScalars = UnsafeMutablePointer<Scalar>.allocate(capacity: 0)
    private var slotCount = 0

    /// A field value as a tag and 64 bits: a symbol's index, a number, or a boolean as 0 or 1. Addresses and
    /// lists are ``Tag/other``: read those as a ``FieldValue``.
    struct Scalar {
        enum Tag: UInt8 { case missing, symbol, number, bool, other }
        var tag: Tag
        var bits: Int64

        init(tag: Tag, bits: Int64) {
            self.tag = tag
            self.bits = bits
        }

        init(_ value: FieldValue) {
            switch value {
            case .missing: self.init(tag: .missing, bits: 0)
            case .symbol(let symbol): self.init(tag: .symbol, bits: Int64(symbol.rawValue))
            case .number(let number): self.init(tag: .number, bits: number)
            case .bool(let value): self.init(tag: .bool, bits: value ? 1 : 0)
            case .symbols, .address: self.init(tag: .other, bits: 0)
            }
        }

        var symbol: Symbol { Symbol(rawValue: UInt32(truncatingIfNeeded: bits)) }
    }

    /// Makes room for `count` cached fields; the cache starts empty.
    func reserveSlots(_ count: Int) {
        guard count > slotCount else { return }
        slotValues.deinitialize(count: slotCount)
        slotValues.deallocate()
        slotEvents.deallocate()
        slotScalars.deallocate()
        slotScalars = .allocate(capacity: count)
        slotScalars.initialize(repeating: Scalar(tag: .missing, bits: 0), count: count)
        slotEvents = .allocate(capacity: count)
        slotEvents.initialize(repeating: .min, count: count)
        slotValues = .allocate(capacity: count)
        slotValues.initialize(repeating: .missing, count: count)
        slotCount = count
    }

    deinit {
        recentProcesses.deinitialize(count: Self.recentProcessSlots)
        recentProcesses.deallocate()
        slotValues.deinitialize(count: slotCount)
        slotValues.deallocate()
        slotEvents.deallocate()
        slotScalars.deallocate()
    }

    /// The value of `field` in `event`, which is the event being checked (counted with ``countEvent()``),
    /// read once per event through cache slot `slot`.
    @inline(__always)
    func value(slot: Int, _ field: FieldID, _ event: Event) -> FieldValue {
        fill(slot, field, event)
        return slotValues[slot]
    }

    /// ``value(slot:_:_:)`` as a ``Scalar``.
    @inline(__always)
    func scalar(slot: Int, _ field: FieldID, _ event: Event) -> Scalar {
        fill(slot, field, event)
        return slotScalars[slot]
    }

    @inline(__always)
    private func fill(_ slot: Int, _ field: FieldID, _ event: Event) {
        if slotEvents[slot] == eventNumber { return }
        let value = value(field, in: event)
        slotScalars[slot] = Scalar(value)
        slotValues[slot] = value
        slotEvents[slot] = eventNumber
    }

    // MARK: Values

    /// The value of `field` in `event`.
    public func value(_ field: FieldID, in event: Event) -> FieldValue {
        switch field {
        case .eventType:
            if case .credentials(let fields) = event.fields { return .symbol(credentialName(fields.operation)) }
            if case .module(let fields) = event.fields, !fields.fromFile {
                return .symbol(constants.initModule)
            }
            return .symbol(eventTypes[Int(event.kind.rawValue)])
        case .eventKind: return .symbol(kindNames[Int(event.kind.rawValue)])
        case .eventDirection: return .symbol(constants.exit)
        case .eventTime: return .number(event.time)
        case .eventNumber: return .number(eventNumber)
        case .eventResult:
            guard let result = Self.result(of: event) else { return .missing }
            if result >= 0 { return .symbol(success) }
            return .symbol(results[result] ?? symbols.intern("E\(-result)"))
        case .eventRawResult: return Self.result(of: event).map { .number(Int64($0)) } ?? .missing
        case .eventFailed: return Self.result(of: event).map { .bool($0 < 0) } ?? .missing
        case .layer: return .symbol(layerNames[Layer.allCases.firstIndex(of: event.layer) ?? 0])
        case .userID: return event.uid == Event.unknownUID ? .missing : .number(Int64(event.uid))
        case .userName:
            guard event.uid != Event.unknownUID else { return .missing }
            if let name = userNameMemo.value(forKey: event.uid) { return .symbol(name) }
            let name = userNames[event.uid] ?? cachedUserName(event.uid)
            userNameMemo.store(name, forKey: event.uid)
            return .symbol(name)
        case .principal: return event.principal.isNone ? .missing : .symbol(event.principal)
        case .containerID:
            guard event.layer == .workload || event.layer == .application else { return .missing }
            return .symbol(event.container.isNone ? host : shortContainerID(event.container))
        case .containerName: return workloadValue(event) { $0.containerName }
        case .containerImage: return workloadValue(event) { $0.image }
        case .containerImageRepository: return workloadValue(event) { $0.repository }
        case .workloadName: return workloadValue(event) { $0.name }
        case .workloadKind: return workloadValue(event) { $0.kind }
        case .kubernetesNamespace: return workloadValue(event) { $0.namespace }
        case .detail(let detail): return detailValue(detail, event)
        default:
            break
        }
        switch event.fields {
        case .process(let fields): if let value = processValue(field, event, fields) { return value }
        case .file(let fields): if let value = fileValue(field, event, fields) { return value }
        case .network(let fields): if let value = networkValue(field, event.kind, fields) { return value }
        case .dns(let fields):
            switch field {
            case .dnsName: return .symbol(fields.name)
            case .dnsType: return .number(Int64(fields.queryType))
            case .remoteAddress: return .address(fields.server.address)
            case .remotePort: return .number(Int64(fields.server.port))
            default: break
            }
        case .ptrace(let fields):
            switch field {
            case .ptraceRequest: return .number(Int64(fields.request))
            case .ptraceTarget: return .number(Int64(fields.target.pid))
            default: break
            }
        case .module(let fields):
            switch field {
            case .moduleName: return .symbol(fields.name)
            case .moduleFromFile: return .bool(fields.fromFile)
            default: break
            }
        case .namespace(let fields):
            switch field {
            case .namespaceFlags: return .number(Int64(bitPattern: fields.flags))
            case .mountSource: return nonEmpty(fields.source)
            case .mountTarget: return nonEmpty(fields.target)
            case .mountFilesystem: return nonEmpty(fields.filesystem)
            default: break
            }
        case .memfd(let fields):
            switch field {
            case .memfdName: return .symbol(fields.name)
            case .memfdFlags, .openFlags: return .number(Int64(fields.flags))
            default: break
            }
        case .bpf(let fields):
            switch field {
            case .bpfCommand: return .number(Int64(fields.command))
            case .bpfProgramType: return .number(Int64(fields.programType))
            case .bpfName: return nonEmpty(fields.name)
            default: break
            }
        case .credentials(let fields):
            switch field {
            case .credentialOperation: return .symbol(credentialName(fields.operation))
            case .credentialNewID: return fields.newID == Event.unknownUID ? .missing : .number(Int64(fields.newID))
            case .credentialNewEffectiveID:
                return fields.newEffectiveID == Event.unknownUID ? .missing : .number(Int64(fields.newEffectiveID))
            case .capabilities: return .number(Int64(bitPattern: fields.capabilities))
            default: break
            }
        case .syscall(let fields):
            if field == .syscallNumber { return .number(Int64(fields.number)) }
        case .cloud(let fields): return cloudValue(field, event, fields)
        case .kubernetes(let fields): return kubernetesValue(field, fields)
        case .http(let fields):
            switch field {
            case .httpMethod: return .symbol(fields.method)
            case .httpRoute: return nonEmpty(fields.route)
            case .httpPath: return .symbol(fields.path)
            case .httpStatus: return .number(Int64(fields.status))
            case .httpClientAddress, .httpPeerAddress: return .address(fields.client.address)
            case .httpParameters: return nonEmpty(fields.parameters)
            case .httpHost: return nonEmpty(fields.host)
            default: break
            }
        default:
            break
        }
        // Process fields of events other than process events come from the process view; application events
        // carry the serving process too.
        if event.layer == .workload || event.layer == .application, event.process.pid != 0 {
            return processViewValue(field, event)
        }
        return .missing
    }

    private func nonEmpty(_ symbol: Symbol) -> FieldValue { symbol.isNone ? .missing : .symbol(symbol) }

    private func processValue(_ field: FieldID, _ event: Event, _ fields: ProcessFields) -> FieldValue? {
        switch field {
        case .executablePath: return nonEmpty(fields.executable.isNone ? event.executable : fields.executable)
        case .executableName:
            let executable = fields.executable.isNone ? event.executable : fields.executable
            return executable.isNone ? .missing : .symbol(baseName(executable))
        case .processArgv0: return fields.arguments.isNone ? nil : .symbol(argv0(fields.arguments))
        case .commandLine: return fields.arguments.isNone ? nil : .symbol(commandLine(fields.arguments))
        case .arguments: return fields.arguments.isNone ? nil : .symbol(argumentText(fields.arguments))
        case .argumentCount: return fields.arguments.isNone ? nil : .number(argumentCount(fields.arguments))
        case .workingDirectory: return nonEmpty(fields.workingDirectory)
        case .fileName: return nonEmpty(fields.fileName)
        case .parentProcessID: return fields.parent.pid == 0 ? .missing : .number(Int64(fields.parent.pid))
        case .exitStatus: return .number(Int64(fields.exitStatus))
        case .effectiveUserID:
            return fields.effectiveUID == Event.unknownUID ? .missing : .number(Int64(fields.effectiveUID))
        case .parentName, .parentExecutablePath, .parentCommandLine, .parentArgv0, .ancestorName:
            return ancestry(field, parent: fields.parent)
        default: return nil
        }
    }

    /// The process view's entry for `key`, looked up once per event.
    @inline(__always)
    private func process(_ key: ProcessKey) -> ProcessInfo? {
        if lastProcess.version == processesChanged, lastProcess.key == key { return lastProcess.info }
        let recent = recentProcesses + (Int(UInt32(bitPattern: key.pid)) & (Self.recentProcessSlots - 1))
        if recent.pointee.version == processesChanged, recent.pointee.key == key {
            lastProcess = recent.pointee
            return lastProcess.info
        }
        let info = processes[key]
        lastProcess = ProcessLookup(key: key, version: processesChanged, info: info)
        recent.pointee = lastProcess
        return info
    }

    /// The process view's entry for a parent, looked up once per event.
    @inline(__always)
    private func parentProcess(_ key: ProcessKey) -> ProcessInfo? {
        if lastParent.version == processesChanged, lastParent.key == key { return lastParent.info }
        let info = processes[key]
        lastParent = ProcessLookup(key: key, version: processesChanged, info: info)
        return info
    }

    private func processViewValue(_ field: FieldID, _ event: Event) -> FieldValue {
        let known = process(event.process)
        switch field {
        case .processID: return .number(Int64(event.process.pid))
        case .executablePath:
            let executable = event.executable.isNone ? (known?.executable ?? .none) : event.executable
            return nonEmpty(executable)
        case .executableName:
            let executable = event.executable.isNone ? (known?.executable ?? .none) : event.executable
            return executable.isNone ? .missing : .symbol(baseName(executable))
        case .processArgv0: return known.map { nonEmpty(argv0($0.arguments)) } ?? .missing
        case .commandLine: return known.map { nonEmpty(commandLine($0.arguments)) } ?? .missing
        case .arguments: return known.map { nonEmpty(argumentText($0.arguments)) } ?? .missing
        case .argumentCount: return known.map { .number(argumentCount($0.arguments)) } ?? .missing
        case .parentProcessID: return known.map { .number(Int64($0.parent.pid)) } ?? .missing
        case .parentName, .parentExecutablePath, .parentCommandLine, .parentArgv0, .ancestorName:
            guard let known else { return .missing }
            return ancestry(field, parent: known.parent)
        default: return .missing
        }
    }

    /// Parent and ancestor fields; `proc.aname` without an index matches if any ancestor does, so it gives
    /// the nearest here and ``anyAncestorMatches`` serves the comparison.
    private func ancestry(_ field: FieldID, parent: ProcessKey) -> FieldValue {
        guard let info = parentProcess(parent) else { return .missing }
        switch field {
        case .parentName: return info.executable.isNone ? .missing : .symbol(baseName(info.executable))
        case .parentExecutablePath: return nonEmpty(info.executable)
        case .parentCommandLine: return info.arguments.isNone ? .missing : .symbol(commandLine(info.arguments))
        case .parentArgv0: return info.arguments.isNone ? .missing : nonEmpty(argv0(info.arguments))
        case .ancestorName(let depth):
            var current: ProcessInfo? = info
            for _ in 1..<max(1, depth ?? 1) { current = current.flatMap { processes[$0.parent] } }
            guard let current, !current.executable.isNone else { return .missing }
            return .symbol(baseName(current.executable))
        default: return .missing
        }
    }

    /// The base names of every known ancestor of the event's process, nearest first, up to 16.
    func ancestorNames(of event: Event, into names: inout [Symbol]) {
        names.removeAll(keepingCapacity: true)
        var parent: ProcessKey?
        if case .process(let fields) = event.fields {
            parent = fields.parent
        } else {
            parent = processes[event.process]?.parent
        }
        while let key = parent, names.count < 16, let info = processes[key] {
            if !info.executable.isNone { names.append(baseName(info.executable)) }
            parent = info.parent
        }
    }

    private func fileValue(_ field: FieldID, _ event: Event, _ fields: FileFields) -> FieldValue? {
        switch field {
        case .filePath: return nonEmpty(fields.path)
        case .fileDirectory: return fields.path.isNone ? .missing : .symbol(directory(fields.path))
        case .fileBaseName: return fields.path.isNone ? .missing : .symbol(baseName(fields.path))
        case .fileTarget: return nonEmpty(fields.target)
        case .openFlags: return .number(Int64(fields.flags))
        case .fileMode: return .number(Int64(fields.mode))
        case .isOpenRead: return .bool(fields.flags & 3 == 0 || fields.flags & 3 == 2)
        case .isOpenWrite: return .bool(fields.flags & 3 != 0)
        case .descriptorNumber:
            guard event.kind == .fileOpen else { return nil }
            return .number(fields.result >= 0 ? Int64(fields.result) : -1)
        case .descriptorType: return .symbol(constants.file)
        case .descriptorTypeChar: return .symbol(constants.fileChar)
        default: return nil
        }
    }

    private func networkValue(_ field: FieldID, _ kind: EventKind, _ fields: NetworkFields) -> FieldValue? {
        // The server end: the local side of an accept, bind or listen; the remote side of a connect.
        let server = kind == .networkConnect ? fields.remote : fields.local
        let client = kind == .networkConnect ? fields.local : fields.remote
        switch field {
        case .transport:
            return .symbol(transportNames[TransportProtocol.allCases.firstIndex(of: fields.transport) ?? 0])
        case .socketDomain:
            if fields.transport == .packet { return .symbol(constants.packetDomain) }
            let v6 = fields.remote.address.family == .v6 || fields.local.address.family == .v6
            return .symbol(v6 ? constants.inet6Domain : constants.inetDomain)
        case .localAddress: return .address(fields.local.address)
        case .localPort: return .number(Int64(fields.local.port))
        case .remoteAddress: return .address(fields.remote.address)
        case .remotePort: return .number(Int64(fields.remote.port))
        case .serverAddress: return .address(server.address)
        case .serverPort: return .number(Int64(server.port))
        case .clientAddress: return kind == .networkBind || kind == .networkListen ? .missing : .address(client.address)
        case .clientPort: return kind == .networkBind || kind == .networkListen ? .missing : .number(Int64(client.port))
        case .descriptorName, .filePath: return .symbol(symbols.intern("\(client)->\(server)"))
        case .descriptorType:
            let v6 = fields.remote.address.family == .v6 || fields.local.address.family == .v6
            return .symbol(v6 ? constants.ipv6 : constants.ipv4)
        case .descriptorTypeChar:
            let v6 = fields.remote.address.family == .v6 || fields.local.address.family == .v6
            return .symbol(v6 ? constants.ipv6Char : constants.ipv4Char)
        default: return nil
        }
    }

    private func cloudValue(_ field: FieldID, _ event: Event, _ fields: CloudFields) -> FieldValue {
        switch field {
        case .cloudProvider:
            return .symbol(providerNames[CloudProvider.allCases.firstIndex(of: fields.provider) ?? 0])
        case .cloudService: return nonEmpty(fields.service)
        case .cloudSource:
            guard !fields.service.isNone else { return .missing }
            return .symbol(derived(fields.service, in: &cloudSources) { "\($0).amazonaws.com" })
        case .cloudAction: return nonEmpty(fields.action)
        case .cloudRegion: return nonEmpty(fields.region)
        case .cloudAccount: return nonEmpty(fields.account)
        case .cloudAccessKey: return nonEmpty(fields.accessKey)
        case .cloudSourceAddress: return fields.sourceAddress == .none ? .missing : .address(fields.sourceAddress)
        case .cloudUserAgent: return nonEmpty(fields.userAgent)
        case .cloudError: return nonEmpty(fields.errorCode)
        case .cloudResource: return nonEmpty(fields.resource)
        case .cloudReadOnly: return .bool(fields.flags.contains(.readOnly))
        case .cloudMFA: return .bool(fields.flags.contains(.mfaAuthenticated))
        case .cloudSummary: return .symbol(symbols.intern(cloudSummary(event, fields)))
        default: return .missing
        }
    }

    /// Falco's `ct.info`: who, from where, whether it failed (`!`), read (`←`) or write (`→`), which action,
    /// then the S3 object, bucket or host it names. The caller's address stands for CloudTrail's
    /// `sourceIPAddress`, which Vigil keeps only when it is an address.
    private func cloudSummary(_ event: Event, _ fields: CloudFields) -> String {
        let details = fields.details.isNone ? JSONValue.null : parsedDetails(fields.details)
        let user = DetailField.cloudUser(details["userIdentity"]) ?? symbols.string(event.principal)
        var summary = user
        if fields.sourceAddress != .none { summary += " via \(fields.sourceAddress)" }
        summary += " " + (fields.errorCode.isNone ? "" : "!") + (fields.flags.contains(.readOnly) ? "←" : "→")
        summary += " " + symbols.string(fields.action)
        let request = details["requestParameters"]
        if let bucket = request?["bucketName"]?.string, let key = request?["key"]?.string {
            summary += " URI=s3://\(bucket)/\(key)"
        } else if let bucket = request?["bucketName"]?.string {
            summary += " Bucket=\(bucket)"
        } else if let host = request?["Host"]?.string {
            summary += " Host=\(host)"
        }
        return summary
    }

    // MARK: Details

    /// The details symbol of a Kubernetes or cloud event, or none.
    static func details(of event: Event) -> Symbol {
        switch event.fields {
        case .kubernetes(let fields): return fields.details
        case .cloud(let fields): return fields.details
        default: return .none
        }
    }

    /// A value read from the event's details; missing when the event has none or they lack it.
    private func detailValue(_ field: DetailField, _ event: Event) -> FieldValue {
        let details: Symbol
        switch (event.fields, field.source) {
        case (.kubernetes(let fields), .kubernetes), (.kubernetes(let fields), .any): details = fields.details
        case (.cloud(let fields), .cloud), (.cloud(let fields), .any): details = fields.details
        default: return .missing
        }
        guard !details.isNone else { return .missing }
        if case .whole = field.extraction { return .symbol(details) }
        let texts = field.texts(in: parsedDetails(details))
        guard let first = texts.first else { return .missing }
        return field.isList ? .symbols(texts.map { symbols.intern($0) }) : .symbol(symbols.intern(first))
    }

    /// The parsed details text of `symbol`, parsed once and remembered. Text that does not parse (the symbol
    /// table's overflow symbol) reads as null, so that every value in it is missing.
    private func parsedDetails(_ symbol: Symbol) -> JSONValue {
        if let known = parsedDetails[symbol] { return known }
        let text = symbols.string(symbol)
        let value = (try? JSONParser.parse(text)) ?? .null
        if parsedDetails.count >= detailsCacheLimit || parsedDetailsBytes + text.utf8.count > detailsCacheBytes {
            parsedDetails.removeAll(keepingCapacity: true)
            parsedDetailsBytes = 0
        }
        parsedDetails[symbol] = value
        parsedDetailsBytes += text.utf8.count
        return value
    }

    private func kubernetesValue(_ field: FieldID, _ fields: KubernetesFields) -> FieldValue {
        switch field {
        case .k8sVerb: return nonEmpty(fields.verb)
        case .k8sResource: return nonEmpty(fields.resource)
        case .k8sSubresource: return nonEmpty(fields.subresource)
        case .k8sNamespace: return nonEmpty(fields.namespace)
        case .k8sName: return nonEmpty(fields.name)
        case .k8sSourceAddress: return fields.sourceAddress == .none ? .missing : .address(fields.sourceAddress)
        case .k8sUserAgent: return nonEmpty(fields.userAgent)
        case .k8sResponseCode: return .number(Int64(fields.responseCode))
        case .k8sPrivileged: return .bool(fields.flags.contains(.privileged))
        case .k8sHostPath: return .bool(fields.flags.contains(.hostPath))
        case .k8sHostNetwork: return .bool(fields.flags.contains(.hostNetwork))
        case .k8sHostPID: return .bool(fields.flags.contains(.hostPID))
        case .k8sHostIPC: return .bool(fields.flags.contains(.hostIPC))
        case .k8sAddedCapabilities: return .bool(fields.flags.contains(.addedCapabilities))
        case .k8sAnonymous: return .bool(fields.flags.contains(.anonymous))
        case .k8sImpersonated: return .bool(fields.flags.contains(.impersonated))
        default: return .missing
        }
    }

    private func workloadValue(_ event: Event, _ part: (WorkloadInfo) -> Symbol) -> FieldValue {
        guard event.layer == .workload || event.layer == .application else { return .missing }
        if let info = workloads.value(forKey: event.workload.rawValue) { return nonEmpty(part(info)) }
        let workload = symbols.workload(event.workload)
        let repository =
            workload.image.split(separator: "@").first.map {
                // registry/name:tag → registry/name (a colon after the last slash starts the tag).
                let text = String($0)
                guard let colon = text.lastIndex(of: ":"), !text[colon...].contains("/") else { return text }
                return String(text[..<colon])
            } ?? ""
        let info = WorkloadInfo(
            name: symbols.intern(workload.name), kind: symbols.intern(workload.kind.rawValue),
            namespace: workload.namespace.isEmpty ? .none : symbols.intern(workload.namespace),
            containerName: workload.containerName.isEmpty ? .none : symbols.intern(workload.containerName),
            image: workload.image.isEmpty ? .none : symbols.intern(workload.image),
            repository: repository.isEmpty ? .none : symbols.intern(repository))
        workloads.store(info, forKey: event.workload.rawValue)
        return nonEmpty(part(info))
    }

    // MARK: Derived text

    @inline(__always)
    private func derived(_ symbol: Symbol, in cache: inout SymbolMemo<Symbol>, _ make: (String) -> String) -> Symbol {
        if let found = cache.value(for: symbol) { return found }
        let result = symbols.intern(make(symbols.string(symbol)))
        cache.store(result, for: symbol)
        return result
    }

    func baseName(_ path: Symbol) -> Symbol {
        derived(path, in: &baseNames) { path in
            path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
        }
    }

    private func directory(_ path: Symbol) -> Symbol {
        derived(path, in: &directories) { path in
            guard let slash = path.lastIndex(of: "/") else { return "." }
            return slash == path.startIndex ? "/" : String(path[..<slash])
        }
    }

    private func argv0(_ arguments: Symbol) -> Symbol {
        derived(arguments, in: &argv0s) { ArgumentList.split($0).first ?? "" }
    }

    /// Falco's `proc.cmdline`: the program's base name, then its arguments, separated by spaces.
    private func commandLine(_ arguments: Symbol) -> Symbol {
        derived(arguments, in: &commandLines) { joined in
            let list = ArgumentList.split(joined)
            guard let first = list.first else { return "" }
            let name = first.split(separator: "/").last.map(String.init) ?? first
            return ([name] + list.dropFirst()).joined(separator: " ")
        }
    }

    private func argumentText(_ arguments: Symbol) -> Symbol {
        derived(arguments, in: &argumentTexts) { ArgumentList.split($0).dropFirst().joined(separator: " ") }
    }

    private func argumentCount(_ arguments: Symbol) -> Int64 {
        if let count = argumentCounts.value(for: arguments) { return count }
        let count = Int64(max(0, ArgumentList.split(symbols.string(arguments)).count - 1))
        argumentCounts.store(count, for: arguments)
        return count
    }

    private func shortContainerID(_ id: Symbol) -> Symbol {
        derived(id, in: &shortContainerIDs) { String($0.prefix(12)) }
    }

    private func cachedUserName(_ uid: UInt32) -> Symbol {
        let name = symbols.intern(String(uid))
        userNames[uid] = name
        return name
    }

    // MARK: Tables

    /// A rough cost of reading `field`, for ordering a condition's terms: 1 for a value the event holds,
    /// more for one looked up in the process view, derived from text, or parsed from details.
    static func cost(of field: FieldID) -> Int {
        switch field {
        case .processID, .parentProcessID, .executablePath, .executableName, .processArgv0, .commandLine, .arguments,
            .argumentCount, .containerID, .containerName, .containerImage, .containerImageRepository, .workloadName,
            .workloadKind, .kubernetesNamespace, .userName, .fileDirectory, .fileBaseName, .cloudSource,
            .eventResult:
            return 3
        case .parentName, .parentExecutablePath, .parentCommandLine, .parentArgv0: return 5
        case .ancestorName: return 8
        case .descriptorName: return 15
        case .detail: return 20
        case .cloudSummary: return 50
        default: return 1
        }
    }

    /// The syscall-style name Falco's `evt.type` gives each kind.
    static func syscallName(_ kind: EventKind) -> String {
        switch kind {
        case .processExec: return "execve"
        case .processExit: return "procexit"
        case .processFork: return "clone"
        case .processSnapshot: return "snapshot"
        case .fileOpen: return "openat"
        case .fileWrite: return "write"
        case .fileUnlink: return "unlinkat"
        case .fileRename: return "renameat"
        case .fileLink: return "linkat"
        case .fileSymlink: return "symlinkat"
        case .fileChmod: return "fchmodat"
        case .networkConnect: return "connect"
        case .networkAccept: return "accept"
        case .networkBind: return "bind"
        case .networkListen: return "listen"
        case .networkSocket: return "socket"
        case .dnsQuery: return "sendto"
        case .syscall: return "syscall"
        case .capability: return "capable"
        case .ptrace: return "ptrace"
        case .moduleLoad: return "finit_module"
        case .mount: return "mount"
        case .unshare: return "unshare"
        case .setns: return "setns"
        case .memfdCreate: return "memfd_create"
        case .bpf: return "bpf"
        case .credentialChange: return "setuid"
        case .auditRecord: return "audit"
        case .cloudAPICall: return "cloud"
        case .kubernetesRequest: return "k8s"
        case .httpRequest: return "http"
        case .httpFetch: return "http_fetch"
        }
    }

    /// The kinds whose events Falco's `evt.type` value names.
    static func kinds(forSyscall name: String) -> Set<EventKind> {
        switch name {
        case "execve", "execveat": return [.processExec]
        case "procexit": return [.processExit]
        case "clone", "clone3", "fork", "vfork": return [.processFork]
        case "open", "openat", "openat2", "creat": return [.fileOpen]
        case "write", "pwrite", "pwrite64", "writev": return [.fileWrite]
        case "unlink", "unlinkat", "rmdir": return [.fileUnlink]
        case "rename", "renameat", "renameat2": return [.fileRename]
        case "link", "linkat": return [.fileLink]
        case "symlink", "symlinkat": return [.fileSymlink]
        case "chmod", "fchmod", "fchmodat", "fchmodat2": return [.fileChmod]
        case "connect": return [.networkConnect]
        case "accept", "accept4": return [.networkAccept]
        case "bind": return [.networkBind]
        case "listen": return [.networkListen]
        case "socket": return [.networkSocket]
        case "sendto", "sendmsg", "sendmmsg": return [.dnsQuery]
        case "ptrace": return [.ptrace]
        case "init_module", "finit_module": return [.moduleLoad]
        case "mount": return [.mount]
        case "unshare": return [.unshare]
        case "setns": return [.setns]
        case "memfd_create": return [.memfdCreate]
        case "bpf": return [.bpf]
        case "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid", "capset",
            "setgroups":
            return [.credentialChange]
        // Vigil's own names for the application layer's kinds.
        case "http": return [.httpRequest]
        case "http_fetch": return [.httpFetch]
        default: return []
        }
    }

    /// The result of the syscall behind an event, when it has one.
    static func result(of event: Event) -> Int32? {
        switch event.fields {
        case .file(let fields): return fields.result
        case .network(let fields): return fields.result
        case .ptrace(let fields): return fields.result
        case .module(let fields): return fields.result
        case .namespace(let fields): return fields.result
        case .memfd(let fields): return fields.result
        case .bpf(let fields): return fields.result
        case .credentials(let fields): return fields.result
        case .capability(let fields): return fields.result
        case .process: return event.kind == .processExec ? 0 : nil
        default: return nil
        }
    }

    static let errnoNames: [(Int32, String)] = [
        (1, "EPERM"), (2, "ENOENT"), (3, "ESRCH"), (4, "EINTR"), (5, "EIO"), (9, "EBADF"), (11, "EAGAIN"),
        (12, "ENOMEM"), (13, "EACCES"), (14, "EFAULT"), (16, "EBUSY"), (17, "EEXIST"), (20, "ENOTDIR"),
        (21, "EISDIR"), (22, "EINVAL"), (24, "EMFILE"), (28, "ENOSPC"), (30, "EROFS"), (38, "ENOSYS"),
        (95, "EOPNOTSUPP"), (98, "EADDRINUSE"), (101, "ENETUNREACH"), (110, "ETIMEDOUT"), (111, "ECONNREFUSED"),
        (113, "EHOSTUNREACH"), (115, "EINPROGRESS"),
    ]

    /// uid → name from /etc/passwd; empty when it cannot be read.
    static func readPasswd() -> [UInt32: String] {
        guard let text = try? String(contentsOfFile: "/etc/passwd", encoding: .utf8) else { return [:] }
        var names: [UInt32: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count > 2, let uid = UInt32(parts[2]) { names[uid] = String(parts[0]) }
        }
        return names
    }
}

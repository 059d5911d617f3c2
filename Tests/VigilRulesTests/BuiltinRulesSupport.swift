import Foundation
import Testing
import VigilCore
import VigilRules
import VigilTestKit

/// Paths into the shared third-party data (see ../shared/data/README.md for sources and licenses).
enum PackData {
    static let root: String = {
        // Tests/VigilRulesTests/BuiltinRulesSupport.swift → the project root → ../shared/data
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data").path
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }
}

/// The built-in pack, loaded once.
enum Pack {
    struct Loaded {
        var rules: [Rule] = []
        var failures: [RuleError] = []
        var entryErrors: [RuleError] = []
        var loadError: String?
    }

    static let loaded: Loaded = {
        do {
            let (set, compiled) = try RuleSet.load(files: [], builtin: true)
            return Loaded(rules: set.rules, failures: compiled.failures, entryErrors: compiled.entryErrors)
        } catch {
            return Loaded(loadError: "\(error)")
        }
    }()

    static var rules: [Rule] { loaded.rules }

    static func rule(_ id: String) -> Rule? { rules.first { $0.id == id } }

    static func rules(layer: String) -> [Rule] { rules.filter { $0.id.hasPrefix("vigil.\(layer).") } }
}

/// Runs the built-in pack over events in order, one event per batch, as a shard would: the field reader
/// learns processes from earlier events, so a sequence can set up a parent before the event under test.
struct PackRunner {
    let symbols: SymbolTable
    private var detector: RuleDetector

    init(symbols: SymbolTable, rules: [Rule] = Pack.rules) {
        self.symbols = symbols
        self.detector = RuleDetector(rules: rules, symbols: symbols)
    }

    /// The findings raised by each event.
    mutating func findings(_ events: [Event]) -> [[Finding]] {
        events.map { event in
            var findings: [Finding] = []
            detector.inspect(EventBatch([event]), into: &findings)
            return findings
        }
    }

    /// The ids of the rules that matched each event.
    mutating func ruleIDs(_ events: [Event]) -> [[String]] { findings(events).map { $0.map(\.rule.id) } }
}

/// The ATT&CK Enterprise techniques (mitre/enterprise_techniques.tsv, ATT&CK v18.1, mitre/cti @421deacb).
struct TechniqueCatalog {
    struct Technique {
        var id: String
        var name: String
        var tactics: Set<String>
        var retired: Bool
    }

    let techniques: [String: Technique]

    init() throws {
        let text = try String(contentsOfFile: PackData.path("mitre/enterprise_techniques.tsv"), encoding: .utf8)
        var techniques: [String: Technique] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard columns.count >= 6 else { continue }
            techniques[columns[0]] = Technique(
                id: columns[0], name: columns[1], tactics: Set(columns[2].split(separator: ",").map(String.init)),
                retired: columns[4] == "True" || columns[5] == "True")
        }
        self.techniques = techniques
    }
}

/// Builds workload events the way the eBPF sensor fills them: with the process's executable on every
/// event, a container id and a Kubernetes workload for container events.
struct WorkloadEvents {
    let symbols: SymbolTable
    private var time: Int64 = 1_795_910_400_000_000_000
    /// The container the next events come from, or none for the host.
    var inContainer: Bool
    private let containerID: Symbol
    private let workload: WorkloadID

    init(symbols: SymbolTable, inContainer: Bool = true) {
        self.symbols = symbols
        self.inContainer = inContainer
        self.containerID = symbols.intern("3f4e9a0c2b7d41e6a8c95f0d7e3b2a1c4d5e6f708192a3b4c5d6e7f8091a2b3c")
        self.workload = EventBuilder(symbols: symbols).workload(
            namespace: "shop", deployment: "web", image: "registry.example/web:1.4")
    }

    private func s(_ text: String) -> Symbol { symbols.intern(text) }

    private mutating func event(
        _ kind: EventKind, pid: Int32, executable: String, uid: UInt32, _ fields: EventFields
    ) -> Event {
        time += 1_000_000
        return Event(
            time: time, kind: kind, process: EventBuilder.process(pid), workload: inContainer ? workload : .host,
            container: inContainer ? containerID : .none, uid: uid, executable: s(executable), fields: fields)
    }

    /// A `process.exec` of `executable` (argv[0] first in `arguments`), started by `parent`.
    mutating func exec(
        pid: Int32, parent: Int32 = 1, _ executable: String, _ arguments: [String]? = nil, filename: String? = nil,
        uid: UInt32 = 0
    ) -> Event {
        let argv = arguments ?? [executable]
        return event(
            .processExec, pid: pid, executable: executable, uid: uid,
            .process(
                ProcessFields(
                    parent: EventBuilder.process(parent), executable: s(executable),
                    arguments: s(ArgumentList.join(argv)), workingDirectory: s("/"), effectiveUID: uid, gid: uid,
                    fileName: s(filename ?? executable))))
    }

    /// A file event by the process `pid` running `executable`.
    mutating func file(
        _ kind: EventKind, pid: Int32 = 300, by executable: String, path: String, target: String = "",
        flags: UInt32 = 0, mode: UInt32 = 0, uid: UInt32 = 0, result: Int32 = 0
    ) -> Event {
        event(
            kind, pid: pid, executable: executable, uid: uid,
            .file(
                FileFields(
                    path: s(path), target: target.isEmpty ? .none : s(target), flags: flags, mode: mode,
                    result: result)))
    }

    /// An open for reading (O_RDONLY).
    mutating func read(_ path: String, by executable: String, pid: Int32 = 300) -> Event {
        file(.fileOpen, pid: pid, by: executable, path: path, flags: 0, result: 3)
    }

    /// An open for writing (O_WRONLY|O_CREAT|O_APPEND, what `>>` does).
    mutating func write(_ path: String, by executable: String, pid: Int32 = 300) -> Event {
        file(.fileOpen, pid: pid, by: executable, path: path, flags: 0o2101, result: 3)
    }

    /// A TCP connect to `address:port`.
    mutating func connect(to address: String, port: UInt16, by executable: String, pid: Int32 = 300) -> Event {
        event(
            .networkConnect, pid: pid, executable: executable, uid: 1000,
            .network(
                NetworkFields(
                    transport: .tcp, local: SocketAddress(address: IPAddress(v4: 10, 1, 2, 3), port: 40_000),
                    remote: SocketAddress(address: IPAddress(address)!, port: port))))
    }

    /// A `socket()` call that made a packet or raw IP socket (`result` 0, or -errno).
    mutating func socket(
        _ transport: TransportProtocol, by executable: String, pid: Int32 = 300, result: Int32 = 0
    )
        -> Event
    {
        event(
            .networkSocket, pid: pid, executable: executable, uid: 0,
            .network(NetworkFields(transport: transport, result: result)))
    }

    /// A DNS A query for `name`.
    mutating func dns(_ name: String, by executable: String, pid: Int32 = 300) -> Event {
        event(
            .dnsQuery, pid: pid, executable: executable, uid: 1000,
            .dns(
                DNSFields(
                    name: s(name), queryType: 1, server: SocketAddress(address: IPAddress(v4: 10, 96, 0, 10), port: 53))
            ))
    }

    /// A ptrace call of `request` on pid 4242.
    mutating func ptrace(_ request: Int32, by executable: String, pid: Int32 = 300) -> Event {
        event(
            .ptrace, pid: pid, executable: executable, uid: 0,
            .ptrace(PtraceFields(request: request, target: EventBuilder.process(4242))))
    }

    /// A finit_module (from a file) or init_module call.
    mutating func moduleLoad(_ name: String, fromFile: Bool = true, by executable: String, pid: Int32 = 300) -> Event {
        event(
            .moduleLoad, pid: pid, executable: executable, uid: 0,
            .module(ModuleFields(name: s(name), fromFile: fromFile)))
    }

    /// A mount, unshare or setns call.
    mutating func namespace(
        _ kind: EventKind, flags: UInt64, source: String = "", target: String = "", filesystem: String = "",
        by executable: String, pid: Int32 = 300
    ) -> Event {
        event(
            kind, pid: pid, executable: executable, uid: 0,
            .namespace(
                NamespaceFields(
                    flags: flags, source: source.isEmpty ? .none : s(source),
                    target: target.isEmpty ? .none : s(target), filesystem: filesystem.isEmpty ? .none : s(filesystem))
            ))
    }

    /// A bpf() call of `command`.
    mutating func bpf(
        _ command: Int32, programType: UInt32 = 0, name: String = "", by executable: String, pid: Int32 = 300
    )
        -> Event
    {
        event(
            .bpf, pid: pid, executable: executable, uid: 0,
            .bpf(BPFFields(command: command, programType: programType, name: name.isEmpty ? .none : s(name), result: 5))
        )
    }
}

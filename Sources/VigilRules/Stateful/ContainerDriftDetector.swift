import VigilCore

/// Flags a file that was written (or renamed, linked or made executable) inside a container and later executed
/// in that same container: a program that is not part of the container's image, which is how droppers,
/// miners and post-exploitation tools arrive. Falco's "Drop and execute new binary in container" rule looks for
/// the same drift by the overlay layer an executable comes from; here it is seen from the events themselves.
///
/// A file counts as written by a successful `file.open` with `O_WRONLY`, `O_RDWR`, `O_CREAT` or `O_TRUNC`, a
/// `file.write`, a `file.rename` or `file.link` onto its path (the new name), or a `file.chmod` whose mode has an
/// execute bit. A `process.exec` whose executable, or whose file name as given when absolute (a script run
/// through its interpreter), is such a path in the same container raises one finding, high severity, with both
/// events; the file is then forgotten, so a rewrite and a second run raise again. Host events (no container)
/// are ignored, and a write in one container does not count for another.
///
/// The events hold full paths (the eBPF sensor joins a relative path to its directory), so paths are compared
/// as interned symbols: the per-event path hashes two fixed fields and allocates nothing in steady state.
///
/// State is one shard's and bounded: at most ``Configuration/capacity`` written files are remembered, in two
/// generations (when the newer is full the older is dropped, and counted in ``Statistics/evicted``), and a
/// write older than ``Configuration/maximumAge`` is forgotten (``Statistics/agedOut``).
public struct ContainerDriftDetector: Detector {
    /// Bounds of the detector's state.
    public struct Configuration: Sendable, Equatable {
        /// How many written files one shard remembers at most.
        public var capacity: Int
        /// How long a write is remembered, in nanoseconds: an execution later than this raises nothing.
        public var maximumAge: Int64

        /// Creates a configuration; by default 16,384 files remembered for up to 24 hours.
        public init(capacity: Int = 16_384, maximumAge: Int64 = 24 * 3_600 * 1_000_000_000) {
            self.capacity = max(2, capacity)
            self.maximumAge = maximumAge
        }
    }

    /// What the detector did, for metrics and tests.
    public struct Statistics: Sendable, Equatable {
        /// Writes recorded (a file written again counts again).
        public var recorded: UInt64 = 0
        /// Written files forgotten because the bound was reached.
        public var evicted: UInt64 = 0
        /// Written files forgotten because they were older than ``Configuration/maximumAge``.
        public var agedOut: UInt64 = 0
        /// Findings raised.
        public var findings: UInt64 = 0

        /// Statistics with every count zero.
        public init() {}
    }

    /// The rule the findings name.
    public static let rule = RuleReference(
        id: "vigil.workload.container-drift", name: "Binary written then executed in a container")

    /// T1105 Ingress Tool Transfer (command and control). What the detection proves is that a program which is
    /// not in the container's image was brought into it and run: the transfer of a tool into the compromised
    /// environment is the distinctive step. T1204 (User Execution) needs a user's action, and T1059 (Command and
    /// Scripting Interpreter) is about interpreters, not a dropped binary; the execution itself is generic.
    public static let mitre = MITREMapping(tactic: .commandAndControl, technique: "T1105")

    /// The state's bounds.
    public let configuration: Configuration
    /// What the detector did so far.
    public private(set) var statistics = Statistics()

    private let symbols: SymbolTable
    /// The newer generation of written files, by container and path; the write event is kept as evidence.
    private var current: [FileKey: Event] = [:]
    /// The older generation, dropped when the newer one fills up.
    private var previous: [FileKey: Event] = [:]
    /// The latest write time in each generation, to age a whole generation out at once.
    private var currentNewest: Int64 = .min
    private var previousNewest: Int64 = .min

    /// A written file: its container and its full path.
    private struct FileKey: Hashable {
        var container: Symbol
        var path: Symbol

        func hash(into hasher: inout Hasher) {
            hasher.combine(UInt64(container.rawValue) << 32 | UInt64(path.rawValue))
        }
    }

    // open(2) flags that make an open a write (x86_64 and aarch64 share these values).
    private static let writeFlags: UInt32 = 0o1 | 0o2 | 0o100 | 0o1000  // O_WRONLY | O_RDWR | O_CREAT | O_TRUNC
    private static let executeBits: UInt32 = 0o111

    /// Creates a detector resolving names through `symbols` (only when a finding is written).
    public init(symbols: SymbolTable, configuration: Configuration = Configuration()) {
        self.symbols = symbols
        self.configuration = configuration
        current.reserveCapacity(configuration.capacity / 2)
        previous.reserveCapacity(configuration.capacity / 2)
    }

    /// A factory for the engine: one detector per shard.
    public static func factory(configuration: Configuration = Configuration()) -> DetectorFactory {
        { shard in ContainerDriftDetector(symbols: shard.symbols, configuration: configuration) }
    }

    /// How many written files are remembered now.
    public var tracked: Int { current.count + previous.count }

    public mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
        // Aged against container events only: a batch may also carry cloud events, which arrive minutes late.
        var latest = Int64.min
        for event in events where !event.container.isNone {
            latest = max(latest, event.time)
            switch event.fields {
            case .file(let file):
                inspectFile(event, file)
            case .process(let process) where event.kind == .processExec:
                inspectExec(event, process, into: &findings)
            default:
                continue
            }
        }
        if latest != .min { ageOut(now: latest) }
    }

    private mutating func inspectFile(_ event: Event, _ file: FileFields) {
        guard file.result >= 0 else { return }
        switch event.kind {
        case .fileOpen:
            if file.flags & Self.writeFlags != 0 { record(event, path: file.path) }
        case .fileWrite:
            record(event, path: file.path)
        case .fileChmod:
            if file.mode & Self.executeBits != 0 { record(event, path: file.path) }
        case .fileRename:
            forget(FileKey(container: event.container, path: file.path))
            record(event, path: file.target)
        case .fileLink:
            record(event, path: file.target)
        case .fileUnlink:
            forget(FileKey(container: event.container, path: file.path))
        default:
            return
        }
    }

    private mutating func inspectExec(_ event: Event, _ process: ProcessFields, into findings: inout [Finding]) {
        var key = FileKey(container: event.container, path: process.executable)
        var write = take(key)
        if write == nil, !process.fileName.isNone, process.fileName != process.executable {
            // A script: the executable is its interpreter, the file name the script (matched when absolute,
            // since only full paths are recorded).
            key.path = process.fileName
            write = take(key)
        }
        guard let write else { return }
        if event.time - write.time > configuration.maximumAge {
            statistics.agedOut += 1
            return
        }
        statistics.findings += 1
        findings.append(
            Finding(
                severity: .high, rule: Self.rule, mitre: Self.mitre, event: event, evidence: [write],
                explanation: explanation(exec: event, path: key.path, write: write)))
    }

    private mutating func record(_ event: Event, path: Symbol) {
        guard !path.isNone else { return }
        let key = FileKey(container: event.container, path: path)
        // A file written again moves to the newer generation.
        previous.removeValue(forKey: key)
        if current.count >= configuration.capacity / 2, current[key] == nil { rotate() }
        current[key] = event
        currentNewest = max(currentNewest, event.time)
        statistics.recorded += 1
    }

    /// Drops the older generation (counted) and starts a new one, reusing its storage.
    private mutating func rotate() {
        statistics.evicted += UInt64(previous.count)
        swap(&current, &previous)
        current.removeAll(keepingCapacity: true)
        previousNewest = currentNewest
        currentNewest = .min
    }

    /// Drops whole generations whose every write is older than the maximum age.
    private mutating func ageOut(now: Int64) {
        let limit = now - configuration.maximumAge
        if !previous.isEmpty, previousNewest < limit {
            statistics.agedOut += UInt64(previous.count)
            previous.removeAll(keepingCapacity: true)
        }
        if !current.isEmpty, currentNewest < limit {
            statistics.agedOut += UInt64(current.count)
            current.removeAll(keepingCapacity: true)
        }
    }

    private mutating func take(_ key: FileKey) -> Event? {
        if let write = current.removeValue(forKey: key) { return write }
        return previous.removeValue(forKey: key)
    }

    private mutating func forget(_ key: FileKey) {
        if current.removeValue(forKey: key) == nil { previous.removeValue(forKey: key) }
    }

    // MARK: Explanation (only when a finding is raised)

    private func explanation(exec: Event, path: Symbol, write: Event) -> String {
        let file = symbols.string(path)
        let writer = write.executable.isNone ? "an unknown program" : Self.baseName(symbols.string(write.executable))
        let how: String
        switch write.kind {
        case .fileRename: how = "renamed into place"
        case .fileLink: how = "linked into place"
        case .fileChmod: how = "made executable"
        default: how = "written"
        }
        let container = String(symbols.string(exec.container).prefix(12))
        let workload = symbols.workload(exec.workload)
        let owner = workload.kind == .host ? "" : " (\(workload.name))"
        return "\(file) was \(how) by \(writer) (pid \(write.process.pid)) and executed "
            + "\(Self.duration(exec.time - write.time)) later in container \(container)\(owner): a program that is "
            + "not part of the container's image was brought in and run."
    }

    static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        let name = path[path.index(after: slash)...]
        return name.isEmpty ? path : String(name)
    }

    /// A short duration in words: `250 ms`, `3 s`, `4 min`, `2 h`.
    static func duration(_ nanoseconds: Int64) -> String {
        let value = max(0, nanoseconds)
        if value < 1_000_000_000 { return "\(value / 1_000_000) ms" }
        let seconds = value / 1_000_000_000
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7_200 { return "\(seconds / 60) min" }
        return "\(seconds / 3_600) h"
    }
}

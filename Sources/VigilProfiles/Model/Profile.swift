import VigilCore

/// The parts of a profile. Each has its own size bound; an overflowed part is listed in
/// ``Profile/overflowedParts`` and raises no deviations (its gaps are not evidence).
public enum ProfilePart: String, Sendable, CaseIterable, Comparable {
    /// Executables run, each with its argument patterns (workloads).
    case executables
    /// Files opened, with read/write/execute access (workloads).
    case files
    /// Syscalls used, as `arch:number` (workloads).
    case syscalls
    /// Capabilities used (workloads).
    case capabilities
    /// Outbound peers: `tcp 10.0.0.7:5432`, or a CIDR once many addresses of one network appear.
    case egress
    /// Inbound peers: `tcp 10.0.3.0/24 -> :8080` (the client network and the local port).
    case ingress
    /// DNS names queried, normalized.
    case dns
    /// HTTP endpoints served: `GET /users/:id`.
    case http
    /// API actions: `iam:CreateUser`, or `k8s:get:pods/exec:default` (principals).
    case actions
    /// Cloud regions (principals).
    case regions
    /// Source addresses or networks (principals).
    case sources
    /// User agents (principals).
    case userAgents = "user_agents"
    /// Resource types (principals).
    case resourceTypes = "resource_types"

    public static func < (lhs: ProfilePart, rhs: ProfilePart) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Size bounds of a profile's parts.
public struct ProfileLimits: Sendable, Equatable {
    /// Distinct executables.
    public var executables = 256
    /// Argument patterns per executable.
    public var argumentPatterns = 32
    /// Path-trie nodes.
    public var pathNodes = 4096
    /// A directory collapses into `*` after this many distinct children.
    public var collapseThreshold = 50
    /// Members of every other part.
    public var entriesPerPart = 512
    /// Distinct addresses of one network (/24 or /64) and port before they collapse into the CIDR.
    public var addressesPerNetwork = 16

    /// The default bounds.
    public init() {}
}

/// What one workload or one cloud or Kubernetes principal normally does.
///
/// Entries are normalized strings (see ``Normalizer``); files live in a collapsing ``PathTrie``. Every
/// part is bounded. Learning and checking take the same normalized view of an event, so what was
/// learned is exactly what matches.
public struct Profile: Sendable, Equatable {
    /// Whether it describes a workload or a principal.
    public var subject: ProfileSubject
    /// The profile's name (the workload's profile name, or the principal).
    public var name: String
    /// The workload it describes, for workload profiles.
    public var workload: Workload?
    /// Its lifecycle.
    public var lifecycle: Lifecycle
    /// Its bounds.
    public let limits: ProfileLimits
    /// Executables and their argument patterns.
    public private(set) var executables: [String: BoundedSet] = [:]
    /// Whether an executable was refused because ``ProfileLimits/executables`` was reached.
    public private(set) var executablesOverflowed = false
    /// Files and their access.
    public private(set) var files: PathTrie
    /// The set-shaped parts.
    public private(set) var sets: [ProfilePart: BoundedSet] = [:]

    /// Creates an empty profile, learning.
    public init(
        subject: ProfileSubject, name: String, workload: Workload? = nil, limits: ProfileLimits = ProfileLimits(),
        partial: Bool = false
    ) {
        self.subject = subject
        self.name = name
        self.workload = workload
        self.limits = limits
        self.lifecycle = Lifecycle(partial: partial)
        self.files = PathTrie(collapseThreshold: limits.collapseThreshold, capacity: limits.pathNodes)
    }

    /// The key under which the profile is stored.
    public var key: ProfileKey { ProfileKey(subject: subject, name: name) }

    /// The parts that reached their bound.
    public var overflowedParts: [ProfilePart] {
        var parts = sets.filter { $0.value.overflowed }.map(\.key)
        if files.overflowed { parts.append(.files) }
        if executablesOverflowed || executables.values.contains(where: \.overflowed) { parts.append(.executables) }
        return parts.sorted()
    }

    /// The members of a set-shaped part, sorted.
    public func entries(_ part: ProfilePart) -> [String] { sets[part]?.sorted ?? [] }

    /// How many entries the profile holds, in all parts.
    public var entryCount: Int {
        executables.values.reduce(executables.count) { $0 + $1.count } + files.entries.count
            + sets.values.reduce(0) { $0 + $1.count }
    }

    // MARK: Learning

    /// Learns what `observation` shows; returns true when it added an entry.
    @discardableResult
    public mutating func learn(_ observation: Observation) -> Bool {
        var added = false
        switch observation {
        case .execution(let executable, let arguments):
            if executables[executable] == nil {
                if executables.count >= limits.executables {
                    executablesOverflowed = true
                    return false
                }
                executables[executable] = BoundedSet(capacity: limits.argumentPatterns)
                added = true
            }
            added = executables[executable]!.insert(arguments) || added
            added =
                (files.access(of: executable)?.contains(.execute) != true && files.insert(executable, access: .execute))
                || added
        case .file(let path, let access):
            if let known = files.access(of: path), known.isSuperset(of: access) { return false }
            added = files.insert(path, access: access)
        case .entries(let entries):
            for (part, entry) in entries {
                if part == .egress || part == .sources, let network = NetworkEntry.network(of: entry) {
                    added = learnAddress(entry, network: network, part: part) || added
                } else {
                    added = sets[part, default: BoundedSet(capacity: limits.entriesPerPart)].insert(entry) || added
                }
            }
        }
        return added
    }

    /// Adds an address entry, collapsing the addresses of one network and port into its CIDR once there
    /// are more than ``ProfileLimits/addressesPerNetwork``.
    private mutating func learnAddress(_ entry: String, network: String, part: ProfilePart) -> Bool {
        var set = sets[part] ?? BoundedSet(capacity: limits.entriesPerPart)
        defer { sets[part] = set }
        if set.contains(entry) || set.contains(network) { return false }
        let siblings = set.members.filter { NetworkEntry.network(of: $0) == network }
        if siblings.count >= limits.addressesPerNetwork {
            for sibling in siblings { set.remove(sibling) }
            return set.insert(network)
        }
        return set.insert(entry)
    }

    // MARK: Checking

    /// Whether `observation` is within the profile (nothing in it is new).
    public func contains(_ observation: Observation) -> Bool {
        switch observation {
        case .execution(let executable, let arguments):
            guard let patterns = executables[executable] else { return executablesOverflowed }
            return patterns.contains(arguments) || patterns.overflowed
        case .file(let path, let access):
            if files.overflowed { return true }
            return files.access(of: path)?.isSuperset(of: access) ?? false
        case .entries(let entries):
            return entries.allSatisfy { part, entry in
                guard let set = sets[part] else { return false }
                if set.overflowed || set.contains(entry) { return true }
                if let network = NetworkEntry.network(of: entry) { return set.contains(network) }
                return false
            }
        }
    }

    /// The parts and entries of `observation` that are not in the profile, each with a few entries of the
    /// same part that are (for explanations).
    public func differences(_ observation: Observation) -> [(part: ProfilePart, entry: String, nearby: [String])] {
        switch observation {
        case .execution(let executable, let arguments):
            if let patterns = executables[executable] {
                if patterns.contains(arguments) || patterns.overflowed { return [] }
                return [
                    (
                        .executables, "\(executable) \(arguments)",
                        Array(patterns.sorted.prefix(3)).map {
                            "\(executable) \($0)"
                        }
                    )
                ]
            }
            if executablesOverflowed { return [] }
            return [(.executables, executable, Array(executables.keys.sorted().prefix(5)))]
        case .file(let path, let access):
            if contains(observation) { return [] }
            let known = files.access(of: path)
            var nearby = known.map { ["\(path) (\($0.letters))"] } ?? files.siblings(of: path, limit: 5)
            if nearby.isEmpty { nearby = files.entries.prefix(5).map { "\($0.path) (\($0.access.letters))" } }
            return [(.files, "\(path) (\(access.letters))", nearby)]
        case .entries(let observed):
            var result: [(part: ProfilePart, entry: String, nearby: [String])] = []
            for (part, entry) in observed where !contains(.entries([(part, entry)])) {
                result.append((part, entry, Array(entries(part).prefix(5))))
            }
            return result
        }
    }

    // MARK: Merging

    /// Learns everything `other` holds (replicas on several nodes, or a stored profile), within bounds.
    public mutating func merge(_ other: Profile) {
        for (executable, patterns) in other.executables.sorted(by: { $0.key < $1.key }) {
            for pattern in patterns.sorted { learn(.execution(executable: executable, arguments: pattern)) }
            if patterns.overflowed { executables[executable]?.markOverflowed() }
        }
        if other.executablesOverflowed { executablesOverflowed = true }
        files.merge(other.files)
        for (part, set) in other.sets {
            var merged = sets[part] ?? BoundedSet(capacity: limits.entriesPerPart)
            merged.merge(set)
            sets[part] = merged
        }
        lifecycle = lifecycle.merged(with: other.lifecycle)
    }

    /// Restores a set part from storage.
    mutating func restore(_ part: ProfilePart, entries: [String], overflowed: Bool) {
        var set = BoundedSet(capacity: limits.entriesPerPart)
        for entry in entries { set.insert(entry) }
        if overflowed { set.markOverflowed() }
        sets[part] = set
    }

    /// Restores an executable from storage.
    mutating func restoreExecutable(_ executable: String, patterns: [String], overflowed: Bool) {
        var set = BoundedSet(capacity: limits.argumentPatterns)
        for pattern in patterns { set.insert(pattern) }
        if overflowed { set.markOverflowed() }
        executables[executable] = set
    }

    /// Restores the file trie from storage.
    mutating func restoreFiles(_ entries: [(String, FileAccess)], overflowed: Bool) {
        for (path, access) in entries { files.insert(path, access: access) }
        if overflowed { files.markOverflowed() }
    }

    /// Marks executables as overflowed (from storage).
    mutating func markExecutablesOverflowed() { executablesOverflowed = true }
}

extension PathTrie {
    mutating func markOverflowed() { overflowedFlag = true }
}

/// The profile-relevant view of one event, already normalized: what learning adds and checking looks up.
public enum Observation: Sendable {
    /// An executable ran with an argument pattern.
    case execution(executable: String, arguments: String)
    /// A file was accessed.
    case file(path: String, access: FileAccess)
    /// Entries of set-shaped parts (a cloud call touches actions, regions, sources and user agents).
    case entries([(ProfilePart, String)])
}

/// Address entries: `tcp 10.0.0.7:5432` and their networks `tcp 10.0.0.0/24:5432`.
enum NetworkEntry {
    /// The entry's network form, or nil when the entry is not an address entry or already a network.
    static func network(of entry: String) -> String? {
        // Forms: "<proto> <address>:<port>" (egress) or "<address>" (sources).
        let parts = entry.split(separator: " ", maxSplits: 1).map(String.init)
        let (prefix, body) = parts.count == 2 ? (parts[0] + " ", parts[1]) : ("", parts[0])
        var address = body
        var port = ""
        if body.hasPrefix("["), let close = body.firstIndex(of: "]") {
            address = String(body[body.index(after: body.startIndex)..<close])
            port = String(body[body.index(after: close)...])
        } else if parts.count == 2, let colon = body.lastIndex(of: ":") {
            address = String(body[..<colon])
            port = String(body[colon...])
        }
        if address.contains("/") { return nil }
        guard let ip = IPAddress(address) else { return nil }
        let bytes = ip.bytes
        switch ip.family {
        case .v4:
            let network = "\(bytes[12]).\(bytes[13]).\(bytes[14]).0/24"
            return prefix + network + port
        case .v6:
            var masked = Array(bytes[0..<8]) + Array(repeating: 0, count: 8)
            masked[7] = bytes[7]
            let network = "\(IPAddress(v6: masked))/64"
            return prefix + (port.isEmpty ? network : "[\(network)]\(port)")
        case .none:
            return nil
        }
    }
}

/// How a file was opened, as a set of bits.
public struct FileAccess: OptionSet, Hashable, Sendable, BitwiseCopyable {
    /// The bits.
    public var rawValue: UInt8
    /// Access from its bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Opened for reading.
    public static let read = FileAccess(rawValue: 1 << 0)
    /// Opened for writing (or created, truncated, appended).
    public static let write = FileAccess(rawValue: 1 << 1)
    /// Executed.
    public static let execute = FileAccess(rawValue: 1 << 2)

    /// The access an `open` with these flags asks for (`O_WRONLY` = 1, `O_RDWR` = 2, `O_CREAT` = 0o100,
    /// `O_TRUNC` = 0o1000, `O_APPEND` = 0o2000).
    public init(openFlags flags: UInt32) {
        let mode = flags & 0b11
        var access: FileAccess = mode == 1 ? [] : [.read]
        if mode == 1 || mode == 2 || flags & (0o100 | 0o1000 | 0o2000) != 0 { access.insert(.write) }
        self = access
    }

    /// `r`, `w`, `x` letters, as in `rw-`.
    public var letters: String {
        (contains(.read) ? "r" : "-") + (contains(.write) ? "w" : "-") + (contains(.execute) ? "x" : "-")
    }

    /// Parses `letters`.
    public init?(letters: String) {
        guard letters.count == 3 else { return nil }
        let chars = Array(letters)
        var access: FileAccess = []
        if chars[0] == "r" { access.insert(.read) } else if chars[0] != "-" { return nil }
        if chars[1] == "w" { access.insert(.write) } else if chars[1] != "-" { return nil }
        if chars[2] == "x" { access.insert(.execute) } else if chars[2] != "-" { return nil }
        self = access
    }
}

/// The files a workload touched, as a trie of normalized path segments with the access seen at each path.
///
/// A directory that gains more than `collapseThreshold` distinct children collapses them into one
/// wildcard child `*` (their subtrees merge), except children on a sensitive path, which stay exact so
/// that an access to `/etc/shadow` never hides behind `/etc/*`. The trie holds at most `capacity` nodes;
/// past that it stops learning and says so (``overflowed``).
public struct PathTrie: Sendable, Equatable {
    struct Node: Sendable, Equatable {
        var children: [String: Int] = [:]
        var wildcard: Int?
        var access: FileAccess = []
        var isEntry = false
    }

    private(set) var nodes: [Node] = [Node()]
    /// A directory collapses after this many distinct children.
    public let collapseThreshold: Int
    /// The most nodes kept.
    public let capacity: Int
    /// Whether a path could not be learned because the trie was full.
    public var overflowed: Bool { overflowedFlag }
    var overflowedFlag = false

    /// The wildcard segment.
    public static let wildcard = "*"

    /// Creates an empty trie.
    public init(collapseThreshold: Int = 50, capacity: Int = 4096) {
        self.collapseThreshold = max(1, collapseThreshold)
        self.capacity = max(1, capacity)
    }

    /// How many nodes the trie holds (its size bound counts these).
    public var nodeCount: Int { nodes.count }

    /// Learns an access to a normalized path. Returns false when the trie is full.
    @discardableResult
    public mutating func insert(_ path: String, access: FileAccess) -> Bool {
        var node = 0
        var prefix = ""
        for segment in Self.segments(of: path) {
            prefix += "/" + segment
            if let existing = nodes[node].children[segment] {
                node = existing
                continue
            }
            if let wildcard = nodes[node].wildcard, segment != Self.wildcard, !SensitivePaths.isOnSensitivePath(prefix)
            {
                node = wildcard
                continue
            }
            guard nodes.count < capacity else {
                overflowedFlag = true
                return false
            }
            nodes.append(Node())
            let child = nodes.count - 1
            if segment == Self.wildcard {
                nodes[node].wildcard = child
            } else {
                nodes[node].children[segment] = child
            }
            if nodes[node].children.count > collapseThreshold {
                // Collapsing renumbers the nodes: walk on from the parent's new place, to wherever the new child
                // now lives (it may have merged into the wildcard).
                let parent = collapse(node, prefix: String(prefix.dropLast(segment.count + 1)))
                guard let next = nodes[parent].children[segment] ?? nodes[parent].wildcard else {
                    preconditionFailure("a collapsed directory has neither the new child nor a wildcard")
                }
                node = next
            } else {
                node = child
            }
        }
        nodes[node].access.formUnion(access)
        nodes[node].isEntry = true
        return true
    }

    /// The access learned for a normalized path (following wildcards), or nil when it was never seen.
    /// A wildcard never stands for a sensitive path: `/etc/*` does not cover `/etc/shadow`.
    public func access(of path: String) -> FileAccess? {
        var result: FileAccess?
        Self.segments(of: path).withUnsafeBufferPointer { segments in
            result = match(node: 0, segments: segments[...], prefix: "")
        }
        return result
    }

    private func match(node: Int, segments: Slice<UnsafeBufferPointer<String>>, prefix: String) -> FileAccess? {
        guard let first = segments.first else { return nodes[node].isEntry ? nodes[node].access : nil }
        let rest = segments.dropFirst()
        let path = prefix + "/" + first
        if let child = nodes[node].children[first], let found = match(node: child, segments: rest, prefix: path) {
            return found
        }
        if let wildcard = nodes[node].wildcard, !SensitivePaths.isOnSensitivePath(path),
            let found = match(node: wildcard, segments: rest, prefix: path)
        {
            return found
        }
        return nil
    }

    /// Up to `limit` learned paths in the directory of `path` (for explanations: what was there instead).
    public func siblings(of path: String, limit: Int) -> [String] {
        var directory = Self.segments(of: path)
        if !directory.isEmpty { directory.removeLast() }
        var node = 0
        for segment in directory {
            guard let next = nodes[node].children[segment] ?? nodes[node].wildcard else { return [] }
            node = next
        }
        let base = directory.isEmpty ? "" : "/" + directory.joined(separator: "/")
        var names = nodes[node].children.keys.sorted().map { base + "/" + $0 }
        if nodes[node].wildcard != nil { names.insert(base + "/" + Self.wildcard, at: 0) }
        return Array(names.prefix(limit))
    }

    /// Every learned path with its access, sorted.
    public var entries: [(path: String, access: FileAccess)] {
        var result: [(String, FileAccess)] = []
        func walk(_ node: Int, _ prefix: String) {
            if nodes[node].isEntry { result.append((prefix.isEmpty ? "/" : prefix, nodes[node].access)) }
            for (segment, child) in nodes[node].children { walk(child, prefix + "/" + segment) }
            if let wildcard = nodes[node].wildcard { walk(wildcard, prefix + "/" + Self.wildcard) }
        }
        walk(0, "")
        return result.sorted { $0.0 < $1.0 }
    }

    /// Learns every entry of `other`.
    public mutating func merge(_ other: PathTrie) {
        for (path, access) in other.entries { insert(path, access: access) }
        if other.overflowed { overflowedFlag = true }
    }

    /// Folds the non-sensitive children of `node` into its wildcard child.
    /// Folds a directory's children into its wildcard; returns the directory's index after compaction.
    private mutating func collapse(_ node: Int, prefix: String) -> Int {
        let children = nodes[node].children
        let wildcard: Int
        if let existing = nodes[node].wildcard {
            wildcard = existing
        } else {
            nodes.append(Node())
            wildcard = nodes.count - 1
            nodes[node].wildcard = wildcard
        }
        for (segment, child) in children.sorted(by: { $0.key < $1.key }) {
            if SensitivePaths.isOnSensitivePath(prefix + "/" + segment) { continue }
            nodes[node].children[segment] = nil
            fold(child, into: wildcard)
        }
        return compact()[node]
    }

    /// Merges the subtree at `source` into the subtree at `target`.
    private mutating func fold(_ source: Int, into target: Int) {
        nodes[target].access.formUnion(nodes[source].access)
        nodes[target].isEntry = nodes[target].isEntry || nodes[source].isEntry
        for (segment, child) in nodes[source].children {
            if let existing = nodes[target].children[segment] {
                fold(child, into: existing)
            } else {
                nodes[target].children[segment] = child
            }
        }
        if let sourceWildcard = nodes[source].wildcard {
            if let targetWildcard = nodes[target].wildcard {
                fold(sourceWildcard, into: targetWildcard)
            } else {
                nodes[target].wildcard = sourceWildcard
            }
        }
    }

    /// Drops nodes no longer reachable after a collapse, so the size bound counts only live nodes. Returns
    /// each old index's new one (-1 for a dropped node).
    private mutating func compact() -> [Int] {
        var mapping = [Int](repeating: -1, count: nodes.count)
        var kept: [Node] = []
        kept.reserveCapacity(nodes.count)
        func visit(_ index: Int) -> Int {
            if mapping[index] >= 0 { return mapping[index] }
            mapping[index] = kept.count
            kept.append(nodes[index])
            let position = mapping[index]
            var children: [String: Int] = [:]
            for (segment, child) in nodes[index].children { children[segment] = visit(child) }
            kept[position].children = children
            kept[position].wildcard = nodes[index].wildcard.map(visit)
            return position
        }
        _ = visit(0)
        nodes = kept
        return mapping
    }

    static func segments(of path: String) -> [String] {
        path.split(separator: "/").map(String.init)
    }

    public static func == (lhs: PathTrie, rhs: PathTrie) -> Bool {
        lhs.entries.map(\.path) == rhs.entries.map(\.path) && lhs.entries.map(\.access) == rhs.entries.map(\.access)
            && lhs.overflowed == rhs.overflowed
    }
}

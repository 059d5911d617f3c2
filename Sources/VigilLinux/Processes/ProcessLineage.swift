/// The ancestry of a process, read from /proc: the safety rails use it to protect the agent and the processes
/// it descends from.
public enum ProcessLineage {
    /// The parent chain of `pid` from its parent up to pid 1, inclusive of 1, excluding `pid` itself.
    ///
    /// Stops early, returning what it found, when an ancestor cannot be read (it exited, or another pid
    /// namespace hides it) or its parent is 0. Empty for pid 1 and for a process that does not exist.
    public static func ancestors(of pid: Int32, root: String = "/proc") -> [Int32] {
        var chain: [Int32] = []
        var current = pid
        // A pid's parent always started before it, so the chain is short; the bound only guards a corrupt
        // or fake /proc.
        while current != 1, chain.count < 4096 {
            guard let bytes = try? SystemFiles.read("\(root)/\(current)/stat"),
                let stat = ProcFiles.parseStat(bytes), stat.parentPID > 0
            else { break }
            chain.append(stat.parentPID)
            current = stat.parentPID
        }
        return chain
    }
}

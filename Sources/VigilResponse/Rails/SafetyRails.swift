import Glibc
import Synchronization
import VigilCore
import VigilLinux

/// A safety rail's refusal: which rail, and why. Its description is the record's detail.
public struct RailRefusal: Sendable, Equatable, CustomStringConvertible {
    /// The rail's name (`init process`, `kernel thread`, `agent`, `agent ancestor`, `allowed executable`,
    /// `allowed workload`, `container scope`, `rate limit`, `target rate limit`).
    public var rail: String
    /// Why it refused.
    public var reason: String

    /// Creates a refusal.
    public init(rail: String, reason: String) {
        self.rail = rail
        self.reason = reason
    }

    /// `refused by safety rail '<rail>': <reason>`.
    public var description: String { "refused by safety rail '\(rail)': \(reason)" }
}

/// The checks every action passes before it is taken, whatever the policy says: never pid 0 or 1, kernel
/// threads, the agent or its ancestors, allowlisted executables or workloads, a container that holds the
/// agent; and no more than the rate limits allow.
///
/// The rails are checked in dry-run too, so that a dry run shows what would really happen; actions refused
/// by a rail are not counted against the rate limits.
public final class SafetyRails: Sendable {
    /// What is never acted on.
    public let allow: ResponseAllowlist
    /// How often actions may be taken.
    public let limits: ResponseLimits
    /// The agent's own pid, never acted on, nor its ancestors.
    public let agentPID: Int32
    /// The agent's cgroup, which a container-wide action must not contain.
    private let agentCgroup: String
    private let window = Mutex(RateWindow())

    /// Creates the rails of `policy`, protecting the process `agentPID` (this process unless told otherwise)
    /// and its ancestors.
    public convenience init(policy: ResponsePolicy, agentPID: Int32 = getpid()) {
        self.init(allow: policy.allow, limits: policy.limits, agentPID: agentPID)
    }

    /// Creates rails.
    public init(allow: ResponseAllowlist, limits: ResponseLimits, agentPID: Int32 = getpid()) {
        self.allow = allow
        self.limits = limits
        self.agentPID = agentPID
        self.agentCgroup = (try? ProcFS.snapshot(pid: agentPID).cgroupPath) ?? ""
    }

    /// The refusal for acting on `pid` at all, before the process is looked up: pid 0 (no process), pid 1,
    /// the agent and its ancestors.
    public func refusal(pid: Int32) -> RailRefusal? {
        if pid <= 0 {
            return RailRefusal(rail: "no process", reason: "the alert names no process (pid \(pid))")
        }
        if pid == 1 {
            return RailRefusal(rail: "init process", reason: "pid 1 is never acted on")
        }
        if pid == agentPID {
            return RailRefusal(rail: "agent", reason: "pid \(pid) is the agent itself")
        }
        // Read at each check: a parent that exits changes the lineage (the agent is re-parented).
        if ProcessLineage.ancestors(of: agentPID).contains(pid) {
            return RailRefusal(
                rail: "agent ancestor", reason: "pid \(pid) is an ancestor of the agent (pid \(agentPID))")
        }
        return nil
    }

    /// The refusal for acting in the workload named `workload`, if it is allowlisted.
    public func refusal(workload: String) -> RailRefusal? {
        guard let pattern = allow.allowing(workload: workload) else { return nil }
        return RailRefusal(rail: "allowed workload", reason: "workload \(workload) is allowed by '\(pattern)'")
    }

    /// The refusal for acting on the live `process` with `scope`: kernel threads, allowlisted executables
    /// (the live executable, or the one the event saw, `eventExecutable`), and a container-wide action on a
    /// cgroup that holds the agent or on no container at all (`inContainer` false).
    public func refusal(
        process: TargetProcess, eventExecutable: String, scope: ResponseScope, inContainer: Bool
    ) -> RailRefusal? {
        if process.isKernelThread {
            return RailRefusal(rail: "kernel thread", reason: "pid \(process.pid) is a kernel thread")
        }
        for executable in [process.executable, eventExecutable] {
            if let pattern = allow.allowing(executable: executable) {
                return RailRefusal(
                    rail: "allowed executable", reason: "\(executable) (pid \(process.pid)) is allowed by '\(pattern)'")
            }
        }
        if scope == .container {
            guard inContainer, !process.cgroup.isEmpty, process.cgroup != "/" else {
                return RailRefusal(
                    rail: "container scope", reason: "pid \(process.pid) is not in a container; act on the process")
            }
            if agentCgroup == process.cgroup || agentCgroup.hasPrefix(process.cgroup + "/") {
                return RailRefusal(
                    rail: "container scope", reason: "cgroup \(process.cgroup) holds the agent (pid \(agentPID))")
            }
        }
        return nil
    }

    /// Counts an action on `target` against the rate limits, or refuses it when a limit is reached (and
    /// then does not count it).
    public func admit(_ target: ResponseTarget, now: ContinuousClock.Instant = .now) -> RailRefusal? {
        window.withLock { window in
            window.prune(before: now - .seconds(60))
            if window.all.count >= limits.perMinute {
                return RailRefusal(
                    rail: "rate limit", reason: "\(limits.perMinute) actions in the last minute (limits.per_minute)")
            }
            if window.perTarget[target.process, default: 0] >= limits.perTargetPerMinute {
                return RailRefusal(
                    rail: "target rate limit",
                    reason: "\(limits.perTargetPerMinute) actions on process \(target.process) in the last minute "
                        + "(limits.per_target_per_minute)")
            }
            window.add(target.process, at: now)
            return nil
        }
    }
}

/// The actions of the last minute, overall and per target. Bounded by the global limit: only admitted
/// actions are kept, and a minute's worth at most.
private struct RateWindow {
    var all: [(time: ContinuousClock.Instant, target: ProcessKey)] = []
    var perTarget: [ProcessKey: Int] = [:]

    mutating func prune(before cutoff: ContinuousClock.Instant) {
        let stale = all.prefix { $0.time < cutoff }
        for entry in stale {
            perTarget[entry.target, default: 1] -= 1
            if perTarget[entry.target] == 0 { perTarget[entry.target] = nil }
        }
        all.removeFirst(stale.count)
    }

    mutating func add(_ target: ProcessKey, at time: ContinuousClock.Instant) {
        all.append((time, target))
        perTarget[target, default: 0] += 1
    }
}

/// An action a responder can take.
public enum ResponseActionKind: String, Sendable, CaseIterable {
    /// Send the alert to the outputs and webhook; change nothing.
    case report
    /// SIGKILL the process, or kill the whole container through its cgroup.
    case kill
    /// SIGTERM, then SIGKILL after a grace period.
    case stop
    /// Freeze the process or container.
    case pause
    /// Thaw a paused process or container.
    case resume
    /// Move into a quarantine cgroup that denies network except an allowlist.
    case quarantine
    /// Release from quarantine.
    case release
    /// Enforce a learned seccomp profile.
    case enforceSeccomp = "enforce_seccomp"

    /// The action that undoes this one, if it can be undone.
    public var undo: ResponseActionKind? {
        switch self {
        case .pause: return .resume
        case .quarantine: return .release
        default: return nil
        }
    }
}

/// What an action is aimed at.
public struct ResponseTarget: Hashable, Sendable {
    /// The process, or ``ProcessKey/none``.
    public var process: ProcessKey
    /// The workload.
    public var workload: WorkloadID
    /// The container instance, or none to act on the process alone.
    public var container: Symbol

    /// Creates a target.
    public init(process: ProcessKey, workload: WorkloadID = .host, container: Symbol = .none) {
        self.process = process
        self.workload = workload
        self.container = container
    }
}

/// An action to take, and why.
public struct ResponseAction: Hashable, Sendable {
    /// What to do.
    public var kind: ResponseActionKind
    /// To what.
    public var target: ResponseTarget
    /// Why: the finding or incident id that asked for it.
    public var reason: String

    /// Creates an action.
    public init(kind: ResponseActionKind, target: ResponseTarget, reason: String) {
        self.kind = kind
        self.target = target
        self.reason = reason
    }
}

/// How an action ended.
public enum ResponseOutcome: String, Sendable, CaseIterable {
    /// It was done.
    case done
    /// It was attempted and failed.
    case failed
    /// A safety rail or the policy refused it.
    case refused
    /// Dry-run: it would have been done.
    case dryRun = "dry_run"
}

/// An action and its outcome, as recorded in the audit trail and attached to the alert.
public struct ResponseRecord: Sendable, Equatable {
    /// The action.
    public var action: ResponseAction
    /// How it ended.
    public var outcome: ResponseOutcome
    /// Details: the error, the rail that refused it, what was done.
    public var detail: String
    /// When it ended, in nanoseconds since the epoch.
    public var time: Int64

    /// Creates a record.
    public init(action: ResponseAction, outcome: ResponseOutcome, detail: String, time: Int64) {
        self.action = action
        self.outcome = outcome
        self.detail = detail
        self.time = time
    }
}

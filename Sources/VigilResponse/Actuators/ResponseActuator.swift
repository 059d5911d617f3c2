import VigilCore

/// A live process as an actuator found it: what the safety rails check before anything is done to it.
public struct TargetProcess: Sendable, Equatable {
    /// The process id.
    public var pid: Int32
    /// When it started, in the convention of ``VigilCore/ProcessKey/startTime``.
    public var startTime: UInt64
    /// The executable's path, or empty when it cannot be read.
    public var executable: String
    /// Whether it is a kernel thread.
    public var isKernelThread: Bool
    /// Its cgroup v2 path (`/system.slice/x.service`), or empty when not known.
    public var cgroup: String

    /// Creates a description of a process.
    public init(pid: Int32, startTime: UInt64, executable: String, isKernelThread: Bool, cgroup: String = "") {
        self.pid = pid
        self.startTime = startTime
        self.executable = executable
        self.isKernelThread = isKernelThread
        self.cgroup = cgroup
    }
}

/// Carries out response actions on the system: the one place that changes processes.
///
/// ``PolicyResponder`` decides and checks the safety rails; the actuator only acts, and only on the exact
/// process a ``VigilCore/ProcessKey`` names (pid and start time), never on a process that reused the pid.
/// ``LinuxActuator`` is the real one.
public protocol ResponseActuator: Sendable {
    /// The live process `process` names.
    ///
    /// - Throws: ``ResponseError`` `.processGone` when it has exited, `.processReplaced` when its pid now
    ///   belongs to a process with another start time, `.failed` when it cannot be read.
    func inspect(_ process: ProcessKey) throws(ResponseError) -> TargetProcess

    /// Performs `action` and says what was done, in words for the audit trail.
    ///
    /// - Parameters:
    ///   - grace: for `stop`, how long to wait after SIGTERM before SIGKILL.
    ///   - scope: whether to act on the process or on its whole container.
    /// - Throws: ``ResponseError`` when the action could not be done; it changed nothing or, for `stop`, as
    ///   much as its message says.
    func perform(_ action: ResponseAction, grace: Duration, scope: ResponseScope) async throws(ResponseError) -> String
}

/// Why an action could not be done.
public struct ResponseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; a struct so that codes can be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The target process has exited.
        public static let processGone = Code("process gone")
        /// The target's pid belongs to another process now (the target exited and its pid was reused).
        public static let processReplaced = Code("process replaced")
        /// The action is not available here (no quarantine configured, seccomp outside vigil-exec).
        public static let unsupported = Code("unsupported")
        /// The system refused or failed the action.
        public static let failed = Code("failed")
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// What happened, in words.
    public var message: String

    /// Creates an error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

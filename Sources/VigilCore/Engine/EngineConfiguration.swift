#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How the engine runs.
public struct EngineConfiguration: Sendable {
    /// How many shards (workers) process events; each workload's events always go to the same shard.
    public var shards: Int
    /// How many events each shard queues before sensors' pushes start dropping.
    public var shardQueueCapacity: Int
    /// How many findings wait for the correlator before shards wait.
    public var findingQueueCapacity: Int
    /// How many processes the engine remembers for the ancestry of findings (one table for all shards).
    public var processTableCapacity: Int

    /// Creates a configuration; `shards` defaults to the number of online cores.
    public init(
        shards: Int? = nil,
        shardQueueCapacity: Int = 1 << 16,
        findingQueueCapacity: Int = 1 << 14,
        processTableCapacity: Int = 1 << 16
    ) {
        self.shards = max(1, shards ?? Self.onlineCores)
        self.shardQueueCapacity = max(1, shardQueueCapacity)
        self.findingQueueCapacity = max(1, findingQueueCapacity)
        self.processTableCapacity = processTableCapacity
    }

    /// The number of online cores, read once. (The only libc call in the core: a sysconf read, no I/O.)
    public static let onlineCores: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}

/// A failure of the engine as a whole.
public struct EngineError: Error, CustomStringConvertible {
    /// What went wrong; a struct so that codes can be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// `run()` was called on an engine that already ran.
        public static let alreadyRun = Code("already run")
        /// A sensor's `run` threw.
        public static let sensorFailed = Code("sensor failed")
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// Details, naming the sensor where relevant.
    public var message: String
    /// The error that caused it, if any.
    public var underlying: (any Error)?

    /// Creates an engine error.
    public init(code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying { return "\(message): \(underlying)" }
        return message
    }
}

/// A snapshot of what the engine has counted.
public struct EngineStatistics: Sendable, Equatable {
    /// Events sensors delivered, in all.
    public var eventsReceived: UInt64
    /// Events dropped because the engine was full, per sensor and kind.
    public var eventsDropped: [String: [EventKind: UInt64]]
    /// Findings raised.
    public var findings: UInt64
    /// Incidents reported.
    public var incidents: UInt64
    /// Response actions recorded.
    public var actions: UInt64
    /// Processes the shards' process tables forgot because they were full: findings about their
    /// descendants show a shorter ancestry.
    public var processesForgotten: UInt64
    /// Alert writes that failed.
    public var outputErrors: UInt64

    /// Dropped events, in all.
    public var totalDropped: UInt64 { eventsDropped.values.flatMap(\.values).reduce(0, +) }
}

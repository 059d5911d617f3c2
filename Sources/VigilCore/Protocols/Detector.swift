/// Examines events and raises findings.
///
/// The engine makes one detector per shard through a ``DetectorFactory``; a detector is only ever used by
/// its shard, so it keeps per-workload state without locks. `inspect` is called once per batch (the only
/// dynamic dispatch); the loop over events inside it is the detector's own, specialised code.
public protocol Detector {
    /// Examines `events`, in order, and appends any findings to `findings`.
    mutating func inspect(_ events: EventBatch, into findings: inout [Finding])
}

/// What a shard's detector is made for.
public struct ShardInfo: Sendable {
    /// The shard's index, from 0.
    public var index: Int
    /// How many shards the engine runs.
    public var count: Int
    /// The symbol table shared by sensors and detectors.
    public var symbols: SymbolTable

    /// Creates shard information.
    public init(index: Int, count: Int, symbols: SymbolTable) {
        self.index = index
        self.count = count
        self.symbols = symbols
    }
}

/// Makes a shard's detector. Called once per shard when the engine starts.
public typealias DetectorFactory = @Sendable (ShardInfo) -> any Detector

/// Runs several detectors as one, in order.
public struct DetectorChain: Detector {
    /// The detectors.
    public var detectors: [any Detector]

    /// Creates a chain.
    public init(_ detectors: [any Detector]) { self.detectors = detectors }

    public mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
        for index in detectors.indices { detectors[index].inspect(events, into: &findings) }
    }
}

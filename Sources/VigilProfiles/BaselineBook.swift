import Synchronization
import VigilCore

/// Whose baseline an event belongs to: its workload, or its principal for control-plane events (the same
/// split the engine shards by, so a subject's baseline lives in exactly one shard's partition).
@frozen
public struct Subject: Hashable, Sendable, BitwiseCopyable {
    /// Whether the id is a principal symbol rather than a workload id.
    public var isPrincipal: Bool
    /// The workload id or principal symbol.
    public var id: UInt32

    /// The subject of `event`.
    @inlinable
    public init(of event: Event) {
        switch event.layer {
        case .cloud, .cluster:
            isPrincipal = true
            id = event.principal.rawValue
        case .workload, .application:
            isPrincipal = false
            id = event.workload.rawValue
        }
    }

    /// A readable name: the workload's name or the principal.
    public func name(in symbols: SymbolTable) -> String {
        isPrincipal ? symbols.string(Symbol(rawValue: id)) : symbols.workload(WorkloadID(rawValue: id)).name
    }
}

/// The baselines of every subject, learned in one phase and checked in the next.
///
/// Split into one partition per engine shard: a shard's detector only ever touches its own partition,
/// and the engine sends each subject's events to one shard, so no partition is shared between threads
/// and the per-event path takes no lock. Use the book with engines of ``shardCount`` shards, and read
/// ``baselines`` only while no engine is running.
public final class BaselineBook: @unchecked Sendable {
    /// Whether events teach the baselines or are checked against them.
    public enum Phase: UInt8, Sendable {
        /// Events are learned.
        case learning
        /// Events are checked; deviations from a subject's baseline are findings.
        case detecting
    }

    /// One shard's baselines.
    final class Partition {
        var baselines: [Subject: Baseline] = [:]
        /// Deviations already reported, so a repeated one is reported once per subject.
        var reported: [Subject: Set<Behavior>] = [:]
    }

    /// The number of shards of the engines this book serves.
    public let shardCount: Int
    /// The most behaviors each subject's baseline keeps.
    public let capacityPerSubject: Int
    private let partitions: [Partition]
    private let phaseValue = Atomic<UInt8>(Phase.learning.rawValue)

    /// Creates an empty book, in the learning phase.
    public init(shardCount: Int, capacityPerSubject: Int = 10_000) {
        self.shardCount = shardCount
        self.capacityPerSubject = capacityPerSubject
        self.partitions = (0..<shardCount).map { _ in Partition() }
    }

    /// The current phase.
    public var phase: Phase {
        get { Phase(rawValue: phaseValue.load(ordering: .acquiring))! }
        set { phaseValue.store(newValue.rawValue, ordering: .releasing) }
    }

    func partition(for shard: ShardInfo) -> Partition {
        precondition(
            shard.count == shardCount, "the book has \(shardCount) partitions, the engine \(shard.count) shards")
        return partitions[shard.index]
    }

    /// Every subject's baseline. Call only while no engine uses the book.
    public var baselines: [Subject: Baseline] {
        partitions.reduce(into: [:]) { result, partition in result.merge(partition.baselines) { first, _ in first } }
    }

    /// A detector factory for an engine of ``shardCount`` shards.
    public var detectorFactory: DetectorFactory {
        { shard in DeviationDetector(book: self, shard: shard) }
    }
}

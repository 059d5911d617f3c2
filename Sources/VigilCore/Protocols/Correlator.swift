/// Joins findings into incidents (attack stories).
///
/// The engine runs one correlator, on one task, fed with every finding in the order the shards produce
/// them; it needs no locks. It is made by a ``CorrelatorFactory`` when the engine starts.
public protocol Correlator {
    /// Takes new findings and appends any incidents that are ready to report (new or grown).
    mutating func correlate(_ findings: [Finding], into incidents: inout [Incident])

    /// Called once when the engine drains: appends the incidents still open.
    mutating func finish(into incidents: inout [Incident])
}

/// Makes the engine's correlator.
public typealias CorrelatorFactory = @Sendable () -> any Correlator

/// How urgent a finding or incident is. Ordered: `info < low < medium < high < critical`.
public enum Severity: UInt8, Sendable, BitwiseCopyable, Comparable, CaseIterable, CustomStringConvertible {
    /// Context worth recording, not worth a look on its own.
    case info
    /// Unusual; worth a look when it joins others.
    case low
    /// Suspicious.
    case medium
    /// Likely malicious.
    case high
    /// Malicious with high confidence, or an active attack across layers.
    case critical

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `info`, `low`, `medium`, `high`, `critical`.
    public var name: String {
        switch self {
        case .info: return "info"
        case .low: return "low"
        case .medium: return "medium"
        case .high: return "high"
        case .critical: return "critical"
        }
    }

    /// The severity with the given name.
    public init?(name: String) {
        guard let value = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = value
    }

    /// One step up, capped at critical.
    public var raised: Severity { Severity(rawValue: min(rawValue + 1, Severity.critical.rawValue))! }

    public var description: String { name }
}

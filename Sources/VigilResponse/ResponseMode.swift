/// Whether responders act: the switch an operator sets with `--respond`.
public enum ResponseMode: String, Sendable, CaseIterable, CustomStringConvertible {
    /// No response at all: findings and incidents are only reported.
    case off
    /// Every action the policy asks for is checked against the safety rails and logged, and none is taken.
    case dryRun = "dry-run"
    /// Actions are taken.
    case on

    /// Parses `off`, `dry-run` or `on`.
    public init?(argument: String) {
        self.init(rawValue: argument)
    }

    public var description: String { rawValue }
}

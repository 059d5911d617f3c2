/// A MITRE ATT&CK Enterprise tactic: the attacker's goal at one step.
public enum MITRETactic: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Gathering information to plan an attack.
    case reconnaissance = "TA0043"
    /// Establishing resources to support operations.
    case resourceDevelopment = "TA0042"
    /// Getting into the environment.
    case initialAccess = "TA0001"
    /// Running attacker-controlled code.
    case execution = "TA0002"
    /// Keeping a foothold.
    case persistence = "TA0003"
    /// Gaining higher permissions.
    case privilegeEscalation = "TA0004"
    /// Avoiding detection.
    case defenseEvasion = "TA0005"
    /// Stealing credentials.
    case credentialAccess = "TA0006"
    /// Learning the environment.
    case discovery = "TA0007"
    /// Moving through the environment.
    case lateralMovement = "TA0008"
    /// Gathering data of interest.
    case collection = "TA0009"
    /// Communicating with compromised systems.
    case commandAndControl = "TA0011"
    /// Stealing data.
    case exfiltration = "TA0010"
    /// Disrupting or destroying systems and data.
    case impact = "TA0040"

    /// The tactic's id (`TA0002`).
    public var id: String { rawValue }

    /// The tactic's ATT&CK short name (`execution`, `privilege-escalation`).
    public var name: String {
        switch self {
        case .reconnaissance: return "reconnaissance"
        case .resourceDevelopment: return "resource-development"
        case .initialAccess: return "initial-access"
        case .execution: return "execution"
        case .persistence: return "persistence"
        case .privilegeEscalation: return "privilege-escalation"
        case .defenseEvasion: return "defense-evasion"
        case .credentialAccess: return "credential-access"
        case .discovery: return "discovery"
        case .lateralMovement: return "lateral-movement"
        case .collection: return "collection"
        case .commandAndControl: return "command-and-control"
        case .exfiltration: return "exfiltration"
        case .impact: return "impact"
        }
    }

    /// The tactic with the given id (`TA0002`) or short name (`execution`, also `mitre_execution`).
    public init?(_ text: String) {
        var key = text.lowercased()
        if key.hasPrefix("mitre_") { key = String(key.dropFirst(6)).replacingUnderscores() }
        guard let tactic = Self.allCases.first(where: { $0.id.lowercased() == key || $0.name == key }) else {
            return nil
        }
        self = tactic
    }

    public var description: String { name }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(map { $0 == "_" ? "-" : $0 })
    }
}

/// A MITRE ATT&CK mapping: a tactic and a technique or sub-technique id (`T1059.004`).
public struct MITREMapping: Hashable, Sendable, CustomStringConvertible {
    /// The tactic.
    public var tactic: MITRETactic
    /// The technique id, `T` plus four digits and an optional `.NNN` sub-technique.
    public var technique: String

    /// Creates a mapping; `technique` must look like `T1059` or `T1059.004`.
    public init(tactic: MITRETactic, technique: String) {
        precondition(Self.isTechniqueID(technique), "not an ATT&CK technique id: \(technique)")
        self.tactic = tactic
        self.technique = technique
    }

    /// Whether `text` has the shape of a technique id (`T1059` or `T1059.004`).
    public static func isTechniqueID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Bool { range.allSatisfy { bytes[$0] >= 48 && bytes[$0] <= 57 } }
        guard bytes.first == UInt8(ascii: "T") else { return false }
        if bytes.count == 5 { return digits(1..<5) }
        if bytes.count == 9 { return digits(1..<5) && bytes[5] == UInt8(ascii: ".") && digits(6..<9) }
        return false
    }

    public var description: String { "\(tactic.id)/\(technique)" }
}

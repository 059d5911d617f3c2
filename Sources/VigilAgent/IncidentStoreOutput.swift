import Foundation
import Metrics
import VigilCore
import VigilCorrelation
import VigilLinux
import VigilProfiles
import VigilSQLite

/// An alert output that saves every incident the engine reports into an ``IncidentStore``, so that
/// `vigil-agent incidents` can list and show it after the run; findings pass by.
///
/// The engine reports an incident when it opens and again, under the same id, each time it grows; the store
/// keeps the latest report. Each report also counts in swift-metrics: `vigil_incidents_reported_total{severity}`
/// (a counter), and `vigil_incident_steps` (a recorder of each report's step count).
public struct IncidentStoreOutput: AlertOutput {
    /// Where incidents go.
    public let store: any IncidentStore
    private let symbols: SymbolTable

    /// Creates an output that saves into `store`; `symbols` is the engine's table.
    public init(store: any IncidentStore, symbols: SymbolTable) {
        self.store = store
        self.symbols = symbols
    }

    /// Saves `alert` when it is an incident.
    ///
    /// - Throws: the store's error when the save fails (the engine logs it and counts an output error).
    public func write(_ alert: Alert) async throws {
        guard case .incident(let incident) = alert else { return }
        let record = IncidentRecord(incident, symbols: symbols)
        Counter(label: "vigil_incidents_reported_total", dimensions: [("severity", record.severity.name)]).increment()
        Recorder(label: "vigil_incident_steps").record(record.steps.count)
        try await store.save(record)
    }

    /// Nothing to flush: each incident is saved as it comes.
    public func finish() async throws {}
}

extension CorrelationConfiguration {
    /// How the agent correlates (`run` and `replay`): the defaults, with lone low-severity findings held back
    /// until another finding joins them, and this node's cloud identity when known.
    public static func agent(node: NodeIdentity? = nil) -> CorrelationConfiguration {
        CorrelationConfiguration(holdLoneLow: true, node: node)
    }

    /// This configuration, joining Kubernetes API findings with the pods' processes through the kubelet's files
    /// when this node runs a kubelet (``KubernetesNodeFiles``); unchanged elsewhere.
    public func withThisNodesKubelet() -> CorrelationConfiguration {
        var configuration = self
        configuration.kubernetes = KubernetesNodeFiles.onThisNode()
        return configuration
    }
}

extension StoreLocation {
    /// Opens the incident store of an existing database, for reading what runs saved.
    ///
    /// - Throws: ``AgentError`` when the location is not a SQLite store, or no database exists there yet.
    public func openIncidentStore() throws -> any IncidentStore {
        guard case .sqlite(let path) = self else {
            throw AgentError(
                "incidents are kept only in a SQLite store, not in \(self): give --store sqlite:PATH (the store "
                    + "`vigil-agent run` or `replay` used)")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw AgentError(
                "no Vigil database at \(path): incidents are saved there by `vigil-agent run` and `vigil-agent "
                    + "replay` (with --store sqlite:\(path)); give --store sqlite:PATH to read another one")
        }
        do {
            return try SQLiteIncidentStore(path: path)
        } catch {
            throw AgentError("\(error)")
        }
    }
}

/// The incident side of an agent's engine: the correlator, and the output that keeps incidents.
enum IncidentWiring {
    /// The correlator factory for `configuration`, or nil when correlation is off.
    static func correlator(_ configuration: CorrelationConfiguration?, symbols: SymbolTable) -> CorrelatorFactory? {
        guard let configuration else { return nil }
        return { StoryCorrelator(symbols: symbols, configuration: configuration) }
    }

    /// The output that saves incidents beside the profiles, in the SQLite store's database, when correlating;
    /// nil otherwise (only a SQLite store keeps incidents).
    static func output(correlating: Bool, profiles: any ProfileStore, symbols: SymbolTable) -> IncidentStoreOutput? {
        guard correlating, let sqlite = profiles as? SQLiteProfileStore else { return nil }
        return IncidentStoreOutput(store: SQLiteIncidentStore(database: sqlite.database), symbols: symbols)
    }
}

/// The kubelet's files on this node answer the correlator's Kubernetes questions.
extension KubernetesNodeFiles: KubernetesContext {}

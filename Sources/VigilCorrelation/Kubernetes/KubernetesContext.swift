import Synchronization
import VigilCore

/// What the node knows about the Kubernetes objects behind its containers, for joining the cluster layer with
/// the workload layer: which pod a container belongs to, and which service account a process holds.
///
/// The correlator asks only when a finding needs it (a finding in a container; a read of a service-account
/// token), so an implementation may read files, with a cache.
public protocol KubernetesContext: Sendable {
    /// The pod a container (by its full id) belongs to, if known.
    func pod(ofContainer id: String) -> KubernetesPodReference?

    /// The service account whose token process `pid` can read, as the API server names it
    /// (`system:serviceaccount:<namespace>:<name>`), if known.
    func serviceAccount(ofProcess pid: Int32) -> String?
}

/// A ``KubernetesContext`` a host fills itself, from what it already knows of the cluster (an informer on
/// the API server, a controller's own cache): container ids to pods, process ids to service accounts.
public final class KubernetesInventory: KubernetesContext {
    private struct Tables {
        var pods: [String: KubernetesPodReference] = [:]
        var accounts: [Int32: String] = [:]
    }

    private let tables = Mutex(Tables())

    /// Creates an empty inventory.
    public init() {}

    /// Records that container `id` (its full id) runs in `pod`.
    public func setPod(_ pod: KubernetesPodReference, forContainer id: String) {
        tables.withLock { $0.pods[id] = pod }
    }

    /// Records that process `pid` holds the token of `account` (`system:serviceaccount:<namespace>:<name>`).
    public func setServiceAccount(_ account: String, forProcess pid: Int32) {
        tables.withLock { $0.accounts[pid] = account }
    }

    public func pod(ofContainer id: String) -> KubernetesPodReference? { tables.withLock { $0.pods[id] } }

    public func serviceAccount(ofProcess pid: Int32) -> String? { tables.withLock { $0.accounts[pid] } }
}

/// Where an event happened: a container (with its pod and owner where known) or the host.
///
/// A workload is what a behavioral profile describes: all replicas of one container of one owner share
/// it, so the container instance id is not part of it (events carry that separately, in
/// ``Event/container``).
public struct Workload: Hashable, Sendable, CustomStringConvertible {
    /// Whether this is the host or a container, and which orchestration named it.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// The machine itself, outside any container.
        case host
        /// A container known only to its runtime (docker, containerd, podman) or by its cgroup.
        case container
        /// A container of a Kubernetes pod.
        case kubernetes
    }

    /// Whether this is the host or a container.
    public var kind: Kind
    /// The Kubernetes namespace, or empty.
    public var namespace: String
    /// The kind of the pod's top-level owner (`Deployment`, `DaemonSet`, `Job`, ...), or empty.
    public var ownerKind: String
    /// The name of the owner (the Deployment's name), or of the container when there is no owner.
    public var ownerName: String
    /// The container's name within its pod, or empty.
    public var containerName: String
    /// The container image, or empty.
    public var image: String

    /// Creates a workload identity.
    public init(
        kind: Kind,
        namespace: String = "",
        ownerKind: String = "",
        ownerName: String = "",
        containerName: String = "",
        image: String = ""
    ) {
        self.kind = kind
        self.namespace = namespace
        self.ownerKind = ownerKind
        self.ownerName = ownerName
        self.containerName = containerName
        self.image = image
    }

    /// The host.
    public static let host = Workload(kind: .host)

    /// A short, stable name: `host`, `default/Deployment/web/web`, or `container/<name>`.
    public var name: String {
        switch kind {
        case .host:
            return "host"
        case .container:
            return "container/" + (ownerName.isEmpty ? containerName : ownerName)
        case .kubernetes:
            return "\(namespace)/\(ownerKind)/\(ownerName)/\(containerName)"
        }
    }

    public var description: String { name }
}

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
    /// For a host process: its cgroup (`/system.slice/nginx.service`), or empty.
    public var cgroup: String
    /// For a host process: its executable, or empty.
    public var executable: String

    /// Creates a workload identity.
    public init(
        kind: Kind,
        namespace: String = "",
        ownerKind: String = "",
        ownerName: String = "",
        containerName: String = "",
        image: String = "",
        cgroup: String = "",
        executable: String = ""
    ) {
        self.kind = kind
        self.namespace = namespace
        self.ownerKind = ownerKind
        self.ownerName = ownerName
        self.containerName = containerName
        self.image = image
        self.cgroup = cgroup
        self.executable = executable
    }

    /// The host, when nothing narrower is known.
    public static let host = Workload(kind: .host)

    /// A host service: processes of one executable in one cgroup share a profile.
    public static func hostService(cgroup: String, executable: String) -> Workload {
        Workload(kind: .host, cgroup: cgroup, executable: executable)
    }

    /// A short, stable name: `host`, `host:/system.slice/nginx.service:/usr/sbin/nginx`,
    /// `default/Deployment/web/web`, or `container/<name>`.
    public var name: String {
        switch kind {
        case .host:
            if cgroup.isEmpty && executable.isEmpty { return "host" }
            return "host:\(cgroup):\(executable)"
        case .container:
            return "container/" + (ownerName.isEmpty ? containerName : ownerName)
        case .kubernetes:
            return "\(namespace)/\(ownerKind)/\(ownerName)/\(containerName)"
        }
    }

    /// The name of this workload's behavioral profile: the workload's name plus its image, so that all
    /// replicas share one profile and a new image version learns afresh.
    public var profileName: String {
        image.isEmpty ? name : "\(name)@\(image)"
    }

    public var description: String { name }
}

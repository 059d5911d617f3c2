import VigilCore

extension Entity {
    /// A process, identified as `pid@start` so that a reused pid is a different entity.
    public static func process(_ key: ProcessKey) -> Entity { Entity(kind: "process", id: key.description) }

    /// A container instance.
    public static func container(_ id: String) -> Entity { Entity(kind: "container", id: id) }

    /// A workload (all replicas of one container of one owner), by its ``Workload/name``.
    public static func workload(_ name: String) -> Entity { Entity(kind: "workload", id: name) }

    /// A Kubernetes pod, as `namespace/name`.
    public static func pod(namespace: String, name: String) -> Entity {
        Entity(kind: "pod", id: "\(namespace)/\(name)")
    }

    /// A node (a cloud instance), by its instance id.
    public static func node(_ instanceID: String) -> Entity { Entity(kind: "node", id: instanceID) }

    /// A network address.
    public static func address(_ address: IPAddress) -> Entity { Entity(kind: "address", id: address.description) }

    /// A cloud principal (an ARN or provider identity).
    public static func principal(_ id: String) -> Entity { Entity(kind: "principal", id: id) }

    /// A cloud access key or credential id.
    public static func accessKey(_ id: String) -> Entity { Entity(kind: "access_key", id: id) }

    /// A cloud session (an assumed-role session ARN).
    public static func session(_ id: String) -> Entity { Entity(kind: "session", id: id) }

    /// A Kubernetes user or service account.
    public static func kubernetesUser(_ name: String) -> Entity { Entity(kind: "k8s_user", id: name) }

    /// A cloud resource created during a story (a bucket, a function, an instance).
    public static func resource(_ id: String) -> Entity { Entity(kind: "resource", id: id) }
}

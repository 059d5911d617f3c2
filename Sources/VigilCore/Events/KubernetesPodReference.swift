/// A container's place in Kubernetes.
public struct KubernetesPodReference: Sendable, Hashable {
    /// The pod's namespace.
    public var namespace: String
    /// The pod's name.
    public var name: String
    /// The container's name in the pod.
    public var container: String

    /// Creates a reference.
    public init(namespace: String, name: String, container: String) {
        self.namespace = namespace
        self.name = name
        self.container = container
    }
}

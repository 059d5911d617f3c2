import VigilCore

/// How a ``StoryCorrelator`` joins findings into incidents.
public struct CorrelationConfiguration: Sendable {
    /// How far apart in time two findings may be and still join one story through shared entities.
    public var window: Duration
    /// Repeats of one rule on one subject within this time of the previous repeat are counted on the
    /// existing step instead of adding a step.
    public var cooldown: Duration
    /// Whether an incident of a single low (or info) finding is held back until another finding joins it.
    public var holdLoneLow: Bool
    /// The node's cloud identity, when known.
    public var node: NodeIdentity?
    /// The pods behind the node's containers and the service accounts its processes hold, when the node runs
    /// a kubelet: it joins Kubernetes API findings (an exec into a pod, requests made with a service account)
    /// with what the processes of that pod did.
    public var kubernetes: (any KubernetesContext)?
    /// The most entities the graph keeps.
    public var maximumGraphNodes: Int
    /// The most incidents kept open; the least recently active is closed first.
    public var maximumOpenIncidents: Int
    /// The most steps one incident keeps; later distinct findings still join it but add no step.
    public var maximumStepsPerIncident: Int
    /// The most entities visited when looking for stories a finding is linked to.
    public var maximumSearchNodes: Int

    /// Creates a configuration; the defaults suit one node.
    public init(
        window: Duration = .seconds(30 * 60),
        cooldown: Duration = .seconds(10 * 60),
        holdLoneLow: Bool = false,
        node: NodeIdentity? = nil,
        kubernetes: (any KubernetesContext)? = nil,
        maximumGraphNodes: Int = 100_000,
        maximumOpenIncidents: Int = 10_000,
        maximumStepsPerIncident: Int = 256,
        maximumSearchNodes: Int = 256
    ) {
        self.window = window
        self.cooldown = cooldown
        self.holdLoneLow = holdLoneLow
        self.node = node
        self.kubernetes = kubernetes
        self.maximumGraphNodes = maximumGraphNodes
        self.maximumOpenIncidents = maximumOpenIncidents
        self.maximumStepsPerIncident = maximumStepsPerIncident
        self.maximumSearchNodes = maximumSearchNodes
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (seconds < 0 ? .min : .max) : scaled &+ attoseconds / 1_000_000_000
    }
}

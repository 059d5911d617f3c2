import VigilCore

/// One Kubernetes API audit event (`audit.k8s.io/v1` or `v1beta1` `Event`, or a GKE Cloud Audit Log entry for
/// the Kubernetes API), with the details later layers need that do not fit the fixed-size ``KubernetesFields``.
///
/// A GKE entry fills the same members: the user from `authenticationInfo`, the verb, resource and subresource
/// from `methodName`, the namespace and name from `resourceName`, the source address and user agent from
/// `requestMetadata`, the response code from the google.rpc `status.code`, and the request object from
/// `request`. It has no stage, audit id, groups or impersonated user.
public struct KubernetesAuditRecord: Sendable, Equatable {
    /// A subject of a RoleBinding or ClusterRoleBinding.
    public struct Subject: Sendable, Equatable {
        /// `User`, `Group` or `ServiceAccount`.
        public var kind: String
        /// The subject's name.
        public var name: String
        /// The namespace of a ServiceAccount, or empty.
        public var namespace: String

        /// Creates a subject.
        public init(kind: String, name: String, namespace: String = "") {
            self.kind = kind
            self.name = name
            self.namespace = namespace
        }
    }

    /// One rule of a Role or ClusterRole.
    public struct Rule: Sendable, Equatable {
        /// The verbs (`*` for all).
        public var verbs: [String]
        /// The resources (`*` for all).
        public var resources: [String]
        /// The API groups.
        public var apiGroups: [String]

        /// Creates a rule.
        public init(verbs: [String], resources: [String], apiGroups: [String] = []) {
            self.verbs = verbs
            self.resources = resources
            self.apiGroups = apiGroups
        }
    }

    /// The event's time (stageTimestamp, else requestReceivedTimestamp, else metadata.creationTimestamp; a GKE
    /// entry's timestamp, else receiveTimestamp) in nanoseconds since the Unix epoch; 0 when none is given.
    public var time: Int64 = 0
    /// The audit id.
    public var auditID = ""
    /// The stage (`ResponseComplete`).
    public var stage = ""
    /// The verb.
    public var verb = ""
    /// The request URI.
    public var requestURI = ""
    /// `user.username`.
    public var username = ""
    /// `user.groups`.
    public var groups: [String] = []
    /// `impersonatedUser.username`, or empty.
    public var impersonatedUser = ""
    /// `sourceIPs`.
    public var sourceIPs: [String] = []
    /// The user agent.
    public var userAgent = ""
    /// `objectRef.resource`.
    public var resource = ""
    /// `objectRef.subresource`.
    public var subresource = ""
    /// `objectRef.namespace`.
    public var namespace = ""
    /// `objectRef.name` (else the request object's `metadata.name`).
    public var name = ""
    /// `objectRef.apiGroup`.
    public var apiGroup = ""
    /// `responseStatus.code`, or 0.
    public var responseCode: UInt16 = 0
    /// The request object's `kind`.
    public var objectKind = ""
    /// Images of every container, init and ephemeral container of the pod spec (or pod template).
    public var images: [String] = []
    /// Capabilities added by any container.
    public var addedCapabilities: [String] = []
    /// hostPath volume paths.
    public var hostPaths: [String] = []
    /// Rules of a Role or ClusterRole request object.
    public var rules: [Rule] = []
    /// Subjects of a RoleBinding or ClusterRoleBinding.
    public var subjects: [Subject] = []
    /// `roleRef.kind` of a binding (`ClusterRole`).
    public var roleRefKind = ""
    /// `roleRef.name` of a binding (`cluster-admin`).
    public var roleRefName = ""
    /// Security-relevant facts of the request.
    public var flags: KubernetesFields.Flags = []
    /// Compact JSON text of the parts of the event rules read beyond the members above (see
    /// ``KubernetesFields/details``), or empty.
    public var details = ""

    /// Creates an empty record.
    public init() {}

    /// Reads an audit `Event` object; nil when `object` is not one (no verb and no objectRef).
    public init?(_ object: JSONObject) {
        if let kind = object["kind"]?.string, kind != "Event" { return nil }
        if let api = object["apiVersion"]?.string, !api.hasPrefix("audit.k8s.io/") { return nil }
        guard object["verb"] != nil || object["objectRef"] != nil || object["requestURI"] != nil else { return nil }
        auditID = object["auditID"]?.string ?? ""
        stage = object["stage"]?.string ?? ""
        verb = object["verb"]?.string ?? ""
        requestURI = object["requestURI"]?.string ?? ""
        let stamp =
            object["stageTimestamp"]?.string ?? object["requestReceivedTimestamp"]?.string
            ?? object["timestamp"]?.string ?? object["metadata"]?["creationTimestamp"]?.string
        time = stamp.flatMap { RFC3339.parse($0) } ?? 0
        if let user = object["user"] {
            username = user["username"]?.string ?? ""
            groups = user["groups"]?.array?.compactMap(\.string) ?? []
        }
        if let impersonated = object["impersonatedUser"], impersonated.object != nil {
            impersonatedUser = impersonated["username"]?.string ?? ""
            flags.insert(.impersonated)
        }
        sourceIPs = object["sourceIPs"]?.array?.compactMap(\.string) ?? []
        userAgent = object["userAgent"]?.string ?? ""
        if let ref = object["objectRef"] {
            resource = ref["resource"]?.string ?? ""
            subresource = ref["subresource"]?.string ?? ""
            namespace = ref["namespace"]?.string ?? ""
            name = ref["name"]?.string ?? ""
            apiGroup = ref["apiGroup"]?.string ?? ""
        }
        if let code = object["responseStatus"]?["code"]?.int64, let value = UInt16(exactly: code) {
            responseCode = value
        }
        if username == "system:anonymous" { flags.insert(.anonymous) }
        if let request = object["requestObject"], request.object != nil { readRequestObject(request) }
        details = EventDetailsFormat.kubernetesAudit.text { object[$0] }
    }

    mutating func readRequestObject(_ request: JSONValue) {
        objectKind = request["kind"]?.string ?? ""
        if name.isEmpty { name = request["metadata"]?["name"]?.string ?? "" }
        // A Pod has its spec at spec; Deployments, DaemonSets, StatefulSets, ReplicaSets and Jobs at
        // spec.template.spec; CronJobs at spec.jobTemplate.spec.template.spec.
        let candidates: [JSONValue?] = [
            request["spec"], request["spec"]?["template"]?["spec"],
            request["spec"]?["jobTemplate"]?["spec"]?["template"]?["spec"],
        ]
        for spec in candidates.compactMap({ $0 }) where spec["containers"] != nil {
            readPodSpec(spec)
        }
        for rule in request["rules"]?.array ?? [] {
            rules.append(
                Rule(
                    verbs: rule["verbs"]?.array?.compactMap(\.string) ?? [],
                    resources: rule["resources"]?.array?.compactMap(\.string) ?? [],
                    apiGroups: rule["apiGroups"]?.array?.compactMap(\.string) ?? []))
        }
        for subject in request["subjects"]?.array ?? [] {
            subjects.append(
                Subject(
                    kind: subject["kind"]?.string ?? "", name: subject["name"]?.string ?? "",
                    namespace: subject["namespace"]?.string ?? ""))
        }
        roleRefKind = request["roleRef"]?["kind"]?.string ?? ""
        roleRefName = request["roleRef"]?["name"]?.string ?? ""
    }

    private mutating func readPodSpec(_ spec: JSONValue) {
        if spec["hostNetwork"]?.bool == true { flags.insert(.hostNetwork) }
        if spec["hostPID"]?.bool == true { flags.insert(.hostPID) }
        if spec["hostIPC"]?.bool == true { flags.insert(.hostIPC) }
        for volume in spec["volumes"]?.array ?? [] {
            if let hostPath = volume["hostPath"], hostPath.object != nil {
                flags.insert(.hostPath)
                hostPaths.append(hostPath["path"]?.string ?? "")
            }
        }
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            for container in spec[list]?.array ?? [] {
                if let image = container["image"]?.string { images.append(image) }
                let context = container["securityContext"]
                if context?["privileged"]?.bool == true { flags.insert(.privileged) }
                let added = context?["capabilities"]?["add"]?.array?.compactMap(\.string) ?? []
                if !added.isEmpty {
                    flags.insert(.addedCapabilities)
                    addedCapabilities += added
                }
            }
        }
    }

    /// The event for this record, its strings interned into `symbols`.
    public func event(symbols: SymbolTable) -> Event {
        Event(
            time: time,
            kind: .kubernetesRequest,
            principal: symbols.intern(username),
            fields: .kubernetes(
                KubernetesFields(
                    verb: symbols.intern(verb),
                    resource: symbols.intern(resource),
                    subresource: symbols.intern(subresource),
                    namespace: symbols.intern(namespace),
                    name: symbols.intern(name),
                    sourceAddress: sourceIPs.first.flatMap { IPAddress($0) } ?? .none,
                    userAgent: symbols.intern(userAgent),
                    responseCode: responseCode,
                    flags: flags,
                    details: symbols.intern(details))))
    }
}

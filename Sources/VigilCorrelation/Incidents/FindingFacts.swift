import VigilCore

/// What the correlator reads from one finding: the entities it involves and how they are linked.
struct FindingFacts {
    /// The entities the finding involves; a story that owns any of them (or anything linked to them) takes it.
    var entities: [Entity] = []
    /// Links between the entities, for the graph, by their indices in ``entities``.
    var links: [(Int, Int)] = []
    /// The index in ``entities`` of the workload's entity, and the workload, when the finding has one: the
    /// correlator keeps the workload's node by id, so that its long name is not hashed on every finding.
    var workload: (index: Int, id: WorkloadID)?
    /// Names what repeats are counted on: a rule firing again on the same subject is one step.
    var subject = ""
    /// The executable of a workload finding, which names what repeats are counted on with ``subject``: kept
    /// apart, not joined into a new string on every finding.
    var executable = Symbol.none
    /// The address the node's role was used from, when that is not one of the node's addresses.
    var exfiltratedFrom: IPAddress?

    /// Adds `entity` unless it is there; returns its index.
    @discardableResult
    mutating func add(_ entity: Entity) -> Int {
        if let index = entities.firstIndex(of: entity) { return index }
        entities.append(entity)
        return entities.count - 1
    }

    /// Adds both entities and links them; returns the index of `b`.
    @discardableResult
    mutating func link(_ a: Entity, _ b: Entity) -> Int {
        let first = add(a)
        let second = add(b)
        links.append((first, second))
        return second
    }
}

/// Reads ``FindingFacts`` from findings, resolving symbols through the engine's table.
struct FactReader {
    let symbols: SymbolTable
    let node: NodeIdentity?
    /// The pods behind containers and the service accounts processes hold, when the node runs a kubelet.
    var kubernetes: (any KubernetesContext)? = nil

    /// IAM calls that create a principal or give one rights: the principal they name joins the caller's story,
    /// so that what it does later is part of the same attack. The value is the ARN path of the target.
    static let principalActions: [String: String] = [
        "CreateUser": "user", "CreateAccessKey": "user", "CreateLoginProfile": "user", "UpdateLoginProfile": "user",
        "AttachUserPolicy": "user", "PutUserPolicy": "user", "AddUserToGroup": "user",
        "CreateRole": "role", "AttachRolePolicy": "role", "PutRolePolicy": "role", "UpdateAssumeRolePolicy": "role",
    ]

    /// How many generations of ancestors a finding links.
    static let maximumAncestors = 4

    /// The facts of `finding`, in `facts`, whose storage is reused; workloads are named through `workloads`.
    func read(_ finding: Finding, workloads: inout WorkloadNames, into facts: inout FindingFacts) {
        facts.entities.removeAll(keepingCapacity: true)
        facts.links.removeAll(keepingCapacity: true)
        facts.subject = ""
        facts.executable = .none
        facts.exfiltratedFrom = nil
        facts.workload = nil
        let event = finding.event
        switch event.fields {
        case .cloud(let cloud): readCloud(event, cloud, into: &facts)
        case .kubernetes(let request): readKubernetes(event, request, into: &facts)
        default: readWorkload(finding, workloads: &workloads, into: &facts)
        }
    }

    private func readWorkload(_ finding: Finding, workloads: inout WorkloadNames, into facts: inout FindingFacts) {
        let event = finding.event
        var subject = ""
        if event.process != .none {
            let process = Entity.process(event.process)
            facts.add(process)
            subject = process.id
            // The process tree: each process is linked to its parent, so a child's finding joins its
            // parent's story. The climb stops below init and kthreadd and after a few generations: those
            // and the runtime's daemons are ancestors of everything and would join unrelated stories.
            // In a container the container entity ties its processes together, and its ancestors outside it
            // are the runtime's, shared by every container: the climb is for host processes only.
            var child = process
            let climb = event.container.isNone ? Self.maximumAncestors : 0
            for ancestor in finding.ancestry.prefix(climb) {
                guard ancestor.key.pid > 2 else { break }
                let parent = Entity.process(ancestor.key)
                facts.link(child, parent)
                child = parent
            }
            if case .process(let fields) = event.fields, fields.parent.pid > 2, finding.ancestry.isEmpty,
                event.container.isNone
            {
                facts.link(process, .process(fields.parent))
            }
        }
        var place = facts.entities.first
        if !event.container.isNone {
            let id = symbols.string(event.container)
            let container = Entity.container(id)
            if let process = place { facts.link(process, container) } else { facts.add(container) }
            place = container
            subject = container.id
            // The container's pod: an exec or attach into that pod, seen by the API server, joins what its
            // processes do.
            if let pod = kubernetes?.pod(ofContainer: id) {
                facts.link(container, .pod(namespace: pod.namespace, name: pod.name))
            }
        }
        // A read of the pod's service-account token: the API requests made with that account join the story.
        if let kubernetes, case .file(let file) = event.fields, event.process != .none,
            symbols.string(file.path).hasSuffix("/serviceaccount/token"),
            let account = kubernetes.serviceAccount(ofProcess: event.process.pid)
        {
            facts.link(.process(event.process), .kubernetesUser(account))
        }
        // The host is not an entity: every host process would otherwise join one story.
        if event.workload != .host {
            let workload = Entity.workload(workloads.names(of: event.workload, in: symbols).name)
            let index = place.map { facts.link($0, workload) } ?? facts.add(workload)
            facts.workload = (index, event.workload)
            if event.container.isNone { subject = workload.id }
        }
        facts.subject = subject
        facts.executable = event.executable
        guard case .network(let network) = event.fields, event.process != .none else { return }
        let remote = network.remote.address
        let process = Entity.process(event.process)
        if NodeIdentity.metadataAddresses.contains(remote) {
            // The metadata address is shared by every container, so it never joins stories itself: the
            // process is linked to the node's role instead, whose credentials it can fetch there.
            if let node, !node.roleARN.isEmpty {
                facts.link(process, .principal(node.roleARN))
                facts.link(.principal(node.roleARN), .node(node.instanceID))
            }
        } else if remote.family != .none && !remote.isLoopback {
            facts.link(process, .address(remote))
        }
    }

    private func readCloud(_ event: Event, _ cloud: CloudFields, into facts: inout FindingFacts) {
        var name = symbols.string(event.principal)
        if let role = AWSARN.roleARN(fromSession: name) {
            facts.link(.session(name), .principal(role))
            name = role
        }
        let principal = Entity.principal(name)
        facts.add(principal)
        let resource = symbols.string(cloud.resource)
        facts.subject = name + "|" + resource
        if !cloud.accessKey.isNone { facts.link(principal, .accessKey(symbols.string(cloud.accessKey))) }
        if cloud.sourceAddress.family != .none { facts.link(principal, .address(cloud.sourceAddress)) }
        if let node, node.isRole(name) {
            facts.link(principal, .node(node.instanceID))
            // Calls made by AWS on the role's behalf carry a service name, not an address: not exfiltration.
            if cloud.sourceAddress.family != .none, !node.addresses.contains(cloud.sourceAddress) {
                facts.exfiltratedFrom = cloud.sourceAddress
            }
        }
        guard cloud.errorCode.isNone, !resource.isEmpty else { return }
        let action = symbols.string(cloud.action)
        if let kind = Self.principalActions[action] {
            let account = symbols.string(cloud.account)
            let target = Entity.principal("arn:aws:iam::\(account):\(kind)/\(resource)")
            facts.link(principal, target)
            if let key = Self.createdAccessKey(details: symbols.string(cloud.details)) {
                facts.link(target, .accessKey(key))
            }
        } else if action.hasPrefix("Create") || action.hasPrefix("Run") {
            facts.link(principal, .resource(resource))
        }
    }

    private func readKubernetes(_ event: Event, _ request: KubernetesFields, into facts: inout FindingFacts) {
        let user = Entity.kubernetesUser(symbols.string(event.principal))
        facts.add(user)
        facts.subject = user.id
        if request.sourceAddress.family != .none { facts.link(user, .address(request.sourceAddress)) }
        let name = symbols.string(request.name)
        if symbols.string(request.resource) == "pods", !name.isEmpty {
            facts.link(user, .pod(namespace: symbols.string(request.namespace), name: name))
            facts.subject += "|" + name
        }
    }

    /// The access key id a `CreateAccessKey` response hands out, from the event's details.
    static func createdAccessKey(details: String) -> String? {
        guard details.contains("accessKeyId"), let value = try? JSONParser.parse(details) else { return nil }
        return value["responseElements"]?["accessKey"]?["accessKeyId"]?.string
    }
}

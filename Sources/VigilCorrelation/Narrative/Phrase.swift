import VigilCore

/// One step told in words: who did it, what they did, and from where.
struct Phrase {
    /// Who acted (`python3 on web`, `the node's role`, `malicious-iam-user`); empty for a derived step.
    var actor: String
    /// What they did (`started sh -c id`, `read 120 objects from bucket y`).
    var predicate: String
    /// Where a cloud or cluster call came from (`from 203.0.113.7`), or empty.
    var origin: String

    /// The line, once written: a step's summary and its narrative say the same line, written once.
    var written: String? = nil

    /// The whole line: a step's summary.
    var line: String {
        if let written { return written }
        // The non-empty parts joined by spaces, without the arrays a join would make, in storage sized at once.
        if origin.isEmpty && (actor.isEmpty || predicate.isEmpty) { return actor.isEmpty ? predicate : actor }
        var line = ""
        line.reserveCapacity(actor.utf8.count + predicate.utf8.count + origin.utf8.count + 2)
        line += actor
        if !predicate.isEmpty {
            if !line.isEmpty { line += " " }
            line += predicate
        }
        if !origin.isEmpty {
            if !line.isEmpty { line += " " }
            line += origin
        }
        return line
    }
}

/// Turns findings into phrases.
struct PhraseWriter {
    let symbols: SymbolTable
    let node: NodeIdentity?
    /// The names of the workloads seen, shared with the ``FactReader`` of the same correlator.
    var workloads = WorkloadNames()

    init(symbols: SymbolTable, node: NodeIdentity?) {
        self.symbols = symbols
        self.node = node
    }

    mutating func phrase(_ finding: Finding, count: Int) -> Phrase {
        let event = finding.event
        switch event.fields {
        case .cloud(let cloud) where finding.rule.id == NodeCredentialDetector.rule.id:
            // The act is told by the other findings of the call, if any; this one tells where it came from.
            return Phrase(actor: "", predicate: Self.exfiltration(from: cloud.sourceAddress) + times(count), origin: "")
        case .cloud(let cloud): return cloudPhrase(event, cloud, count: count)
        case .kubernetes(let request): return kubernetesPhrase(event, request, count: count)
        default: return workloadPhrase(finding, count: count)
        }
    }

    /// A short name for a workload: the owner or container name, or `the host`.
    mutating func place(_ id: WorkloadID) -> String { workloads.names(of: id, in: symbols).place }

    /// A short name for a cloud principal: `the node's role`, or the last part of its ARN.
    func who(_ principal: String) -> String {
        if let node, node.isRole(principal) { return "the node's role" }
        guard principal.hasPrefix("arn:"), let slash = principal.lastIndex(of: "/") else { return principal }
        return String(principal[principal.index(after: slash)...])
    }

    private func times(_ count: Int) -> String { count > 1 ? " (\(count) times)" : "" }

    private mutating func workloadPhrase(_ finding: Finding, count: Int) -> Phrase {
        let event = finding.event
        let executable = finding.process?.executable ?? symbols.string(event.executable)
        let name = Self.base(executable.isEmpty ? "a process" : executable)
        let here = "on " + place(event.workload)
        switch event.fields {
        case .process where event.kind == .processExec:
            let parent = finding.ancestry.first.map { Self.base($0.executable) } ?? "a process"
            let command = finding.process.map { $0.arguments.joined(separator: " ") } ?? name
            return Phrase(
                actor: "\(parent) \(here)",
                predicate: "started \(Self.clip(command.isEmpty ? name : command))"
                    + times(count), origin: "")
        case .network(let network):
            let remote = network.remote
            let target =
                NodeIdentity.metadataAddresses.contains(remote.address)
                ? "the metadata service (\(remote.address))" : remote.description
            let predicate =
                switch event.kind {
                case .networkAccept: "accepted a connection from \(target)"
                case .networkBind: "bound \(network.local)"
                case .networkListen: "listened on \(network.local)"
                case .networkSocket: network.transport == .packet ? "opened a packet socket" : "opened a raw socket"
                default: "connected to \(target)"
                }
            return Phrase(actor: "\(name) \(here)", predicate: predicate + times(count), origin: "")
        case .file(let file):
            return Phrase(
                actor: "\(name) \(here)",
                predicate: "\(Self.fileVerb(event.kind)) \(symbols.string(file.path))"
                    + times(count), origin: "")
        case .dns(let dns):
            return Phrase(
                actor: "\(name) \(here)", predicate: "looked up \(symbols.string(dns.name))" + times(count), origin: "")
        case .http(let http) where event.kind == .httpFetch:
            let host = symbols.string(http.host)
            let isMetadata = IPAddress(host).map { NodeIdentity.metadataAddresses.contains($0) } ?? false
            let url = "http://\(host)\(symbols.string(http.path))"
            return Phrase(
                actor: "the application on \(place(event.workload))",
                predicate: "fetched \(Self.clip(url, to: 120))" + (isMetadata ? " from the metadata service" : "")
                    + times(count), origin: "")
        case .http(let http):
            let query = symbols.string(http.parameters)
            return Phrase(
                actor: "a request \(symbols.string(http.method)) \(symbols.string(http.path))"
                    + (query.isEmpty ? "" : "?" + Self.clip(query, to: 160))
                    + (http.client.address.family == .none ? "" : " from \(http.client.address)"),
                predicate: "reached \(place(event.workload))"
                    + times(count), origin: "")
        default:
            return Phrase(
                actor: "\(name) \(here)", predicate: Self.lowerFirst(finding.rule.name) + times(count), origin: "")
        }
    }

    private func cloudPhrase(_ event: Event, _ cloud: CloudFields, count: Int) -> Phrase {
        let action = symbols.string(cloud.action)
        let resource = symbols.string(cloud.resource)
        let origin = cloud.sourceAddress.family == .none ? "" : "from \(cloud.sourceAddress)"
        let predicate: String
        switch action {
        case "CreateUser": predicate = "created IAM user \(resource)"
        case "CreateRole": predicate = "created IAM role \(resource)"
        case "CreateAccessKey": predicate = "created an access key for \(resource)"
        case "CreateLoginProfile": predicate = "gave \(resource) a console password"
        case "AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy":
            let policy = Self.policyName(details: symbols.string(cloud.details)) ?? "a policy"
            predicate = "attached \(policy) to \(resource)"
        case "PutUserPolicy", "PutRolePolicy": predicate = "added an inline policy to \(resource)"
        case "GetObject": predicate = "read \(Self.count(count, "object")) from bucket \(resource)"
        case "PutObject": predicate = "wrote \(Self.count(count, "object")) to bucket \(resource)"
        case "DeleteObject": predicate = "deleted \(Self.count(count, "object")) from bucket \(resource)"
        case "ListBuckets": predicate = "listed the buckets" + times(count)
        case "GetCallerIdentity": predicate = "checked which identity it had" + times(count)
        case "StopLogging", "DeleteTrail": predicate = "stopped CloudTrail trail \(resource)"
        default:
            let target = resource.isEmpty ? "" : " on \(resource)"
            predicate = "called \(symbols.string(cloud.service)):\(action)\(target)" + times(count)
        }
        return Phrase(actor: who(symbols.string(event.principal)), predicate: predicate, origin: origin)
    }

    private func kubernetesPhrase(_ event: Event, _ request: KubernetesFields, count: Int) -> Phrase {
        var user = symbols.string(event.principal)
        if user.hasPrefix("system:serviceaccount:") {
            user = "service account " + user.dropFirst("system:serviceaccount:".count).replacingColons()
        }
        let namespace = symbols.string(request.namespace)
        let name = symbols.string(request.name)
        let object = namespace.isEmpty ? name : "\(namespace)/\(name)"
        let resource = symbols.string(request.resource)
        let subresource = symbols.string(request.subresource)
        let predicate: String
        if resource == "pods", subresource == "exec" || subresource == "attach" {
            predicate = "ran a command in pod \(object)"
        } else {
            let what = subresource.isEmpty ? resource : "\(resource)/\(subresource)"
            predicate = "\(symbols.string(request.verb)) \(what) \(object)".trimmingTrailingSpace()
        }
        let origin = request.sourceAddress.family == .none ? "" : "from \(request.sourceAddress)"
        return Phrase(actor: user, predicate: predicate + times(count), origin: origin)
    }

    /// What a step says when the node's role was used from `address`, outside the node.
    static func exfiltration(from address: IPAddress) -> String {
        "credentials of the node's role were used from \(address), outside the node (credential exfiltration)"
    }

    /// The policy name of an attach call's `policyArn` (`AdministratorAccess`).
    static func policyName(details: String) -> String? {
        guard details.contains("policyArn"), let value = try? JSONParser.parse(details),
            let arn = value["requestParameters"]?["policyArn"]?.string, let slash = arn.lastIndex(of: "/")
        else { return nil }
        return String(arn[arn.index(after: slash)...])
    }

    static func base(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func clip(_ text: String, to limit: Int = 60) -> String {
        // No more bytes than the limit: no more characters either, without counting them.
        guard text.utf8.count > limit else { return text }
        return text.count > limit ? text.prefix(limit - 3) + "..." : text
    }

    static func count(_ value: Int, _ noun: String) -> String { value == 1 ? "an \(noun)" : "\(value) \(noun)s" }

    static func lowerFirst(_ text: String) -> String { text.prefix(1).lowercased() + text.dropFirst() }

    static func fileVerb(_ kind: EventKind) -> String {
        switch kind {
        case .fileWrite: return "wrote"
        case .fileUnlink: return "removed"
        case .fileRename: return "renamed"
        case .fileChmod: return "changed the mode of"
        case .fileLink, .fileSymlink: return "linked"
        default: return "opened"
        }
    }
}

extension StringProtocol {
    fileprivate func replacingColons() -> String { String(map { $0 == ":" ? "/" : $0 }) }

    fileprivate func trimmingTrailingSpace() -> String {
        var text = String(self)
        while text.last == " " { text.removeLast() }
        return text
    }
}

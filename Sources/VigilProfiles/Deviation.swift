import VigilCore

/// Builds the finding for an event that left a completed profile: which rule, which ATT&CK technique,
/// how severe, and the explanation in plain words.
enum Deviation {
    static func finding(
        for event: Event, profile: Profile, differences: [(part: ProfilePart, entry: String, nearby: [String])],
        symbols: SymbolTable
    ) -> Finding {
        let ranked = differences.map { ($0, classify($0.part, entry: $0.entry, event: event)) }
        let verdict = ranked.map(\.1).max { $0.severity < $1.severity }!
        let subject = profile.subject == .workload ? (profile.workload?.name ?? profile.name) : profile.name
        var explanation = "\(subject) \(describe(event, symbols: symbols)), which its profile does not hold: "
        explanation += ranked.map { difference, _ in
            let nearby =
                difference.nearby.isEmpty
                ? "it learned no \(label(difference.part))"
                : "it learned \(difference.nearby.joined(separator: ", "))"
            return "new \(label(difference.part)) '\(difference.entry)' (\(nearby))"
        }.joined(separator: "; ")
        if profile.lifecycle.partial {
            explanation += ". The profile is partial: learning began after the workload started"
        }
        explanation += "."
        return Finding(
            severity: verdict.severity, rule: RuleReference(id: verdict.rule, name: verdict.name), mitre: verdict.mitre,
            event: event, explanation: explanation)
    }

    struct Verdict {
        var rule: String
        var name: String
        var mitre: MITREMapping
        var severity: Severity
    }

    static func classify(_ part: ProfilePart, entry: String, event: Event) -> Verdict {
        switch part {
        case .executables:
            let path = entry.split(separator: " ", maxSplits: 1).first.map(String.init) ?? entry
            let newArgumentsOnly = entry.contains(" ")
            let fromTemp = ["/tmp/", "/dev/shm/", "/var/tmp/", "/run/user/"].contains { path.hasPrefix($0) }
            if newArgumentsOnly {
                return Verdict(
                    rule: "profile.unexpected-arguments", name: "Unexpected arguments",
                    mitre: MITREMapping(tactic: .execution, technique: "T1059"), severity: .low)
            }
            return Verdict(
                rule: "profile.unexpected-process", name: "Unexpected process",
                mitre: MITREMapping(tactic: .execution, technique: "T1059"), severity: fromTemp ? .high : .medium)
        case .files:
            let path = String(entry.prefix { $0 != " " })
            let writes = entry.hasSuffix("w-)") || entry.hasSuffix("wx)")
            let severity: Severity = SensitivePaths.contains(path) ? .high : (writes ? .medium : .low)
            return Verdict(
                rule: "profile.unexpected-file-access", name: "Unexpected file access",
                mitre: MITREMapping(tactic: .collection, technique: "T1005"), severity: severity)
        case .egress:
            return Verdict(
                rule: "profile.unexpected-egress", name: "Unexpected outbound connection",
                mitre: MITREMapping(tactic: .exfiltration, technique: "T1041"), severity: .medium)
        case .ingress:
            return Verdict(
                rule: "profile.unexpected-ingress", name: "Unexpected inbound connection",
                mitre: MITREMapping(tactic: .initialAccess, technique: "T1133"), severity: .low)
        case .dns:
            return Verdict(
                rule: "profile.unexpected-dns", name: "Unexpected DNS query",
                mitre: MITREMapping(tactic: .commandAndControl, technique: "T1071.004"), severity: .low)
        case .syscalls:
            return Verdict(
                rule: "profile.unexpected-syscall", name: "Unexpected syscall",
                mitre: MITREMapping(tactic: .execution, technique: "T1106"), severity: .low)
        case .capabilities:
            return Verdict(
                rule: "profile.unexpected-capability", name: "Unexpected capability",
                mitre: MITREMapping(tactic: .privilegeEscalation, technique: "T1548"), severity: .medium)
        case .http:
            return Verdict(
                rule: "profile.unexpected-http-endpoint", name: "Unexpected HTTP endpoint",
                mitre: MITREMapping(tactic: .initialAccess, technique: "T1190"), severity: .low)
        case .actions:
            return entry.hasPrefix("k8s:") ? kubernetesAction(entry) : cloudAction(entry)
        case .regions:
            return Verdict(
                rule: "profile.unexpected-region", name: "Unexpected cloud region",
                mitre: MITREMapping(tactic: .defenseEvasion, technique: "T1535"), severity: .medium)
        case .sources:
            return Verdict(
                rule: "profile.unexpected-source", name: "Unexpected source address",
                mitre: MITREMapping(tactic: .initialAccess, technique: "T1078.004"), severity: .medium)
        case .userAgents:
            return Verdict(
                rule: "profile.unexpected-user-agent", name: "Unexpected user agent",
                mitre: MITREMapping(tactic: .defenseEvasion, technique: "T1078"), severity: .low)
        case .resourceTypes:
            return Verdict(
                rule: "profile.unexpected-resource-type", name: "Unexpected resource type",
                mitre: MITREMapping(tactic: .discovery, technique: "T1613"), severity: .low)
        }
    }

    /// A cloud action's technique, by what the action does.
    static func cloudAction(_ entry: String) -> Verdict {
        let action = String(entry.split(separator: ":").last ?? "")
        func verdict(_ tactic: MITRETactic, _ technique: String, _ severity: Severity) -> Verdict {
            Verdict(
                rule: "profile.unexpected-cloud-action", name: "Unexpected cloud API call",
                mitre: MITREMapping(tactic: tactic, technique: technique), severity: severity)
        }
        if ["StopLogging", "DeleteTrail", "PutEventSelectors", "DeleteFlowLogs", "DeleteDetector"].contains(action) {
            return verdict(.defenseEvasion, "T1562.008", .high)
        }
        if action == "CreateAccessKey" { return verdict(.persistence, "T1098.001", .high) }
        if ["CreateUser", "CreateLoginProfile", "CreateRole"].contains(action) {
            return verdict(.persistence, "T1136.003", .high)
        }
        if action.hasPrefix("Attach") && action.hasSuffix("Policy")
            || action.hasPrefix("Put") && action.hasSuffix("Policy")
            || action == "UpdateAssumeRolePolicy"
        {
            return verdict(.privilegeEscalation, "T1098.003", .high)
        }
        if ["GetSecretValue", "BatchGetSecretValue", "GetParameter", "GetParameters", "GetPasswordData"].contains(
            action)
        {
            return verdict(.credentialAccess, "T1552", .medium)
        }
        if action == "GetObject" { return verdict(.collection, "T1530", .medium) }
        if action.hasPrefix("Get") || action.hasPrefix("List") || action.hasPrefix("Describe") {
            return verdict(.discovery, "T1580", .low)
        }
        return verdict(.defenseEvasion, "T1078.004", .medium)
    }

    /// A Kubernetes request's technique, by verb and resource (`k8s:verb:resource[/sub]:namespace`).
    static func kubernetesAction(_ entry: String) -> Verdict {
        let parts = entry.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let verb = parts.count > 1 ? parts[1] : ""
        let resource = parts.count > 2 ? parts[2] : ""
        func verdict(_ tactic: MITRETactic, _ technique: String, _ severity: Severity) -> Verdict {
            Verdict(
                rule: "profile.unexpected-k8s-request", name: "Unexpected Kubernetes API request",
                mitre: MITREMapping(tactic: tactic, technique: technique), severity: severity)
        }
        if resource.hasSuffix("/exec") || resource.hasSuffix("/attach") { return verdict(.execution, "T1609", .high) }
        if resource.hasPrefix("secrets") && ["get", "list", "watch"].contains(verb) {
            return verdict(.credentialAccess, "T1552.007", .high)
        }
        if resource.contains("rolebindings") && ["create", "update", "patch"].contains(verb) {
            return verdict(.privilegeEscalation, "T1098", .high)
        }
        if ["get", "list", "watch"].contains(verb) { return verdict(.discovery, "T1613", .low) }
        return verdict(.defenseEvasion, "T1078", .medium)
    }

    static func label(_ part: ProfilePart) -> String {
        switch part {
        case .executables: return "process"
        case .files: return "file access"
        case .syscalls: return "syscall"
        case .capabilities: return "capability"
        case .egress: return "outbound peer"
        case .ingress: return "inbound peer"
        case .dns: return "DNS name"
        case .http: return "HTTP endpoint"
        case .actions: return "action"
        case .regions: return "region"
        case .sources: return "source"
        case .userAgents: return "user agent"
        case .resourceTypes: return "resource type"
        }
    }

    /// What the event's subject did, in words ("executed /bin/sh").
    static func describe(_ event: Event, symbols: SymbolTable) -> String {
        let s = symbols.string
        switch event.fields {
        case .process(let f):
            return "executed \(s(f.executable))"
        case .file(let f):
            let verbs: [EventKind: String] = [
                .fileOpen: "opened", .fileWrite: "wrote", .fileUnlink: "removed", .fileRename: "renamed",
                .fileLink: "hard-linked", .fileSymlink: "symlinked", .fileChmod: "changed the mode of",
            ]
            return "\(verbs[event.kind] ?? "touched") \(s(f.path))"
        case .network(let f):
            return event.kind == .networkAccept
                ? "accepted a connection from \(f.remote) on port \(f.local.port)"
                : "connected to \(f.remote) over \(f.transport.name)"
        case .dns(let f):
            return "looked up \(s(f.name))"
        case .syscall(let f):
            return "used syscall \(f.number)"
        case .capability(let f):
            return "used \(Capabilities.name(f.capability))"
        case .cloud(let f):
            return "called \(s(f.service)):\(s(f.action))"
        case .kubernetes(let f):
            let resource = f.subresource.isNone ? s(f.resource) : "\(s(f.resource))/\(s(f.subresource))"
            let scope = f.namespace.isNone ? "cluster-wide" : "in namespace \(s(f.namespace))"
            return "did \(s(f.verb)) on \(resource) \(scope)"
        case .http(let f) where event.kind == .httpFetch:
            return "fetched \(s(f.method)) http://\(s(f.host))\(s(f.path))"
        case .http(let f):
            return "served \(s(f.method)) \(s(f.route.isNone ? f.path : f.route))"
        default:
            return "did \(event.kind.name)"
        }
    }
}

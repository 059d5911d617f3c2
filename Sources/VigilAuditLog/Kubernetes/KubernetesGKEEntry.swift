import VigilCore

/// Why a GKE Cloud Audit Log entry gave no record.
struct GKEEntryError: Error {
    /// The reason the parser counts.
    let reason: KubernetesSkipReason
}

extension KubernetesAuditRecord {
    /// Reads a GKE Cloud Audit Log entry for the Kubernetes API: a `LogEntry` whose `protoPayload` has the
    /// `serviceName` `k8s.io`. It fills the fields an audit `Event` fills:
    ///
    /// - `methodName` (`io.k8s.core.v1.pods.exec.create`) gives the API group, the resource, the subresource
    ///   and the verb. A method without a version (`io.k8s.readyz`) is a non-resource request: its path goes to
    ///   ``requestURI`` and the verb stays empty, as GKE does not name it.
    /// - `resourceName` (`core/v1/namespaces/default/pods/nginx/exec`) gives the namespace and the name. It must
    ///   name the method's version, resource and subresource.
    /// - `authenticationInfo.principalEmail` (else `authoritySelector`) is the user. GKE's entries carry no
    ///   groups and no impersonated user.
    /// - `requestMetadata.callerIp` (or `callerIP`, as Panther's samples spell it) is the source address, and
    ///   `callerSuppliedUserAgent` the user agent.
    /// - `status.code`, a google.rpc code, becomes the response code (see ``gkeResponseCode(_:)``).
    /// - `request` is read as an Event's `requestObject`: pod specs, role rules, binding subjects and roleRef.
    /// - The time is the entry's `timestamp`, else its `receiveTimestamp` (RFC 3339); 0 when neither parses.
    ///
    /// - Throws: ``KubernetesSkipReason/notAuditEvent`` for an entry of another service (or with no
    ///   `protoPayload` object), ``KubernetesSkipReason/invalidGKEMethodName`` and
    ///   ``KubernetesSkipReason/invalidGKEResourceName``.
    init(gkeEntry entry: JSONObject) throws(GKEEntryError) {
        guard let payload = entry["protoPayload"]?.object, payload["serviceName"]?.string == "k8s.io" else {
            throw GKEEntryError(reason: .notAuditEvent)
        }
        guard let method = payload["methodName"]?.string.flatMap(GKEMethod.init) else {
            throw GKEEntryError(reason: .invalidGKEMethodName)
        }
        self.init()
        verb = method.verb
        resource = method.resource
        subresource = method.subresource
        apiGroup = method.group == "core" ? "" : method.group
        requestURI = method.path
        if let resourceName = payload["resourceName"] {
            guard let text = resourceName.string, let target = method.target(of: text) else {
                throw GKEEntryError(reason: .invalidGKEResourceName)
            }
            if method.isNonResource {
                requestURI = text
            } else {
                apiGroup = target.group
                namespace = target.namespace
                name = target.name
            }
        }

        let authentication = payload["authenticationInfo"]
        username = authentication?["principalEmail"]?.string ?? ""
        if username.isEmpty { username = authentication?["authoritySelector"]?.string ?? "" }
        let metadata = payload["requestMetadata"]
        if let address = metadata?["callerIp"]?.string ?? metadata?["callerIP"]?.string {
            sourceIPs = [address]
        }
        userAgent = metadata?["callerSuppliedUserAgent"]?.string ?? ""
        responseCode = Self.gkeResponseCode(payload)
        let stamps = [entry["timestamp"], entry["receiveTimestamp"]].compactMap { $0?.string }
        time = stamps.lazy.compactMap { RFC3339.parse($0) }.first ?? 0
        if username == "system:anonymous" { flags.insert(.anonymous) }
        if let request = payload["request"], request.object != nil { readRequestObject(request) }
        details = gkeDetails(request: payload["request"])
    }

    /// The details an audit `Event` with this record's members would give: `user`, `requestURI`, `objectRef`,
    /// `requestObject` (the entry's `request`) and `responseStatus`, each only when known.
    private func gkeDetails(request: JSONValue?) -> String {
        func object(_ members: [(String, String)]) -> JSONValue? {
            let kept = members.filter { !$0.1.isEmpty }.map { (key: $0.0, value: JSONValue.string($0.1)) }
            return kept.isEmpty ? nil : .object(JSONObject(kept))
        }
        var members: [String: JSONValue] = [:]
        members["user"] = object([("username", username)])
        members["requestURI"] = requestURI.isEmpty ? nil : .string(requestURI)
        members["objectRef"] = object([
            ("resource", resource), ("subresource", subresource), ("namespace", namespace), ("name", name),
            ("apiGroup", apiGroup),
        ])
        if let request, request.object != nil { members["requestObject"] = request }
        members["responseStatus"] = .object(JSONObject([(key: "code", value: .integer(Int64(responseCode)))]))
        return EventDetailsFormat.kubernetesAudit.text { members[$0] }
    }

    /// The HTTP status of a GKE entry: its integer `status.code` (a google.rpc code) mapped to the status the
    /// API server sends (0 → 200, 3 → 400, 5 → 404, 6 → 409, 7 → 403, 16 → 401, any other → 500). Without
    /// one the request succeeded (200), unless an `authorizationInfo` entry was not granted (403).
    static func gkeResponseCode(_ payload: JSONObject) -> UInt16 {
        if let code = payload["status"]?["code"]?.int64 {
            switch code {
            case 0: return 200
            case 3: return 400
            case 5: return 404
            case 6: return 409
            case 7: return 403
            case 16: return 401
            default: return 500
            }
        }
        let denied = payload["authorizationInfo"]?.array?.contains { $0["granted"]?.bool == false } ?? false
        return denied ? 403 : 200
    }
}

/// A GKE `methodName`, split: `io.k8s.<group>.<version>.<resource>[.<subresource>].<verb>` for a resource
/// request (`io.k8s.authorization.rbac.v1.clusterrolebindings.create`), `io.k8s.<path>` without a version for a
/// non-resource one (`io.k8s.readyz`).
struct GKEMethod {
    /// The verbs GKE's methods end with: the API server's request verbs, and `connect`.
    static let verbs: Set<String> = [
        "create", "update", "patch", "delete", "deletecollection", "get", "list", "watch", "connect",
    ]

    /// The API group as the method spells it (`core`, `apps`, `authorization.rbac`); empty for a non-resource
    /// request.
    var group = ""
    /// The API version (`v1`, `v1beta1`); empty for a non-resource request.
    var version = ""
    /// The resource (`pods`).
    var resource = ""
    /// The subresource (`exec`), or empty.
    var subresource = ""
    /// The verb; empty for a non-resource request.
    var verb = ""
    /// The path of a non-resource request (`/readyz`); empty for a resource request.
    var path = ""

    /// Whether this is a request for a path rather than a resource.
    var isNonResource: Bool { !path.isEmpty }

    /// Splits `methodName`; nil when it is not a Kubernetes method of either form, or names an unknown verb.
    init?(_ methodName: String) {
        let prefix = "io.k8s."
        guard methodName.hasPrefix(prefix) else { return nil }
        let segments = methodName.dropFirst(prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard !segments.contains(where: \.isEmpty) else { return nil }
        guard let versionIndex = segments.firstIndex(where: Self.isVersion) else {
            path = "/" + segments.joined(separator: "/")
            return
        }
        let tail = segments[(versionIndex + 1)...]
        guard versionIndex > 0, tail.count == 2 || tail.count == 3, let verb = tail.last.map(String.init),
            Self.verbs.contains(verb)
        else { return nil }
        group = segments[..<versionIndex].joined(separator: ".")
        version = String(segments[versionIndex])
        resource = String(tail[tail.startIndex])
        subresource = tail.count == 3 ? String(tail[tail.startIndex + 1]) : ""
        self.verb = verb
    }

    /// Whether `segment` is a Kubernetes API version: `v1`, `v2beta1`, `v1alpha3`.
    static func isVersion(_ segment: Substring) -> Bool {
        guard segment.first == "v" else { return false }
        let rest = segment.dropFirst()
        let major = rest.prefix(while: \.isASCIIDigit)
        guard !major.isEmpty else { return false }
        let stage = rest.dropFirst(major.count)
        if stage.isEmpty { return true }
        for name in ["alpha", "beta"] where stage.hasPrefix(name) {
            let minor = stage.dropFirst(name.count)
            return !minor.isEmpty && minor.allSatisfy(\.isASCIIDigit)
        }
        return false
    }

    /// What a `resourceName` names, or nil when it does not fit this method.
    ///
    /// A resource request's is `<group>/<version>/[namespaces/<namespace>/]<resource>[/<name>[/<subresource>]]`
    /// (`core` is the core group, given back as ""), with this method's version, resource and subresource (the
    /// subresource may be left out). A non-resource request's is its path, starting with `/`.
    func target(of resourceName: String) -> (group: String, namespace: String, name: String)? {
        if isNonResource {
            guard resourceName.hasPrefix("/") else { return nil }
            return ("", "", "")
        }
        let parts = resourceName.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, !parts.contains(where: \.isEmpty), parts[1] == version else { return nil }
        var rest = parts.dropFirst(2)
        var namespace = ""
        if rest.first == "namespaces", resource != "namespaces" {
            guard rest.count >= 3 else { return nil }
            namespace = String(rest[rest.startIndex + 1])
            rest = rest.dropFirst(2)
        }
        guard rest.first.map(String.init) == resource, rest.count <= 3 else { return nil }
        let name = rest.count > 1 ? String(rest[rest.startIndex + 1]) : ""
        if rest.count == 3, rest[rest.startIndex + 2] != subresource { return nil }
        return (parts[0] == "core" ? "" : String(parts[0]), namespace, name)
    }
}

extension Character {
    /// Whether this is one of the ASCII digits 0–9.
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

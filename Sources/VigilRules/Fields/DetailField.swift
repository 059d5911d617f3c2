import VigilCore

/// A value read from the JSON details an event carries (``KubernetesFields/details``, ``CloudFields/details``):
/// what Falco's Kubernetes audit and CloudTrail plugins read from the original record beyond Vigil's fixed
/// fields (`ka.req.pod.containers.image`, `ka.auth.decision`, `ct.request.username`, `jevt.value[/stage]`…).
///
/// Values are text, as in Falco: a JSON string gives its content, any other JSON value its compact JSON text.
/// A list field (``isList``) gives every value found; an empty list reads as missing. The value depends on the
/// details text alone, so predicates remember their result per details symbol.
public struct DetailField: Sendable, Hashable {
    /// The events whose details it reads.
    enum Source: Sendable, Hashable {
        case kubernetes
        case cloud
        /// Both (`jevt.obj`).
        case any
    }

    /// How the value is found in the details object.
    enum Extraction: Sendable, Hashable {
        /// The whole details text (`jevt.obj`).
        case whole
        /// The value at a path of member names (a number indexes an array), as text.
        case value([String])
        /// Every element of the array at a path, each as text.
        case elements([String])
        /// Falco's recursive read: an array met before a name is walked (every element, or only the one at
        /// `index`), and every value found at the end of the path is kept, as text.
        case collect([String], index: Int?)
        /// As ``collect(_:index:)``, with arrays found at the end flattened into their elements.
        case collectFlattened([String], index: Int?)
        /// The repository of each container image found as ``collect(_:index:)`` finds them (the image without
        /// its tag or digest).
        case repositories([String], index: Int?)
        /// `true` when, for any element of the array at `list`, the value at `inner` is true; `false` when the
        /// array has elements but none is.
        case anyTrue(list: [String], inner: [String])
        /// `true` when, for any element of the array at `list`, the text at `inner` is `pattern`, or starts
        /// with it when it ends in `*`; `false` when the array has elements but none matches.
        case pathMatch(list: [String], inner: [String], pattern: String)
        /// The first value of a query parameter of `requestURI`.
        case uriParameter(String)
        /// The host ports of a pod's containers (`hostPort`, else `containerPort`).
        case hostPorts(containerList: String, index: Int?)
        /// A security context setting of each container, else the pod's, else 0 (`runAsUser`, `runAsGroup`).
        case effective(containerList: String, key: String, index: Int?)
        /// The type of each volume: its member names other than `name`.
        case volumeTypes(index: Int?)
        /// The names of a binding's subjects of one kind; service accounts as `namespace:name` when
        /// `namespaced`.
        case subjectNames(kind: String, namespaced: Bool)
        /// Falco's `ct.user`: the user name, the invoking service, or the session issuer, by identity type.
        case cloudUser
        /// `s3://bucket/key` of an S3 request.
        case s3URI
    }

    let source: Source
    let extraction: Extraction
    /// Whether the field is a list (Falco's `string (list)` fields).
    public let isList: Bool

    /// The event kinds whose details it reads.
    var kinds: Set<EventKind> {
        switch source {
        case .kubernetes: return [.kubernetesRequest]
        case .cloud: return [.cloudAPICall]
        case .any: return [.kubernetesRequest, .cloudAPICall]
        }
    }

    /// The texts of the value in `details` (empty when the details lack it).
    func texts(in details: JSONValue) -> [String] {
        switch extraction {
        case .whole:
            return [details.serialized()]
        case .value(let path):
            return Self.value(at: path, in: details).map { [Self.text($0)] } ?? []
        case .elements(let path):
            return Self.value(at: path, in: details)?.array?.map(Self.text) ?? []
        case .collect(let path, let index):
            return Self.collect(path, in: details, index: index).map(Self.text)
        case .collectFlattened(let path, let index):
            return Self.collect(path, in: details, index: index).flatMap { $0.array ?? [$0] }.map(Self.text)
        case .repositories(let path, let index):
            return Self.collect(path, in: details, index: index).compactMap(\.string).map(Self.repository)
        case .anyTrue(let list, let inner):
            let elements = Self.collect(list, in: details, index: nil, expandLast: true)
            if elements.isEmpty { return [] }
            let found = elements.contains { Self.value(at: inner, in: $0)?.bool == true }
            return [found ? "true" : "false"]
        case .pathMatch(let list, let inner, let pattern):
            let elements = Self.collect(list, in: details, index: nil, expandLast: true)
            if elements.isEmpty { return [] }
            let isPrefix = pattern.hasSuffix("*")
            let prefix = isPrefix ? String(pattern.dropLast()) : pattern
            let matched = elements.contains { element in
                guard let path = Self.value(at: inner, in: element)?.string else { return false }
                return isPrefix ? path.hasPrefix(prefix) : path == pattern
            }
            return [matched ? "true" : "false"]
        case .uriParameter(let name):
            guard let uri = details["requestURI"]?.string else { return [] }
            return Self.queryParameter(name, in: uri).map { [$0] } ?? []
        case .hostPorts(let list, let index):
            var ports: [String] = []
            for container in Self.collect(["requestObject", "spec", list], in: details, index: index, expandLast: true)
            {
                for port in container["ports"]?.array ?? [] {
                    if let value = port["hostPort"] ?? port["containerPort"] { ports.append(Self.text(value)) }
                }
            }
            return ports
        case .effective(let list, let key, let index):
            let podValue = details["requestObject"]?["spec"]?["securityContext"]?[key].map(Self.text) ?? "0"
            return Self.collect(["requestObject", "spec", list], in: details, index: index, expandLast: true).map {
                $0["securityContext"]?[key].map(Self.text) ?? podValue
            }
        case .volumeTypes(let index):
            let volumes = Self.collect(
                ["requestObject", "spec", "volumes"], in: details, index: index, expandLast: true)
            return volumes.flatMap { $0.object?.keys.filter { $0 != "name" } ?? [] }
        case .subjectNames(let kind, let namespaced):
            return (details["requestObject"]?["subjects"]?.array ?? []).compactMap { subject in
                guard subject["kind"]?.string == kind, let name = subject["name"]?.string else { return nil }
                guard namespaced else { return name }
                return (subject["namespace"]?.string ?? "") + ":" + name
            }
        case .cloudUser:
            return Self.cloudUser(details["userIdentity"]).map { [$0] } ?? []
        case .s3URI:
            guard let bucket = details["requestParameters"]?["bucketName"]?.string,
                let key = details["requestParameters"]?["key"]?.string
            else { return [] }
            return ["s3://\(bucket)/\(key)"]
        }
    }

    // MARK: Reading JSON

    /// Falco's text of a value: a string's content, else its compact JSON.
    static func text(_ value: JSONValue) -> String {
        if case .string(let text) = value { return text }
        return value.serialized()
    }

    /// The value at `path`: member names, or array indexes on arrays.
    static func value(at path: [String], in root: JSONValue) -> JSONValue? {
        var current = root
        for token in path {
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let array):
                guard let index = Int(token), array.indices.contains(index) else { return nil }
                current = array[index]
            default:
                return nil
            }
        }
        return current
    }

    /// Falco's recursive read (the k8saudit plugin's `getValuesRecursive`): an array met before a name is walked,
    /// every element or only the one at `index`; elements lacking the rest of the path are skipped. With
    /// `expandLast`, an array found at the end is walked too.
    static func collect(
        _ path: [String], in root: JSONValue, index: Int?, expandLast: Bool = false
    ) -> [JSONValue] {
        var found: [JSONValue] = []
        var pending: [(value: JSONValue, depth: Int)] = [(root, 0)]
        while let (value, depth) = pending.popLast() {
            if case .array(let array) = value, depth < path.count || expandLast {
                if let index {
                    if array.indices.contains(index) { pending.append((array[index], depth)) }
                } else {
                    pending.append(contentsOf: array.reversed().map { ($0, depth) })
                }
                continue
            }
            if depth == path.count {
                found.append(value)
                continue
            }
            if let next = value.object?[path[depth]] { pending.append((next, depth + 1)) }
        }
        return found
    }

    /// The repository of an image: without a digest (`@sha256:…`) and without a tag (a colon after the last
    /// slash), so that `registry:5000/app:1.2` gives `registry:5000/app`.
    static func repository(_ image: String) -> String {
        let withoutDigest = image.split(separator: "@", maxSplits: 1).first.map(String.init) ?? image
        guard let colon = withoutDigest.lastIndex(of: ":"), !withoutDigest[colon...].contains("/") else {
            return withoutDigest
        }
        return String(withoutDigest[..<colon])
    }

    /// The first value of the query parameter `name` in `uri`, percent-decoded (`+` is a space).
    static func queryParameter(_ name: String, in uri: String) -> String? {
        guard let question = uri.firstIndex(of: "?") else { return nil }
        let query = uri[uri.index(after: question)...]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard percentDecoded(parts[0]) == name else { continue }
            return parts.count > 1 ? percentDecoded(parts[1]) : ""
        }
        return nil
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let decoded = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(decoded)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Falco's `ct.user`: `userName` for a root or IAM user, `invokedBy` for a service, the session issuer's
    /// user name for an assumed role (else `AssumedRole`), and `AWSAccount` or `FederatedUser` for those types.
    static func cloudUser(_ identity: JSONValue?) -> String? {
        guard let identity, let type = identity["type"]?.string else { return nil }
        switch type {
        case "Root", "IAMUser": return identity["userName"]?.string
        case "AWSService": return identity["invokedBy"]?.string
        case "AssumedRole":
            return identity["sessionContext"]?["sessionIssuer"]?["userName"]?.string ?? "AssumedRole"
        case "AWSAccount", "FederatedUser": return type
        default: return nil
        }
    }
}

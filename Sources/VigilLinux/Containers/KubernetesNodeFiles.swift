import Foundation
import Synchronization
import VigilCore

/// The Kubernetes identity of this node's containers, read from the files the kubelet keeps: the container
/// log links in `/var/log/containers` (`<pod>_<namespace>_<container>-<container id>.log`) name each
/// container's pod, and the service-account token mounted in a process's root names its service account.
///
/// Lookups are cached; an unknown container id rescans the folder at most every `rescanInterval`. Nothing is
/// sent anywhere and no API server is asked.
public final class KubernetesNodeFiles: Sendable {
    /// The folder of container log links.
    public let containerLogs: String
    /// The procfs mount, through which a process's root is read.
    public let procRoot: String
    /// The shortest time between two scans of the folder.
    public let rescanInterval: Duration

    /// Where a pod's service-account token is mounted, inside the container's root.
    public static let tokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"

    private struct State {
        var pods: [String: KubernetesPodReference] = [:]
        var lastScan: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    /// Reads the kubelet's files under `containerLogs` and process roots under `procRoot`.
    public init(
        containerLogs: String = "/var/log/containers", procRoot: String = "/proc",
        rescanInterval: Duration = .seconds(5)
    ) {
        self.containerLogs = containerLogs
        self.procRoot = procRoot
        self.rescanInterval = rescanInterval
    }

    /// The files of this node, or nil when it runs no kubelet (no `/var/log/containers`).
    public static func onThisNode() -> KubernetesNodeFiles? {
        SystemFiles.exists("/var/log/containers") ? KubernetesNodeFiles() : nil
    }

    /// The pod of the container with the full id `id`, if the kubelet has a log link for it.
    public func pod(ofContainer id: String) -> KubernetesPodReference? {
        if let pod = state.withLock({ $0.pods[id] }) { return pod }
        let now = ContinuousClock.now
        let due = state.withLock { state in
            guard let last = state.lastScan, now - last < rescanInterval else {
                state.lastScan = now
                return true
            }
            return false
        }
        guard due else { return nil }
        let pods = scan()
        return state.withLock { state in
            state.pods = pods
            return pods[id]
        }
    }

    /// The service account (`system:serviceaccount:<namespace>:<name>`) of the token mounted in process
    /// `pid`'s root, read from the token's claims (its signature is not checked: the question is which
    /// account the process can act as, not whether the token is valid).
    public func serviceAccount(ofProcess pid: Int32) -> String? {
        guard let token = try? SystemFiles.readText("\(procRoot)/\(pid)/root\(Self.tokenPath)") else { return nil }
        return Self.subject(ofToken: token)
    }

    /// The `sub` claim of a JSON web token, when it names a service account.
    static func subject(ofToken token: String) -> String? {
        let parts = token.trimmingWhitespace().split(separator: ".", omittingEmptySubsequences: false)
        // JSON web tokens use base64url without padding: back to base64 for Foundation's decoder.
        var payload = parts.count == 3 ? String(parts[1]) : ""
        payload = payload.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        payload += String(repeating: "=", count: (4 - payload.utf8.count % 4) % 4)
        guard let decoded = Data(base64Encoded: payload),
            let claims = try? JSONParser.parse(String(decoding: decoded, as: UTF8.self)),
            let subject = claims["sub"]?.string, subject.hasPrefix("system:serviceaccount:")
        else { return nil }
        return subject
    }

    /// Reads every container log link's name.
    private func scan() -> [String: KubernetesPodReference] {
        var pods: [String: KubernetesPodReference] = [:]
        // A folder that cannot be read knows no pod; the next scan tries again.
        for entry in (try? SystemFiles.directoryEntries(containerLogs)) ?? [] {
            if let (id, pod) = Self.parse(logName: entry.name) { pods[id] = pod }
        }
        return pods
    }

    /// `<pod>_<namespace>_<container>-<64 hex>.log` → the id and the pod. Kubernetes names hold no `_`.
    static func parse(logName: String) -> (String, KubernetesPodReference)? {
        guard logName.hasSuffix(".log") else { return nil }
        let stem = logName.dropLast(4)
        let fields = stem.split(separator: "_", omittingEmptySubsequences: false)
        guard fields.count == 3, !fields[0].isEmpty, !fields[1].isEmpty, let dash = fields[2].lastIndex(of: "-")
        else { return nil }
        let container = fields[2][..<dash]
        let id = fields[2][fields[2].index(after: dash)...]
        guard !container.isEmpty, id.count == 64, id.allSatisfy(\.isHexDigit) else { return nil }
        return (
            String(id),
            KubernetesPodReference(namespace: String(fields[1]), name: String(fields[0]), container: String(container))
        )
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> Substring {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}

import VigilCore

/// The container runtime that made a container, as far as its cgroup path tells.
public enum ContainerRuntime: String, Sendable, Hashable, CaseIterable {
    /// Docker (`/docker/<id>`, `docker-<id>.scope`).
    case docker
    /// containerd, alone (nerdctl, `/<namespace>/<id>`) or as Kubernetes' CRI (`cri-containerd-<id>.scope`).
    case containerd
    /// CRI-O (`crio-<id>.scope`, `crio-<id>`).
    case crio = "cri-o"
    /// Podman (`libpod-<id>.scope`, `/libpod_parent/libpod-<id>`).
    case podman
    /// A container whose runtime the path does not name (Kubernetes with the cgroupfs driver:
    /// `/kubepods/burstable/pod<uid>/<id>`).
    case unknown
}

/// A Kubernetes pod's quality-of-service class, which decides where the kubelet puts its cgroup.
public enum QoSClass: String, Sendable, Hashable, CaseIterable {
    /// Every container has equal requests and limits; the pod's cgroup sits right under `kubepods`.
    case guaranteed = "Guaranteed"
    /// Some requests or limits are set; under `kubepods/burstable`.
    case burstable = "Burstable"
    /// No requests or limits; under `kubepods/besteffort`.
    case bestEffort = "BestEffort"
}

/// Which container a cgroup belongs to, read from the cgroup path alone.
///
/// Container runtimes name each container's cgroup after its 64-hex-digit id, and the kubelet names each
/// pod's cgroup after the pod's UID and QoS class, in one of two styles: the cgroupfs driver
/// (`/kubepods/burstable/pod<uid>/<id>`) or the systemd driver
/// (`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope`).
/// Cgroups nested below a container's own (`/docker/<id>/init.scope`) belong to that container; in nested
/// setups (kind, docker-in-docker) the innermost container wins.
public struct ContainerIdentity: Sendable, Hashable {
    /// The runtime that made the container.
    public var runtime: ContainerRuntime
    /// The full container id: 64 lowercase hex digits.
    public var id: String
    /// The pod's UID with dashes (`8d6c2a7e-3b1f-4c55-9a0e-2f4b6c8d0e1a`) when the container belongs to a
    /// Kubernetes pod.
    public var podUID: String?
    /// The pod's QoS class when the container belongs to a Kubernetes pod.
    public var qosClass: QoSClass?

    /// Creates an identity.
    public init(runtime: ContainerRuntime, id: String, podUID: String? = nil, qosClass: QoSClass? = nil) {
        self.runtime = runtime
        self.id = id
        self.podUID = podUID
        self.qosClass = qosClass
    }

    /// The first 12 digits of the id, as `docker ps` shows it.
    public var shortID: String {
        String(id.prefix(12))
    }

    /// The workload this container belongs to, as far as the cgroup tells: `Workload(kind: .container,
    /// containerName: shortID)` outside Kubernetes, and for a pod's container `Workload(kind: .kubernetes,
    /// ownerKind: "Pod", ownerName: podUID, containerName: shortID)`.
    ///
    /// The cgroup knows neither the namespace nor the owner's or the container's names, so those are
    /// placeholders (the namespace is empty): an enricher that asks the runtime or the Kubernetes API may
    /// replace them with `default/Deployment/web/web`.
    public func workload() -> Workload {
        guard let podUID else { return Workload(kind: .container, containerName: shortID) }
        return Workload(kind: .kubernetes, namespace: "", ownerKind: "Pod", ownerName: podUID, containerName: shortID)
    }

    /// The container a cgroup path (relative to the cgroup2 mount, as in `0::/...` of /proc/PID/cgroup)
    /// belongs to, or nil for host cgroups (`/system.slice/sshd.service`, `/user.slice/...`, `/`) and for
    /// runtime helpers such as CRI-O's `crio-conmon-<id>.scope`.
    public static func parse(cgroupPath: String) -> ContainerIdentity? {
        var found: ContainerIdentity?
        var pod: (uid: String, qos: QoSClass)?
        var previous: Substring = ""
        var insideKubepods = false
        for component in cgroupPath.split(separator: "/") {
            if component == "kubepods" || component.hasSuffix("kubepods.slice") { insideKubepods = true }
            if insideKubepods, let parsed = podComponent(component, parent: previous) {
                pod = parsed
            } else if let (runtime, id) = containerComponent(component, parent: previous, inPod: pod != nil) {
                found = ContainerIdentity(runtime: runtime, id: id, podUID: pod?.uid, qosClass: pod?.qos)
            }
            previous = component
        }
        return found
    }

    /// Prefixes and suffixes of a container's own cgroup, most specific first.
    private static let containerPatterns: [(prefix: String, suffix: String, runtime: ContainerRuntime)] = [
        ("cri-containerd-", ".scope", .containerd),
        ("docker-", ".scope", .docker),
        ("crio-", ".scope", .crio),
        ("crio-", "", .crio),
        ("libpod-", ".scope", .podman),
        ("libpod-", "", .podman),
        ("nerdctl-", ".scope", .containerd),
    ]

    /// The runtime and id named by one path component, or nil. A bare 64-hex-digit id is docker's under
    /// `/docker`, of an ``ContainerRuntime/unknown`` runtime in a pod, and otherwise containerd's
    /// (`/<namespace>/<id>`).
    private static func containerComponent(
        _ component: Substring, parent: Substring, inPod: Bool
    ) -> (ContainerRuntime, String)? {
        if isContainerID(component) {
            let runtime: ContainerRuntime = parent == "docker" ? .docker : inPod ? .unknown : .containerd
            return (runtime, String(component))
        }
        for pattern in containerPatterns
        where component.hasPrefix(pattern.prefix) && component.hasSuffix(pattern.suffix) {
            let id = component.dropFirst(pattern.prefix.count).dropLast(pattern.suffix.count)
            if isContainerID(id) { return (pattern.runtime, String(id)) }
        }
        return nil
    }

    /// The pod UID and QoS class named by one component below `kubepods`: `pod<uid>` under `burstable`,
    /// `besteffort` or `kubepods` (cgroupfs driver), or `…kubepods[-<qos>]-pod<uid_with_underscores>.slice`
    /// (systemd driver, whose slice names repeat their parents', e.g. with a `kubelet-` prefix).
    private static func podComponent(_ component: Substring, parent: Substring) -> (String, QoSClass)? {
        if component.hasPrefix("pod") {
            guard let uid = podUID(component.dropFirst(3)), let qos = qosClass(parent) else { return nil }
            return (uid, qos)
        }
        // systemd writes the uid's dashes as underscores, so the last dash starts `pod<uid>`.
        guard component.hasSuffix(".slice") else { return nil }
        let parts = component.dropLast(".slice".count).split(separator: "-")
        guard parts.count >= 2, let last = parts.last, last.hasPrefix("pod"), let uid = podUID(last.dropFirst(3)),
            let qos = qosClass(parts[parts.count - 2])
        else { return nil }
        return (uid, qos)
    }

    /// The QoS class of the pods below a kubelet level: `burstable`, `besteffort`, or `kubepods` itself for
    /// guaranteed pods.
    private static func qosClass(_ level: Substring) -> QoSClass? {
        switch level {
        case "burstable": .burstable
        case "besteffort": .bestEffort
        case "kubepods": .guaranteed
        default: nil
        }
    }

    /// A pod UID with dashes, from one written with dashes or (by systemd) underscores: 32 hex digits, as
    /// a UUID or as the undashed hash of a static pod. Nil for anything else.
    private static func podUID(_ text: Substring) -> String? {
        let uid = String(text.map { $0 == "_" ? "-" : $0 })
        var digits = 0
        for character in uid.utf8 {
            if isLowerHex(character) {
                digits += 1
            } else if character != UInt8(ascii: "-") {
                return nil
            }
        }
        return digits == 32 ? uid : nil
    }

    /// Whether `text` is a full container id: 64 lowercase hex digits.
    private static func isContainerID(_ text: Substring) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy(isLowerHex)
    }

    /// Whether a byte is `0`–`9` or `a`–`f`.
    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }
}

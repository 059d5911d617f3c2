import Testing
import VigilCore
import VigilLinux

/// Container identity from real-world-shaped cgroup paths of every runtime and driver.
@Suite("container identity")
struct ContainerIdentityTests {
    /// One cgroup path and the identity it should give.
    struct Case: Sendable, CustomTestStringConvertible {
        var path: String
        var expected: ContainerIdentity?
        var testDescription: String { path }
    }

    static let id = "3f4e1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"
    static let other = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    static let uid = "8d6c2a7e-3b1f-4c55-9a0e-2f4b6c8d0e1a"
    static let underscored = "8d6c2a7e_3b1f_4c55_9a0e_2f4b6c8d0e1a"
    /// A static pod's UID: the kubelet's 32-digit hash, without dashes.
    static let staticUID = "b1946ac92492d2347c6235b4d2611184"

    static let cases: [Case] = [
        // Docker, cgroupfs and systemd drivers, and cgroups nested below the container's.
        Case(path: "/docker/\(id)", expected: ContainerIdentity(runtime: .docker, id: id)),
        Case(path: "/docker/\(id)/init.scope", expected: ContainerIdentity(runtime: .docker, id: id)),
        Case(path: "/system.slice/docker-\(id).scope", expected: ContainerIdentity(runtime: .docker, id: id)),
        Case(
            path: "/system.slice/docker-\(id).scope/app/worker", expected: ContainerIdentity(runtime: .docker, id: id)),
        // Docker in docker: the innermost container wins.
        Case(path: "/docker/\(other)/docker/\(id)", expected: ContainerIdentity(runtime: .docker, id: id)),
        // Kubernetes, cgroupfs driver.
        Case(
            path: "/kubepods/burstable/pod\(uid)/\(id)",
            expected: ContainerIdentity(runtime: .unknown, id: id, podUID: uid, qosClass: .burstable)),
        Case(
            path: "/kubepods/besteffort/pod\(uid)/\(id)",
            expected: ContainerIdentity(runtime: .unknown, id: id, podUID: uid, qosClass: .bestEffort)),
        Case(
            path: "/kubepods/pod\(uid)/\(id)",
            expected: ContainerIdentity(runtime: .unknown, id: id, podUID: uid, qosClass: .guaranteed)),
        Case(
            path: "/kubepods/pod\(staticUID)/\(id)",
            expected: ContainerIdentity(runtime: .unknown, id: id, podUID: staticUID, qosClass: .guaranteed)),
        Case(
            path: "/kubepods/burstable/pod\(uid)/crio-\(id)",
            expected: ContainerIdentity(runtime: .crio, id: id, podUID: uid, qosClass: .burstable)),
        // Kubernetes, systemd driver, with each runtime.
        Case(
            path: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(underscored).slice/"
                + "cri-containerd-\(id).scope",
            expected: ContainerIdentity(runtime: .containerd, id: id, podUID: uid, qosClass: .bestEffort)),
        Case(
            path:
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(underscored).slice/crio-\(id).scope",
            expected: ContainerIdentity(runtime: .crio, id: id, podUID: uid, qosClass: .burstable)),
        Case(
            path: "/kubepods.slice/kubepods-pod\(underscored).slice/docker-\(id).scope",
            expected: ContainerIdentity(runtime: .docker, id: id, podUID: uid, qosClass: .guaranteed)),
        Case(
            path:
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(underscored).slice/crio-\(id).scope/"
                + "container",
            expected: ContainerIdentity(runtime: .crio, id: id, podUID: uid, qosClass: .burstable)),
        // kind and k3s: a node container whose kubelet slices carry a prefix; the pod's container wins.
        Case(
            path: "/system.slice/docker-\(other).scope/kubelet.slice/kubelet-kubepods.slice/"
                + "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod\(underscored).slice/"
                + "cri-containerd-\(id).scope",
            expected: ContainerIdentity(runtime: .containerd, id: id, podUID: uid, qosClass: .bestEffort)),
        // containerd alone (nerdctl), by namespace.
        Case(path: "/default/\(id)", expected: ContainerIdentity(runtime: .containerd, id: id)),
        Case(path: "/k8s.io/\(id)", expected: ContainerIdentity(runtime: .containerd, id: id)),
        Case(path: "/system.slice/nerdctl-\(id).scope", expected: ContainerIdentity(runtime: .containerd, id: id)),
        // Podman, rootful and rootless, systemd and cgroupfs.
        Case(path: "/machine.slice/libpod-\(id).scope", expected: ContainerIdentity(runtime: .podman, id: id)),
        Case(
            path: "/machine.slice/libpod-\(id).scope/container", expected: ContainerIdentity(runtime: .podman, id: id)),
        Case(
            path: "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-\(id).scope",
            expected: ContainerIdentity(runtime: .podman, id: id)),
        Case(path: "/libpod_parent/libpod-\(id)", expected: ContainerIdentity(runtime: .podman, id: id)),
        // The host and runtime helpers.
        Case(path: "/", expected: nil),
        Case(path: "", expected: nil),
        Case(path: "/init.scope", expected: nil),
        Case(path: "/system.slice/sshd.service", expected: nil),
        Case(path: "/system.slice/docker.service", expected: nil),
        Case(path: "/system.slice/containerd.service", expected: nil),
        Case(path: "/user.slice/user-0.slice/session-3.scope", expected: nil),
        Case(path: "/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service", expected: nil),
        Case(path: "/system.slice/crio-conmon-\(id).scope", expected: nil),
        Case(path: "/machine.slice/libpod-conmon-\(id).scope", expected: nil),
        Case(
            path: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(underscored).slice", expected: nil),
        Case(path: "/kubepods/burstable/pod\(uid)", expected: nil),
        // Not container ids: too short, upper case, not hex.
        Case(path: "/docker/\(id.dropLast())", expected: nil),
        Case(path: "/docker/\(id.uppercased())", expected: nil),
        Case(path: "/system.slice/docker-\(id.dropLast())g.scope", expected: nil),
        Case(path: "/vigil-test-1234/docker-notanid.scope", expected: nil),
    ]

    @Test("cgroup paths map to their container, or to none for the host", arguments: cases)
    func parse(_ test: Case) {
        #expect(ContainerIdentity.parse(cgroupPath: test.path) == test.expected)
    }

    @Test("the short id is the first 12 digits; runtimes have stable names")
    func shortIDAndNames() {
        #expect(ContainerIdentity(runtime: .docker, id: Self.id).shortID == "3f4e1c2b9a8d")
        #expect(ContainerRuntime.allCases.map(\.rawValue) == ["docker", "containerd", "cri-o", "podman", "unknown"])
        #expect(QoSClass.allCases.map(\.rawValue) == ["Guaranteed", "Burstable", "BestEffort"])
    }

    @Test("a plain container is a container workload; a pod's container is a Kubernetes workload of its pod")
    func workloads() throws {
        let plain = try #require(ContainerIdentity.parse(cgroupPath: "/system.slice/docker-\(Self.id).scope"))
        #expect(plain.workload() == Workload(kind: .container, containerName: "3f4e1c2b9a8d"))
        #expect(plain.workload().name == "container/3f4e1c2b9a8d")

        let pod = try #require(
            ContainerIdentity.parse(cgroupPath: "/kubepods/besteffort/pod\(Self.uid)/\(Self.id)"))
        #expect(
            pod.workload()
                == Workload(
                    kind: .kubernetes, namespace: "", ownerKind: "Pod", ownerName: Self.uid,
                    containerName: "3f4e1c2b9a8d"))
    }
}

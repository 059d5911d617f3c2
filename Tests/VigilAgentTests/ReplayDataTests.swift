import Foundation
import Testing
import VigilCore

/// The third-party data beside the project (see ../shared/data/README.md).
let sharedData = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")

@Suite("vigil-agent replay over real logs")
struct ReplayDataTests {
    /// Linux audit logs from elastic/go-libaudit (Apache-2.0) and attack atomics from OTRF/Security-Datasets
    /// (MIT): learn from the benign logs, then check the `arp -a` discovery atomic.
    @Test("auditd logs are recognised by content; the attack atomic's new programs are findings")
    func linuxAudit() throws {
        let benign = ["normal.log", "out_of_order.log", "lost_messages.log", "rollover.log"].map {
            sharedData.appendingPathComponent("linux-audit/go-libaudit/testdata/\($0)").path
        }
        let attack = sharedData.appendingPathComponent("linux-audit/otrf/sh_arp_cache_2020-11-10074812.log").path
        let result = try runAgent(["replay", "--learn"] + benign + ["--detect", attack, "--store", "memory"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let summary = try #require(result.stderr.split(separator: "\n").last.map(String.init))
        #expect(summary.contains("learned 20 events"), "summary: \(summary)")
        #expect(summary.contains("checked 2 events: 2 findings"), "summary: \(summary)")
        #expect(!summary.contains("malformed"), "real audit lines were skipped: \(summary)")
        // The atomic's `arp -a` (T1018 discovery) is a program the host never ran while learning.
        let alerts = try result.stdout.split(separator: "\n").map {
            try #require(try JSONParser.parse(String($0)).object)
        }
        let findings = alerts.filter { $0["type"]?.string == "finding" }
        #expect(findings.map { $0["process"]?["exe"]?.string } == ["/usr/sbin/arp", "/bin/grep"])
        #expect(findings.allSatisfy { $0["rule"]?["id"]?.string == "profile.unexpected-process" })
        // One shell pipeline: both programs join one incident (its latest report is its current state).
        let incidents = alerts.filter { $0["type"]?.string == "incident" }
        #expect(Set(incidents.compactMap { $0["id"]?.string }).count == 1)
        #expect(
            incidents.last?["findings"]?.array?.compactMap(\.string) == findings.compactMap { $0["id"]?.string })
    }

    /// Kubernetes audit events from falcosecurity/falco's test files (Apache-2.0): learn from requests that
    /// Falco's tests expect no alert for, then check the exec into a pod and the cluster-admin binding.
    @Test("Kubernetes audit files are recognised by content and replayed")
    func kubernetesAudit() throws {
        let directory = sharedData.appendingPathComponent("k8s-audit/falco/k8s_audit")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }
        #expect(files.count >= 40)
        let suspicious = ["attach_pod.json", "attach_cluster_admin_role.json"]
        // fal_01_003.json is `{"kind": 0}`, which Falco's own tests expect to be rejected: it is, clearly.
        let foreign = directory.appendingPathComponent("fal_01_003.json").path
        let refused = try runAgent(["replay", "--detect", foreign, "--store", "memory"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("is not an input vigil-agent recognises"))
        let learn = files.filter { !suspicious.contains($0) && $0 != "fal_01_003.json" }.sorted()
            .map { directory.appendingPathComponent($0).path }
        let detect = suspicious.map { directory.appendingPathComponent($0).path }
        let result = try runAgent(["replay", "--learn"] + learn + ["--detect"] + detect + ["--store", "memory"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("checked 2 events"), "stderr: \(result.stderr)")
        let alerts = try result.stdout.split(separator: "\n").map {
            try #require(try JSONParser.parse(String($0)).object)
        }
        #expect(alerts.contains { $0["type"]?.string == "finding" })
        for finding in alerts where finding["type"]?.string == "finding" {
            #expect(finding["layer"]?.string == "cluster")
            #expect(finding["principal"]?.string?.isEmpty == false)
        }
        for incident in alerts where incident["type"]?.string == "incident" {
            #expect(incident["layers"]?.array?.compactMap(\.string) == ["cluster"])
        }
    }
}

@Suite("vigil-agent replay over cloud records")
struct ReplayCloudDataTests {
    /// DataDog/stratus-red-team detonation logs (Apache-2.0): 35 files, 310 CloudTrail records, plain JSON
    /// arrays; and one of them gzip'd as CloudTrail delivers to S3.
    @Test("CloudTrail files (plain and gzip) are recognised by content and every record is replayed")
    func stratus() throws {
        let directory = sharedData.appendingPathComponent("cloudtrail/stratus-red-team/detonation-logs")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }
            .sorted().map { directory.appendingPathComponent($0).path }
        #expect(files.count == 35)
        let all = try runAgent(["replay", "--detect"] + files + ["--store", "memory"])
        #expect(all.status == 0, "stderr: \(all.stderr)")
        #expect(all.stderr.contains("checked 310 events"), "stderr: \(all.stderr)")
        #expect(!all.stderr.contains("malformed"))

        let temporary = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: temporary) }
        let source = directory.appendingPathComponent("aws.persistence.iam-create-admin-user.json")
        let copy = temporary.appendingPathComponent("delivery.json")
        try FileManager.default.copyItem(at: source, to: copy)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = [copy.path]
        try gzip.run()
        gzip.waitUntilExit()
        let plain = try runAgent(["replay", "--detect", source.path, "--store", "memory"])
        let zipped = try runAgent(["replay", "--detect", copy.path + ".gz", "--store", "memory"])
        #expect(zipped.status == 0, "stderr: \(zipped.stderr)")
        let count = { (text: String) in text.split(separator: "\n").last.map(String.init) ?? "" }
        #expect(count(zipped.stderr) == count(plain.stderr))
        #expect(count(plain.stderr).contains("checked 3 events"), "stderr: \(plain.stderr)")
    }
}

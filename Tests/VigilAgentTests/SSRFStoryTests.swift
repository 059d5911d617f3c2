import Foundation
import Testing
import VigilCore

/// Runs `Examples/ssrf-story` for real (root): a Hummingbird shop with the application sensor, the metadata
/// service emulator in the demo's own network namespace, `vigil-agent` with the eBPF sensor, the shop's
/// application events and a CloudTrail folder. The demo writes a JSON summary of what Vigil reported.
@Suite("SSRF attack story", .serialized)
struct SSRFStoryTests {
    /// Runs the demo and returns its summary.
    func demo(_ arguments: [String]) throws -> JSONValue {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let summary = directory.appendingPathComponent("summary.json").path
        let run = try runBinary("ssrf-story", ["demo"] + arguments + ["--summary", summary])
        guard run.status == 0 else {
            throw AgentTestFailure("ssrf-story demo failed (\(run.status)):\n\(run.stderr)\n\(run.stdout)")
        }
        return try JSONParser.parse(String(contentsOfFile: summary, encoding: .utf8))
    }

    @Test("the attack is one incident across application, workload and cloud, rooted in the request, and stopped")
    func attackIsOneIncident() throws {
        guard rootAvailable() else { return }
        let summary = try demo([])
        let incidents = summary["incidents"]?.array ?? []
        #expect(incidents.count == 1, "exactly one incident involves the shop, the node's role or the user: \(summary)")
        let incident = try #require(incidents.first)
        #expect(incident["root_cause_rule"]?.string == "vigil.application.ssrf-metadata-parameter")

        // The steps span the three layers in order: the request, then the process, then the cloud.
        let steps = incident["steps"]?.array ?? []
        let layers = steps.compactMap { $0["layer"]?.string }
        #expect(layers.first == "application")
        let firstWorkload = try #require(layers.firstIndex(of: "workload"), "\(layers)")
        let firstCloud = try #require(layers.firstIndex(of: "cloud"), "\(layers)")
        #expect(layers[..<firstWorkload].allSatisfy { $0 == "application" }, "\(layers)")
        #expect(firstWorkload < firstCloud && layers[firstCloud...].allSatisfy { $0 == "cloud" }, "\(layers)")
        let times = steps.compactMap { $0["time"]?.string.flatMap(RFC3339.parse) }
        #expect(times == times.sorted())
        let techniques = Set(steps.compactMap { $0["technique"]?.string })
        #expect(techniques.isSuperset(of: ["T1190", "T1552.005", "T1136.003", "T1098.003", "T1530"]), "\(techniques)")
        let narrative = incident["narrative"]?.string ?? ""
        #expect(narrative.contains("/preview?url=http://169.254.169.254/"), "\(narrative)")
        #expect(narrative.contains("created IAM user backup-svc"), "\(narrative)")
        #expect(narrative.contains("from 203.0.113.7"), "\(narrative)")
        #expect(narrative.contains("credential exfiltration"), "\(narrative)")

        // The stolen credentials came back before the response; after it, the shop cannot connect out.
        #expect(summary["stolen_key"]?.string?.hasPrefix("ASIA") == true)
        let shop = summary["shop_pid"]?.int64 ?? -1
        let actions = summary["actions"]?.array?.compactMap(\.string) ?? []
        #expect(actions.contains { $0.hasPrefix("quarantine done on pid \(shop) ") }, "\(actions)")
        #expect(summary["after_response"]?["status"]?.int64 == 502)
        #expect(
            summary["after_response"]?["body"]?.string?.contains("Operation not permitted") == true, "\(summary)")
    }

    @Test("normal traffic after learning raises no incident about the shop and takes no action")
    func benignRunIsQuiet() throws {
        guard rootAvailable() else { return }
        let summary = try demo(["--benign"])
        #expect(summary["incidents"]?.array?.isEmpty == true, "\(summary)")
        #expect(summary["actions"]?.array?.isEmpty == true, "\(summary)")
    }
}

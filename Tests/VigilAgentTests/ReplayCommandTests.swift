import Foundation
import Testing
import VigilCore
import VigilTestKit

/// Runs the real `vigil-agent` binary built next to this test bundle.
func runAgent(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    try runBinary("vigil-agent", arguments)
}

/// Runs an executable of this package, built next to this test bundle.
func runBinary(_ name: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent(name)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    // Files, not pipes: Foundation's pipe reads trap when a signal interrupts them.
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let outURL = directory.appendingPathComponent("stdout")
    let errURL = directory.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
    process.waitUntilExit()
    let stdout = try String(contentsOf: outURL, encoding: .utf8)
    let stderr = try String(contentsOf: errURL, encoding: .utf8)
    return (process.terminationStatus, stdout, stderr)
}

/// A fresh directory for one test's files.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func writeEvents(_ events: [Event], symbols: SymbolTable, to url: URL, extraLines: [String] = []) throws {
    var encoder = EventEncoder(symbols: symbols)
    let lines = events.map { encoder.line(for: $0) } + extraLines
    try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
}

@Suite("vigil-agent replay")
struct ReplayCommandTests {
    @Test("learn then detect: the alert stream has one finding line with the documented fields, and its incident")
    func endToEnd() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let web = b.workload(namespace: "shop", deployment: "web")
        let learn = (0..<50).flatMap { round in
            [
                b.exec(
                    pid: 100 + Int32(round), parent: 1, executable: "/usr/bin/python3",
                    arguments: ["python3", "app.py"], workload: web),
                b.open(pid: 100 + Int32(round), path: "/srv/app.py", workload: web),
            ]
        }
        let detect = [
            b.exec(
                pid: 500, parent: 1, executable: "/usr/bin/python3", arguments: ["python3", "app.py"], workload: web),
            b.exec(pid: 501, parent: 500, executable: "/bin/sh", arguments: ["sh", "-c", "id"], workload: web),
            b.open(pid: 500, path: "/srv/app.py", workload: web),
        ]
        let learnFile = directory.appendingPathComponent("normal.jsonl")
        let detectFile = directory.appendingPathComponent("suspect.jsonl")
        let alertsFile = directory.appendingPathComponent("alerts.jsonl")
        try writeEvents(learn, symbols: symbols, to: learnFile)
        try writeEvents(detect, symbols: symbols, to: detectFile, extraLines: ["{not json", ""])

        let result = try runAgent([
            "replay", "--learn", learnFile.path, "--detect", detectFile.path, "--alerts", alertsFile.path,
            "--store", "memory",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("skipped 1 malformed lines"))
        #expect(result.stderr.contains("checked 3 events: 1 findings"))

        // The finding, then the incident it opens (a medium finding is reported alone; a low one would wait).
        let lines = try String(contentsOf: alertsFile, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let finding = try #require(try JSONParser.parse(String(lines[0])).object)
        #expect(finding["type"]?.string == "finding")
        #expect(finding["id"]?.string?.hasPrefix("f-") == true)
        #expect(finding["time"]?.string == RFC3339.format(nanoseconds: detect[1].time))
        #expect(finding["severity"]?.string == "medium")
        #expect(finding["rule"]?["id"]?.string == "profile.unexpected-process")
        #expect(finding["rule"]?["name"]?.string == "Unexpected process")
        #expect(finding["mitre"]?["tactic"]?.string == "execution")
        #expect(finding["mitre"]?["technique"]?.string == "T1059")
        #expect(finding["layer"]?.string == "workload")
        #expect(finding["workload"]?["name"]?.string == "shop/Deployment/web/web")
        #expect(finding["process"]?["pid"]?.int64 == 501)
        #expect(finding["process"]?["exe"]?.string == "/bin/sh")
        #expect(finding["process"]?["args"]?.array?.compactMap(\.string) == ["sh", "-c", "id"])
        #expect(finding["process"]?["ancestry"]?.array?.first?["exe"]?.string == "/usr/bin/python3")
        #expect(finding["explanation"]?.string?.contains("executed /bin/sh, which its profile does not hold") == true)
        #expect(finding["evidence"]?.array?.first?["kind"]?.string == "process.exec")
        #expect(finding["response"]?.array != nil)

        let incident = try #require(try JSONParser.parse(String(lines[1])).object)
        #expect(incident["type"]?.string == "incident")
        #expect(incident["id"]?.string?.hasPrefix("i-") == true)
        #expect(incident["root_cause"]?.string == finding["id"]?.string)
        #expect(incident["findings"]?.array?.compactMap(\.string) == [finding["id"]?.string].compactMap { $0 })
        #expect(incident["layers"]?.array?.compactMap(\.string) == ["workload"])
        #expect(incident["steps"]?.array?.count == 1)
    }

    @Test("text format prints one readable line per finding on standard output")
    func textFormat() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let learnFile = directory.appendingPathComponent("learn.jsonl")
        let detectFile = directory.appendingPathComponent("detect.jsonl")
        try writeEvents([b.dns(pid: 1, name: "db.internal")], symbols: symbols, to: learnFile)
        try writeEvents([b.dns(pid: 1, name: "xmr.pool.example")], symbols: symbols, to: detectFile)
        let result = try runAgent([
            "replay", "--learn", learnFile.path, "--detect", detectFile.path, "--format", "text",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("LOW profile.unexpected-dns [host]") == true)
        #expect(lines.first?.contains("looked up xmr.pool.example") == true)
    }

    @Test("ocsf and falco formats: a Detection Finding per finding and incident, a Falco alert per finding")
    func ocsfAndFalcoFormats() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let events = directory.appendingPathComponent("events.jsonl")
        let web = builder.workload(deployment: "shop")
        try writeEvents(
            [
                builder.httpRequest(
                    pid: 77, route: "/preview", path: "/preview",
                    parameters: "url=http://169.254.169.254/latest/meta-data/", workload: web),
                builder.httpFetch(
                    pid: 77, host: "169.254.169.254",
                    address: SocketAddress(address: IPAddress(v4: 169, 254, 169, 254), port: 80),
                    path: "/latest/meta-data/", workload: web),
            ], symbols: symbols, to: events)

        let ocsf = try runAgent(["replay", "--detect", events.path, "--store", "memory", "--format", "ocsf"])
        #expect(ocsf.status == 0, "\(ocsf.stderr)")
        let documents = try ocsf.stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(documents.allSatisfy { $0["class_uid"]?.int64 == 2004 }, "\(ocsf.stdout)")
        let analytics = documents.compactMap { $0["finding_info"]?["analytic"]?["uid"]?.string }
        #expect(analytics.contains("vigil.application.ssrf-metadata-parameter"), "\(ocsf.stdout)")
        // The incident joining the two findings is a Detection Finding too, with its steps as related events.
        #expect(
            documents.contains { ($0["finding_info"]?["related_events"]?.array?.count ?? 0) >= 2 }, "\(ocsf.stdout)")

        let falco = try runAgent(["replay", "--detect", events.path, "--store", "memory", "--format", "falco"])
        #expect(falco.status == 0, "\(falco.stderr)")
        let alerts = try falco.stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(alerts.count == 2, "one per finding, no incident: \(falco.stdout)")
        #expect(alerts.allSatisfy { $0["priority"]?.string != nil && $0["output_fields"] != nil }, "\(falco.stdout)")
        #expect(
            alerts.contains { $0["rule"]?.string == "Request parameter names the cloud metadata service" },
            "\(falco.stdout)")
    }

    @Test(
        "Stratus ec2-steal-instance-credentials with the node's identity: the stolen role's use is one story from SSM")
    func stolenInstanceCredentials() throws {
        let file =
            packageRoot.deletingLastPathComponent().path
            + "/shared/data/cloudtrail/stratus-red-team/detonation-logs/"
            + "aws.credential-access.ec2-steal-instance-credentials.json"
        let run = try runAgent([
            "replay", "--detect", file, "--store", "memory", "--node-role",
            "arn:aws:iam::017622104382:role/stratus-red-team-ec2-steal-credentials-role", "--node-address", "10.0.1.23",
            "--node-instance", "i-786a3A8B5C0d92eF4",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let alerts = try run.stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        let stolen = try #require(
            alerts.first { $0["rule"]?["id"]?.string == "vigil.cloud.instance-credentials-outside-node" },
            "\(run.stdout)")
        #expect(stolen["mitre"]?["technique"]?.string == "T1552.005")
        #expect(
            stolen["explanation"]?.string?.contains("from 18.236.253.47, which is not the node (10.0.1.23)") == true)
        // The operator's SSM command from the same address is the entry point of the story.
        let incident = try #require(alerts.last { $0["type"]?.string == "incident" })
        let ssm = try #require(alerts.first { $0["rule"]?["id"]?.string == "vigil.cloud.ssm-command" })
        #expect(incident["root_cause"]?.string == ssm["id"]?.string)
        let summaries = incident["steps"]?.array?.compactMap { $0["summary"]?.string } ?? []
        #expect(summaries.contains { $0.contains("credential exfiltration") }, "\(summaries)")

        // Without the node's identity nothing says the credentials left the node.
        let blind = try runAgent(["replay", "--detect", file, "--store", "memory"])
        #expect(!blind.stdout.contains("instance-credentials-outside-node"))
    }

    @Test("a Stratus detonation joined with a workload sequence: SSM command, metadata fetch on the node, stolen use")
    func cloudAndWorkloadStory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cloud =
            packageRoot.deletingLastPathComponent().path
            + "/shared/data/cloudtrail/stratus-red-team/detonation-logs/"
            + "aws.credential-access.ec2-steal-instance-credentials.json"
        // What the node saw between the SSM command (08:23:24) and the stolen credentials' use (08:23:55): the
        // command's shell, in a container, fetching the role's credentials from the metadata service.
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols, start: RFC3339.parse("2024-08-02T08:23:30Z")!, step: 500_000_000)
        let agent = builder.workload(deployment: "ssm-worker")
        var fetch = builder.connect(pid: 7_001, to: "169.254.169.254", port: 80, workload: agent)
        fetch.container = symbols.intern(String(repeating: "5e", count: 32))
        let workload = directory.appendingPathComponent("node.jsonl")
        try writeEvents([fetch], symbols: symbols, to: workload)

        let run = try runAgent([
            "replay", "--detect", cloud, workload.path, "--store", "memory", "--node-role",
            "arn:aws:iam::017622104382:role/stratus-red-team-ec2-steal-credentials-role", "--node-address", "10.0.1.23",
            "--node-instance", "i-786a3A8B5C0d92eF4",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let alerts = try run.stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        // One story at the end: the last incident report holds every finding. (Depending on which file's findings
        // the correlator takes first, the workload's finding may open a story of its own that the cloud's then
        // absorbs, so an earlier id can appear in the stream.)
        let incident = try #require(alerts.last { $0["type"]?.string == "incident" })
        let held = Set(incident["findings"]?.array?.compactMap(\.string) ?? [])
        let findingIDs = alerts.filter { $0["type"]?.string == "finding" }.compactMap { $0["id"]?.string }
        #expect(Set(findingIDs) == held, "one story holds every finding: \(held) of \(findingIDs)")
        let layers = incident["steps"]?.array?.compactMap { $0["layer"]?.string } ?? []
        #expect(layers.first == "cloud" && layers.contains("workload"), "\(layers)")
        let ssm = try #require(alerts.first { $0["rule"]?["id"]?.string == "vigil.cloud.ssm-command" })
        #expect(incident["root_cause"]?.string == ssm["id"]?.string, "the SSM command is the entry point")
        let narrative = incident["narrative"]?.string ?? ""
        #expect(narrative.contains("connected to the metadata service"), "\(narrative)")
        #expect(narrative.contains("credential exfiltration"), "\(narrative)")
    }

    @Test("without --learn nothing that needs a profile fires")
    func withoutLearning() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let detectFile = directory.appendingPathComponent("detect.jsonl")
        try writeEvents([b.exec(pid: 2, executable: "/tmp/x")], symbols: symbols, to: detectFile)
        // The built-in rules are left out: a program run from /tmp is one of theirs (see RulesCommandTests).
        let result = try runAgent(["replay", "--detect", detectFile.path, "--store", "memory", "--no-builtin-rules"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("checked 1 events: 0 findings"))
    }

    @Test("an unrecognised or missing input is a clear error, not a crash")
    func badInput() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("data.csv")
        try "a,b,c\n1,2,3\n".write(to: csv, atomically: true, encoding: .utf8)
        let unknown = try runAgent(["replay", "--detect", csv.path, "--store", "memory"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("is not an input vigil-agent recognises"))
        let missing = try runAgent([
            "replay", "--detect", directory.appendingPathComponent("nope.jsonl").path, "--store", "memory",
        ])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("cannot open"))
    }
}

@Suite("vigil-agent output files")
struct OutputFileTests {
    @Test("alerts written to /dev/null leave it a character device")
    func devNullStaysADevice() throws {
        let demo = packageRoot.appendingPathComponent("Examples/replay-demo")
        let result = try runAgent([
            "replay", "--detect", demo.appendingPathComponent("suspect.jsonl").path, "--store", "memory",
            "--alerts", "/dev/null",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        var info = stat()
        #expect(stat("/dev/null", &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFCHR, "/dev/null is no longer a device")
    }
}

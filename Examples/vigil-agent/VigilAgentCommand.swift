import ArgumentParser
import Foundation
import Logging
import VigilAgent
import VigilCloudEventsPush
import VigilCore
import VigilCorrelation
import VigilEBPF
import VigilK8sAuditWebhook
import VigilResponse
import VigilRules
import VigilSeccomp
import VigilWebhook

/// `vigil-agent`: Vigil's node agent.
@main
struct VigilAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-agent",
        abstract:
            "Vigil's node agent: behavioral detection and response across cloud, cluster, workload and application.",
        subcommands: [
            ReplayCommand.self, RunCommand.self, RecordCommand.self, ProfilesCommand.self, IncidentsCommand.self,
            RulesCommand.self, QuarantineCommand.self,
        ])
}

/// Logs to standard error at `level`.
func bootstrapLogging(_ level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}

/// The `--store` option shared by the commands that read or write profiles.
struct StoreOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Where profiles live: sqlite:PATH (default sqlite:.vigil/vigil.sqlite, which keeps incidents too), "
                + "files:DIR or memory."))
    var store: String = StoreLocation.standard.description

    func location() throws -> StoreLocation {
        do {
            return try StoreLocation(parsing: store)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

/// The `--rules` and `--no-builtin-rules` options shared by `run` and `replay`.
struct RuleOptions: ParsableArguments {
    @Option(
        name: .long, parsing: .upToNextOption,
        help: "Rule files (Vigil's or Falco's format) to check besides the built-in pack.")
    var rules: [String] = []

    @Flag(help: "Leave out the built-in rule pack.")
    var noBuiltinRules = false

    var selection: RuleSelection { RuleSelection(files: rules, builtin: !noBuiltinRules) }
}

/// The correlation options shared by `run` and `replay`: `--no-correlate` and this node's cloud identity.
struct CorrelationOptions: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "Join findings into incidents (attack stories) with a root cause.")
    var correlate = true

    @Option(name: .long, help: "This node's cloud role ARN: the metadata service hands out its credentials.")
    var nodeRole: String?

    @Option(
        name: .long, parsing: .upToNextOption, help: "This node's addresses, for telling its own cloud calls apart.")
    var nodeAddress: [String] = []

    @Option(name: .long, help: "This node's cloud instance id.")
    var nodeInstance: String?

    /// The correlation these options ask for, or nil with `--no-correlate`.
    func configuration() throws -> CorrelationConfiguration? {
        guard correlate else { return nil }
        var addresses: [IPAddress] = []
        for text in nodeAddress {
            guard let address = IPAddress(text) else {
                throw ValidationError("--node-address takes IPv4 or IPv6 addresses: '\(text)' is neither")
            }
            addresses.append(address)
        }
        let node =
            nodeRole == nil && addresses.isEmpty && nodeInstance == nil
            ? nil : NodeIdentity(instanceID: nodeInstance ?? "", roleARN: nodeRole ?? "", addresses: addresses)
        return .agent(node: node)
    }
}

/// `vigil-agent replay`: learn from recorded events, then detect on others.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Learn baselines from recorded events, then report deviations in other recorded events.",
        discussion: """
            Inputs are recognised by content: Vigil JSON Lines event files, Linux audit logs, Kubernetes audit \
            logs and CloudTrail records. Without --learn, only rules and detections that need no learned profile \
            can fire. Every selected rule must load (see `vigil-agent rules check`). Findings join into incidents \
            (unless --no-correlate), which a SQLite store keeps for `vigil-agent incidents`.
            """)

    @Option(name: .long, parsing: .upToNextOption, help: "Event files to learn normal behavior from.")
    var learn: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "Event files to check.")
    var detect: [String]

    @Option(name: .long, help: "Where to write alerts (default: standard output).")
    var alerts: String?

    @Option(
        name: .long, help: "Alert format: json (JSON Lines), text, ocsf (OCSF Detection Finding) or falco (Falco JSON)."
    )
    var format: AlertFormat = .json

    @Option(name: .long, help: "Engine shards (default: the number of cores).")
    var shards: Int?

    @Option(name: .long, help: "Log level on standard error: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .warning

    @OptionGroup var storeOption: StoreOption

    @OptionGroup var ruleOptions: RuleOptions

    @OptionGroup var correlationOptions: CorrelationOptions

    func run() async throws {
        bootstrapLogging(logLevel)
        let replay = Replay(
            learnFiles: learn, detectFiles: detect, alertsPath: alerts, format: format, shards: shards,
            store: try storeOption.location(), rules: ruleOptions.selection,
            correlation: try correlationOptions.configuration())
        let summary: Replay.Summary
        do {
            summary = try await replay.run()
        } catch {
            throw ValidationError("\(error)")
        }
        var line = "vigil-agent: learned \(summary.learnedEvents) events, \(summary.learnedSubjects) profiles; "
        line += "checked \(summary.detectedEvents) events: \(summary.findings) findings, \(summary.incidents) incidents"
        if summary.skippedLines > 0 { line += "; skipped \(summary.skippedLines) malformed lines" }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// The eBPF sensor's options, shared by `run` and `record`.
struct EBPFOptions: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "Watch processes, files, network and syscalls with the eBPF sensor (root).")
    var ebpf = true

    @Option(name: .long, help: "The eBPF ring buffer's size in MiB (a power of two).")
    var ringBufferMiB: Int = 16

    var configuration: EBPFSensorConfiguration? {
        ebpf ? EBPFSensorConfiguration(ringBufferBytes: max(1, ringBufferMiB) << 20) : nil
    }
}

/// `vigil-agent run`: live detection on this host.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start the live sensors and the engine on this host.",
        discussion: """
            The eBPF sensor is on unless --no-ebpf is given. Each new workload or principal learns its profile \
            for --learn-for, then deviations are reported. Rules (the built-in pack and --rules files) are \
            checked from the start; every one must load (see `vigil-agent rules check`). Profiles are saved to \
            the store periodically and on shutdown (SIGTERM or SIGINT).
            """)

    @OptionGroup var ebpfOptions: EBPFOptions

    @Option(
        name: .long, help: "Follow a Linux audit log (auditd), or `netlink` to read the kernel's audit stream (root).")
    var linuxAudit: String?

    @Option(name: .long, help: "Follow a Kubernetes API audit log.")
    var k8sAudit: String?

    @Option(name: .long, help: "Receive the Kubernetes API server's audit webhook over HTTPS on HOST:PORT.")
    var k8sAuditWebhook: String?

    @Option(name: .long, help: "The webhook's TLS certificate chain (PEM).")
    var k8sAuditWebhookCert: String?

    @Option(name: .long, help: "The webhook's TLS private key (PEM).")
    var k8sAuditWebhookKey: String?

    @Option(name: .long, help: "The bearer token the API server sends (or set VIGIL_K8S_AUDIT_WEBHOOK_TOKEN).")
    var k8sAuditWebhookToken: String?

    @Option(name: .long, help: "Require API server client certificates signed by this CA (PEM).")
    var k8sAuditWebhookClientCA: String?

    @Option(name: .long, help: "Follow a CloudTrail delivery directory (AWSLogs/<account>/CloudTrail/...).")
    var cloudtrail: String?

    @Option(name: .long, help: "Receive pushed cloud records over HTTP on HOST:PORT (POST /v1/events).")
    var cloudPush: String?

    @Option(name: .long, help: "The bearer token pushes to --cloud-push must carry (or set VIGIL_CLOUD_PUSH_TOKEN).")
    var cloudPushToken: String?

    @Option(
        name: .long,
        help: "Follow a Vigil JSON Lines event file as it grows (an application's events from VigilHummingbird).")
    var eventsFollow: [String] = []

    @Option(name: .long, help: "How long a new profile learns before deviations are reported: 30s, 10m, 2h, 1d.")
    var learnFor: String = "1d"

    @Option(name: .long, help: "Where to write alerts (default: standard output).")
    var alerts: String?

    @Option(
        name: .long, help: "Alert format: json (JSON Lines), text, ocsf (OCSF Detection Finding) or falco (Falco JSON)."
    )
    var format: AlertFormat = .json

    @Option(name: .long, help: "Log level on standard error.")
    var logLevel: Logger.Level = .notice

    @Option(
        name: .long,
        help: "Respond to findings: off, dry-run (log what would be done) or on (default: the policy's mode, else off)."
    )
    var respond: String?

    @Option(name: .long, help: "The response policy (YAML): which findings get which action (default: report only).")
    var policy: String?

    @Option(name: .long, help: "Also POST every alert as JSON to this http(s) URL (bounded queue, retries).")
    var webhook: String?

    @Option(name: .long, help: "A bearer token for --webhook (or set VIGIL_WEBHOOK_TOKEN).")
    var webhookToken: String?

    @OptionGroup var correlationOptions: CorrelationOptions

    @OptionGroup var storeOption: StoreOption

    @OptionGroup var ruleOptions: RuleOptions

    func run() async throws {
        bootstrapLogging(logLevel)
        let location = try storeOption.location()
        var mode: ResponseMode?
        if let respond {
            guard let parsed = ResponseMode(argument: respond) else {
                throw ValidationError("--respond takes off, dry-run or on")
            }
            mode = parsed
        }
        guard let learnFor = parseDuration(learnFor) else {
            throw ValidationError("--learn-for takes a number and a unit: 30s, 10m, 2h, 1d")
        }
        var push: CloudPushConfiguration?
        if let cloudPush {
            let (host, port) = try hostAndPort(cloudPush, option: "--cloud-push")
            let token = cloudPushToken ?? ProcessInfo.processInfo.environment["VIGIL_CLOUD_PUSH_TOKEN"]
            guard let token, !token.isEmpty else {
                throw ValidationError("--cloud-push needs a token: --cloud-push-token TOKEN or VIGIL_CLOUD_PUSH_TOKEN")
            }
            push = CloudPushConfiguration(host: host, port: port, bearerToken: token)
        }
        let run = LiveRun(
            ebpf: ebpfOptions.configuration, kubernetesAuditWebhook: try kubernetesWebhookConfiguration(),
            linuxAuditLog: linuxAudit, kubernetesAuditLog: k8sAudit, cloudTrailDirectory: cloudtrail,
            cloudPush: push, eventStreams: eventsFollow, learnFor: learnFor, store: location,
            alertsPath: alerts, format: format, rules: ruleOptions.selection,
            response: ResponseSettings(mode: mode, policyPath: policy), webhook: webhookConfiguration(),
            correlation: try correlationOptions.configuration()?.withThisNodesKubelet())
        do {
            try await run.run(logger: Logger(label: "vigil.agent"))
        } catch let error as AgentError {
            throw ValidationError(error.description)
        }
    }

    private func webhookConfiguration() -> WebhookAlertOutput.Configuration? {
        guard let webhook else { return nil }
        let token = webhookToken ?? ProcessInfo.processInfo.environment["VIGIL_WEBHOOK_TOKEN"]
        return WebhookAlertOutput.Configuration(
            url: webhook, headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [])
    }

    private func kubernetesWebhookConfiguration() throws -> KubernetesAuditWebhookConfiguration? {
        guard let k8sAuditWebhook else { return nil }
        let (host, port) = try hostAndPort(k8sAuditWebhook, option: "--k8s-audit-webhook")
        guard let certificate = k8sAuditWebhookCert, let key = k8sAuditWebhookKey else {
            throw ValidationError(
                "--k8s-audit-webhook needs --k8s-audit-webhook-cert PEM and --k8s-audit-webhook-key PEM")
        }
        var authentication: [KubernetesAuditWebhookConfiguration.Authentication] = []
        let token = k8sAuditWebhookToken ?? ProcessInfo.processInfo.environment["VIGIL_K8S_AUDIT_WEBHOOK_TOKEN"]
        if let token, !token.isEmpty { authentication.append(.bearerToken(token)) }
        if let k8sAuditWebhookClientCA {
            authentication.append(.clientCertificate(trustRoots: k8sAuditWebhookClientCA))
        }
        guard !authentication.isEmpty else {
            throw ValidationError(
                "--k8s-audit-webhook needs --k8s-audit-webhook-token (or VIGIL_K8S_AUDIT_WEBHOOK_TOKEN) "
                    + "or --k8s-audit-webhook-client-ca")
        }
        return KubernetesAuditWebhookConfiguration(
            host: host, port: port, certificateChainPath: certificate, privateKeyPath: key,
            authentication: authentication)
    }
}

/// `vigil-agent record`: write live events to a file that `replay` reads.
struct RecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record live events from the eBPF sensor as Vigil JSON Lines (what `replay` reads).")

    @Option(name: .long, help: "The file to write.")
    var out: String

    @Option(name: .long, help: "How long to record: 30s, 10m, 2h (default: until SIGINT or SIGTERM).")
    var duration: String?

    @Option(name: .long, help: "The eBPF ring buffer's size in MiB (a power of two).")
    var ringBufferMiB: Int = 16

    @Option(name: .long, help: "Log level on standard error.")
    var logLevel: Logger.Level = .notice

    func run() async throws {
        bootstrapLogging(logLevel)
        var length: Duration?
        if let duration {
            guard let parsed = parseDuration(duration) else {
                throw ValidationError("--duration takes a number and a unit: 30s, 10m, 2h")
            }
            length = parsed
        }
        let sensor = EBPFSensor(configuration: EBPFSensorConfiguration(ringBufferBytes: max(1, ringBufferMiB) << 20))
        let recording = LiveRecording(sensors: [sensor], outputPath: out, duration: length)
        do {
            try await recording.run(logger: Logger(label: "vigil.record"))
        } catch let error as AgentError {
            throw ValidationError(error.description)
        }
    }
}

/// Splits `HOST:PORT` (the host may be an IPv6 address).
func hostAndPort(_ text: String, option: String) throws -> (String, Int) {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
        (0...65535).contains(port)
    else {
        throw ValidationError("\(option) takes HOST:PORT, for example 127.0.0.1:9880")
    }
    return (String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
}

/// Parses `500ms`, `30s`, `10m`, `2h`, `1d`.
func parseDuration(_ text: String) -> Duration? {
    let units: [(String, Int64)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
    for (suffix, milliseconds) in units where text.hasSuffix(suffix) {
        let number = text.dropLast(suffix.count)
        if suffix == "s" && number.hasSuffix("m") { continue }
        guard let value = Int64(number), value >= 0 else { return nil }
        return .milliseconds(value * milliseconds)
    }
    return nil
}

/// `vigil-agent profiles`: the learned profiles in the store.
struct ProfilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "List, show, export or reopen learned profiles.",
        subcommands: [List.self, Show.self, ExportSeccomp.self, Reopen.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per profile: state, subject, name, size.")
        @OptionGroup var storeOption: StoreOption

        func run() async throws {
            let commands = ProfileCommands(store: try storeOption.location().open())
            for line in try await commands.list() { print(line) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a profile as JSON.")
        @Argument(help: "The profile's name (as `profiles list` prints it).") var name: String
        @OptionGroup var storeOption: StoreOption

        func run() async throws {
            let commands = ProfileCommands(store: try storeOption.location().open())
            do {
                print(try await commands.show(name))
            } catch let error as AgentError {
                throw ValidationError(error.description)
            }
        }
    }

    struct ExportSeccomp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-seccomp",
            abstract: "Print a workload's learned syscalls as a Kubernetes/OCI seccomp profile.")
        @Argument(help: "The workload profile's name.") var name: String
        @Option(help: "log (default action SCMP_ACT_LOG) or enforce (SCMP_ACT_ERRNO).") var mode: String = "log"
        @OptionGroup var storeOption: StoreOption

        func run() async throws {
            guard let mode = SeccompMode(rawValue: mode) else { throw ValidationError("--mode is log or enforce") }
            let commands = ProfileCommands(store: try storeOption.location().open())
            do {
                let (json, unresolved) = try await commands.exportSeccomp(name, mode: mode)
                print(json)
                if !unresolved.isEmpty {
                    FileHandle.standardError.write(
                        Data(
                            "vigil-agent: left out syscalls libseccomp cannot name: \(unresolved.joined(separator: ", "))\n"
                                .utf8))
                }
            } catch let error as AgentError {
                throw ValidationError(error.description)
            }
        }
    }

    struct Reopen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start learning again for a profile.")
        @Argument(help: "The profile's name.") var name: String
        @OptionGroup var storeOption: StoreOption

        func run() async throws {
            let commands = ProfileCommands(store: try storeOption.location().open())
            do {
                try await commands.reopen(name, at: Int64(Date().timeIntervalSince1970 * 1e9))
                print("vigil-agent: profile '\(name)' is learning again")
            } catch let error as AgentError {
                throw ValidationError(error.description)
            }
        }
    }
}

/// `vigil-agent incidents`: the incidents (attack stories) kept in the store.
struct IncidentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "List, show or report the incidents (attack stories) that `run` and `replay` kept in the store.",
        subcommands: [List.self, Show.self, Report.self])

    /// The `--since` and `--limit` options of `list` and `report`.
    struct Selection: ParsableArguments {
        @Option(
            help: ArgumentHelp(
                "Only incidents active since this time: RFC 3339 (2026-11-29T09:00:00Z) or a duration back from "
                    + "now (30m, 2h, 1d)."))
        var since: String?

        @Option(help: "At most this many incidents, the most recently active first.")
        var limit: Int = 100

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit takes a positive number") }
            _ = try sinceTime()
        }

        /// `--since` in nanoseconds since the epoch, or nil.
        func sinceTime() throws -> Int64? {
            guard let since else { return nil }
            if let time = RFC3339.parse(since) { return time }
            guard let duration = parseDuration(since) else {
                throw ValidationError(
                    "--since takes an RFC 3339 time (2026-11-29T09:00:00Z) or a duration back from now: 30m, 2h, 1d")
            }
            let (seconds, attoseconds) = duration.components
            return Int64(Date().timeIntervalSince1970 * 1e9) - seconds * 1_000_000_000 - attoseconds / 1_000_000_000
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One line per incident: id, severity, first step, layers, steps, title.")
        @OptionGroup var selection: Selection
        @Option(help: "text (one line per incident) or json (the stored incident lines).")
        var format: AlertFormat = .text
        @OptionGroup var storeOption: StoreOption

        func run() async throws {
            do {
                let commands = IncidentCommands(store: try storeOption.location().openIncidentStore())
                let lines = try await commands.list(
                    since: try selection.sinceTime(), limit: selection.limit, format: format)
                for line in lines { print(line) }
            } catch let error as AgentError {
                throw ValidationError(error.description)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an incident: its story, steps, entities, findings and response.")
        @Argument(help: "The incident's id (as `incidents list` prints it).") var id: String
        @Option(help: "text, json (the stored incident line) or ocsf.") var format: AlertFormat = .text
        @OptionGroup var storeOption: StoreOption

        func run() async throws {
            do {
                let commands = IncidentCommands(store: try storeOption.location().openIncidentStore())
                print(try await commands.show(id, format: format))
            } catch let error as AgentError {
                throw ValidationError(error.description)
            }
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the incidents as one self-contained HTML page (no scripts, no external files).")
        @Option(help: "The HTML file to write (- for standard output).") var html: String
        @OptionGroup var selection: Selection
        @OptionGroup var storeOption: StoreOption

        func run() async throws {
            let report: (page: String, incidents: Int)
            do {
                let commands = IncidentCommands(store: try storeOption.location().openIncidentStore())
                report = try await commands.report(
                    since: try selection.sinceTime(), limit: selection.limit,
                    generatedAt: Int64(Date().timeIntervalSince1970 * 1e9))
            } catch let error as AgentError {
                throw ValidationError(error.description)
            }
            if html == "-" {
                print(report.page, terminator: "")
                return
            }
            do {
                try report.page.write(toFile: html, atomically: true, encoding: .utf8)
            } catch {
                throw ValidationError("cannot write the report to \(html): \(error.localizedDescription)")
            }
            FileHandle.standardError.write(Data("vigil-agent: wrote \(report.incidents) incidents to \(html)\n".utf8))
        }
    }
}

extension AlertFormat: ExpressibleByArgument {}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `vigil-agent rules`: rule files.
struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "Check rule files (Vigil's or Falco's).", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compile rule files and print, per rule, whether it loaded or why not.",
            discussion: "The files are loaded in order, after the built-in pack unless --no-builtin-rules is given.")

        @Argument(help: "Rule files (YAML).") var files: [String] = []
        @Flag(help: "Leave out the built-in rule pack.") var noBuiltinRules = false

        func run() async throws {
            let compiled: RuleLoader.Compiled
            do {
                (_, compiled) = try RuleSet.load(files: files, builtin: !noBuiltinRules)
            } catch {
                throw ValidationError("\(error)")
            }
            for rule in compiled.rules {
                print(
                    "loaded  \(rule.id)  \(rule.name)  [\(rule.kinds.map(\.name).sorted().joined(separator: ","))]"
                        + (rule.enabled ? "" : " (disabled)"))
            }
            for failure in compiled.failures { print("FAILED  \(failure)") }
            for error in compiled.entryErrors { print("ERROR   \(error)") }
            print(
                "\(compiled.rules.count) rules loaded, \(compiled.failures.count) failed, \(compiled.entryErrors.count) entries unreadable"
            )
            if !compiled.failures.isEmpty || !compiled.entryErrors.isEmpty { throw ExitCode(1) }
        }
    }
}

/// `vigil-agent quarantine`: the processes the response put in soft quarantine.
struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "List the processes in soft quarantine, or release one.",
        subcommands: [List.self, Release.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One line per quarantined process: pid, executable, the cgroup it came from, the alert.")
        @OptionGroup var storeOption: StoreOption

        func run() async throws {
            let control = QuarantineControl(store: try storeOption.location())
            do {
                for entry in try await control.list() {
                    let since = entry.since == 0 ? "-" : RFC3339.format(nanoseconds: entry.since)
                    print(
                        "\(entry.pid)\t\(entry.executable.isEmpty ? "-" : entry.executable)\t"
                            + "from \(entry.origin ?? "-")\t\(entry.alertID ?? "-")\t\(since)")
                }
            } catch let error as AgentError {
                throw ValidationError(error.description)
            }
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a quarantined process back to the cgroup it came from, and record it.")
        @Argument(help: "The pid, as `quarantine list` prints it.") var pid: Int32
        @Option(help: "The cgroup to move it to (default: where the audit trail says it came from).")
        var to: String?
        @OptionGroup var storeOption: StoreOption

        func run() async throws {
            let control = QuarantineControl(store: try storeOption.location())
            do {
                let target = try await control.release(pid: pid, to: to)
                print("released \(pid) to \(target)")
            } catch let error as AgentError {
                throw ValidationError(error.description)
            }
        }
    }
}

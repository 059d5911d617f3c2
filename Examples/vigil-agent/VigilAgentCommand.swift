import ArgumentParser
import Foundation
import Logging
import VigilAgent
import VigilCore

/// `vigil-agent`: Vigil's node agent.
@main
struct VigilAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-agent",
        abstract:
            "Vigil's node agent: behavioral detection and response across cloud, cluster, workload and application.",
        subcommands: [ReplayCommand.self, RunCommand.self])
}

/// `vigil-agent replay`: learn from recorded events, then detect on others.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Learn baselines from recorded events, then report deviations in other recorded events.",
        discussion: """
            Inputs are recognised by content. This version reads Vigil JSON Lines event files.
            Without --learn, only detections that need no learned profile can fire.
            """)

    @Option(name: .long, parsing: .upToNextOption, help: "Event files to learn normal behavior from.")
    var learn: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "Event files to check.")
    var detect: [String]

    @Option(name: .long, help: "Where to write alerts (default: standard output).")
    var alerts: String?

    @Option(name: .long, help: "Alert format: json (JSON Lines) or text.")
    var format: AlertFormat = .json

    @Option(name: .long, help: "Engine shards (default: the number of cores).")
    var shards: Int?

    @Option(name: .long, help: "Log level on standard error: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .warning

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let replay = Replay(learnFiles: learn, detectFiles: detect, alertsPath: alerts, format: format, shards: shards)
        let summary: Replay.Summary
        do {
            summary = try await replay.run()
        } catch {
            throw ValidationError("\(error)")
        }
        var line =
            "vigil-agent: learned \(summary.learnedEvents) events (\(summary.learnedSubjects) workloads and principals), "
        line += "checked \(summary.detectedEvents) events: \(summary.findings) findings, \(summary.incidents) incidents"
        if summary.skippedLines > 0 { line += "; skipped \(summary.skippedLines) malformed lines" }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// `vigil-agent run`: live detection on this host.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start the live sensors and the engine on this host.")

    func run() async throws {
        // No live sensor exists yet; say so plainly rather than start an engine that watches nothing.
        let message = """
            vigil-agent: no live sensor is available in this build.
            The eBPF, audit-log and cloud-event sensors have not landed yet, so there is nothing to watch live.
            To analyse recorded events now: vigil-agent replay --learn NORMAL.jsonl --detect SUSPECT.jsonl

            """
        FileHandle.standardError.write(Data(message.utf8))
    }
}

extension AlertFormat: ExpressibleByArgument {}

extension Logger.Level: @retroactive ExpressibleByArgument {}

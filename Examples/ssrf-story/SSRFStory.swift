import ArgumentParser
import Foundation

/// `ssrf-story`: the SSRF attack told as one incident. `ssrf-story demo` runs the whole scenario (as root);
/// `serve` and `metadata` are the two servers it starts.
@main
struct SSRFStory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssrf-story",
        abstract: "A real SSRF attack against a local service, followed into the cloud, told by Vigil as one incident.",
        subcommands: [DemoCommand.self, ServeCommand.self, MetadataCommand.self], defaultSubcommand: DemoCommand.self)
}

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run the scenario: learn, attack, correlate, respond (root).")

    @Flag(inversion: .prefixedNo, help: "Let Vigil respond (soft quarantine of the shop's process).")
    var respond = true

    @Flag(help: "Run only the normal traffic, no attack: Vigil must raise no incident about the shop.")
    var benign = false

    @Option(help: "Seconds of normal traffic the profiles learn from.")
    var learnFor = 8

    @Flag(help: "Keep the work folder (alerts, logs, the SQLite store) instead of removing it.")
    var keep = false

    @Option(help: "Write a JSON summary of what happened to this file.")
    var summary: String?

    func run() async throws {
        var demo = try Demo(
            options: Demo.Options(
                respond: respond, benign: benign, learnFor: learnFor, keep: keep, summaryPath: summary))
        let result = try await demo.run()
        print(result.text)
    }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "The vulnerable shop: /preview fetches any URL its client names.")

    @Option(help: "Port on 127.0.0.1 (0 picks a free one).")
    var port = 0

    @Option(help: "The JSON Lines file the application events go to.")
    var events: String

    @Option(help: "Write the port the shop listens on to this file.")
    var portFile: String?

    func run() async throws {
        try await ShopService.run(port: port, eventsPath: events, portFile: portFile)
    }
}

struct MetadataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metadata", abstract: "A cloud metadata service emulator handing out fake role credentials.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 80
    @Option(help: "The role whose credentials it hands out.") var role: String
    @Option(help: "The access key id.") var accessKeyID: String
    @Option(help: "The secret access key.") var secret: String
    @Option(help: "The session token.") var token: String

    func run() async throws {
        try await MetadataService.run(
            host: host, port: port, role: role, accessKeyID: accessKeyID, secret: secret, token: token)
    }
}

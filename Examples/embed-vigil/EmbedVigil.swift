import Logging
import ServiceLifecycle
import UnixSignals
import VigilCore
import VigilProfiles

/// A sensor of your own: it turns your service's activity into Vigil events. This one replays a fixed
/// list; a real one would read your request log, a queue or a socket until cancelled.
struct ServiceActivity: Sensor {
    let name = "my-service"
    let events: [Event]

    func run(into sink: EventSink) async throws {
        var batch = EventBatch(events)
        await sink.send(&batch)
    }
}

/// Prints each alert as one JSON line (the stable alert schema).
struct PrintAlerts: AlertOutput {
    let symbols: SymbolTable

    func write(_ alert: Alert) async throws {
        var encoder = AlertEncoder(symbols: symbols)
        print(encoder.line(for: alert))
    }

    func finish() async throws {}
}

@main
struct EmbedVigil {
    static func main() async throws {
        let symbols = SymbolTable()
        let web = symbols.intern(
            Workload(kind: .kubernetes, namespace: "shop", ownerKind: "Deployment", ownerName: "web"))
        func exec(_ pid: Int32, _ path: String) -> Event {
            Event(
                time: 1_795_910_400_000_000_000 + Int64(pid), kind: .processExec,
                process: ProcessKey(pid: pid, startTime: 1), workload: web,
                fields: .process(ProcessFields(executable: symbols.intern(path))))
        }

        // 1. Learn what the service normally does.
        let book = ProfileBook(shardCount: 2, symbols: symbols)
        let configuration = EngineConfiguration(shards: 2)
        try await Engine(
            configuration: configuration, symbols: symbols,
            sensors: [ServiceActivity(events: [exec(10, "/usr/bin/python3")])], detectors: book.detectorFactory
        ).run()

        // 2. Detect: run the engine as a service next to your own, with graceful shutdown on SIGTERM.
        book.completeAll()
        let engine = Engine(
            configuration: configuration, symbols: symbols,
            sensors: [ServiceActivity(events: [exec(11, "/usr/bin/python3"), exec(12, "/bin/sh")])],
            detectors: book.detectorFactory, outputs: [PrintAlerts(symbols: symbols)])
        // This engine's sensor ends on its own, so its return shuts the group down rather than failing it.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: engine, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm], logger: Logger(label: "app")))
        try await group.run()
    }
}

import Foundation
import Hummingbird
import NIOCore
import Synchronization
import Testing
import VigilCore
import VigilTestKit
import VigilWebhook

/// A receiver on 127.0.0.1 that answers each POST /alerts with the next status of a script (then 200), after
/// an optional pause, and keeps the bodies it accepted.
private final class Receiver: Sendable {
    private struct State {
        var statuses: [Int]
        var accepted: [String] = []
        var attempts = 0
    }
    private let state: Mutex<State>
    private let pause: Duration

    init(statuses: [Int] = [], pause: Duration = .zero) {
        state = Mutex(State(statuses: statuses))
        self.pause = pause
    }

    var accepted: [String] { state.withLock { $0.accepted } }
    var attempts: Int { state.withLock { $0.attempts } }

    /// Serves until `body` returns; `body` gets the URL to post to.
    func serve(_ body: (String) async throws -> Void) async throws {
        let router = Router(context: BasicRequestContext.self)
        router.post("/alerts") { request, _ -> Response in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            if self.pause > .zero { try await Task.sleep(for: self.pause) }
            let status = self.state.withLock { state -> Int in
                state.attempts += 1
                let status = state.statuses.isEmpty ? 200 : state.statuses.removeFirst()
                if status == 200 { state.accepted.append(text) }
                return status
            }
            return Response(status: HTTPResponse.Status(code: status))
        }
        let port = Mutex<Int?>(nil)
        let app = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var bound: Int?
            for _ in 0..<200 where bound == nil {
                try await Task.sleep(for: .milliseconds(10))
                bound = port.withLock { $0 }
            }
            let url = "http://127.0.0.1:\(try #require(bound))/alerts"
            try await body(url)
            group.cancelAll()
        }
    }
}

/// `count` findings, each with its own rule id so they can be told apart in the receiver.
private func findings(_ count: Int) -> (SymbolTable, [Alert]) {
    let symbols = SymbolTable()
    var builder = EventBuilder(symbols: symbols)
    let alerts = (0..<count).map { index in
        Alert.finding(
            Finding(
                severity: .high, rule: RuleReference(id: "test.webhook-\(index)", name: "webhook test"),
                mitre: MITREMapping(tactic: .execution, technique: "T1059"),
                event: builder.exec(pid: 100 + Int32(index), executable: "/bin/sh"), explanation: "test"))
    }
    return (symbols, alerts)
}

@Suite("Webhook alert output")
struct WebhookAlertOutputTests {
    @Test("alerts arrive in order as the JSON of the alert stream; 503 and 429 answers are retried")
    func deliversAndRetries() async throws {
        let receiver = Receiver(statuses: [503, 429])
        let (symbols, alerts) = findings(3)
        try await receiver.serve { url in
            let output = try WebhookAlertOutput(
                configuration: .init(
                    url: url, headers: [("Authorization", "Bearer t")], firstRetryDelay: .milliseconds(10)),
                symbols: symbols)
            for alert in alerts { try await output.write(alert) }
            try await output.finish()
            #expect(output.statistics == .init(delivered: 3, retries: 2, droppedQueueFull: 0, droppedFailed: 0))
        }
        let ids = receiver.accepted.compactMap { try? JSONParser.parse($0)["rule"]?["id"]?.string }
        #expect(ids == ["test.webhook-0", "test.webhook-1", "test.webhook-2"])
        #expect(receiver.attempts == 5)
    }

    @Test("a 4xx answer is not retried, and the alert is counted as dropped")
    func refusedIsDropped() async throws {
        let receiver = Receiver(statuses: [400])
        let (symbols, alerts) = findings(2)
        try await receiver.serve { url in
            let output = try WebhookAlertOutput(configuration: .init(url: url), symbols: symbols)
            for alert in alerts { try await output.write(alert) }
            try await output.finish()
            #expect(output.statistics.droppedFailed == 1)
            #expect(output.statistics.delivered == 1)
        }
        #expect(receiver.attempts == 2)
    }

    @Test("a full queue drops and counts alerts instead of blocking the engine")
    func fullQueueDrops() async throws {
        let receiver = Receiver(pause: .milliseconds(200))
        let (symbols, alerts) = findings(20)
        try await receiver.serve { url in
            let output = try WebhookAlertOutput(
                configuration: .init(url: url, queueCapacity: 2), symbols: symbols)
            for alert in alerts { try await output.write(alert) }
            try await output.finish()
            let statistics = output.statistics
            // Twenty writes against a queue of 2 and a receiver that takes 200 ms each: a write that waited for
            // room would have dropped nothing.
            #expect(statistics.droppedQueueFull > 0)
            #expect(statistics.delivered + statistics.droppedQueueFull + statistics.droppedFailed == 20)
        }
    }

    @Test("retries give up after the last attempt when nothing listens, and the alert is counted")
    func nobodyListening() async throws {
        // A port that was free a moment ago: bind, note, close.
        let socket = try ServerSocket()
        let url = "http://127.0.0.1:\(socket.port)/alerts"
        socket.close()
        let (symbols, alerts) = findings(1)
        let output = try WebhookAlertOutput(
            configuration: .init(
                url: url, maximumAttempts: 3, firstRetryDelay: .milliseconds(10), requestTimeout: .milliseconds(300)),
            symbols: symbols)
        try await output.write(alerts[0])
        for _ in 0..<200 where output.statistics.droppedFailed == 0 { try await Task.sleep(for: .milliseconds(10)) }
        try await output.finish()
        #expect(output.statistics == .init(delivered: 0, retries: 2, droppedQueueFull: 0, droppedFailed: 1))
    }

    @Test("a URL that is not http or https is refused")
    func badURL() {
        #expect(throws: WebhookError.self) {
            try WebhookAlertOutput(configuration: .init(url: "ftp://127.0.0.1/x"), symbols: SymbolTable())
        }
    }
}

/// A TCP socket bound to a free loopback port, to learn a port nothing listens on once closed.
private struct ServerSocket {
    let descriptor: Int32
    let port: Int

    init() throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                Glibc.bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        guard bound else { throw WebhookError("cannot bind a loopback socket") }
        descriptor = socket
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}

import AsyncHTTPClient
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import VigilCore
import VigilHummingbird
import VigilProfiles
import VigilTestKit

#if canImport(Glibc)
    import Glibc
#endif

/// A service with the middleware and the client wrapper, recording into `sink`: an item route, a route
/// that fails, and a route that fetches the URL its client names (the SSRF shape).
func makeService<Sink: ApplicationRecordSink>(sink: Sink) -> some ApplicationProtocol {
    let router = Router(context: ApplicationRequestContext.self)
    router.add(
        middleware: ApplicationMiddleware(sink: sink, capturing: ["url", "q"]) { request, _ in
            request.headers[.authorization].map { String($0.dropFirst("Bearer ".count)) }
        })
    let client = MonitoredHTTPClient(sink: sink)
    router.get("/items/{id}") { _, context in "item \(context.parameters.get("id") ?? "")" }
    router.get("/secret") { _, _ -> String in throw HTTPError(.forbidden) }
    router.get("/fetch") { request, _ -> String in
        guard let url = request.uri.queryParameters.get("url") else { throw HTTPError(.badRequest) }
        let (status, body) = try await client.get(url, timeout: .seconds(5))
        return "\(status) \(body)"
    }
    return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
}

@Suite("Application sensor")
struct ApplicationSensorTests {
    @Test("a live service's requests and fetches become events with this process's key, route, parameters, status")
    func liveService() async throws {
        let symbols = SymbolTable()
        let identity = try ApplicationIdentity.current()
        let sensor = ApplicationSensor(identity: identity, flushInterval: .milliseconds(5))
        let log = EventLog()
        let engine = Engine(symbols: symbols, sensors: [sensor], detectors: log.factory())
        let port = Mutex(0)
        try await withRunningEngine(engine, ready: { true }) { _ in
            try await makeService(sink: sensor).test(.live) { client in
                port.withLock { $0 = client.port ?? 0 }
                try await client.execute(
                    uri: "/items/42?q=shoes&token=hunter2", method: .get, headers: [.authorization: "Bearer alice"]
                ) { #expect($0.status == .ok) }
                try await client.execute(uri: "/secret", method: .get) { #expect($0.status == .forbidden) }
                let target = "http://127.0.0.1:\(client.port ?? 0)/items/7?q=boots"
                try await client.execute(uri: "/fetch?url=\(target)", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == "200 item 7")
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let events = log.events
        let served = events.filter { $0.kind == .httpRequest }
        let fetched = events.filter { $0.kind == .httpFetch }
        #expect(served.count == 4, "items, secret, fetch and the item the fetch asked for")
        #expect(fetched.count == 1)
        for event in events {
            #expect(event.process == identity.process)
            #expect(symbols.workload(event.workload) == identity.workload)
            #expect(symbols.string(event.executable) == identity.executable)
        }
        func http(_ event: Event) -> VigilCore.HTTPFields? {
            if case .http(let fields) = event.fields { return fields }
            return nil
        }
        let item = try #require(served.first { symbols.string(http($0)!.path) == "/items/42" })
        let itemFields = try #require(http(item))
        #expect(symbols.string(itemFields.route) == "/items/{id}")
        #expect(symbols.string(itemFields.method) == "GET")
        #expect(symbols.string(itemFields.parameters) == "q=shoes", "only the captured parameters")
        #expect(itemFields.status == 200)
        #expect(itemFields.client.address == IPAddress(v4: 127, 0, 0, 1))
        #expect(itemFields.client.port != 0)
        #expect(symbols.string(itemFields.host) == "localhost", "the test client's Host header")
        #expect(symbols.string(item.principal) == "alice")

        let secret = try #require(served.first { symbols.string(http($0)!.path) == "/secret" })
        #expect(http(secret)?.status == 403)

        let request = try #require(served.first { symbols.string(http($0)!.path) == "/fetch" })
        let requestFields = try #require(http(request))
        #expect(symbols.string(requestFields.parameters).hasPrefix("url=http://127.0.0.1:"))
        let fetch = try #require(fetched.first)
        let fetchFields = try #require(http(fetch))
        #expect(symbols.string(fetchFields.host) == "127.0.0.1")
        #expect(
            fetchFields.client
                == SocketAddress(address: IPAddress(v4: 127, 0, 0, 1), port: UInt16(port.withLock { $0 })))
        #expect(symbols.string(fetchFields.path) == "/items/7")
        #expect(symbols.string(fetchFields.parameters) == "q=boots")
        #expect(fetchFields.status == 200)
        // The request came first: it is what made the process fetch.
        #expect(request.time < fetch.time)
        #expect(fetch.time < request.time + Int64(requestFields.durationMicroseconds + 1) * 1000)
        #expect(sensor.statistics == ApplicationSinkStatistics(recorded: 5, delivered: 5, dropped: 0))
    }

    @Test("a failed fetch is recorded with status 0, its URL's parts and no user information")
    func failedFetch() async throws {
        let records = RecordCollector()
        let client = MonitoredHTTPClient(sink: records)
        // Port 1 on loopback: nothing listens, the connection is refused.
        await #expect(throws: (any Error).self) {
            _ = try await client.get("http://user:pw@127.0.0.1:1/latest/meta-data?x=1#frag", timeout: .seconds(5))
        }
        let record = try #require(records.all.first)
        #expect(record.direction == .fetched)
        #expect(record.status == 0)
        #expect(record.host == "127.0.0.1")
        #expect(record.peer == SocketAddress(address: IPAddress(v4: 127, 0, 0, 1), port: 1))
        #expect(record.path == "/latest/meta-data")
        #expect(record.parameters == "x=1")
        #expect(!"\(record)".contains("pw"))
    }

    @Test("a full buffer drops and counts instead of blocking the handler")
    func boundedBuffer() {
        let sensor = ApplicationSensor(identity: Self.someIdentity, capacity: 2)
        for _ in 0..<5 {
            sensor.record(ApplicationRecord(direction: .served, time: 1, method: "GET", path: "/", status: 200))
        }
        #expect(sensor.statistics == ApplicationSinkStatistics(recorded: 5, delivered: 0, dropped: 3))
    }

    @Test("the event log writes events that the agent's decoder reads back unchanged")
    func eventLogRoundTrip() async throws {
        let path = "/tmp/vigil-app-events-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).jsonl"
        defer { unlink(path) }
        let log = ApplicationEventLog(path: path, identity: Self.someIdentity, flushInterval: .milliseconds(5))
        let records = [
            ApplicationRecord(
                direction: .served, time: 1_700_000_000_000_000_000, method: "GET", route: "/fetch", path: "/fetch",
                parameters: "url=http://169.254.169.254/latest/meta-data/", host: "shop.local", status: 200,
                durationMicroseconds: 1_500, peer: SocketAddress(address: IPAddress(v4: 127, 0, 0, 1), port: 40_000),
                user: "bob"),
            ApplicationRecord(
                direction: .fetched, time: 1_700_000_000_000_500_000, method: "GET",
                path: "/latest/meta-data/", host: "169.254.169.254", status: 200, durationMicroseconds: 800,
                peer: SocketAddress(address: IPAddress(v4: 169, 254, 169, 254), port: 80)),
        ]
        let running = Task { try await log.run() }
        for record in records { log.record(record) }
        while log.statistics.delivered < records.count { try await Task.sleep(for: .milliseconds(5)) }
        running.cancel()
        try await running.value

        let text = try String(decoding: readFile(path), as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let symbols = SymbolTable()
        var decoder = EventDecoder(symbols: symbols)
        let expected = records.map { $0.event(of: Self.someIdentity, symbols: symbols) }
        for (line, event) in zip(lines, expected) {
            #expect(try decoder.decode(line: line) == event)
        }
    }

    @Test("the service's endpoints and fetched hosts are learned; a new endpoint and a new host are deviations")
    func learnsEndpointProfile() async throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let web = b.workload(deployment: "web")
        let learn = [
            b.httpRequest(pid: 10, route: "/items/{id}", path: "/items/1", workload: web),
            b.httpRequest(pid: 10, route: "/fetch", path: "/fetch", parameters: "url=http://catalog/", workload: web),
            b.httpFetch(pid: 10, host: "catalog.internal", path: "/items", workload: web),
        ]
        let detect = [
            b.httpRequest(pid: 11, route: "/items/{id}", path: "/items/2", workload: web),
            b.httpFetch(pid: 11, host: "catalog.internal", path: "/other", workload: web),
            b.httpRequest(pid: 11, route: "/admin", path: "/admin", workload: web),
            b.httpFetch(
                pid: 11, host: "169.254.169.254",
                address: SocketAddress(address: IPAddress(v4: 169, 254, 169, 254), port: 80),
                path: "/latest/meta-data/", workload: web),
        ]
        let book = ProfileBook(shardCount: 1, symbols: symbols)
        let configuration = EngineConfiguration(shards: 1)
        try await Engine(
            configuration: configuration, symbols: symbols, sensors: [InMemorySensor(events: learn)],
            detectors: book.detectorFactory
        ).run()
        book.completeAll()
        let output = CollectingOutput()
        try await Engine(
            configuration: configuration, symbols: symbols, sensors: [InMemorySensor(events: detect)],
            detectors: book.detectorFactory, outputs: [output]
        ).run()
        let findings = output.findings.sorted { $0.time < $1.time }
        #expect(findings.map(\.rule.id) == ["profile.unexpected-http-endpoint", "profile.unexpected-egress"])
        #expect(findings.first?.explanation.contains("GET /admin") == true)
        #expect(
            findings.last?.explanation.contains("new outbound peer 'http 169.254.169.254:80'") == true,
            "\(findings.last?.explanation ?? "")")
    }

    static let someIdentity = ApplicationIdentity(
        process: ProcessKey(pid: 4242, startTime: 99_000_000),
        workload: Workload(kind: .container, containerName: "abc123"),
        containerID: "abc123def456", executable: "/srv/shop", uid: 1000)
}

/// Keeps every record, for tests of the client wrapper alone.
final class RecordCollector: ApplicationRecordSink {
    private let records = Mutex<[ApplicationRecord]>([])
    func record(_ record: ApplicationRecord) { records.withLock { $0.append(record) } }
    var all: [ApplicationRecord] { records.withLock { $0 } }
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else { throw CocoaLikeError(path: path) }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count == 0 { break }
        bytes += chunk[0..<count]
    }
    return bytes
}

struct CocoaLikeError: Error { var path: String }

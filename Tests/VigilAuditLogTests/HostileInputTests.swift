import Synchronization
import Testing
import VigilAuditLog
import VigilCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Hostile input and rotation")
struct HostileInputTests {
    @Test("truncated lines, bad hex, unknown types and prose are counted and skipped")
    func badAuditLines() {
        let text = """
            type=SYSCALL msg=audit(1700000000.123:45
            type=SYSCALL msg=audit(17000000
            type=NOT_A_TYPE msg=audit(1700000000.123:46): pid=1
            hello world
            type=PROCTITLE msg=audit(1700000000.123:47): proctitle=6172700
            type=EXECVE msg=audit(1700000000.123:47): argc=2 a0=ZZ a1="-a"
            type=UNKNOWN[4321] msg=audit(1700000000.123:48): foo=bar
            type=USER_LOGIN msg=audit(1700000000.123:49): pid=1 uid=0 auid=1000 ses=2 msg='op=login acct="root
            node=web1 type=SYSCALL msg=audit(1700000000.200:50): arch=c000003e syscall=105 success=yes exit=0 a0=0
            """
        let symbols = SymbolTable()
        let (events, statistics) = parseLinuxAudit(text, symbols: symbols)
        #expect(statistics.skipped == [.truncated: 2, .unknownRecordType: 1, .notAuditRecord: 1])
        #expect(statistics.badHexFields == 2)
        #expect(events.count == 4)
        #expect(events.contains { $0.kind == .credentialChange })
        let unknown = events.first { event in
            if case .audit(let fields) = event.fields { return fields.recordType == 4321 }
            return false
        }
        #expect(unknown != nil)
        // A user-space message cut inside a quote keeps its leading fields.
        let login = events.first { event in
            if case .audit(let fields) = event.fields { return fields.recordType == AuditRecordType.userLogin }
            return false
        }
        #expect(login.map { symbols.string($0.principal) } == "root")
    }

    @Test("split EXECVE arguments (aN_len, aN[i]) are joined; a missing EOE is flushed at the end")
    func splitArguments() throws {
        let text = """
            type=SYSCALL msg=audit(1700000000.123:7): arch=c000003e syscall=59 success=yes exit=0 \
            ppid=1 pid=2 uid=0 euid=0 gid=0 exe="/bin/echo"
            type=EXECVE msg=audit(1700000000.123:7): argc=2 a0="echo" a1_len=6 a1[0]=616263 a1[1]="def"
            """
        let symbols = SymbolTable()
        let (events, statistics) = parseLinuxAudit(text, symbols: symbols)
        let exec = try #require(events.first)
        guard case .process(let fields) = exec.fields else { Issue.record("not an exec"); return }
        #expect(ArgumentList.split(symbols.string(fields.arguments)) == ["echo", "abcdef"])
        #expect(statistics.withoutEndOfEvent == 1)
    }

    @Test("the open-event bound evicts the oldest and counts it")
    func eviction() {
        var text = ""
        for serial in 1...10 {
            text += "type=SYSCALL msg=audit(1700000000.000:\(serial)): "
            text += "arch=c000003e syscall=0 success=yes exit=0 pid=1\n"
        }
        let configuration = LinuxAuditParser.Configuration(maximumOpenEvents: 3, reorderWindowEvents: 100)
        let (events, statistics) = parseLinuxAudit(text, symbols: SymbolTable(), configuration: configuration)
        #expect(events.count == 10)
        #expect(statistics.evictions == 7)
    }

    @Test("a huge line, a 0-byte file and invalid JSON do no harm")
    func hugeAndEmpty() async throws {
        let directory = TestData.temporaryDirectory()
        let empty = directory + "/empty.log"
        TestData.write(empty, "")
        let (none, emptyStatistics) = try await replayLinuxAudit(empty, symbols: SymbolTable())
        #expect(none.isEmpty)
        #expect(emptyStatistics.lines == 0)

        let huge = directory + "/huge.log"
        let big = String(repeating: "A", count: 300_000)
        TestData.write(
            huge,
            "type=PROCTITLE msg=audit(1.000:1): proctitle=\(big)\n"
                + "type=SYSCALL msg=audit(1.000:2): arch=c000003e syscall=59 success=yes exit=0 pid=5 exe=\"/bin/x\"\n")
        let (events, statistics) = try await replayLinuxAudit(huge, symbols: SymbolTable())
        #expect(statistics.skipped == [.lineTooLong: 1])
        #expect(events.count == 1)

        let json = directory + "/bad.json"
        TestData.write(json, "{\"kind\":\"Event\",\"verb\":\n{not json}\n[1,2\n\u{1}\u{2}\n")
        let sensor = KubernetesAuditFileSensor(path: json)
        var k8sEvents: [Event] = []
        try await sensor.run(symbols: SymbolTable()) { batch in
            k8sEvents += batch.events
            batch.removeAll()
        }
        #expect(k8sEvents.isEmpty)
        #expect(sensor.statistics.skipped == [.invalidJSON: 4])

        let missing = LinuxAuditFileSensor(path: directory + "/missing.log")
        await #expect(throws: LogFileError.self) {
            try await missing.run(symbols: SymbolTable()) { $0.removeAll() }
        }
    }

    @Test("GKE entries with a missing or garbage methodName or resourceName are counted and skipped")
    func gkeGarbage() {
        func entry(_ members: String) -> String {
            #"{"timestamp":"2024-01-02T03:04:05Z","protoPayload":{"serviceName":"k8s.io""# + members + "}}"
        }
        let exec = #","methodName":"io.k8s.core.v1.pods.exec.create""#
        let badMethods = [
            "", #","methodName":42"#, #","methodName":null"#, #","methodName":"""#, #","methodName":"io.k8s.""#,
            #","methodName":"io.k8s..v1.pods.create""#, #","methodName":"io.k8s.core.v1""#,
            #","methodName":"io.k8s.core.v1.pods""#, #","methodName":"io.k8s.core.v1.pods.frobnicate""#,
            #","methodName":"io.k8s.v1.pods.create""#, #","methodName":"io.k8s.core.v1.a.b.c.create""#,
            #","methodName":"compute.instances.list""#, #","methodName":"IO.K8S.core.v1.pods.create""#,
            #","methodName":"io.k8s.core.v1.pods.create.""#,
            #","methodName":""# + String(repeating: "io.k8s.", count: 50_000) + #"""#,
        ]
        let badResourceNames = [
            #","resourceName":42"#, #","resourceName":"""#, #","resourceName":"core/v1""#,
            #","resourceName":"core/v2/namespaces/default/pods/p/exec""#,
            #","resourceName":"core/v1/namespaces/default/secrets/p""#,
            #","resourceName":"core/v1/namespaces/default/pods/p/attach""#,
            #","resourceName":"core/v1/namespaces/default/pods/p/exec/extra""#,
            #","resourceName":"core/v1/namespaces//pods/p""#, #","resourceName":"core/v1/namespaces/default""#,
            #","resourceName":"/readyz""#, #","resourceName":"core/v1/pods/p/""#,
            #","resourceName":""# + String(repeating: "/", count: 100_000) + #"""#,
        ].map { exec + $0 }
        let notKubernetes = [
            #"{"protoPayload":{"serviceName":"compute.googleapis.com","methodName":"io.k8s.core.v1.pods.create"}}"#,
            #"{"protoPayload":"k8s.io"}"#, #"{"protoPayload":{}}"#, #"{"protoPayload":{"serviceName":7}}"#,
        ]
        let lines =
            badMethods.map(entry) + badResourceNames.map(entry)
            + [entry(#","methodName":"io.k8s.readyz","resourceName":"readyz""#)] + notKubernetes
        var parser = KubernetesAuditParser(symbols: SymbolTable())
        var batch = EventBatch()
        for line in lines { parser.parse(line: line, into: &batch) }
        #expect(batch.events.isEmpty)
        #expect(parser.statistics.inputs == lines.count)
        #expect(
            parser.statistics.skipped == [
                .invalidGKEMethodName: badMethods.count, .invalidGKEResourceName: badResourceNames.count + 1,
                .notAuditEvent: notKubernetes.count,
            ])
        #expect(KubernetesSkipReason.invalidGKEMethodName.description == "invalid GKE methodName")
        #expect(KubernetesSkipReason.invalidGKEResourceName.description == "invalid GKE resourceName")

        // The same entries with a sound method and resource name are read.
        parser.parse(line: entry(exec + #","resourceName":"core/v1/namespaces/default/pods/p/exec""#), into: &batch)
        parser.parse(line: entry(exec + #","resourceName":"core/v1/namespaces/default/pods/p""#), into: &batch)
        #expect(batch.events.count == 2)
    }

    @Test("a followed file that is renamed and recreated keeps delivering, nothing twice, nothing lost")
    func rotation() async throws {
        let directory = TestData.temporaryDirectory()
        let path = directory + "/audit.log"
        func line(_ serial: Int) -> String {
            "type=USER_CMD msg=audit(1700000000.000:\(serial)): pid=\(serial) uid=0 auid=0 ses=1 "
                + "msg='cmd=6C73 res=success'\n"
        }
        TestData.write(path, (1...5).map(line).joined())
        let sensor = LinuxAuditFileSensor(path: path, mode: .follow(pollInterval: .milliseconds(20)))
        let collected = Collected()
        let task = Task {
            try await sensor.run(symbols: SymbolTable()) { batch in
                collected.add(batch.events.map { $0.process.pid })
                batch.removeAll()
            }
        }
        try await collected.wait(for: 5)
        TestData.write(path, (6...8).map(line).joined(), append: true)
        try await collected.wait(for: 8)
        // Rotate: the last lines go to the old file after the rename, as a writer still holding it would.
        #expect(rename(path, path + ".1") == 0)
        TestData.write(path + ".1", line(9), append: true)
        try await Task.sleep(for: .milliseconds(60))
        TestData.write(path, (10...12).map(line).joined())
        try await collected.wait(for: 12)
        // Copy-truncate style: the file shrinks in place.
        TestData.write(path, line(13))
        try await collected.wait(for: 13)
        task.cancel()
        try await task.value
        #expect(collected.pids == Array(1...13).map(Int32.init))
    }
}

/// Pids delivered by a followed sensor, shared with the test.
final class Collected: Sendable {
    private let state = Mutex<[Int32]>([])
    func add(_ pids: [Int32]) { state.withLock { $0 += pids } }
    var pids: [Int32] { state.withLock { $0 } }
    /// Waits until `count` pids arrived, or fails after five seconds.
    func wait(for count: Int) async throws {
        for _ in 0..<500 {
            if pids.count >= count { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("only \(pids.count) of \(count) events arrived: \(pids)")
    }
}

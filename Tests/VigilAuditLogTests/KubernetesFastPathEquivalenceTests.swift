import Testing
import VigilAuditLog
import VigilCore

/// The byte-level Kubernetes path (`KubernetesAuditParser(fastPath: true)`, the default) must give exactly what
/// the full JSON tree path gives: the same events (symbols included, each side with its own table) and the
/// same statistics, for every line and document of the real data and for hand-made awkward lines.
@Suite struct KubernetesFastPathEquivalenceTests {
    /// Events and statistics of `bytes` read line by line (or as one document), with or without the fast path.
    static func read(
        _ bytes: [UInt8], fastPath: Bool, document: Bool
    ) -> (events: [Event], statistics: KubernetesAuditParser.Statistics) {
        var parser = KubernetesAuditParser(symbols: SymbolTable(), fastPath: fastPath)
        var batch = EventBatch()
        if document {
            parser.parse(document: bytes, into: &batch)
        } else {
            bytes.withUnsafeBytes { buffer in
                var start = 0
                while start < buffer.count {
                    var end = start
                    while end < buffer.count, buffer[end] != 0x0A { end += 1 }
                    parser.parse(line: UnsafeRawBufferPointer(rebasing: buffer[start..<end]), into: &batch)
                    start = end + 1
                }
            }
        }
        return (Array(batch.events), parser.statistics)
    }

    /// Every JSON and JSON-lines file under ../shared/data/k8s-audit (81 Falco events, Panther test cases).
    @Test func realDataGivesIdenticalEvents() {
        var files = 0
        var events = 0
        var skipped = 0
        for path in TestData.files(under: "k8s-audit") where path.hasSuffix(".json") || path.hasSuffix(".jsonl") {
            let bytes = TestData.read(path)
            for document in [false, true] {
                let fast = Self.read(bytes, fastPath: true, document: document)
                let tree = Self.read(bytes, fastPath: false, document: document)
                #expect(fast.events == tree.events, "\(path)")
                #expect(fast.statistics == tree.statistics, "\(path)")
                if !document {
                    events += tree.events.count
                    skipped += tree.statistics.totalSkipped
                }
            }
            files += 1
        }
        print("Kubernetes fast path equivalence: \(files) files, \(events) events, \(skipped) skipped values")
        #expect(files == 82)
        #expect(events > 80)
    }

    /// Lines built to take every fallback: wrappers, lists, duplicate and escaped keys and values, odd types,
    /// request objects, invalid JSON and nesting.
    @Test func awkwardLinesGiveIdenticalEvents() {
        let event =
            #""kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"create","stageTimestamp":"2024-01-02T03:04:05Z""#
        let lines = [
            "{\(event),\"user\":{\"username\":\"system:anonymous\"},\"sourceIPs\":[1,\"10.0.0.1\"]}",
            "{\(event),\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"ns\",\"name\":\"\"},"
                + #""requestObject":{"kind":"Pod","metadata":{"name":"p"},"spec":{"hostPID":true,"containers":"#
                + #"[{"image":"i","securityContext":{"privileged":true,"capabilities":{"add":["SYS_ADMIN"]}}}]}}}"#,
            "{\(event),\"objectRef\":{\"name\":\"\"},\"requestObject\":{\"metadata\":{\"name\":\"m\"}}}",
            "{\(event),\"objectRef\":{\"name\":\"o\"},\"requestObject\":{\"metadata\":{\"name\":\"m\"}}}",
            "{\(event),\"requestObject\":{\"metadata\":7,\"rules\":[{\"verbs\":[\"*\"]}]}}",
            "{\(event),\"requestObject\":{\"metadata\":{\"name\":\"a\",\"name\":\"b\"}}}",
            "{\(event),\"requestObject\":{\"spec\":{\"cont\\u0061iners\":[{\"image\":\"x\"}],"
                + "\"hostNetwork\":true}}}",
            "{\(event),\"responseStatus\":{\"code\":403}}",
            "{\(event),\"responseStatus\":{\"code\":403.0}}",
            "{\(event),\"responseStatus\":{\"code\":-1}}",
            "{\(event),\"responseStatus\":{\"code\":70000}}",
            "{\(event),\"responseStatus\":{\"code\":\"403\"}}",
            "{\(event),\"impersonatedUser\":{\"username\":\"x\"},\"userAgent\":\"caf\\u00e9\"}",
            "{\(event),\"impersonatedUser\":\"x\",\"user\":\"y\"}",
            #"{"kind":"Event","verb":"get","verb":"list"}"#,
            #"{"kind":"Event","v\u0065rb":"get"}"#,
            #"{"kind":"EventList","items":[{"verb":"get"},{"verb":"list"}]}"#,
            #"{"kind":"Pod","verb":"get"}"#,
            #"{"apiVersion":"v1","verb":"get"}"#,
            #"{"kind":7,"verb":"get","requestReceivedTimestamp":"bad","timestamp":"2024-01-02T03:04:05Z"}"#,
            #"{"verb":"get","stageTimestamp":5,"metadata":{"creationTimestamp":"2024-01-02T03:04:05.5Z"}}"#,
            #"{"rule_id":"r","log":{"verb":"get"}}"#,
            #"{"properties":{"log":"{\"verb\":\"get\"}"}}"#,
            #"{"protoPayload":{}}"#,
            // GKE entries: the fast path declines them (protoPayload), the tree reads or skips them.
            #"{"timestamp":"2024-01-02T03:04:05Z","protoPayload":{"serviceName":"k8s.io","#
                + #""methodName":"io.k8s.core.v1.pods.create","resourceName":"core/v1/namespaces/ns/pods/p","#
                + #""authenticationInfo":{"principalEmail":"a@b.c"},"requestMetadata":{"callerIP":"10.0.0.2"},"#
                + #""request":{"spec":{"hostNetwork":true,"containers":[{"image":"i","securityContext":"#
                + #"{"privileged":true}}]}}}}"#,
            #"{"rule_id":"r","log":{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.readyz"}}}"#,
            #"{"verb":"get","protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.list"}}"#,
            #"{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.frob"}}"#,
            #"{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.get","resourceName":7}}"#,
            #"{"nothing":1}"#,
            #"[{"verb":"get"}]"#,
            #"{"verb":"get","user":{"username":"u\ud800"}}"#,
            #"{"verb":"get"} x"#,
            #"{"verb":"get""#,
            "{\"verb\":\"get\",\"n\":" + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}",
            "   ",
        ]
        let bytes = Array(lines.joined(separator: "\n").utf8)
        let fast = Self.read(bytes, fastPath: true, document: false)
        let tree = Self.read(bytes, fastPath: false, document: false)
        #expect(fast.events == tree.events)
        #expect(fast.statistics == tree.statistics)
        #expect(fast.events.count > 10)
        #expect(tree.statistics.skipped[.invalidGKEMethodName] == 1)
        #expect(tree.statistics.skipped[.invalidGKEResourceName] == 1)
    }
}

import Testing
import VigilAuditLog
import VigilCore

/// The details an audit event carries (`KubernetesFields.details`): the parts rules read beyond the fixed fields,
/// the same from the byte-level path as from the tree.
@Suite struct KubernetesDetailsTests {
    static func details(_ line: String, fastPath: Bool) throws -> JSONValue {
        let symbols = SymbolTable()
        var parser = KubernetesAuditParser(symbols: symbols, fastPath: fastPath)
        var batch = EventBatch()
        parser.parse(line: line, into: &batch)
        let event = try #require(batch.events.first)
        guard case .kubernetes(let fields) = event.fields else {
            Issue.record("not a Kubernetes event")
            return .null
        }
        return fields.details.isNone ? .null : try JSONParser.parse(symbols.string(fields.details))
    }

    @Test("an audit event keeps user, impersonated user, URI, object, request, status, annotations and stage")
    func keptMembers() throws {
        let line = #"""
            {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"a-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"create","user":{"username":"alice","groups":["system:masters"]},"impersonatedUser":{"username":"bob"},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"pods","namespace":"default"},"responseStatus":{"code":201},"requestObject":{"kind":"Pod","spec":{"containers":[{"image":"nginx"}]}},"responseObject":{"metadata":{"name":"web-1"}},"requestReceivedTimestamp":"2024-01-02T03:04:05Z","annotations":{"authorization.k8s.io/decision":"allow"}}
            """#
        for fastPath in [true, false] {
            let details = try Self.details(line, fastPath: fastPath)
            #expect(
                details.object?.keys == [
                    "user", "impersonatedUser", "requestURI", "objectRef", "requestObject", "responseStatus",
                    "annotations", "stage",
                ])
            #expect(details["user"]?["groups"]?.array?.first?.string == "system:masters")
            #expect(details["requestObject"]?["spec"]?["containers"]?.array?.first?["image"]?.string == "nginx")
        }
    }

    @Test("a GKE entry's details hold what an audit event would: user, URI, object, request, status")
    func gkeDetails() throws {
        let line =
            #"{"timestamp":"2024-01-02T03:04:05Z","protoPayload":{"serviceName":"k8s.io","#
            + #""methodName":"io.k8s.core.v1.pods.create","resourceName":"core/v1/namespaces/ns/pods/p","#
            + #""authenticationInfo":{"principalEmail":"a@b.c"},"request":{"spec":{"hostNetwork":true}}}}"#
        let details = try Self.details(line, fastPath: true)
        #expect(details.object?.keys == ["user", "objectRef", "requestObject", "responseStatus"])
        #expect(details["user"]?["username"]?.string == "a@b.c")
        #expect(details["objectRef"]?["name"]?.string == "p")
        #expect(details["requestObject"]?["spec"]?["hostNetwork"]?.bool == true)
        #expect(details["responseStatus"]?["code"]?.int64 == 200)
    }

    @Test("a request object too large for details is left out; the rest is kept")
    func oversizedRequest() throws {
        let data = String(repeating: "x", count: 300 << 10)
        let line =
            #"{"kind":"Event","verb":"create","stage":"ResponseComplete","objectRef":{"resource":"configmaps"},"#
            + #""requestObject":{"data":{"big":"\#(data)"}}}"#
        for fastPath in [true, false] {
            let details = try Self.details(line, fastPath: fastPath)
            #expect(details.object?.keys == ["objectRef", "stage"])
        }
    }

    /// Lines whose details take the byte path's every branch: white space, escapes, numbers in every form,
    /// null and duplicate members, nesting.
    @Test func awkwardDetailsGiveIdenticalEvents() {
        let event = #""kind":"Event","verb":"create","objectRef":{"resource":"pods"}"#
        let lines = [
            "{\(event), \"stage\" : \"ResponseComplete\" , \"annotations\" : { \"a\" : \"say \\\"hi\\\" \\/ \\u00e9\" } }",
            "{\(event),\"responseStatus\":{\"code\":201,\"ratio\":1.50,\"big\":123456789012345678901,\"neg\":-0,\"e\":2E+2}}",
            "{\(event),\"user\":null,\"impersonatedUser\":null,\"stage\":null}",
            "{\(event),\"user\":{\"username\":\"u\",\"username\":\"v\",\"groups\":[]}}",
            "{\(event),\"requestObject\":{\"a\":[[{\"b\":[true,false,null]}]],\"k\\u0065y\":\"\\t\"}}",
            "{\(event),\"requestURI\":\"/api?x=caf\u{e9}\",\"stage\":\"\\ud83d\\ude00\"}",
            "{\(event),\"annotations\":{}}",
            "{\(event)}",
        ]
        let bytes = Array(lines.joined(separator: "\n").utf8)
        let fast = KubernetesFastPathEquivalenceTests.read(bytes, fastPath: true, document: false)
        let tree = KubernetesFastPathEquivalenceTests.read(bytes, fastPath: false, document: false)
        #expect(fast.events == tree.events)
        #expect(fast.events.count == lines.count)
        // Every line has an objectRef, so every event has details.
        let withDetails = tree.events.filter {
            if case .kubernetes(let fields) = $0.fields { return !fields.details.isNone }
            return false
        }
        #expect(withDetails.count == lines.count)
    }
}

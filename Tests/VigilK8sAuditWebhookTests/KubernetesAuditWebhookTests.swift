import Foundation
import NIOSSL
import Testing
import VigilCore
import VigilK8sAuditWebhook
import VigilTestKit

let token = "k8s-audit-token-0123456789"
let authorized = [("Authorization", "Bearer \(token)")]

/// Real audit events (falcosecurity/falco @2583ea9b, k8s-audit/falco/k8s_audit/, Apache-2.0): a Secret created
/// and then deleted by `kubectl` from 192.168.64.1, both `audit.k8s.io/v1`.
func eventList() throws -> String {
    let items = try ["create_secret.json", "delete_secret.json"].map {
        try TestData.text("k8s-audit/falco/k8s_audit/\($0)")
    }
    return #"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":["#
        + items.joined(separator: ",") + "]}"
}

@Suite("Kubernetes audit webhook over HTTPS")
struct KubernetesAuditWebhookTests {
    @Test("an EventList with the bearer token gets 200 and its events arrive in order, with their details")
    func eventListArrives() async throws {
        let pki = try TestCertificates.shared()
        let body = Array(try eventList().utf8)
        var response: HTTPSResponse?
        let run = try await withWebhookEngine(pki.configuration([.bearerToken(token)])) { port in
            response = try await HTTPSClient.post(port: port, headers: authorized, body: body, pki: pki)
        }
        #expect(response?.status == 200)
        #expect(response?.body == #"{"accepted":2,"skipped":0,"dropped":0}"#)
        #expect(response?.headers["content-type"] == "application/json")
        try #require(run.events.count == 2)
        for (index, verb, code) in [(0, "create", 201), (1, "delete", 200)] {
            let event = run.events[index]
            #expect(event.kind == .kubernetesRequest)
            #expect(run.text(event.principal) == "minikube-user")
            let fields = try #require(run.kubernetes(index))
            #expect(run.text(fields.verb) == verb)
            #expect(run.text(fields.resource) == "secrets")
            #expect(run.text(fields.namespace) == "default")
            #expect(run.text(fields.name) == "example-secret")
            #expect(fields.sourceAddress == IPAddress(v4: 192, 168, 64, 1))
            #expect(run.text(fields.userAgent) == "kubectl/v1.17.3 (darwin/amd64) kubernetes/06ad960")
            #expect(fields.responseCode == UInt16(code))
        }
        // stageTimestamp 2020-04-21T17:57:05.548299Z.
        #expect(run.events[0].time == 1_587_491_825_548_299_000)
        #expect(run.statistics.eventsReceived == 2)
        #expect(run.status.requests == 1)
        #expect(run.status.accepted == 1)
        #expect(run.status.eventsAccepted == 2)
    }

    @Test("a single audit.k8s.io/v1beta1 Event is accepted too, on /")
    func singleEvent() async throws {
        let pki = try TestCertificates.shared()
        // falco k8s_audit/create_nginx_service_nonodeport.json: a v1beta1 Event, sent bare.
        let body = Array(try TestData.text("k8s-audit/falco/k8s_audit/create_nginx_service_nonodeport.json").utf8)
        var response: HTTPSResponse?
        let run = try await withWebhookEngine(pki.configuration([.bearerToken(token)])) { port in
            response = try await HTTPSClient.post(port: port, path: "/", headers: authorized, body: body, pki: pki)
        }
        #expect(response?.status == 200)
        try #require(run.events.count == 1)
        let fields = try #require(run.kubernetes(0))
        #expect(run.text(fields.resource) == "services")
        #expect(run.text(fields.name) == "nginx")
        #expect(fields.sourceAddress == IPAddress(v4: 192, 168, 99, 1))
    }

    @Test("a missing or wrong bearer token gets 401 and delivers nothing")
    func unauthorized() async throws {
        let pki = try TestCertificates.shared()
        let body = Array(try eventList().utf8)
        var responses: [HTTPSResponse] = []
        let run = try await withWebhookEngine(pki.configuration([.bearerToken(token)])) { port in
            for headers in [
                [], [("Authorization", "Bearer wrong")], [("Authorization", "Bearer \(token)x")],
                [("Authorization", "Bearer \(token.dropLast())")], [("Authorization", "Basic \(token)")],
            ] {
                responses.append(try await HTTPSClient.post(port: port, headers: headers, body: body, pki: pki))
            }
        }
        #expect(responses.map(\.status) == [401, 401, 401, 401, 401])
        #expect(responses.allSatisfy { $0.headers["www-authenticate"] == "Bearer" })
        #expect(run.events.isEmpty)
        #expect(run.statistics.eventsReceived == 0)
        #expect(run.status.unauthorized == 5)
        #expect(run.status.accepted == 0)
    }

    @Test("a body over the limit gets 413, refused from Content-Length or once the streamed limit is passed")
    func oversized() async throws {
        let pki = try TestCertificates.shared()
        var responses: [HTTPSResponse] = []
        let configuration = pki.configuration([.bearerToken(token)], maximumBodySize: 1024)
        let run = try await withWebhookEngine(configuration) { port in
            // A real EventList just over the limit, announced: refused before it is read.
            var body = Array(try eventList().utf8)
            #expect(body.count > 1024)
            responses.append(try await HTTPSClient.post(port: port, headers: authorized, body: body, pki: pki))
            // Only the head of a huge body: the answer must not wait for the body.
            responses.append(
                try await HTTPSClient.post(
                    port: port, headers: authorized, body: [], contentLength: 1 << 30, sendBody: false, pki: pki))
            // A chunked body has no length up front: it is refused once the limit is passed.
            body = Array(repeating: UInt8(ascii: " "), count: 4096)
            let chunked = Array("1000\r\n".utf8) + body + Array("\r\n0\r\n\r\n".utf8)
            responses.append(
                try await HTTPSClient.postChunked(port: port, headers: authorized, chunkedBody: chunked, pki: pki))
        }
        #expect(responses.map(\.status) == [413, 413, 413])
        #expect(run.events.isEmpty)
        #expect(run.status.tooLarge == 3)
    }

    @Test("a body that is not JSON, empty, or holds no audit event gets 400 with a message")
    func invalid() async throws {
        let pki = try TestCertificates.shared()
        var responses: [HTTPSResponse] = []
        let run = try await withWebhookEngine(pki.configuration([.bearerToken(token)])) { port in
            for body in [
                #"{"kind":"EventList","items":[{"verb":"get""#, "", #"{"hello":"world"}"#,
                #"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"kind":"Pod"}]}"#,
            ] {
                responses.append(
                    try await HTTPSClient.post(port: port, headers: authorized, body: Array(body.utf8), pki: pki))
            }
        }
        #expect(responses.map(\.status) == [400, 400, 400, 400])
        #expect(responses[0].body.contains("invalid JSON"))
        #expect(responses[2].body.contains("no audit.k8s.io Event or EventList"))
        #expect(run.events.isEmpty)
        #expect(run.status.invalid == 4)
    }

    @Test("when the engine cannot take the events the answer is 503 with Retry-After, and they are counted")
    func backPressure() async throws {
        let pki = try TestCertificates.shared()
        let body = Array(try TestData.text("k8s-audit/falco/k8s_audit/create_secret.json").utf8)
        let gate = GatedOutput()
        var statuses: [Int] = []
        var refused: HTTPSResponse?
        // One shard with room for one event, one finding per event, and an output that does not return: the
        // pipeline holds a few events, then the queue is full.
        let run = try await withWebhookEngine(
            pki.configuration([.bearerToken(token)]),
            engine: EngineConfiguration(shards: 1, shardQueueCapacity: 1, findingQueueCapacity: 1),
            findingPerEvent: true, outputs: [gate]
        ) { port in
            defer { gate.open() }
            for _ in 0..<12 where refused == nil {
                let response = try await HTTPSClient.post(port: port, headers: authorized, body: body, pki: pki)
                statuses.append(response.status)
                if response.status == 503 { refused = response }
            }
        }
        let response = try #require(refused, "no 503 in \(statuses)")
        #expect(response.headers["retry-after"] == "1")
        #expect(response.body.contains("busy"))
        #expect(statuses.dropLast().allSatisfy { $0 == 200 })
        // Every 200 delivered its event; the refused one was dropped, and counted by the sensor and the engine.
        #expect(run.events.count == statuses.count - 1)
        #expect(run.status.eventsDropped == 1)
        #expect(run.status.overloaded == 1)
        #expect(run.statistics.totalDropped == 1)
    }

    @Test("mutual TLS: a client certificate signed by the configured CA gets through")
    func clientCertificateAccepted() async throws {
        let pki = try TestCertificates.shared()
        let body = Array(try eventList().utf8)
        var response: HTTPSResponse?
        let run = try await withWebhookEngine(pki.configuration([.clientCertificate(trustRoots: pki.caPath)])) {
            port in
            response = try await HTTPSClient.post(port: port, body: body, pki: pki, clientCertificate: pki.client)
        }
        #expect(response?.status == 200)
        #expect(run.events.count == 2)
    }

    @Test("mutual TLS: a client without a certificate, or with one from another CA, fails the handshake")
    func clientCertificateRequired() async throws {
        let pki = try TestCertificates.shared()
        let body = Array(try eventList().utf8)
        var failures: [String] = []
        let run = try await withWebhookEngine(pki.configuration([.clientCertificate(trustRoots: pki.caPath)])) {
            port in
            for certificate in [nil, pki.otherClient] {
                do {
                    let response = try await HTTPSClient.post(
                        port: port, body: body, pki: pki, clientCertificate: certificate)
                    Issue.record("got an HTTP answer without a valid client certificate: \(response.status)")
                } catch {
                    failures.append("\(error)")
                }
            }
        }
        // With TLS 1.3 the client may finish its side of the handshake first; the server's alert then ends the
        // connection before any answer. On a loaded machine the connection can close before the client reads
        // the alert, so either the alert or the closed connection is the refusal.
        try #require(failures.count == 2)
        #expect(failures[0].contains("CERTIFICATE_REQUIRED") || failures[0].contains("closed"), "\(failures[0])")
        #expect(failures[1].contains("UNKNOWN_CA") || failures[1].contains("closed"), "\(failures[1])")
        #expect(run.status.requests == 0)
        #expect(run.events.isEmpty)
    }

    @Test("bearer token and client certificate together: each alone is refused")
    func bothRequired() async throws {
        let pki = try TestCertificates.shared()
        let body = Array(try eventList().utf8)
        var statuses: [Int] = []
        var handshakeFailed = false
        let configuration = pki.configuration([.bearerToken(token), .clientCertificate(trustRoots: pki.caPath)])
        let run = try await withWebhookEngine(configuration) { port in
            statuses.append(
                try await HTTPSClient.post(
                    port: port, headers: authorized, body: body, pki: pki, clientCertificate: pki.client
                ).status)
            statuses.append(
                try await HTTPSClient.post(port: port, body: body, pki: pki, clientCertificate: pki.client).status)
            do {
                _ = try await HTTPSClient.post(port: port, headers: authorized, body: body, pki: pki)
            } catch {
                handshakeFailed = true
            }
        }
        #expect(statuses == [200, 401])
        #expect(handshakeFailed)
        #expect(run.events.count == 2)
    }

    @Test("plain HTTP to the TLS port gets no HTTP answer and delivers nothing")
    func plainHTTPRefused() async throws {
        let pki = try TestCertificates.shared()
        let body = Array(try eventList().utf8)
        var answered: RawResponse?
        let run = try await withWebhookEngine(pki.configuration([.bearerToken(token)])) { port in
            answered = try? await RawHTTPClient.post(port: port, path: "/audit", headers: authorized, body: body)
        }
        #expect(answered == nil, "a plain HTTP request got status \(answered?.status ?? 0)")
        #expect(run.status.requests == 0)
        #expect(run.events.isEmpty)
    }

    @Test("cancelling the engine stops the server: the port no longer accepts connections")
    func cancellationStopsServer() async throws {
        let pki = try TestCertificates.shared()
        var acceptedWhileRunning = false
        let run = try await withWebhookEngine(pki.configuration([.bearerToken(token)])) { port in
            acceptedWhileRunning = await RawHTTPClient.accepts(port: port)
        }
        #expect(acceptedWhileRunning)
        #expect(await RawHTTPClient.accepts(port: run.port) == false)
        #expect(await run.status.boundPort() == nil)
    }

    @Test("missing authentication, unreadable, invalid or mismatched PEM files fail at init, naming the problem")
    func configurationErrors() throws {
        let pki = try TestCertificates.shared()
        func code(_ configuration: KubernetesAuditWebhookConfiguration) -> KubernetesAuditWebhookError? {
            do {
                _ = try KubernetesAuditWebhookSensor(configuration: configuration)
                return nil
            } catch {
                return error
            }
        }
        #expect(code(pki.configuration([]))?.code == .missingAuthentication)
        #expect(code(pki.configuration([.bearerToken("")]))?.code == .invalidConfiguration)
        #expect(code(pki.configuration([.bearerToken("a"), .bearerToken("b")]))?.code == .invalidConfiguration)

        var missing = pki.configuration([.bearerToken(token)])
        missing.privateKeyPath = pki.directory + "/absent.key"
        let unreadable = try #require(code(missing))
        #expect(unreadable.code == .unreadableFile)
        #expect(unreadable.message.contains("absent.key"))
        #expect(unreadable.message.contains("No such file"))

        // A file that is not PEM at all.
        var garbage = pki.configuration([.bearerToken(token)])
        garbage.certificateChainPath = pki.directory + "/server.ext"
        #expect(code(garbage)?.code == .invalidTLSMaterial)

        // The client's key with the server's certificate.
        var mismatched = pki.configuration([.bearerToken(token)])
        mismatched.privateKeyPath = pki.client.key
        let mismatch = try #require(code(mismatched))
        #expect(mismatch.code == .invalidTLSMaterial)
        #expect(mismatch.message.contains("does the key belong to the certificate?"))

        let absentCA = pki.configuration([.clientCertificate(trustRoots: pki.directory + "/absent-ca.pem")])
        #expect(code(absentCA)?.code == .unreadableFile)
        #expect(code(pki.configuration([.clientCertificate(trustRoots: pki.caPath)])) == nil)
    }
}

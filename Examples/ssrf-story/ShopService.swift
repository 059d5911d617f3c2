import AsyncHTTPClient
import Foundation
import Hummingbird
import VigilHummingbird

/// The vulnerable service: a small shop whose "preview" endpoint fetches whatever URL its client names
/// (server-side request forgery). It records its requests and fetches with Vigil's application sensor, into
/// a JSON Lines file that `vigil-agent run --events-follow` follows.
enum ShopService {
    static func run(port: Int, eventsPath: String, portFile: String?) async throws {
        let log = ApplicationEventLog(path: eventsPath, identity: try ApplicationIdentity.current())
        let router = Router(context: ApplicationRequestContext.self)
        // Only `url` is worth recording: it is the parameter that decides where the server connects.
        router.add(middleware: ApplicationMiddleware(sink: log, capturing: ["url"]))
        // A preview fetches each URL once: no pooled connections, so every fetch is a new connection (and one
        // made after a quarantine is refused).
        var configuration = HTTPClient.Configuration()
        configuration.maximumUsesPerConnection = 1
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let client = MonitoredHTTPClient(client: http, sink: log)
        router.get("/health") { _, _ in "ok" }
        router.get("/products/{id}") { _, context -> String in
            let id = context.parameters.get("id") ?? "0"
            return #"{"id": \#(id), "name": "product \#(id)", "image": "/images/\#(id).png"}"#
        }
        // The vulnerability: the URL comes from the client and is fetched as is.
        router.get("/preview") { request, _ -> Response in
            guard let url = request.uri.queryParameters.get("url") else { throw HTTPError(.badRequest) }
            do {
                let (status, body) = try await client.get(url, maximumBytes: 64 << 10, timeout: .seconds(5))
                return Response(
                    status: .init(code: Int(status)), body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
            } catch {
                return Response(
                    status: .badGateway, body: ResponseBody(byteBuffer: ByteBuffer(string: "cannot fetch: \(error)")))
            }
        }
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            services: [log],
            onServerRunning: { channel in
                if let portFile, let port = channel.localAddress?.port {
                    try? "\(port)\n".write(toFile: portFile, atomically: true, encoding: .utf8)
                }
            })
        try await app.runService()
        try await http.shutdown()
    }
}

import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// Why an HTTP ingest server could not serve, in words naming the address and what to check; each sensor wraps
/// it in its own error.
package struct IngestServerError: Error, CustomStringConvertible {
    /// The message.
    package var description: String
}

/// Serves `respond` for POST requests to `paths` on `host`:`port` until the task is cancelled, then shuts the server
/// down gracefully and returns: it stops accepting connections and finishes the requests in flight.
///
/// `server` makes the HTTP server (plain HTTP/1.1 unless given; TLS for instance), and its failure is thrown as
/// well. `status` learns the bound port once the server listens (logged with `listening`), and that it stopped
/// when this returns.
package func serveUntilCancelled<Details: Sendable>(
    paths: [String], host: String, port: Int, status: IngestStatus<Details>, logger: Logger,
    listening: Logger.Message, server: () throws -> HTTPServerBuilder = { .http1() },
    respond: @escaping @Sendable (Request) async -> Response
) async throws(IngestServerError) {
    defer { status.stopped() }
    let builder: HTTPServerBuilder
    do {
        builder = try server()
    } catch {
        throw IngestServerError(description: "cannot set up the server: \(error)")
    }
    let router = Router(context: BasicRequestContext.self)
    for path in paths { router.post(RouterPath(path)) { request, _ in await respond(request) } }
    let app = Application(
        router: router, server: builder,
        configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "vigil"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? 0
            logger.info(listening, metadata: ["port": "\(port)"])
            status.started(port: port)
        },
        logger: logger)
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], logger: logger))
    // The group runs outside this task so that cancelling the sensor becomes a graceful shutdown (finish the
    // requests in flight) instead of cancelling the handlers; the task is always awaited below.
    let serving = Task { try await group.run() }
    do {
        try await withTaskCancellationHandler {
            try await serving.value
        } onCancel: {
            Task { await group.triggerGracefulShutdown() }
        }
    } catch {
        throw IngestServerError(
            description: "cannot serve on \(host):\(port): \(error) "
                + "(check that the address exists and the port is free)")
    }
}

import HTTPTypes
import Hummingbird
import VigilCore

/// Hummingbird middleware that records one application event per request: method, route pattern, path,
/// the query parameters it was told to capture, status, duration, client address, `Host`, and the
/// authenticated user when `user` names one.
///
/// Add it first on the router so that it sees every request, including those a later middleware or the
/// router rejects:
///
/// ```swift
/// let sensor = ApplicationSensor(identity: try .current())
/// router.add(middleware: ApplicationMiddleware(sink: sensor, capturing: ["url"]))
/// ```
///
/// The time of the event is when the request arrived, so it comes before anything its handler made the
/// process do; that is what lets the correlator name the request as the root cause of what followed.
public struct ApplicationMiddleware<Context: RequestContext, Sink: ApplicationRecordSink>: RouterMiddleware {
    /// Where records go.
    public let sink: Sink
    /// The query parameters whose values are recorded (`["url", "q"]`); `["*"]` records all of them.
    public let capturedParameters: Set<String>
    /// The longest parameter value recorded; longer values are cut.
    public let maximumValueLength: Int
    private let user: (@Sendable (Request, Context) -> String?)?

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - sink: where records go (an ``ApplicationSensor`` or an ``ApplicationEventLog``).
    ///   - capturing: the query parameters whose values are worth recording; `["*"]` for all. Leave out
    ///     secrets: recorded values end up in alerts.
    ///   - maximumValueLength: the longest value recorded.
    ///   - user: the authenticated user of a request, if the application knows one.
    public init(
        sink: Sink, capturing: Set<String> = [], maximumValueLength: Int = 512,
        user: (@Sendable (Request, Context) -> String?)? = nil
    ) {
        self.sink = sink
        self.capturedParameters = capturing
        self.maximumValueLength = maximumValueLength
        self.user = user
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let time = wallClockNanoseconds()
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, time: time, start: start, status: response.status.code)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request, context, time: time, start: start, status: status)
            throw error
        }
    }

    private func record(
        _ request: Request, _ context: Context, time: Int64, start: ContinuousClock.Instant, status: Int
    ) {
        sink.record(
            ApplicationRecord(
                direction: .served, time: time, method: request.method.rawValue, route: context.endpointPath ?? "",
                path: request.uri.path, parameters: parameters(of: request), host: host(of: request),
                status: UInt16(clamping: status), durationMicroseconds: microseconds(since: start),
                peer: peer(of: context), user: user?(request, context) ?? ""))
    }

    private func parameters(of request: Request) -> String {
        guard !capturedParameters.isEmpty else { return "" }
        let all = capturedParameters.contains("*")
        var parts: [String] = []
        for (name, value) in request.uri.queryParameters where all || capturedParameters.contains(String(name)) {
            parts.append("\(name)=\(value.prefix(maximumValueLength))")
        }
        return parts.joined(separator: "&")
    }

    private func host(of request: Request) -> String {
        guard let authority = request.head.authority else { return "" }
        return ApplicationURL.hostWithoutPort(authority)
    }

    private func peer(of context: Context) -> VigilCore.SocketAddress {
        guard let remote = (context as? any RemoteAddressRequestContext)?.remoteAddress,
            let text = remote.ipAddress, let address = IPAddress(text)
        else { return .none }
        return VigilCore.SocketAddress(address: address, port: UInt16(clamping: remote.port ?? 0))
    }
}

import VigilCore

/// One HTTP exchange the application took part in, in plain strings: a request it served or a URL it
/// fetched. The middleware and the client wrapper make these; an ``ApplicationRecordSink`` turns them into
/// events.
public struct ApplicationRecord: Sendable, Equatable {
    /// Which way the exchange went.
    public enum Direction: Sendable, Equatable {
        /// A request the application served (`http.request`).
        case served
        /// A request the application made (`http.fetch`).
        case fetched
    }

    /// Served or fetched.
    public var direction: Direction
    /// When the exchange started, in nanoseconds since the epoch.
    public var time: Int64
    /// The method (`GET`).
    public var method: String
    /// The matched route pattern (`/users/{id}`) of a served request, or empty.
    public var route: String
    /// The path, without the query.
    public var path: String
    /// The captured parameters (served) or the URL's query (fetched), as a query string.
    public var parameters: String
    /// The `Host` header (served) or the URL's host (fetched).
    public var host: String
    /// The response status, or 0 when none came (the fetch failed).
    public var status: UInt16
    /// How long the exchange took, in microseconds.
    public var durationMicroseconds: UInt32
    /// The other end: the client (served) or the server, when its address is a literal (fetched).
    public var peer: SocketAddress
    /// The authenticated user of a served request, or empty.
    public var user: String

    /// Creates a record.
    public init(
        direction: Direction, time: Int64, method: String, route: String = "", path: String, parameters: String = "",
        host: String = "", status: UInt16, durationMicroseconds: UInt32 = 0, peer: SocketAddress = .none,
        user: String = ""
    ) {
        self.direction = direction
        self.time = time
        self.method = method
        self.route = route
        self.path = path
        self.parameters = parameters
        self.host = host
        self.status = status
        self.durationMicroseconds = durationMicroseconds
        self.peer = peer
        self.user = user
    }

    /// The event of this record, by `process`, interning its strings in `symbols`.
    public func event(of process: ApplicationIdentity, symbols: SymbolTable) -> Event {
        func s(_ text: String) -> Symbol { text.isEmpty ? .none : symbols.intern(text) }
        return Event(
            time: time, kind: direction == .served ? .httpRequest : .httpFetch, process: process.process,
            workload: symbols.intern(process.workload), container: s(process.containerID), principal: s(user),
            uid: process.uid, executable: s(process.executable),
            fields: .http(
                HTTPFields(
                    method: s(method), route: s(route), path: s(path), parameters: s(parameters), status: status,
                    durationMicroseconds: durationMicroseconds, client: peer, host: s(host))))
    }
}

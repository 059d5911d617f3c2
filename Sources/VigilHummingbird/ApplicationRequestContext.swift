import Hummingbird
import NIOCore

/// A request context that knows the client's address, so that ``ApplicationMiddleware`` records it.
///
/// Hummingbird's `BasicRequestContext` does not keep the address; use this one, or add
/// `RemoteAddressRequestContext` to your own context.
public struct ApplicationRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's core context.
    public var coreContext: CoreRequestContextStorage
    /// The client's address.
    public let remoteAddress: NIOCore.SocketAddress?

    /// Creates the context for a request arriving on `source`'s channel.
    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

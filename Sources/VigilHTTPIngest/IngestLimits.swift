/// How much an HTTP ingest endpoint takes: the largest body, the requests handled at once, and the `Retry-After`
/// it sends when it refuses one.
package struct IngestLimits: Sendable {
    /// The largest request body accepted, in bytes; larger requests get 413.
    package var maximumBodySize: Int
    /// How many requests are handled at once; more get 503 with `Retry-After`.
    package var maximumRequestsInFlight: Int
    /// The `Retry-After` value, in seconds, sent with 503 responses.
    package var retryAfterSeconds: Int

    /// Creates limits.
    package init(maximumBodySize: Int, maximumRequestsInFlight: Int, retryAfterSeconds: Int) {
        self.maximumBodySize = maximumBodySize
        self.maximumRequestsInFlight = maximumRequestsInFlight
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// The first problem, in words saying what to fix, with the settings every ingest endpoint has (a bearer token
    /// if one is configured, the port, these limits); nil when there is none.
    package func problem(port: Int, bearerToken: String?) -> String? {
        if bearerToken?.isEmpty == true { return "the bearer token is empty; set a token" }
        if !(0...65535).contains(port) { return "port \(port) is not in 0...65535" }
        if maximumBodySize < 1 || maximumRequestsInFlight < 1 || retryAfterSeconds < 0 {
            return "the body size and requests in flight must be at least 1, Retry-After at least 0"
        }
        return nil
    }
}

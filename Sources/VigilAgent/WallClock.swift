import Foundation

/// The current time as events carry it: nanoseconds since the Unix epoch.
enum WallClock {
    static func now() -> Int64 {
        // Date keeps microsecond precision at today's epoch values, enough for the times the agent stamps.
        Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()) * 1000
    }
}

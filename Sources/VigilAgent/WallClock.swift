#if canImport(Glibc)
    import Glibc
#endif

/// The current time as events carry it: nanoseconds since the Unix epoch.
enum WallClock {
    static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

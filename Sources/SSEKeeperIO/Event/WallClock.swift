import Glibc

/// The wall clock, for times a peer compares with its own (the probe's server timestamps). Everything that measures
/// intervals uses the monotonic `EventLoop.now()` instead.
enum WallClock {
    /// Milliseconds since the Unix epoch.
    static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec / 1_000_000)
    }
}

/// A Prometheus-style histogram of durations with fixed bucket bounds, in integer nanoseconds.
///
/// `observe(nanos:)` is the hot-path update: a short linear scan over at most `maxBucketCount` bounds and three
/// integer additions, no allocation (the counts array is allocated once, by `init`). The exposition writer turns
/// it into cumulative `_bucket{le="..."}` samples, `_sum` and `_count` in seconds (Prometheus text exposition
/// format 0.0.4, "Histograms and summaries"). Counts wrap rather than trap at `UInt64.max`.
///
/// Confinement: a value type; the shell keeps the live one in a `RouteMetrics` owned by one event loop.
public struct Histogram: Sendable, Equatable {
    /// Most bounds a histogram may have, so `observe` stays a short scan.
    public static let maxBucketCount = 32

    /// Upper bounds of the finite buckets, strictly ascending, in nanoseconds (a value lands in the first bucket
    /// whose bound it does not exceed: Prometheus' `le`, "less than or equal").
    public let boundsNanos: [UInt64]
    /// Observations per bucket, not cumulative: `bucketCounts[i]` for bound `i`, the last one for `+Inf`.
    public private(set) var bucketCounts: [UInt64]
    /// Sum of every observed value, in nanoseconds.
    public private(set) var sumNanos: UInt64 = 0
    /// Number of observations.
    public private(set) var count: UInt64 = 0

    /// A histogram with the given finite bounds (strictly ascending, 1...`maxBucketCount` of them).
    public init(boundsNanos: [UInt64]) {
        precondition(!boundsNanos.isEmpty && boundsNanos.count <= Self.maxBucketCount, "1...\(Self.maxBucketCount) bounds")
        precondition(zip(boundsNanos, boundsNanos.dropFirst()).allSatisfy { $0 < $1 }, "bounds must ascend strictly")
        self.boundsNanos = boundsNanos
        bucketCounts = [UInt64](repeating: 0, count: boundsNanos.count + 1)
    }

    /// A histogram whose bounds are given in seconds (`0.25`, `1`, `60`), rounded to whole nanoseconds.
    public init(boundsSeconds: [Double]) {
        self.init(boundsNanos: boundsSeconds.map { UInt64(($0 * 1e9).rounded()) })
    }

    /// Records one value.
    public mutating func observe(nanos value: UInt64) {
        var index = 0
        let bounds = boundsNanos.count
        while index < bounds && value > boundsNanos[index] { index += 1 }
        bucketCounts[index] &+= 1
        sumNanos &+= value
        count &+= 1
    }

    /// Cumulative counts, one per finite bound then one for `+Inf` (which equals `count`).
    public var cumulativeCounts: [UInt64] {
        var running: UInt64 = 0
        return bucketCounts.map { count in
            running &+= count
            return running
        }
    }

    /// Adds `other`'s observations (same bounds required, as from the same bucket set on another loop).
    public mutating func merge(_ other: Histogram) {
        precondition(other.boundsNanos == boundsNanos, "merging histograms with different bounds")
        for index in bucketCounts.indices { bucketCounts[index] &+= other.bucketCounts[index] }
        sumNanos &+= other.sumNanos
        count &+= other.count
    }

    /// A copy with its own storage, so the live histogram's next `observe` does not have to copy the array
    /// (copy-on-write would otherwise allocate on the event loop after every scrape).
    public func detachedCopy() -> Histogram {
        var copy = Histogram(boundsNanos: boundsNanos)
        copy.bucketCounts.withUnsafeMutableBufferPointer { target in
            for index in target.indices { target[index] = bucketCounts[index] }
        }
        copy.sumNanos = sumNanos
        copy.count = count
        return copy
    }
}

/// The bucket bounds ssekeeper's histograms use, in seconds, chosen for what each one is meant to reveal.
public enum HistogramBuckets {
    /// Stream lifetimes: from a second to six hours.
    public static let streamDuration: [Double] = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600]
    /// Gaps between upstream reads on SSE streams: fine below a second, then around common idle timeouts
    /// (15-20 s heartbeats, 30/60/90/120 s load balancer and CDN timeouts).
    public static let upstreamQuiet: [Double] = [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600]
    /// Stream age at a client-side close during upstream quiet: dense around common intermediary idle timeouts
    /// (30, 60, 100, 120 s ...), where a cluster reveals one.
    public static let quietCloseAge: [Double] = [1, 5, 10, 15, 20, 30, 45, 60, 75, 90, 100, 120, 180, 300, 600, 900, 1800, 3600]
    /// Resume gaps (upstream break → new response head): a quick restart takes well under a second, a slow one
    /// seconds; `resume_window` (default 30 s) bounds them.
    public static let resumeGap: [Double] = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60]
    /// Client close noticed → upstream socket shut down by ssekeeper: microseconds, unless the loop is busy.
    public static let teardown: [Double] = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1]
}

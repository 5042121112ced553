/// How a drain spreads the ends of its SSE streams (`drain_spread`, `drain_retry`), so that clients do not all
/// reconnect in the same second (HAProxy's `close-spread-time`, Mercure's jittered `retry:`).
///
/// Each stream draws two random numbers in 0..<1 (the caller draws them: the core holds no randomness) and gets an
/// `Ending`: a delay uniform in [0, spread) before it ends (at its next event boundary, as always), and a `retry:`
/// uniform in [retry/2, retry × 3/2), which averages `drain_retry`. With a spread of zero (`drain_spread 0s`) every
/// stream ends at once with exactly `drain_retry`, as before. `drain_timeout` still bounds the drain: the config
/// keeps the spread below it.
public struct DrainSpread: Sendable, Equatable {
    /// When one stream ends and what it is told.
    public struct Ending: Sendable, Equatable {
        /// How long after the drain began the stream is ended (at its next event boundary from then on).
        public var delayNanos: UInt64
        /// The `retry:` value the stream gets, in milliseconds (WHATWG HTML "Server-sent events" §9.2.6).
        public var retryMilliseconds: Int

        /// An ending after `delayNanos` with `retry: retryMilliseconds`.
        public init(delayNanos: UInt64, retryMilliseconds: Int) {
            self.delayNanos = delayNanos
            self.retryMilliseconds = retryMilliseconds
        }
    }

    /// The window the ends are spread over (0: no spread, no jitter).
    public var spreadNanos: UInt64
    /// `drain_retry`: the reconnection delay the clients are told, before jitter.
    public var retryNanos: UInt64

    /// A spread over `spread` with `retry` as the mean reconnection delay (negative durations count as zero).
    public init(spread: Duration, retry: Duration) {
        spreadNanos = TimeAmount(spread).nanoseconds
        retryNanos = TimeAmount(retry).nanoseconds
    }

    /// The ending of one stream from two random numbers in 0..<1 (values outside are clamped): `endJitter` places
    /// its end in [0, spread), `retryJitter` its `retry:` in [retry/2, retry × 3/2). Without a spread, no delay and
    /// exactly `drain_retry`, whatever the numbers.
    public func ending(endJitter: Double, retryJitter: Double) -> Ending {
        let retryMilliseconds = Int(clamping: TimeAmount(nanoseconds: retryNanos).milliseconds)
        guard spreadNanos > 0 else { return Ending(delayNanos: 0, retryMilliseconds: retryMilliseconds) }
        let delay = Self.scaled(spreadNanos, by: Self.unit(endJitter))
        // Near the top of the unit interval the products round up to the bound: keep both below it.
        let retryBound = max(retryNanos &+ retryNanos / 2, 1)
        let retry = min(Self.scaled(retryNanos, by: 0.5 + Self.unit(retryJitter)), retryBound - 1)
        return Ending(delayNanos: min(delay, spreadNanos - 1),
                      retryMilliseconds: Int(clamping: TimeAmount(nanoseconds: retry).milliseconds))
    }

    /// `value` clamped into 0..<1 (NaN counts as 0).
    private static func unit(_ value: Double) -> Double {
        guard value > 0 else { return 0 }
        return min(value, 1.0.nextDown)
    }

    /// `nanos × factor`, saturating at `UInt64.max` (the product may round up past it).
    private static func scaled(_ nanos: UInt64, by factor: Double) -> UInt64 {
        let product = Double(nanos) * factor
        return product < Double(UInt64.max) ? UInt64(product) : .max
    }
}

/// An amount of time as a whole number of nanoseconds, never negative: the one place where a `Duration` becomes an
/// integer and an amount of time becomes text (after swift-nio's `TimeAmount`).
///
/// The core keeps time as UInt64 monotonic nanoseconds; the configuration holds `Duration`s. Every conversion here
/// saturates instead of trapping: a negative `Duration` is zero, one longer than `UInt64.max` nanoseconds (about
/// 584 years) is `UInt64.max` nanoseconds, a part finer than a nanosecond is dropped, and a deadline past the end of
/// the clock is `UInt64.max` (which `DeadlineHeap` and the event loop read as "never").
public struct TimeAmount: Sendable, Hashable, Comparable {
    /// The amount in nanoseconds.
    public var nanoseconds: UInt64

    /// No time at all.
    public static let zero = TimeAmount(nanoseconds: 0)

    /// An amount of `nanoseconds`.
    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    /// `duration` in whole nanoseconds, saturating: zero when negative, `UInt64.max` nanoseconds when longer.
    public init(_ duration: Duration) {
        // From the 128-bit count of attoseconds in one division: `components` and comparisons of `Duration`s went
        // through several 128-bit operations and a lazily made constant, ~1 µs per new stream (perf, 500/s).
        let nanos = duration.attoseconds / 1_000_000_000
        if nanos <= 0 {
            nanoseconds = 0
        } else if nanos >= Int128(UInt64.max) {
            nanoseconds = .max
        } else {
            nanoseconds = UInt64(truncatingIfNeeded: nanos)
        }
    }

    /// `count` milliseconds, saturating at `UInt64.max` nanoseconds.
    public static func milliseconds(_ count: UInt64) -> TimeAmount {
        TimeAmount(nanoseconds: saturatingProduct(count, 1_000_000))
    }

    /// `count` seconds, saturating at `UInt64.max` nanoseconds.
    public static func seconds(_ count: UInt64) -> TimeAmount {
        TimeAmount(nanoseconds: saturatingProduct(count, 1_000_000_000))
    }

    public static func < (lhs: TimeAmount, rhs: TimeAmount) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// The same amount as a `Duration` (exact: every UInt64 nanosecond count fits).
    public var duration: Duration {
        .seconds(Int64(nanoseconds / 1_000_000_000)) + .nanoseconds(Int64(nanoseconds % 1_000_000_000))
    }

    /// Whole milliseconds, rounded down.
    public var milliseconds: UInt64 { nanoseconds / 1_000_000 }

    /// Whole milliseconds, rounded up (a wait of this many milliseconds is never early).
    public var millisecondsRoundedUp: UInt64 { Self.quotientRoundedUp(nanoseconds, 1_000_000) }

    /// Whole seconds, rounded down.
    public var seconds: UInt64 { nanoseconds / 1_000_000_000 }

    /// Whole seconds, rounded up (as `Retry-After` wants them: never shorter than the amount).
    public var secondsRoundedUp: UInt64 { Self.quotientRoundedUp(nanoseconds, 1_000_000_000) }

    /// This amount rounded down to a multiple of `unit` (`.milliseconds(1)` drops the sub-millisecond part);
    /// unchanged when `unit` is zero.
    public func rounded(downTo unit: TimeAmount) -> TimeAmount {
        guard unit.nanoseconds > 0 else { return self }
        return TimeAmount(nanoseconds: nanoseconds - nanoseconds % unit.nanoseconds)
    }

    /// The monotonic time this amount after `now` (both UInt64 nanoseconds), saturating at `UInt64.max`.
    public func deadline(after now: UInt64) -> UInt64 {
        let (sum, overflow) = now.addingReportingOverflow(nanoseconds)
        return overflow ? .max : sum
    }

    private static func saturatingProduct(_ count: UInt64, _ unit: UInt64) -> UInt64 {
        let (product, overflow) = count.multipliedReportingOverflow(by: unit)
        return overflow ? .max : product
    }

    private static func quotientRoundedUp(_ value: UInt64, _ divisor: UInt64) -> UInt64 {
        value / divisor + (value % divisor == 0 ? 0 : 1)
    }
}

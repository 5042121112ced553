/// How many warnings of one kind may be logged per window; the rest are counted, not logged.
///
/// Why: one warning per event is right for a stream or two, and a flood when 9,000 clients drop at once (a load
/// balancer restarting, a network blip). The first `limit` warnings of each window are logged; the first one
/// suppressed says so, and the next one logged after the window says how many were left out. Metrics still count
/// every one. Time is passed in (monotonic nanoseconds).
public struct WarningBudget: Sendable {
    /// What to do with one warning.
    public enum Decision: Equatable, Sendable {
        /// Log it; `suppressedBefore` warnings were left out since the last one logged (mention them).
        case log(suppressedBefore: Int)
        /// Leave it out, and say once that further ones are being left out until `until`.
        case suppressFirst(until: UInt64)
        /// Leave it out.
        case suppress
    }

    /// Warnings logged per window at most.
    public let limit: Int
    /// The window's length in nanoseconds.
    public let windowNanos: UInt64
    private var windowStart: UInt64?
    private var logged = 0
    private var suppressed = 0

    /// `limit` warnings per `windowNanos`. Defaults: 10 per 10 s.
    public init(limit: Int = 10, windowNanos: UInt64 = 10_000_000_000) {
        self.limit = max(1, limit)
        self.windowNanos = max(1, windowNanos)
    }

    /// Decides about one warning at `now`.
    public mutating func take(now: UInt64) -> Decision {
        if let start = windowStart, now &- start < windowNanos {
            if logged < limit {
                logged += 1
                return .log(suppressedBefore: 0)
            }
            suppressed += 1
            return suppressed == 1 ? .suppressFirst(until: start &+ windowNanos) : .suppress
        }
        windowStart = now
        logged = 1
        let before = suppressed
        suppressed = 0
        return .log(suppressedBefore: before)
    }
}

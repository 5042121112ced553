/// Whether a client-side close during upstream quiet belongs to a pattern worth a warning: it does when another
/// recent such close came at about the same stream age.
///
/// Why: an intermediary that cuts streams (a total-duration limit, or an idle timeout shorter than the heartbeat
/// interval) cuts them at one age, again and again; a person stopping `curl` in the demo closes one stream at an
/// arbitrary age. A single close proves nothing, so only a repeat is logged; the metrics
/// (`ssekeeper_quiet_client_closes_total`, `ssekeeper_quiet_close_age_seconds`) still count every close.
/// A loopback criterion was rejected: an nginx on the same host, the usual intermediary, connects from 127.0.0.1.
/// Pure: the caller passes each close's age in nanoseconds.
public struct QuietCloseAges: Sendable {
    /// How many recent ages are remembered.
    public static let remembered = 8
    /// Two ages match when they differ by at most this fraction of the larger one.
    public static let matchingFraction = 0.1

    private var ages: [UInt64] = []
    private var next = 0

    /// An empty memory.
    public init() {}

    /// Records a close at `ageNanos` and answers whether one of the last `remembered` closes came at about the
    /// same age (within `matchingFraction`).
    public mutating func record(ageNanos: UInt64) -> Bool {
        let matches = ages.contains { Self.match($0, ageNanos) }
        if ages.count < Self.remembered {
            ages.append(ageNanos)
        } else {
            ages[next] = ageNanos
            next = (next + 1) % Self.remembered
        }
        return matches
    }

    private static func match(_ first: UInt64, _ second: UInt64) -> Bool {
        let larger = max(first, second)
        return Double(larger - min(first, second)) <= Double(larger) * matchingFraction
    }
}

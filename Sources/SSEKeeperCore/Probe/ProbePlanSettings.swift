/// The tunable numbers of a probe run, each with its default.
public struct ProbePlanSettings: Sendable, Equatable {
    /// The first silences tried, shortest first so short timeouts are found fast; capped at `maxSilence`.
    public static let defaultLadder: [Duration] = [1, 2, 4, 8, 15, 30, 45, 60, 90, 120, 180, 300, 600, 900].map { .seconds($0) }

    /// The longest silence tried (`--max`, default 15m).
    public var maxSilence: Duration = .seconds(900)
    /// The ladder's silences; those at or above `maxSilence` are replaced by `maxSilence` itself.
    public var ladder: [Duration] = ProbePlanSettings.defaultLadder
    /// The most streams opened in one bisection round.
    public var maxStreamsPerRound = 8
    /// Bisection stops once the bracket is at most this fraction of its high end wide...
    public var relativePrecision = 0.1
    /// ...or at most this wide.
    public var minimumWidth: Duration = .milliseconds(250)
    /// At most this many bisection rounds.
    public var maxRounds = 8
    /// A stream counts as dropped when `probe-end` has not arrived this long after its silence ended...
    public var minimumGrace: Duration = .seconds(2)
    /// ...or this fraction of its silence, whichever is longer.
    public var graceFraction = 0.1
    /// A close or error status that comes sooner than this after the request, before any response, is a failure
    /// to reach the probe endpoint rather than an idle timeout.
    public var minimumQuiet: Duration = .milliseconds(500)
    /// Until the first `probe-start` arrives, a stream must get it within its silence and this much more.
    public var responseTimeout: Duration = .seconds(10)
    /// After an explicit cut after quiet time Q, the check stream for a lifetime limit is busy for this fraction
    /// of Q (so an idle cut would come that much later, a lifetime cut that much sooner after its last byte)...
    public var lifetimeCheckBusyFraction = 0.5
    /// ...then asks for this many times Q of silence, so that an idle timeout cuts it well inside the silence.
    public var lifetimeCheckSilenceFactor = 2.0

    /// Creates settings with the defaults and the given `maxSilence`.
    public init(maxSilence: Duration = .seconds(900)) {
        self.maxSilence = maxSilence
    }

    /// The ladder for `maxSilence`: every rung below it, then `maxSilence`.
    public var cappedLadder: [Duration] {
        ladder.filter { $0 < maxSilence } + [maxSilence]
    }

    /// How long after its silence ended a stream's `probe-end` may still arrive.
    public func grace(for silence: Duration) -> Duration {
        max(minimumGrace, silence * graceFraction)
    }

    /// Streams for a bisection round in (low, high): enough that one round should narrow the bracket to the
    /// tolerance (the ladder's rungs are at most twice apart), at most `maxStreamsPerRound`.
    public func streamsPerRound(low: Duration, high: Duration) -> Int {
        let step = max(minimumWidth, low * relativePrecision)
        let intervals = Int(((high - low) / step).rounded(.up))
        return min(maxStreamsPerRound, max(1, intervals - 1))
    }

    /// The widest bracket that ends the bisection, for a bracket whose high end is `high`.
    public func tolerance(high: Duration) -> Duration {
        max(minimumWidth, high * relativePrecision)
    }
}

/// What kind of limit cut a path's probe streams, judged from when each one was cut.
///
/// An idle timeout cuts a stream after the same quiet time, whatever came before it. A lifetime limit (Envoy's
/// route timeout, some load balancers' backend timeouts, corporate proxies' request time limits) cuts every
/// request at about the same total age since it was sent, however long it was quiet; heartbeats cannot help
/// against it. Two cut streams that were quiet for different times tell them apart: equal quiet times with
/// different ages are an idle timeout, equal ages with different quiet times a lifetime limit. "Equal" means
/// within the probe's tolerance (`ProbePlanSettings.tolerance(high:)`: 10 % of the larger value, or 250 ms).
public enum ProbeLimit: Sendable, Equatable {
    /// The cuts came at the same quiet time: an idle timeout.
    case idle
    /// The cuts came at the same age since the request, this one (the youngest cut): a lifetime limit.
    case lifetime(Duration)
    /// Fewer than two cuts, or they agree (or disagree) on both: nothing can be told.
    case undecided

    /// One cut stream's timing.
    public struct Cut: Sendable, Equatable {
        /// From sending the request to the cut.
        public var age: Duration
        /// From the last byte before the silence (or the end of the asked busy phase, if later) to the cut; zero
        /// when the stream was cut while still busy.
        public var quiet: Duration

        /// Creates a cut's timing.
        public init(age: Duration, quiet: Duration) {
            self.age = age
            self.quiet = quiet
        }
    }

    /// The limit `cuts` show; `tolerance` gives how far apart two values may be and still agree, for the larger
    /// of them.
    public static func judge(_ cuts: [Cut], tolerance: (Duration) -> Duration) -> ProbeLimit {
        guard cuts.count >= 2 else { return .undecided }
        let ages = cuts.map(\.age)
        let quiets = cuts.map(\.quiet)
        let agesAgree = ages.max()! - ages.min()! <= tolerance(ages.max()!)
        let quietsAgree = quiets.max()! - quiets.min()! <= tolerance(quiets.max()!)
        switch (agesAgree, quietsAgree) {
        case (true, false): return .lifetime(ages.min()!)
        case (false, true): return .idle
        default: return .undecided
        }
    }
}

/// What the probe's shell must do next, as decided by `ProbePlan`.
public enum ProbeAction: Sendable, Equatable {
    /// Open a probe stream asking for `silence`, after a busy phase of `busy` (comments, `ProbeResponse`) when
    /// not zero; report back about it with `id`.
    case open(id: Int, silence: Duration, busy: Duration = .zero)
    /// Close this stream: it can no longer tell anything (the bracket moved past its silence, or the run ended).
    case close(id: Int)
    /// Something happened worth a progress line.
    case note(ProbeNote)
    /// The run is over with this result; every stream has been closed.
    case finish(ProbeOutcome)
    /// The run is over without a result; every stream has been closed.
    case fail(ProbeFailure)
}

/// A progress event of a probe run.
public enum ProbeNote: Sendable, Equatable {
    /// Streams were opened with these silences (`round` 0 is the ladder, then bisection rounds).
    case opened(round: Int, silences: [Duration])
    /// A stream's `probe-end` arrived after this silence.
    case survived(Duration)
    /// A stream asking for this silence got no `probe-end` within its grace: silently dropped.
    case dropped(Duration)
    /// The server capped a requested silence to `actual` (`probe_max_silence`).
    case capped(requested: Duration, actual: Duration)
    /// A stream asking for `busy` then `silence` was cut `age` after its request, `quiet` after its last byte.
    case cut(busy: Duration, silence: Duration, quiet: Duration, age: Duration)
    /// After a cut, a stream busy for `busy`, then silent for `silence`, checks for a lifetime limit.
    case checkingLifetime(busy: Duration, silence: Duration)
    /// The server ignored the check stream's busy phase (an older ssekeeper): the cut is taken as an idle timeout.
    case lifetimeCheckUnsupported
}

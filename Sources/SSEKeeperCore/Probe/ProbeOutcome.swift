/// What cut a probe stream, as `ssekeeper probe` reports it (`cut_by` in its JSON).
public enum ProbeCutKind: String, Sendable, Equatable {
    /// The connection was closed (EOF, or a TLS close) before `probe-end`.
    case fin
    /// The connection was reset (`ECONNRESET`).
    case rst
    /// An intermediary answered with its own error status (e.g. 504) after the silence, instead of the stream.
    case httpError = "http_error"
    /// Nothing arrived any more and nothing said so: the stream was bracketed by streams that survived and
    /// streams whose `probe-end` never came.
    case silentDrop = "silent_drop"
    /// No stream was cut: every silence up to the longest one tried survived.
    case none
}

/// The result of a probe run: the idle timeout of the path (or its lifetime limit), what cut it, and how exactly
/// it is known.
public struct ProbeOutcome: Sendable, Equatable {
    /// What cut the streams.
    public var cutBy: ProbeCutKind
    /// The quiet time after which the path cuts a stream: measured for `fin`, `rst` and `httpError`, the low end
    /// of the bracket for `silentDrop`, nil for `none` and for a lifetime limit.
    public var idleTimeout: Duration?
    /// The longest silence known to survive, or for an explicit idle cut the measured quiet time.
    public var bracketLow: Duration
    /// The shortest silence known to be cut (the measured quiet time for an explicit idle cut), nil for `none`
    /// and for a lifetime limit.
    public var bracketHigh: Duration?
    /// The status an intermediary answered with, for `httpError`.
    public var httpStatus: Int?
    /// The server capped the silences asked for to this (`probe_max_silence`), when it did.
    public var serverCap: Duration?
    /// The total age since the request at which the path cuts every stream, whatever its silence (`cutBy` says
    /// how), when the run found a lifetime limit rather than an idle timeout (`ProbeLimit`); else nil.
    public var lifetimeLimit: Duration?

    /// Creates an outcome.
    public init(cutBy: ProbeCutKind, idleTimeout: Duration?, bracketLow: Duration, bracketHigh: Duration?,
                httpStatus: Int? = nil, serverCap: Duration? = nil, lifetimeLimit: Duration? = nil) {
        self.cutBy = cutBy
        self.idleTimeout = idleTimeout
        self.bracketLow = bracketLow
        self.bracketHigh = bracketHigh
        self.httpStatus = httpStatus
        self.serverCap = serverCap
        self.lifetimeLimit = lifetimeLimit
    }
}

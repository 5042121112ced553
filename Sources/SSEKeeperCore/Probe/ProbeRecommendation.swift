/// The config lines `ssekeeper probe` recommends for a measured path.
///
/// - `idle_timeout`: the measured idle timeout rounded down (whole seconds from 10s on, tenths of a second
///   below), or the low end of a silent drop's bracket: never above what the path tolerated. With no timeout
///   found, the default 60s stays (other clients' paths may be shorter, and heartbeats cost little).
/// - `heartbeat_fraction`: 0.33. A heartbeat then comes after a third of the timeout; when one is skipped (the
///   backend paused mid-line) the next still comes at two thirds, which leaves a third of the timeout for
///   jitter (timer lateness, queues in intermediaries).
/// - For a lifetime limit (`ProbeOutcome.lifetimeLimit`) heartbeats cannot help; instead `stream_max_duration`
///   four fifths of the limit, rounded down as above (ssekeeper ends the client connection at an event boundary
///   after it, with a short `retry:`, leaving a fifth for the event in flight and the clocks), and
///   `client_resume_window 30s` so the client that reconnects rides through onto the same stream.
///   `idle_timeout` and `heartbeat_fraction` keep their defaults and are not among the lines to paste.
public struct ProbeRecommendation: Sendable, Equatable {
    /// The default `idle_timeout`, kept when no timeout was found.
    public static let defaultIdleTimeout = Duration.seconds(60)
    /// The recommended `heartbeat_fraction`.
    public static let heartbeatFraction = 0.33
    /// The shortest `idle_timeout` recommended.
    public static let minimumIdleTimeout = Duration.milliseconds(100)
    /// `stream_max_duration` is this fraction of a measured lifetime limit (rounded down).
    public static let lifetimeFraction = 0.8
    /// The `client_resume_window` recommended with `stream_max_duration`: a reconnect after the short `retry:`
    /// comes well within it, even over a slow network.
    public static let clientResumeWindow = Duration.seconds(30)

    /// The `idle_timeout` to configure.
    public var idleTimeout: Duration
    /// The `heartbeat_fraction` to configure.
    public var heartbeatFraction: Double
    /// Why, in one sentence.
    public var reason: String
    /// The `stream_max_duration` to configure, for a lifetime limit; else nil.
    public var streamMaxDuration: Duration?
    /// The `client_resume_window` to configure with `streamMaxDuration`; else nil.
    public var clientResumeWindow: Duration?

    /// The recommendation for `outcome`; `probedUpTo` is the longest silence tried.
    public init(for outcome: ProbeOutcome, probedUpTo: Duration) {
        heartbeatFraction = Self.heartbeatFraction
        if let lifetime = outcome.lifetimeLimit {
            idleTimeout = Self.defaultIdleTimeout
            let maxDuration = Self.roundedDown(lifetime * Self.lifetimeFraction)
            streamMaxDuration = maxDuration
            clientResumeWindow = Self.clientResumeWindow
            reason = "set stream_max_duration below it and client_resume_window so clients ride through: ssekeeper "
                + "ends each client connection at an event boundary after \(Self.configText(maxDuration)) with a short "
                + "retry:, and the client reconnects onto the same stream before the path cuts it"
            return
        }
        guard let measured = outcome.idleTimeout else {
            idleTimeout = Self.defaultIdleTimeout
            var reason = "nothing on this path cut a silent stream within \(ConfigValue.formatDuration(probedUpTo)); "
                + "keep the default: other clients' paths (mobile networks, corporate proxies) may cut sooner, "
                + "and a heartbeat every \(TimeAmount(Self.defaultIdleTimeout * heartbeatFraction).formatted(.secondsToTenths)) costs little"
            if probedUpTo < Self.defaultIdleTimeout {
                reason += "; only silences up to \(ConfigValue.formatDuration(probedUpTo)) were tried: "
                    + "run again with --max 15m to check that 60s holds"
            }
            self.reason = reason
            return
        }
        idleTimeout = Self.roundedDown(measured)
        let interval = TimeAmount(idleTimeout * heartbeatFraction).formatted(.secondsToTenths)
        reason = "a heartbeat after \(interval) of silence, a third of the timeout: even if one is skipped or late, "
            + "the next arrives before the cut"
    }

    /// The lines to paste into the config.
    public var configLines: [String] {
        if let streamMaxDuration, let clientResumeWindow {
            return ["stream_max_duration \(Self.configText(streamMaxDuration));",
                    "client_resume_window \(Self.configText(clientResumeWindow));"]
        }
        return ["idle_timeout \(idleTimeoutText);", "heartbeat_fraction \(heartbeatFraction);"]
    }

    /// `idle_timeout` as written in the config: whole seconds (`60s`, `90s`), or milliseconds (`2500ms`).
    public var idleTimeoutText: String { Self.configText(idleTimeout) }

    /// A duration as written in the config: whole seconds (`60s`, `90s`), or milliseconds (`2500ms`).
    static func configText(_ duration: Duration) -> String {
        let milliseconds = TimeAmount(duration).milliseconds
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }

    /// `measured` rounded down: to whole seconds from 10s on, to tenths below; at least `minimumIdleTimeout`.
    static func roundedDown(_ measured: Duration) -> Duration {
        let amount = TimeAmount(measured)
        let step: TimeAmount = amount >= .seconds(10) ? .seconds(1) : .milliseconds(100)
        return max(minimumIdleTimeout, amount.rounded(downTo: step).duration)
    }
}

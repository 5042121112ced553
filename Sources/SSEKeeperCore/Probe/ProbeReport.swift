/// How `ssekeeper probe` writes what it found: the summary lines, progress lines, the JSON object.
///
/// JSON (one object, nothing else on stdout with `--json`):
/// - `url`: the URL probed.
/// - `idle_timeout_s`: seconds, a number (the measured quiet time for `fin`/`rst`/`http_error`, the low end of
///   the bracket for `silent_drop`) or null (`none`, and a lifetime limit).
/// - `bracket_s`: `[low, high]` in seconds. Explicit cuts: both ends are the measured quiet time. `silent_drop`:
///   the longest silence that survived and the shortest that was dropped. `none` and a lifetime limit:
///   `[longest survived, null]`.
/// - `cut_by`: `fin`, `rst`, `http_error`, `silent_drop` or `none`.
/// - `http_status`: the intermediary's status for `http_error`, else null.
/// - `max_s`: the longest silence the run would try (`--max`).
/// - `server_cap_s`: the server's `probe_max_silence` when it capped a silence, else null.
/// - `tls_verified`: true or false (`--insecure`) for https, null for http.
/// - `limit`: `idle` (an idle timeout was found), `lifetime` (a limit on a request's total time, `ProbeLimit`)
///   or `none`.
/// - `lifetime_s`: the lifetime limit in seconds, else null.
/// - `recommended`: `idle_timeout` (a config duration such as `"60s"`), `heartbeat_fraction` (a number),
///   `stream_max_duration` and `client_resume_window` (config durations for a lifetime limit, else null),
///   `config` (the lines to paste, joined with LF).
/// On failure: `{"url": ..., "error": MESSAGE, "error_kind": KIND}` (`ProbeFailure.Kind`).
public enum ProbeReport {
    /// The summary: the result line, what cut it, the lines to paste, and why.
    public static func lines(for outcome: ProbeOutcome, maxSilence: Duration, tlsVerified: Bool?) -> [String] {
        var lines: [String] = []
        let probed = probedUpTo(outcome, maxSilence: maxSilence)
        switch outcome.cutBy {
        case _ where outcome.lifetimeLimit != nil:
            let age = TimeAmount(outcome.lifetimeLimit ?? .zero).formatted(.secondsToTenths)
            lines.append("lifetime limit: about \(age) (the path cuts requests at a total age, whatever their silence; "
                + "heartbeats cannot help)")
            lines.append("cut by: \(outcome.cutBy.rawValue) (\(how(outcome)) \(age) after the request, "
                + "whether the stream had been silent or busy)")
        case .none:
            lines.append("no idle timeout up to \(ConfigValue.formatDuration(probed))")
            var detail = "cut by: none (every stream survived its silence"
            if let cap = outcome.serverCap, cap < maxSilence {
                detail += "; the server caps silences at \(ConfigValue.formatDuration(cap)) (probe_max_silence)"
            }
            lines.append(detail + ")")
        case .silentDrop:
            let low = TimeAmount(outcome.bracketLow).formatted(.secondsToTenths)
            let high = TimeAmount(outcome.bracketHigh ?? outcome.bracketLow).formatted(.secondsToTenths)
            lines.append("idle timeout: between \(low) and \(high)")
            lines.append("cut by: silent_drop (no FIN, no RST: streams silent for \(high) never got "
                + "their final event, \(low) survived)")
        case .fin, .rst, .httpError:
            let measured = TimeAmount(outcome.idleTimeout ?? outcome.bracketLow).formatted(.secondsToTenths)
            lines.append("idle timeout: \(measured)")
            lines.append("cut by: \(outcome.cutBy.rawValue) (\(how(outcome)) after \(measured) without data)")
        }
        let recommendation = ProbeRecommendation(for: outcome, probedUpTo: probed)
        lines.append(outcome.cutBy == .none ? "recommended (keep the default):" : "recommended (paste into your config):")
        lines += recommendation.configLines.map { "    " + $0 }
        lines.append("(\(recommendation.reason))")
        if tlsVerified == false { lines.append("warning: the TLS certificate was not verified (--insecure)") }
        return lines
    }

    /// What the explicit cut of `outcome` did, as a phrase.
    private static func how(_ outcome: ProbeOutcome) -> String {
        switch outcome.cutBy {
        case .fin: return "the connection was closed"
        case .rst: return "the connection was reset"
        default: return "an intermediary answered HTTP \(outcome.httpStatus.map(String.init) ?? "error") instead of the stream"
        }
    }

    /// The one JSON object for `outcome`.
    public static func json(for outcome: ProbeOutcome, url: String, maxSilence: Duration, tlsVerified: Bool?) -> String {
        let probed = probedUpTo(outcome, maxSilence: maxSilence)
        let recommendation = ProbeRecommendation(for: outcome, probedUpTo: probed)
        let high = outcome.bracketHigh.map(number) ?? "null"
        let limit = outcome.lifetimeLimit != nil ? "lifetime" : outcome.cutBy == .none ? "none" : "idle"
        let fields: [(String, String)] = [
            ("url", string(url)),
            ("idle_timeout_s", outcome.idleTimeout.map(number) ?? "null"),
            ("bracket_s", "[\(number(outcome.bracketLow)), \(high)]"),
            ("cut_by", string(outcome.cutBy.rawValue)),
            ("http_status", outcome.httpStatus.map(String.init) ?? "null"),
            ("max_s", number(maxSilence)),
            ("server_cap_s", outcome.serverCap.map(number) ?? "null"),
            ("tls_verified", tlsVerified.map { $0 ? "true" : "false" } ?? "null"),
            ("limit", string(limit)),
            ("lifetime_s", outcome.lifetimeLimit.map(number) ?? "null"),
            ("recommended", "{\"idle_timeout\": \(string(recommendation.idleTimeoutText)), "
                + "\"heartbeat_fraction\": \(recommendation.heartbeatFraction), "
                + "\"stream_max_duration\": \(recommendation.streamMaxDuration.map { string(ProbeRecommendation.configText($0)) } ?? "null"), "
                + "\"client_resume_window\": \(recommendation.clientResumeWindow.map { string(ProbeRecommendation.configText($0)) } ?? "null"), "
                + "\"config\": \(string(recommendation.configLines.joined(separator: "\n")))}"),
        ]
        return "{" + fields.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// The JSON error object for `failure`.
    public static func json(for failure: ProbeFailure, url: String) -> String {
        "{\"url\": \(string(url)), \"error\": \(string(failure.message)), \"error_kind\": \(string(failure.kind.rawValue))}"
    }

    /// A progress line for `note`.
    public static func line(for note: ProbeNote) -> String {
        switch note {
        case .opened(let round, let silences):
            let list = silences.map { TimeAmount($0).formatted(.seconds) }.joined(separator: " ")
            if round == 0 { return "opened \(silences.count) stream\(silences.count == 1 ? "" : "s") with silences: \(list)" }
            return "bisection round \(round): silences \(list)"
        case .survived(let silence):
            return "  \(TimeAmount(silence).formatted(.seconds)) of silence: survived"
        case .dropped(let silence):
            return "  \(TimeAmount(silence).formatted(.seconds)) of silence: no final event, no FIN, no RST: dropped silently"
        case .capped(let requested, let actual):
            return "the server capped a \(TimeAmount(requested).formatted(.seconds)) silence to \(TimeAmount(actual).formatted(.seconds)) (probe_max_silence)"
        case .cut(let busy, let silence, let quiet, let age):
            let asked = (busy > .zero ? "\(TimeAmount(busy).formatted(.seconds)) busy, then " : "")
                + "\(TimeAmount(silence).formatted(.seconds)) of silence"
            return "  \(asked): cut after \(TimeAmount(quiet).formatted(.secondsToTenths)) without data, "
                + "\(TimeAmount(age).formatted(.secondsToTenths)) after the request"
        case .checkingLifetime(let busy, let silence):
            return "checking for a lifetime limit: a stream busy for \(TimeAmount(busy).formatted(.seconds)), "
                + "then \(TimeAmount(silence).formatted(.seconds)) of silence"
        case .lifetimeCheckUnsupported:
            return "the server ignores busy (an older ssekeeper): cannot check for a lifetime limit; taking the cut as an idle timeout"
        }
    }

    /// The single updating status line shown on a terminal.
    public static func statusLine(elapsed: Duration, openStreams: Int, longestSurvived: Duration,
                                  shortestDropped: Duration?) -> String {
        var line = "[\(TimeAmount(elapsed).formatted(.secondsToTenths))] \(openStreams) stream\(openStreams == 1 ? "" : "s") open"
        if longestSurvived > .zero { line += ", survived up to \(TimeAmount(longestSurvived).formatted(.seconds))" }
        if let dropped = shortestDropped { line += ", dropped from \(TimeAmount(dropped).formatted(.seconds))" }
        return line
    }

    /// The longest silence the run can vouch for: for `none`, what survived.
    static func probedUpTo(_ outcome: ProbeOutcome, maxSilence: Duration) -> Duration {
        outcome.cutBy == .none && outcome.bracketLow > .zero ? outcome.bracketLow : maxSilence
    }

    /// Seconds as a JSON number with up to three decimals: `2.503`, `60`, `1.5`.
    private static func number(_ duration: Duration) -> String {
        TimeAmount(duration).formatted(.decimal(fractionDigits: 3))
    }

    /// A JSON string literal (RFC 8259 §7), as every JSON ssekeeper writes quotes it.
    static func string(_ text: String) -> String { JSONWriter.quoted(text) }
}

/// The probe endpoint's response (`probe_path`): an SSE stream with one event at once, complete silence for the
/// time the request asks (`?silence=90s`, capped by `probe_max_silence`), then a final event and the end.
///
/// A request may also ask for a busy phase before the silence (`?busy=2s&silence=5s`, capped alike): a comment
/// every `busyTickInterval` for that long, then the silence. `ssekeeper probe` uses it to tell an idle timeout
/// (which a busy stream survives) from a limit on a request's total time (which cuts it anyway). `probe-start`
/// says `busy_ms` only when there is a busy phase, so a client can tell a server that ignored `busy` (older
/// versions did) from one that honours it.
///
/// No heartbeats are sent on it: it exists to find out how long a path between a client and ssekeeper tolerates
/// silence. Each event carries the server's wall-clock time so the client can tell what arrived when.
public enum ProbeResponse {
    /// Silence when the request names none.
    public static let defaultSilence = Duration.seconds(60)

    /// The silence a probe request asks for, capped at `maxSilence`; an error message for a bad `silence` value.
    /// `target` is the request target (`/probe?silence=90s`); durations are written as in the config (`90s`, `2m`).
    public static func silence(requestedIn target: String, maxSilence: Duration) -> Result<Duration, ProbeRequestError> {
        duration(named: "silence", in: target, absent: defaultSilence).map { min($0, maxSilence) }
    }

    /// How often the busy phase sends a comment: far below any idle timeout worth measuring.
    public static let busyTickInterval = Duration.milliseconds(100)

    /// The busy phase a probe request asks for (`?busy=2s`), capped at `maxSilence`; zero when it names none.
    public static func busy(requestedIn target: String, maxSilence: Duration) -> Result<Duration, ProbeRequestError> {
        duration(named: "busy", in: target, absent: .zero).map { min($0, maxSilence) }
    }

    /// The positive duration the query parameter `name` of `target` gives, `absent` when there is none.
    private static func duration(named name: String, in target: String, absent: Duration) -> Result<Duration, ProbeRequestError> {
        guard let query = target.split(separator: "?", maxSplits: 1).dropFirst().first else { return .success(absent) }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.first.map(String.init) == name else { continue }
            let value = parts.count > 1 ? String(parts[1]) : ""
            guard let duration = ConfigValue.parseDuration(value), duration > .zero else {
                return .failure(ProbeRequestError(message: "invalid \(name) \"\(value.prefix(40))\" (use 250ms, 90s, 2m)"))
            }
            return .success(duration)
        }
        return .success(absent)
    }

    /// The response head: `200`, `text/event-stream`, no caching or buffering, chunked for HTTP/1.1 clients.
    public static func head(chunked: Bool, keepAlive: Bool) -> [UInt8] {
        var text = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"
        text += chunked ? "Transfer-Encoding: chunked\r\n" : ""
        text += keepAlive ? "" : "Connection: close\r\n"
        return Array((text + "\r\n").utf8)
    }

    /// The first event: `event: probe-start` with the server time and the silence that follows, in milliseconds;
    /// with a busy phase, also `busy_ms`, how long the comments go on before the silence.
    public static func startEvent(serverTimeMillis: Int64, silenceMillis: Int64, busyMillis: Int64 = 0) -> [UInt8] {
        let busy = busyMillis > 0 ? ", \"busy_ms\": \(busyMillis)" : ""
        return Array("event: probe-start\ndata: {\"server_time_ms\": \(serverTimeMillis), \"silence_ms\": \(silenceMillis)\(busy)}\n\n".utf8)
    }

    /// One comment of the busy phase (WHATWG HTML §9.2.6: a line starting with a colon is ignored).
    public static let busyTick: [UInt8] = Array(": probe-busy\n\n".utf8)

    /// The final event: `event: probe-end` with the server time and how long the silence really lasted.
    public static func endEvent(serverTimeMillis: Int64, silentMillis: Int64) -> [UInt8] {
        Array("event: probe-end\ndata: {\"server_time_ms\": \(serverTimeMillis), \"silent_ms\": \(silentMillis)}\n\n".utf8)
    }
}

/// A probe request ssekeeper cannot serve (answered 400).
public struct ProbeRequestError: Error, Sendable, Equatable {
    public var message: String
}

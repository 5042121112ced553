/// How one proxied request ended, as written in the access log.
public enum RequestEnd: String, Sendable, Equatable {
    /// The response was delivered in full (also for answers ssekeeper made itself, like 404).
    case completed
    /// The client closed or reset its connection (or a write to it failed) before the response ended.
    case clientClosed = "client_closed"
    /// The upstream ended the connection before its response was complete.
    case upstreamClosed = "upstream_closed"
    /// The upstream could not be reached, or sent something that is not valid HTTP.
    case upstreamError = "upstream_error"
    /// A timeout expired (client header, upstream connect, upstream header).
    case timeout
    /// The request was malformed and answered with a 4xx/5xx by ssekeeper.
    case rejected
    /// The process was draining (`SIGTERM`): the stream was ended with `retry:` so the client reconnects elsewhere.
    case draining
    /// The client accepted none of the bytes waiting for it within `client_send_timeout` (it stopped reading).
    case clientStalled = "client_stalled"
    /// The client's TCP stopped acknowledging within `client_ack_timeout` (it vanished without FIN or RST).
    case clientDead = "client_dead"
    /// The upstream host stopped answering within `upstream_dead_timeout` (keepalive probes or data unacknowledged).
    case upstreamDead = "upstream_dead"
    /// A non-SSE response body stalled for `upstream_read_timeout`.
    case upstreamReadTimeout = "upstream_read_timeout"
    /// An SSE upstream sent nothing for `sse_max_silence`.
    case upstreamSilent = "upstream_silent"
    /// Client ride-through: this client connection left (or was ended by `stream_max_duration`) and the stream was
    /// kept for `client_resume_window`; the stream itself goes on.
    case clientDetached = "client_detached"
    /// Client ride-through: another connection took the stream over (a reconnect attached while this one was
    /// still open); this one was closed.
    case clientReplaced = "client_replaced"
    /// Client ride-through: no client came back within `client_resume_window`; the upstream was closed.
    case resumeExpired = "resume_expired"
    /// Client ride-through: the stream was kept without a client and ended because `client_resume_memory` was
    /// reached (the oldest such streams end first).
    case resumeEvicted = "resume_evicted"
    /// Client ride-through: the stream's client came back for events no longer buffered; the stream was ended and
    /// the reconnect went to the backend as a new request.
    case resumeLost = "resume_lost"
}

/// One line of the access log: one finished request.
public struct AccessLogRecord: Sendable, Equatable {
    public var client: String
    public var method: String
    public var path: String
    public var status: Int
    /// Body and head bytes written to the client.
    public var bytesSent: UInt64
    public var durationNanos: UInt64
    public var heartbeatsSent: Int
    public var heartbeatsSkipped: Int
    public var end: RequestEnd
    /// The upstream server used, if any.
    public var upstream: String?
    /// A short reason for errors (`connection refused`, `no route`), if any.
    public var reason: String?
    /// For SSE streams: the longest time the upstream sent nothing (from the response head to the end).
    public var longestUpstreamGapNanos: UInt64?
    /// The prefix of the route that served the request, if one did.
    public var route: String?
    /// On routes with `upstream_resume`: how many times the upstream response was resumed into this one.
    public var resumes: Int?
    /// The client's protocol when not HTTP/1.x: `h2` for a request that came as an HTTP/2 stream (absent on
    /// HTTP/1.x lines, so their format is unchanged).
    public var protocolName: String?

    public init(client: String, method: String, path: String, status: Int, bytesSent: UInt64, durationNanos: UInt64,
                heartbeatsSent: Int, heartbeatsSkipped: Int, end: RequestEnd, upstream: String?, reason: String?,
                longestUpstreamGapNanos: UInt64? = nil, route: String? = nil, resumes: Int? = nil) {
        self.client = client
        self.method = method
        self.path = path
        self.status = status
        self.bytesSent = bytesSent
        self.durationNanos = durationNanos
        self.heartbeatsSent = heartbeatsSent
        self.heartbeatsSkipped = heartbeatsSkipped
        self.end = end
        self.upstream = upstream
        self.reason = reason
        self.longestUpstreamGapNanos = longestUpstreamGapNanos
        self.route = route
        self.resumes = resumes
    }

    /// The record of an answer ssekeeper made itself, with no upstream behind it (an error before routing, a CORS
    /// preflight): sent at once, so no duration, heartbeats or upstream.
    public static func ownAnswer(client: String, method: String, path: String, status: Int, bytesSent: Int,
                                 end: RequestEnd, reason: String?) -> AccessLogRecord {
        AccessLogRecord(client: client, method: method, path: path, status: status, bytesSent: UInt64(bytesSent),
                        durationNanos: 0, heartbeatsSent: 0, heartbeatsSkipped: 0, end: end, upstream: nil, reason: reason)
    }

    /// `key=value` pairs separated by spaces; values with spaces or quotes are quoted.
    /// Example: `access client=127.0.0.1:50312 method=GET path=/events status=200 bytes=812 duration=12.004s heartbeats=3 skipped=0 end=client_closed upstream=127.0.0.1:9000`
    public var line: String {
        var parts = [
            "access",
            "client=\(client)",
        ]
        if let protocolName { parts.append("protocol=\(protocolName)") }
        parts += [
            "method=\(Self.quoted(method))",
            "path=\(Self.quoted(path))",
            "status=\(status)",
            "bytes=\(bytesSent)",
            "duration=\(TimeAmount(nanoseconds: durationNanos).formatted(.secondsToMilliseconds))",
            "heartbeats=\(heartbeatsSent)",
            "skipped=\(heartbeatsSkipped)",
            "end=\(end.rawValue)",
        ]
        if let route { parts.append("route=\(Self.quoted(route))") }
        if let longestUpstreamGapNanos { parts.append("upstream_quiet_max=\(TimeAmount(nanoseconds: longestUpstreamGapNanos).formatted(.secondsToMilliseconds))") }
        if let resumes { parts.append("resumes=\(resumes)") }
        if let upstream { parts.append("upstream=\(upstream)") }
        if let reason { parts.append("reason=\(Self.quoted(reason))") }
        return parts.joined(separator: " ")
    }

    /// Quotes a value containing spaces, quotes, control bytes or nothing; escapes `"`, `\` and control bytes.
    static func quoted(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F }
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" : "") + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension AccessLogRecord {
    /// The record as one line of JSON (RFC 8259), for `log_format json`; `time` is the wall-clock timestamp the
    /// shell read (ISO 8601, UTC). Every key is always present, `null` when it does not apply:
    ///
    /// `{"time":"2026-11-22T03:34:51.567Z","client":"127.0.0.1:39124","protocol":null,"method":"GET","path":"/events",`
    /// `"status":200,"bytes":257,"duration_s":10.974,"heartbeats":2,"skipped":0,"end":"client_closed",`
    /// `"route":"/","upstream":"127.0.0.1:35947","upstream_quiet_max_s":9.8,"resumes":null,"reason":"client closed the connection"}`
    ///
    /// `protocol` is `"h2"` for a request that came as an HTTP/2 stream, `null` for HTTP/1.x.
    /// Durations are seconds with millisecond precision, as in the text line. No trailing newline.
    public func json(time: String) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.member("time", time)
        writer.member("client", client)
        writer.member("protocol", protocolName)
        writer.member("method", method)
        writer.member("path", path)
        writer.member("status", status)
        writer.member("bytes", bytesSent)
        writer.key("duration_s")
        writer.seconds(nanos: durationNanos)
        writer.member("heartbeats", heartbeatsSent)
        writer.member("skipped", heartbeatsSkipped)
        writer.member("end", end.rawValue)
        writer.member("route", route)
        writer.member("upstream", upstream)
        writer.key("upstream_quiet_max_s")
        if let longestUpstreamGapNanos { writer.seconds(nanos: longestUpstreamGapNanos) } else { writer.null() }
        writer.key("resumes")
        if let resumes { writer.integer(resumes) } else { writer.null() }
        writer.member("reason", reason)
        writer.endObject()
        return writer.text
    }
}

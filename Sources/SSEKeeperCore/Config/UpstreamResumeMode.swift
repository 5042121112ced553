/// Whether an SSE stream whose upstream connection ends is resumed behind the client's back (`upstream_resume`).
///
/// Resuming re-sends the original request with `Last-Event-ID` set to the last complete event's `id` and splices
/// the new `200 text/event-stream` body into the client's response (WHATWG HTML §9.2.4 "Last-Event-ID" is what a
/// browser would send on its own reconnect), so a backend restart does not reach the clients.
public enum UpstreamResumeMode: String, Sendable, Equatable {
    /// Never: the client's stream ends with the upstream's (the default).
    case off
    /// When the upstream connection breaks (reset, truncated body, malformed framing); a clean end of the
    /// response still ends the client's stream.
    case on
    /// Also when the upstream ends its response cleanly.
    case always
}

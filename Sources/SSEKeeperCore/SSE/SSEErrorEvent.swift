/// ssekeeper's own `event: error`, sent to an SSE client when the upstream cannot be reached
/// (`sse_unavailable reconnect`) or breaks mid-stream (`sse_upstream_error_event on`).
///
/// The data is one JSON object, `{"status":502,"reason":"..."}`, so a page's `addEventListener("error", ...)`
/// handler for this named event can tell it from the `EventSource`'s own `error` (which carries no data).
public enum SSEErrorEvent {
    /// The field lines of the event: `id:` carrying `lastEventID` over (see `SSEStreamTracker.event(fields:)`;
    /// left out when nil, empty, or containing NUL, which §9.2.6 would ignore), `event: error`, and `data:`.
    public static func fields(status: Int, reason: String, lastEventID: String?) -> [String] {
        var fields: [String] = []
        if let id = lastEventID, !id.isEmpty, !id.utf8.contains(0) { fields.append("id: \(id)") }
        fields.append("event: error")
        fields.append("data: {\"status\":\(status),\"reason\":\(JSONWriter.quoted(reason))}")
        return fields
    }

    /// The whole answer to an SSE request that no upstream server took (`sse_unavailable reconnect`):
    /// `200 text/event-stream`, `retry: <retryMilliseconds>`, the error event, then the end (`Content-Length`,
    /// `Connection: close`). A native `EventSource` dispatches the event and reconnects after the delay, where a
    /// 502 would make it fail the connection for good (WHATWG HTML §9.2.3). `addedFields` join the head: the
    /// route's CORS fields (`CORSDecision.responseFields`), without which a cross-origin `EventSource` fails
    /// the connection instead of seeing the event.
    public static func unavailableResponse(
        status: Int, reason: String, retryMilliseconds: Int, lastEventID: String?, addedFields: [HTTPField] = []
    ) -> [UInt8] {
        var tracker = SSEStreamTracker()
        var body = tracker.retryPreamble(milliseconds: retryMilliseconds)
        body += tracker.event(fields: fields(status: status, reason: reason, lastEventID: lastEventID)) ?? []
        let head = "HTTP/1.1 200 OK\r\n"
            + "Content-Type: text/event-stream\r\n"
            + "Cache-Control: no-cache\r\n"
            + "X-Accel-Buffering: no\r\n"
            + addedFields.map { "\($0.name): \($0.value)\r\n" }.joined()
            + "Content-Length: \(body.count)\r\n"
            + "Connection: close\r\n"
            + "\r\n"
        return Array(head.utf8) + body
    }
}

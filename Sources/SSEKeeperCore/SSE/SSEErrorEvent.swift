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
        fields.append("data: {\"status\":\(status),\"reason\":\(quotedJSON(reason))}")
        return fields
    }

    /// The whole answer to an SSE request that no upstream server took (`sse_unavailable reconnect`):
    /// `200 text/event-stream`, `retry: <retryMilliseconds>`, the error event, then the end (`Content-Length`,
    /// `Connection: close`). A native `EventSource` dispatches the event and reconnects after the delay, where a
    /// 502 would make it fail the connection for good (WHATWG HTML §9.2.3).
    public static func unavailableResponse(status: Int, reason: String, retryMilliseconds: Int, lastEventID: String?) -> [UInt8] {
        var tracker = SSEStreamTracker()
        var body = tracker.retryPreamble(milliseconds: retryMilliseconds)
        body += tracker.event(fields: fields(status: status, reason: reason, lastEventID: lastEventID)) ?? []
        let head = "HTTP/1.1 200 OK\r\n"
            + "Content-Type: text/event-stream\r\n"
            + "Cache-Control: no-cache\r\n"
            + "X-Accel-Buffering: no\r\n"
            + "Content-Length: \(body.count)\r\n"
            + "Connection: close\r\n"
            + "\r\n"
        return Array(head.utf8) + body
    }

    /// `text` as a JSON string literal (RFC 8259 §7): quotes, backslashes and control characters escaped.
    public static func quotedJSON(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

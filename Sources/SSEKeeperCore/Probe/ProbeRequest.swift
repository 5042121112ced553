/// The request `ssekeeper probe` sends on each probe stream (RFC 9112 §3).
///
/// `Accept: text/event-stream` and `Cache-Control: no-cache` are what an EventSource sends (WHATWG HTML §9.2.2),
/// so intermediaries treat the probe like the streams it stands for. `Connection: close`: one request per
/// connection, so each stream's connection is cut (or not) on its own.
public enum ProbeRequest {
    /// The User-Agent field value.
    public static let userAgent = "ssekeeper-probe"

    /// The request head for one probe stream asking for `silence`, after a busy phase of `busy` when not zero.
    public static func bytes(url: ProbeURL, silence: Duration, busy: Duration = .zero) -> [UInt8] {
        Array("""
            GET \(url.target(silence: silence, busy: busy)) HTTP/1.1\r
            Host: \(url.hostField)\r
            Accept: text/event-stream\r
            Cache-Control: no-cache\r
            User-Agent: \(userAgent)\r
            Connection: close\r
            \r

            """.utf8)
    }
}

/// The admin endpoint's request handling, without I/O: which page a request asks for, and the bytes of a
/// response. The shell parses the head with `HeadParser`, asks `page(for:)`, renders the page, and sends
/// `response(...)`, then closes (every admin response is `Connection: close`).
///
/// Strict on purpose: `GET` only (405 with `Allow: GET` otherwise, RFC 9110 §15.5.6), no request body (400), a
/// head of at most `maxHeadBytes` (431, from the parser), exact paths (the query is ignored), 404 for anything
/// else.
public enum AdminEndpoint {
    /// The pages.
    public enum Page: Sendable, Equatable {
        /// `GET /metrics`: Prometheus text exposition.
        case metrics
        /// `GET /healthz`: 200 `ok` while accepting, 503 `draining` while draining.
        case health
        /// `GET /streams`: a JSON array, one object per open SSE stream.
        case streams
        /// An error answer.
        case error(status: Int, detail: String)
    }

    /// Largest admin request head (request line and headers) accepted.
    public static let maxHeadBytes = 8 * 1024

    /// The page `head` asks for.
    public static func page(for head: RequestHead) -> Page {
        guard head.method == "GET" else {
            return .error(status: 405, detail: "the admin endpoint answers GET only")
        }
        switch try? head.bodyFraming() {
        case .none?, .contentLength(0)?: break
        default: return .error(status: 400, detail: "admin requests take no body")
        }
        switch head.path {
        case "/metrics": return .metrics
        case "/healthz": return .health
        case "/streams": return .streams
        default: return .error(status: 404, detail: "no admin page \(head.path); try /metrics, /healthz or /streams")
        }
    }

    /// A complete HTTP/1.1 response with `Content-Length`, `Connection: close` and `Cache-Control: no-store`.
    /// A 405 carries `Allow: GET`.
    public static func response(status: Int, contentType: String, body: String) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(status == 200 ? "OK" : ErrorResponse.reasonPhrase(for: status))\r\n"
        head += "Content-Type: \(contentType)\r\n"
        head += "Content-Length: \(body.utf8.count)\r\n"
        if status == 405 { head += "Allow: GET\r\n" }
        head += "Connection: close\r\nCache-Control: no-store\r\n\r\n"
        var bytes = Array(head.utf8)
        bytes.append(contentsOf: body.utf8)
        return bytes
    }

    /// An error response: `STATUS REASON: detail` as plain text.
    public static func errorResponse(status: Int, detail: String) -> [UInt8] {
        response(status: status, contentType: "text/plain; charset=utf-8",
                 body: "\(status) \(ErrorResponse.reasonPhrase(for: status)): \(ErrorResponse.singleLine(detail))\n")
    }
}

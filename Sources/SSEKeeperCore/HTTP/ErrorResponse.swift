/// The short plain-text responses ssekeeper makes itself (404, 502, 504, 4xx for bad requests).
///
/// Always `Connection: close`: after an error the connection's state is not trusted for another request.
public enum ErrorResponse {
    /// A complete HTTP/1.1 response: status line, `Content-Type: text/plain`, `Content-Length`,
    /// `Connection: close`, `Retry-After` when given (RFC 9110 §10.2.3, delay-seconds), and a one-line body
    /// `STATUS REASON: detail`.
    public static func bytes(status: Int, detail: String, retryAfterSeconds: Int? = nil) -> [UInt8] {
        let reason = reasonPhrase(for: status)
        let body = "\(status) \(reason): \(singleLine(detail))\n"
        let head = "HTTP/1.1 \(status) \(reason)\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\n"
            + "Cache-Control: no-store\r\n"
            + (retryAfterSeconds.map { "Retry-After: \(max(0, $0))\r\n" } ?? "")
            + "\r\n"
        return Array((head + body).utf8)
    }

    /// The RFC 9110 §15 reason phrase of the statuses ssekeeper uses, `Error` for others.
    public static func reasonPhrase(for status: Int) -> String {
        switch status {
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 411: return "Length Required"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 417: return "Expectation Failed"
        case 421: return "Misdirected Request"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Error"
        }
    }

    /// The detail without control characters, so a hostile request cannot inject lines into a response.
    static func singleLine(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }
}

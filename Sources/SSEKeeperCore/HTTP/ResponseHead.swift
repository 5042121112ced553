/// The head of a response: status line and header section (RFC 9112 §4, §5).
///
/// Produced by `HeadParser.parseResponse(_:)`; the body framing is decided by `bodyFraming(requestMethod:)`,
/// which needs the method of the request it answers.
public struct ResponseHead: Sendable, Equatable {
    /// `HTTP/1.0` or `HTTP/1.1` (the upstream's version; the client always gets `HTTP/1.1`).
    public var version: HTTPVersion
    /// The three-digit status code, 100–599 (RFC 9110 §15).
    public var status: Int
    /// The reason phrase, possibly empty; informational only (RFC 9112 §4).
    public var reason: String
    /// The field lines, in order.
    public var headers: HTTPHeaders

    /// Creates a response head; no validation (the parser does that).
    public init(version: HTTPVersion = .http1_1, status: Int, reason: String, headers: HTTPHeaders = HTTPHeaders()) {
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
    }

    /// Whether the status is interim, 1xx (RFC 9110 §15.2): another head follows on the same connection.
    public var isInterim: Bool { (100...199).contains(status) }
}

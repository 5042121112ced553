/// Builds the response head the proxy sends a client for an upstream's response, and picks the body framing
/// (RFC 9110 §7.6, RFC 9112 §4, §6).
///
/// The status line is always `HTTP/1.1 <status> <reason>` (RFC 9110 §6.2: a server sends its own highest
/// version). Hop-by-hop fields are removed (see `HopByHopFilter`), and every other field passes in order.
///
/// Framing to the client (upstream framing → client framing):
///
/// | upstream              | HTTP/1.1 client         | HTTP/1.0 client  | HTTP/2 stream    |
/// |-----------------------|-------------------------|------------------|------------------|
/// | none                  | none                    | none             | none             |
/// | contentLength(n)      | contentLength(n)        | contentLength(n) | contentLength(n) |
/// | contentLength, SSE    | chunked                 | closeDelimited   | closeDelimited   |
/// | chunked               | chunked                 | closeDelimited   | closeDelimited   |
/// | closeDelimited        | chunked                 | closeDelimited   | closeDelimited   |
///
/// For an HTTP/2 stream "close-delimited" means the body ends with the stream (END_STREAM): HTTP/2 frames the
/// body itself, and the HTTP/2 shell drops `Connection` and the other connection-specific fields (RFC 9113 §8.2.2).
///
/// An SSE response of known length is still chunked, so the proxy can add heartbeat comments. With no body, a
/// Content-Length the upstream sent for HEAD or 304 is kept as is (RFC 9110 §8.6: it describes the
/// representation); for 1xx and 204 it is dropped (a server MUST NOT send one).
public enum ClientResponseBuilder {
    /// The head and framing for the client.
    /// - Parameters:
    ///   - upstreamFraming: the response's `bodyFraming(requestMethod:)`.
    ///   - requestMethod, clientVersion, clientWantsKeepAlive: describe the client's request
    ///     (`clientWantsKeepAlive(_:)`).
    ///   - isSSE: the response is `text/event-stream` (`isEventStream(_:)`) and the proxy manages the stream.
    /// `keepAlive` is `clientWantsKeepAlive` unless the body is close-delimited; the head says
    /// `Connection: close` when not keeping alive and `Connection: keep-alive` to an HTTP/1.0 client that is.
    /// SSE responses get `X-Accel-Buffering: no` unless the upstream set it, and `Cache-Control: no-cache,
    /// no-transform` when the upstream sent no `Cache-Control`. An upstream's own `Cache-Control` is kept as it is;
    /// when none of its fields holds `no-transform`, a second field line `Cache-Control: no-transform` is added,
    /// which a recipient reads as appended to the list (RFC 9110 §5.3): intermediaries must not compress or
    /// rewrite the stream (RFC 9111 §5.2.2.6), whatever the backend said about caching.
    /// `addedFields` (ssekeeper's own, e.g. the CORS fields of `CORSPolicy.fields(_:toAddTo:)`) follow the
    /// upstream's fields as given.
    public static func build(
        _ head: ResponseHead,
        upstreamFraming: BodyFraming,
        requestMethod: String,
        clientVersion: HTTPVersion,
        clientWantsKeepAlive: Bool,
        isSSE: Bool,
        addedFields: [HTTPField] = []
    ) -> ClientResponsePlan {
        let framing = clientFraming(upstream: upstreamFraming, clientVersion: clientVersion, isSSE: isSSE)
        let keepAlive = clientWantsKeepAlive && framing != .closeDelimited
        let keepsUpstreamLength = upstreamFraming == .none && (head.status == 304 || requestMethod == "HEAD")

        var writer = HeadBytesWriter(capacity: HeadBytesWriter.estimatedSize(of: head.headers))
        writer.appendStatusLine(status: head.status, reason: head.reason)
        appendEndToEndFields(of: head.headers, keepingContentLength: keepsUpstreamLength, to: &writer)
        if isSSE {
            if !head.headers.contains(.xAccelBuffering) { writer.appendFieldLine(literal: "X-Accel-Buffering: no\r\n") }
            if !head.headers.contains(.cacheControl) {
                writer.appendFieldLine(literal: "Cache-Control: no-cache, no-transform\r\n")
            } else if !head.headers.containsToken("no-transform", in: .cacheControl) {
                writer.appendFieldLine(literal: "Cache-Control: no-transform\r\n")
            }
        }
        for field in addedFields { writer.appendField(field.name, field.value) }
        switch framing {
        case .contentLength(let length): writer.appendField(literal: "Content-Length", String(length))
        case .chunked: writer.appendFieldLine(literal: "Transfer-Encoding: chunked\r\n")
        case .none, .closeDelimited: break
        }
        if !keepAlive {
            writer.appendFieldLine(literal: "Connection: close\r\n")
        } else if clientVersion < .http1_1 {
            writer.appendFieldLine(literal: "Connection: keep-alive\r\n")
        }
        writer.appendLineEnd()
        return ClientResponsePlan(head: writer.bytes, framing: framing, keepAlive: keepAlive)
    }

    /// The bytes to forward for an interim 1xx response, or nil to drop it.
    ///
    /// Forwarded to an HTTP/1.1 client: every 1xx but 101 (100 Continue, 102 Processing, 103 Early Hints, and
    /// unknown ones, as RFC 9110 §15.2 asks of a proxy), with hop-by-hop fields removed. Dropped for an
    /// HTTP/1.0 client, which does not understand 1xx (RFC 9110 §15.2), and for 101, which the upgrade path
    /// handles elsewhere. Returns nil for a final status too.
    public static func interim(_ head: ResponseHead, clientVersion: HTTPVersion) -> [UInt8]? {
        guard head.isInterim, head.status != 101, clientVersion >= .http1_1 else { return nil }
        var writer = HeadBytesWriter(capacity: HeadBytesWriter.estimatedSize(of: head.headers))
        writer.appendStatusLine(status: head.status, reason: head.reason)
        appendEndToEndFields(of: head.headers, keepingContentLength: false, to: &writer)
        writer.appendLineEnd()
        return writer.bytes
    }

    /// Whether the response's media type is `text/event-stream` (any case, any parameters; WHATWG HTML
    /// "Server-sent events" §9.2.2).
    public static func isEventStream(_ head: ResponseHead) -> Bool {
        guard var contentType = head.headers.first(.contentType) else { return false }
        return contentType.withUTF8(HTTPSyntax.isEventStreamMediaType)
    }

    /// Whether the client asked to keep its connection open (RFC 9112 §9.3): HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive` (and no `close`).
    public static func clientWantsKeepAlive(_ head: RequestHead) -> Bool {
        if head.headers.containsToken("close", in: .connection) { return false }
        if head.version >= .http1_1 { return true }
        return head.headers.containsToken("keep-alive", in: .connection)
    }

    /// The client framing for the table in the type's documentation.
    static func clientFraming(upstream: BodyFraming, clientVersion: HTTPVersion, isSSE: Bool) -> ClientFraming {
        let canChunk = clientVersion.major == 1 && clientVersion >= .http1_1
        switch upstream {
        case .none:
            return .none
        case .contentLength(let length) where !isSSE:
            return .contentLength(length)
        case .contentLength, .chunked, .closeDelimited:
            return canChunk ? .chunked : .closeDelimited
        }
    }

    private static func appendEndToEndFields(
        of headers: HTTPHeaders,
        keepingContentLength: Bool,
        to writer: inout HeadBytesWriter
    ) {
        let filter = HopByHopFilter(headers)
        for field in headers.fields {
            let known = field.known
            if (keepingContentLength && known == .contentLength) || !filter.removes(field.name, known: known) {
                writer.appendField(field.name, field.value)
            }
        }
    }
}

/// What kind of event stream a response is, for ssekeeper: the one rule for "an SSE response whose events it can see".
public enum EventStreamKind: Sendable, Equatable {
    /// Not an event stream (another media type, or no body at all).
    case none
    /// `text/event-stream` with a `Content-Encoding` other than identity: forwarded as it comes, without
    /// heartbeats or events of ssekeeper's own (it cannot see the event boundaries).
    case compressed(encoding: String)
    /// An uncompressed `text/event-stream` with a body: heartbeats, `retry:`, resume.
    case uncompressed

    /// The kind of `head`, whose body is framed by `framing`.
    public init(_ head: ResponseHead, framing: BodyFraming) {
        guard framing != .none, ClientResponseBuilder.isEventStream(head) else {
            self = .none
            return
        }
        let encoding = head.headers.first(.contentEncoding)?.lowercased() ?? "identity"
        self = encoding == "identity" ? .uncompressed : .compressed(encoding: encoding)
    }
}

/// Builds the head the proxy sends upstream for a client's request (RFC 9110 §7.6, RFC 9112 §3).
///
/// What changes on the way:
/// - The request line becomes `METHOD origin-form-target HTTP/1.1` (RFC 9112 §3.2.1); an absolute-form target
///   is reduced to origin-form and its authority replaces the Host value (RFC 9112 §3.2.2), in place.
/// - Hop-by-hop fields are removed (see `HopByHopFilter`: `Connection` and the fields it names, `Keep-Alive`,
///   `TE`, `Trailer`, `Upgrade`, `Proxy-Connection`), and so are `Transfer-Encoding` and `Content-Length`,
///   re-added from `framing`: `Content-Length: n`, or `Transfer-Encoding: chunked` since the proxy re-encodes
///   a chunked body.
/// - `X-Forwarded-For`: the client's values (all lines, joined with `, ` at the first line's position) get
///   `, clientAddress` appended; without any, `X-Forwarded-For: clientAddress` is added.
/// - `X-Forwarded-Proto` and `X-Forwarded-Host` are always set by the proxy, overwriting what the client sent:
///   the proxy is the edge, so a client's values would be spoofable (nginx's usual
///   `proxy_set_header X-Forwarded-Proto $scheme`). `X-Forwarded-Host` is the Host value, omitted when empty.
/// - When `Accept` lists `text/event-stream` (any case, any parameters or q), `Accept-Encoding` is dropped so
///   the upstream sends the stream uncompressed and the proxy can see event boundaries.
/// - `Connection: close` is added (one upstream connection per request) unless `keepAlive` is set: then no
///   `Connection` field at all, so the request is persistent by HTTP/1.1's default (RFC 9112 §9.3) and the
///   connection can go back to the upstream's keep-alive pool after a complete response.
/// - A request without Host (HTTP/1.0) gets an empty `Host:`, as HTTP/1.1 requires one (RFC 9110 §7.2).
/// Every other field, `Last-Event-ID` included, passes untouched, in order, in its original case.
public enum UpstreamRequestBuilder {
    /// The bytes of the upstream request head, through its final empty line.
    /// - Parameters:
    ///   - framing: the request's `bodyFraming()`; `.closeDelimited` cannot occur for a request and is
    ///     treated as `.none`.
    ///   - clientAddress: the client's IP address, appended to `X-Forwarded-For`.
    ///   - clientProtocol: `http` or `https`, sent as `X-Forwarded-Proto`.
    ///   - keepAlive: true when the upstream has a keep-alive pool (`upstream_keepalive` above 0).
    ///   - acceptsEventStream: `acceptsEventStream(head)` when the caller has it already (nil: found here).
    public static func build(
        _ head: RequestHead, framing: BodyFraming, clientAddress: String, clientProtocol: String,
        keepAlive: Bool = false, acceptsEventStream knownAccepts: Bool? = nil
    ) -> [UInt8] {
        let filter = HopByHopFilter(head.headers)
        let dropsAcceptEncoding = knownAccepts ?? acceptsEventStream(head)
        let authority = head.absoluteFormAuthority
        var writer = HeadBytesWriter(capacity: HeadBytesWriter.estimatedSize(of: head.headers) + 128)

        writer.append(head.method)
        writer.append(byte: HTTPSyntax.space)
        writer.append(head.originFormTarget)
        writer.append(literal: " HTTP/1.1\r\n")

        var host: String?
        var wroteForwardedFor = false
        for field in head.headers.fields {
            let known = field.known
            if filter.removes(field.name, known: known) { continue }
            switch known {
            case .host:
                let value = authority ?? field.value
                host = value
                writer.appendField(field.name, value)
            case .xForwardedProto, .xForwardedHost:
                continue
            case .acceptEncoding where dropsAcceptEncoding:
                continue
            case .xForwardedFor:
                if wroteForwardedFor { continue }
                let chain = head.headers.values(.xForwardedFor).filter { !$0.isEmpty }
                writer.appendField(field.name, (chain + [clientAddress]).joined(separator: ", "))
                wroteForwardedFor = true
            default:
                writer.appendField(field.name, field.value)
            }
        }
        let forwardedHost: String
        if let host {
            forwardedHost = host
        } else {
            forwardedHost = authority ?? ""
            writer.appendField(literal: "Host", forwardedHost)
        }
        switch framing {
        case .contentLength(let length): writer.appendField(literal: "Content-Length", String(length))
        case .chunked: writer.appendFieldLine(literal: "Transfer-Encoding: chunked\r\n")
        case .none, .closeDelimited: break
        }
        if !wroteForwardedFor { writer.appendField(literal: "X-Forwarded-For", clientAddress) }
        writer.appendField(literal: "X-Forwarded-Proto", clientProtocol)
        if !forwardedHost.isEmpty { writer.appendField(literal: "X-Forwarded-Host", forwardedHost) }
        if !keepAlive { writer.appendFieldLine(literal: "Connection: close\r\n") }
        writer.appendLineEnd()
        return writer.bytes
    }

    /// Whether the request's `Accept` lists the media range `text/event-stream` (any case, any parameters,
    /// any q, RFC 9110 §12.5.1): the client is opening an SSE stream.
    public static func acceptsEventStream(_ head: RequestHead) -> Bool {
        head.headers.fields.contains { field in
            field.known == .accept
                && HTTPSyntax.containsListElement(in: field.value, where: HTTPSyntax.isEventStreamMediaType)
        }
    }
}

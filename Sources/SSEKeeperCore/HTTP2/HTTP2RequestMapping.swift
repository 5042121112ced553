/// Turns an HTTP/2 request head (RFC 9113 §8.3.1), already checked by `HTTP2RequestHeadValidator`, into the
/// `RequestHead` the rest of the proxy works with, by writing it as an HTTP/1.1 head and reading that back with
/// `HeadParser`: so an HTTP/2 request passes exactly the checks an HTTP/1.1 one does (method and target syntax,
/// field values, Host, Content-Length) and cannot reach the upstream in a form HTTP/1.1 would read differently
/// (a space in `:path`, say, fails as an invalid request line instead of being forwarded).
///
/// The mapping (RFC 9113 §8.3.1, RFC 9110 §7.2):
/// - `:method` and `:path` make the request line; `:scheme` is dropped (the proxy sets `X-Forwarded-Proto`).
/// - `:authority` becomes `Host` unless a `host` field came too (the validator made sure they agree).
/// - `cookie` crumbs are joined with `"; "` into one field (§8.2.3).
/// - A request with a body and no `content-length` gets `Transfer-Encoding: chunked`: the shell encodes its DATA
///   as chunks, so the upstream gets a well-framed HTTP/1.1 body.
/// - `CONNECT` (§8.5) and the extended CONNECT are refused: ssekeeper does not tunnel (405).
/// The result says `HTTP/2.0` (`HTTPVersion.http2`), which picks the client framing for HTTP/2
/// (`ClientResponseBuilder`).
public enum HTTP2RequestMapping {
    /// Why a request head cannot be mapped: the status to answer the stream with and what broke.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The HTTP status for the stream's answer (400, 405, 414, 431, ...).
        public var status: Int
        /// What was wrong, for the answer's body and the log.
        public var detail: String
        public var description: String { detail }
    }

    /// The request head for `fields` (validated, in order, pseudo-headers first); `hasBody` when the HEADERS
    /// frame did not end the stream. `maxHeaderBytes` bounds the HTTP/1.1 form as it bounds an HTTP/1.1 head.
    public static func requestHead(_ fields: [HPACKHeaderField], hasBody: Bool, maxHeaderBytes: Int) throws(Failure) -> RequestHead {
        var method: [UInt8] = []
        var path: [UInt8] = []
        var authority: [UInt8]?
        var hasHost = false
        var hasContentLength = false
        var cookies: [[UInt8]] = []
        for field in fields {
            // Each piece must stay one piece of the HTTP/1.1 form whatever checked it before: no CR, LF or other
            // control byte anywhere, tokens for names, no space in the method or the target.
            let isPseudo = field.name.first == UInt8(ascii: ":")
            guard field.name.dropFirst(isPseudo ? 1 : 0).allSatisfy(HTTPSyntax.isTokenByte),
                  field.value.allSatisfy(HTTPSyntax.isFieldValueByte) else {
                throw Failure(status: 400, detail: "invalid field \(String(decoding: field.name, as: UTF8.self))")
            }
            switch field.name {
            case Names.method: method = field.value
            case Names.path: path = field.value
            case Names.authority: authority = field.value
            case Names.host: hasHost = true
            case Names.contentLength: hasContentLength = true
            case Names.cookie: cookies.append(field.value)
            default: break
            }
        }
        if method == Names.connect {
            throw Failure(status: 405, detail: "CONNECT is not supported: ssekeeper does not tunnel")
        }
        guard !method.isEmpty, method.allSatisfy(HTTPSyntax.isTokenByte) else {
            throw Failure(status: 400, detail: "invalid :method")
        }
        guard !path.isEmpty, path.allSatisfy(HTTPSyntax.isTargetByte) else {
            throw Failure(status: 400, detail: "invalid :path")
        }
        var text: [UInt8] = []
        text.reserveCapacity(64 + fields.reduce(0) { $0 + $1.name.count + $1.value.count + 4 })
        text += method
        text.append(HTTPSyntax.space)
        text += path
        text += Array(" HTTP/1.1\r\n".utf8)
        if !hasHost, let authority { appendField(Names.host, authority, to: &text) }
        for field in fields where field.name.first != UInt8(ascii: ":") && field.name != Names.cookie {
            appendField(field.name, field.value, to: &text)
        }
        if !cookies.isEmpty {
            appendField(Names.cookie, Array(cookies.joined(separator: Array("; ".utf8))), to: &text)
        }
        if hasBody && !hasContentLength { appendField(Names.transferEncoding, Names.chunked, to: &text) }
        text += [HTTPSyntax.cr, HTTPSyntax.lf]
        var parser = HeadParser(maxHeaderBytes: maxHeaderBytes)
        let parsed: HeadParseResult<RequestHead>
        switch text.withUnsafeBytes({ raw in Result { () throws(HTTPParseError) in try parser.parseRequest(raw) } }) {
        case .success(let result): parsed = result
        case .failure(let error): throw Failure(status: error.status, detail: "\(error)")
        }
        guard case .complete(var head, let consumed) = parsed, consumed == text.count else {
            // A value or pseudo-header the validator let through that still splits the HTTP/1.1 form.
            throw Failure(status: 400, detail: "the request head does not map to one HTTP/1.1 request")
        }
        head.version = .http2
        return head
    }

    private static func appendField(_ name: [UInt8], _ value: [UInt8], to text: inout [UInt8]) {
        text += name
        text += [UInt8(ascii: ":"), HTTPSyntax.space]
        text += value
        text += [HTTPSyntax.cr, HTTPSyntax.lf]
    }

    private enum Names {
        static let method = Array(":method".utf8)
        static let path = Array(":path".utf8)
        static let authority = Array(":authority".utf8)
        static let host = Array("host".utf8)
        static let contentLength = Array("content-length".utf8)
        static let cookie = Array("cookie".utf8)
        static let transferEncoding = Array("transfer-encoding".utf8)
        static let chunked = Array("chunked".utf8)
        static let connect = Array("CONNECT".utf8)
    }
}

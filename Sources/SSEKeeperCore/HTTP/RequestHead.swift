/// The head of a request: request line and header section (RFC 9112 §3, §5).
///
/// Produced by `HeadParser.parseRequest(_:)`, which has already checked the request line's syntax, the version
/// (1.0 or 1.1), and the Host rules of RFC 9112 §3.2; the body framing is decided separately by `bodyFraming()`.
public struct RequestHead: Sendable, Equatable {
    /// The method token, case-sensitive (RFC 9110 §9.1): `GET`, `POST`, ...
    public var method: String
    /// The request-target exactly as received (RFC 9112 §3.2): origin-form `/a?b`, absolute-form
    /// `http://host/a`, authority-form `host:443` or asterisk-form `*`.
    public var target: String
    /// `HTTP/1.0` or `HTTP/1.1`.
    public var version: HTTPVersion
    /// The field lines, in order.
    public var headers: HTTPHeaders

    /// Creates a request head; no validation (the parser does that).
    public init(method: String, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    /// The path of the origin-form target, up to `?`: `/events` for `/events?topic=a`.
    ///
    /// An absolute-form target is first reduced to origin-form (`http://h/a?b` → `/a`); `*` and authority-form
    /// come back unchanged.
    public var path: String {
        var origin = originFormTarget
        // `?` found in the bytes in place: `UTF8View.firstIndex(of:)` cost about 170 instructions per request.
        let query = origin.withUTF8 { bytes -> Int? in
            guard let base = bytes.baseAddress else { return nil }
            let found = ByteScan.firstIndex(of: HTTPSyntax.questionMark, in: UnsafeRawPointer(base), from: 0, to: bytes.count)
            return found < bytes.count ? found : nil
        }
        guard let query else { return origin }
        return String(origin.utf8.prefix(query))!
    }

    /// The target in origin-form, as sent to the upstream (RFC 9112 §3.2.1): an absolute-form
    /// `http://host:8080/a?b` becomes `/a?b` (and `http://host` becomes `/`); other forms come back unchanged.
    public var originFormTarget: String {
        guard let parts = absoluteFormParts else { return target }
        if parts.rest.isEmpty { return "/" }
        if parts.rest.utf8.first == HTTPSyntax.questionMark { return "/" + parts.rest }
        return String(parts.rest)
    }

    /// The `host[:port]` of an absolute-form `http`/`https` target, without user info, or nil for other forms.
    ///
    /// RFC 9112 §3.2.2: a server receiving the absolute-form uses this authority instead of the Host field.
    public var absoluteFormAuthority: String? {
        guard let authority = absoluteFormParts?.authority else { return nil }
        guard let at = authority.utf8.lastIndex(of: UInt8(ascii: "@")) else { return String(authority) }
        return String(authority[authority.utf8.index(after: at)...])
    }

    /// Splits `scheme://authority rest` for the `http` and `https` schemes (any case); the authority still
    /// holds its userinfo (`HeadParser` checks it).
    var absoluteFormParts: (authority: Substring, rest: Substring)? {
        let utf8 = target.utf8
        // Origin-form (`/...`, nearly every request) is settled by its first byte: read twice per request.
        if utf8.first == UInt8(ascii: "/") { return nil }
        let schemeLength: Int
        if HTTPSyntax.hasPrefixIgnoringCase(target, "http://") {
            schemeLength = 7
        } else if HTTPSyntax.hasPrefixIgnoringCase(target, "https://") {
            schemeLength = 8
        } else {
            return nil
        }
        let authorityStart = utf8.index(utf8.startIndex, offsetBy: schemeLength)
        let authorityEnd = utf8[authorityStart...].firstIndex { byte in
            byte == UInt8(ascii: "/") || byte == HTTPSyntax.questionMark || byte == UInt8(ascii: "#")
        } ?? utf8.endIndex
        return (target[authorityStart..<authorityEnd], target[authorityEnd...])
    }
}

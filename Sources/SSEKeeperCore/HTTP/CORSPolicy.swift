/// The CORS protocol as ssekeeper speaks it for a backend that cannot (WHATWG Fetch §3.2 "CORS protocol"):
/// given a route's `cors_allow_origin` / `cors_allow_credentials` and a request head, whether to answer a
/// preflight here, which fields to add to the backend's response, or nothing.
///
/// The request's `Origin` (Fetch §3.1: the serialization of the page's origin) is compared byte for byte with
/// the configured origins, which the parser stored in that same serialization (`ConfigValue.parseOrigin`); a
/// request with no `Origin`, several, or one not listed is not allowed. Browsers always send the serialization,
/// so anything else (other case, a path, a default port, `null`) is a client that gets no CORS fields.
///
/// | request                                             | listed origins                  | `*`                  |
/// |-----------------------------------------------------|---------------------------------|----------------------|
/// | preflight (`OPTIONS`, no body, allowed `Origin`,    | answered: `204` (`preflight…`)  | answered: `204`      |
/// | valid `Access-Control-Request-Method`/`-Headers`)   |                                 |                      |
/// | any other, allowed `Origin`                         | `ACAO: <origin>`, `Vary: Origin`| `ACAO: *`            |
/// |                                                     | (+ `ACAC: true`)                |                      |
/// | any other, no or unlisted `Origin`                  | `Vary: Origin` only             | `ACAO: *`            |
///
/// `Vary: Origin` goes on every response of a route with listed origins, as Fetch ("CORS protocol and HTTP
/// caches") asks of a server whose `ACAO` depends on `Origin`, so a cache never hands one origin's answer to
/// another. An unlisted origin's preflight goes to the backend like any request (the backend decides; one that
/// knows nothing of CORS makes the browser refuse). `*` never goes with credentials: the parser refuses
/// `cors_allow_origin *` with `cors_allow_credentials on`, and this type never adds `ACAC` to `*` either.
///
/// The backend keeps the last word: a response that carries its own `Access-Control-Allow-Origin` gets nothing
/// added (`fields(_:toAddTo:)`), so a backend that does CORS is never overridden.
public struct CORSPolicy: Sendable, Equatable {
    /// The origins allowed.
    public var allowedOrigins: CORSAllowedOrigins
    /// Whether a listed origin may send credentials.
    public var allowsCredentials: Bool

    /// The methods a preflight answer allows: the CORS-safelisted ones (Fetch "Methods"), which are also what an
    /// SSE client sends (`GET` for `EventSource`, `POST` for fetch-based clients). A preflight asking for another
    /// method is still answered, with this list, and the browser refuses the request.
    public static let allowedMethods = "GET, HEAD, POST"
    /// How long a browser may cache a preflight answer, in seconds (`Access-Control-Max-Age`): ten minutes, so a
    /// reload that removes an origin takes effect soon (Chromium caps the value at two hours anyway).
    public static let maxAgeSeconds = 600

    /// A policy for `allowedOrigins` and `allowsCredentials`.
    public init(allowedOrigins: CORSAllowedOrigins, allowsCredentials: Bool) {
        self.allowedOrigins = allowedOrigins
        self.allowsCredentials = allowsCredentials
    }

    /// The policy of a route's resolved settings.
    public init(_ settings: StreamSettings) {
        self.init(allowedOrigins: settings.corsAllowOrigin, allowsCredentials: settings.corsAllowCredentials)
    }

    /// What to do about CORS for `head` (see the table in the type's documentation).
    public func decide(_ head: RequestHead) -> CORSDecision {
        let allowOrigin: String
        switch allowedOrigins {
        case .off:
            return .none
        case .any:
            if Self.origin(of: head) != nil, let preflight = preflightFields(head, allowOrigin: "*", credentials: false) {
                return .answerPreflight(preflight)
            }
            return .addToResponse([HTTPField(name: "Access-Control-Allow-Origin", value: "*")])
        case .list(let origins):
            guard let origin = Self.origin(of: head), origins.contains(origin) else {
                return .addToResponse([HTTPField(name: "Vary", value: "Origin")])
            }
            allowOrigin = origin
        }
        if let preflight = preflightFields(head, allowOrigin: allowOrigin, credentials: allowsCredentials) {
            return .answerPreflight(preflight)
        }
        var fields = [HTTPField(name: "Access-Control-Allow-Origin", value: allowOrigin)]
        if allowsCredentials { fields.append(HTTPField(name: "Access-Control-Allow-Credentials", value: "true")) }
        fields.append(HTTPField(name: "Vary", value: "Origin"))
        return .addToResponse(fields)
    }

    /// `fields` (a decision's `responseFields`), or none when the backend's `response` has an
    /// `Access-Control-Allow-Origin` of its own: the backend's CORS answer is passed on untouched, whole.
    public static func fields(_ fields: [HTTPField], toAddTo response: ResponseHead) -> [HTTPField] {
        fields.isEmpty || response.headers.contains("Access-Control-Allow-Origin") ? [] : fields
    }

    /// The access log's reason for a preflight answered by ssekeeper.
    public static let preflightReason = "CORS preflight answered by ssekeeper"

    /// The whole answer to a preflight: `204 No Content` with `fields`, no body (RFC 9110 §15.3.5: no
    /// `Content-Length`), and `Connection: close` unless `keepAlive` (`Connection: keep-alive` to an HTTP/1.0
    /// client that keeps it).
    public static func preflightResponse(_ fields: [HTTPField], clientVersion: HTTPVersion, keepAlive: Bool) -> [UInt8] {
        var writer = HeadBytesWriter(capacity: 256 + fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        writer.appendStatusLine(status: 204, reason: "No Content")
        for field in fields { writer.appendField(field.name, field.value) }
        if !keepAlive {
            writer.appendFieldLine(literal: "Connection: close\r\n")
        } else if clientVersion < .http1_1 {
            writer.appendFieldLine(literal: "Connection: keep-alive\r\n")
        }
        writer.appendLineEnd()
        return writer.bytes
    }

    /// The request's one `Origin` value, or nil when it has none or several.
    static func origin(of head: RequestHead) -> String? {
        let values = head.headers.values("Origin")
        return values.count == 1 ? values[0] : nil
    }

    /// The answer's fields when `head` is a preflight ssekeeper answers (Fetch §3.2.2 "HTTP requests",
    /// "CORS-preflight fetch"): `OPTIONS` without a body, with one `Access-Control-Request-Method` that is a token and at most one
    /// `Access-Control-Request-Headers` whose elements are all tokens (echoed, joined by ", "). Nil otherwise: the
    /// request is an ordinary one for the backend.
    private func preflightFields(_ head: RequestHead, allowOrigin: String, credentials: Bool) -> [HTTPField]? {
        guard head.method == "OPTIONS", case .none? = try? head.bodyFraming() else { return nil }
        let methods = head.headers.values("Access-Control-Request-Method")
        guard methods.count == 1, Self.isToken(methods[0]) else { return nil }
        let requested = head.headers.values("Access-Control-Request-Headers")
        guard requested.count <= 1 else { return nil }
        let names = requested.first.map(HTTPSyntax.listElements) ?? []
        guard names.allSatisfy(Self.isToken) else { return nil }
        var fields = [HTTPField(name: "Access-Control-Allow-Origin", value: allowOrigin)]
        if credentials { fields.append(HTTPField(name: "Access-Control-Allow-Credentials", value: "true")) }
        fields.append(HTTPField(name: "Access-Control-Allow-Methods", value: Self.allowedMethods))
        if !names.isEmpty {
            fields.append(HTTPField(name: "Access-Control-Allow-Headers", value: names.joined(separator: ", ")))
        }
        fields.append(HTTPField(name: "Access-Control-Max-Age", value: String(Self.maxAgeSeconds)))
        fields.append(HTTPField(name: "Vary", value: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"))
        return fields
    }

    /// Whether `text` is a non-empty `token` (RFC 9110 §5.6.2).
    private static func isToken<S: StringProtocol>(_ text: S) -> Bool {
        !text.utf8.isEmpty && text.utf8.allSatisfy(HTTPSyntax.isTokenByte)
    }
}

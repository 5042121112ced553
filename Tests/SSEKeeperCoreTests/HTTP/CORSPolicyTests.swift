import Testing
@testable import SSEKeeperCore

/// `CORSPolicy`: every row of its table, the preflight answer, the backend's last word, and hostile `Origin`,
/// `Access-Control-Request-Method` and `Access-Control-Request-Headers` values.
struct CORSPolicyTests {
    static let app = "https://app.example"
    static let listed = CORSPolicy(allowedOrigins: .list([app, "http://127.0.0.1:8080"]), allowsCredentials: false)
    static let listedWithCredentials = CORSPolicy(allowedOrigins: .list([app]), allowsCredentials: true)
    static let any = CORSPolicy(allowedOrigins: .any, allowsCredentials: false)

    static func request(_ method: String, _ fields: [(String, String)]) -> RequestHead {
        RequestHead(method: method, target: "/events", headers: HTTPHeaders(fields.map { HTTPField(name: $0.0, value: $0.1) }))
    }

    static func request(_ fields: [(String, String)]) -> RequestHead {
        request("GET", fields)
    }

    static func preflight(origin: String = app, method: String = "GET", headers: String? = nil) -> RequestHead {
        var fields = [("Origin", origin), ("Access-Control-Request-Method", method)]
        if let headers { fields.append(("Access-Control-Request-Headers", headers)) }
        return request("OPTIONS", fields)
    }

    static func field(_ name: String, _ value: String) -> HTTPField { HTTPField(name: name, value: value) }

    static let preflightVary = field("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")

    // MARK: - Off

    @Test func off_decidesNothing_evenForAPreflight() {
        let off = CORSPolicy(allowedOrigins: .off, allowsCredentials: true)
        #expect(off.decide(Self.request([("Origin", Self.app)])) == .none)
        #expect(off.decide(Self.preflight()) == .none)
        #expect(off.decide(Self.request([])).responseFields.isEmpty)
    }

    // MARK: - Listed origins

    @Test func aListedOrigin_getsItsOriginEchoed_withVaryOrigin() {
        #expect(Self.listed.decide(Self.request([("Origin", Self.app), ("Accept", "text/event-stream")]))
            == .addToResponse([Self.field("Access-Control-Allow-Origin", Self.app), Self.field("Vary", "Origin")]))
        #expect(Self.listed.decide(Self.request("POST", [("Origin", "http://127.0.0.1:8080")]))
            == .addToResponse([Self.field("Access-Control-Allow-Origin", "http://127.0.0.1:8080"), Self.field("Vary", "Origin")]))
    }

    @Test func credentials_addAllowCredentialsTrue() {
        #expect(Self.listedWithCredentials.decide(Self.request([("Origin", Self.app)])) == .addToResponse([
            Self.field("Access-Control-Allow-Origin", Self.app), Self.field("Access-Control-Allow-Credentials", "true"),
            Self.field("Vary", "Origin"),
        ]))
    }

    @Test func anUnlistedOrMissingOrigin_getsOnlyVaryOrigin() {
        let varyOnly = CORSDecision.addToResponse([Self.field("Vary", "Origin")])
        #expect(Self.listed.decide(Self.request([])) == varyOnly)
        #expect(Self.listed.decide(Self.request([("Origin", "https://evil.example")])) == varyOnly)
        #expect(Self.listedWithCredentials.decide(Self.request([("Origin", "https://evil.example")])) == varyOnly)
    }

    /// The `Origin` is compared as browsers serialize it: byte for byte, so every near miss is another origin.
    @Test func hostileOrigins_neverMatch() {
        let hostile = [
            "HTTPS://APP.EXAMPLE", "https://app.example/", "https://app.example:443", "https://app.example.",
            "https://app.example.evil.example", "https://evil.example/https://app.example", "https://app.exampl",
            "https://app.example ", " https://app.example", "https://app.example, https://evil.example", "null", "*",
            "", "http://app.example", "https://app.example\t", "https://user@app.example",
        ]
        for origin in hostile {
            let decision = Self.listedWithCredentials.decide(Self.request([("Origin", origin)]))
            #expect(decision == .addToResponse([Self.field("Vary", "Origin")]), "\(origin)")
            #expect(Self.listedWithCredentials.decide(Self.preflight(origin: origin)) == decision, "preflight from \(origin)")
        }
    }

    @Test func twoOriginFields_areNoOrigin_evenWhenBothAreListed() {
        let head = Self.request([("Origin", Self.app), ("Origin", Self.app)])
        #expect(Self.listed.decide(head) == .addToResponse([Self.field("Vary", "Origin")]))
    }

    // MARK: - Any origin

    @Test func star_answersEveryResponseWithTheLiteralStar_andNeverWithCredentials() {
        let star = CORSDecision.addToResponse([Self.field("Access-Control-Allow-Origin", "*")])
        #expect(Self.any.decide(Self.request([("Origin", Self.app)])) == star)
        #expect(Self.any.decide(Self.request([("Origin", "null")])) == star)
        #expect(Self.any.decide(Self.request([])) == star)
        let unsafe = CORSPolicy(allowedOrigins: .any, allowsCredentials: true)
        #expect(unsafe.decide(Self.request([("Origin", Self.app)])) == star, "* never goes with credentials")
        guard case .answerPreflight(let fields) = unsafe.decide(Self.preflight()) else {
            Issue.record("a preflight under * is answered")
            return
        }
        #expect(fields.first == Self.field("Access-Control-Allow-Origin", "*"))
        #expect(!fields.contains { $0.name == "Access-Control-Allow-Credentials" })
    }

    // MARK: - Preflights

    @Test func aListedOriginsPreflight_isAnsweredHere_withEveryField() {
        #expect(Self.listedWithCredentials.decide(Self.preflight(method: "POST", headers: "content-type,x-token")) == .answerPreflight([
            Self.field("Access-Control-Allow-Origin", Self.app),
            Self.field("Access-Control-Allow-Credentials", "true"),
            Self.field("Access-Control-Allow-Methods", "GET, HEAD, POST"),
            Self.field("Access-Control-Allow-Headers", "content-type, x-token"),
            Self.field("Access-Control-Max-Age", "600"),
            Self.preflightVary,
        ]))
    }

    @Test func aPreflightWithoutRequestedHeaders_orForAnotherMethod_getsTheSameList() {
        let fields: [HTTPField] = [
            Self.field("Access-Control-Allow-Origin", Self.app), Self.field("Access-Control-Allow-Methods", "GET, HEAD, POST"),
            Self.field("Access-Control-Max-Age", "600"), Self.preflightVary,
        ]
        #expect(Self.listed.decide(Self.preflight()) == .answerPreflight(fields))
        #expect(Self.listed.decide(Self.preflight(method: "DELETE")) == .answerPreflight(fields), "the browser refuses DELETE")
        #expect(Self.listed.decide(Self.preflight(headers: " , ")) == .answerPreflight(fields), "empty elements are no names")
    }

    /// A request that is not a well-formed preflight is an ordinary request for the backend, with the fields of one.
    @Test func malformedPreflights_goToTheBackend_asOrdinaryRequests() {
        let ordinary = CORSDecision.addToResponse([Self.field("Access-Control-Allow-Origin", Self.app), Self.field("Vary", "Origin")])
        let malformed: [RequestHead] = [
            Self.request("OPTIONS", [("Origin", Self.app)]),
            Self.preflight(method: ""),
            Self.preflight(method: "GET POST"),
            Self.preflight(method: "G\u{00E9}T"),
            Self.preflight(headers: "x-a, x b"),
            Self.preflight(headers: "x-a;x-b"),
            Self.preflight(headers: "x-\u{00E9}"),
            Self.preflight(headers: "x-a\",x-b"),
            Self.request("OPTIONS", [("Origin", Self.app), ("Access-Control-Request-Method", "GET"), ("Access-Control-Request-Method", "PUT")]),
            Self.request("OPTIONS", [("Origin", Self.app), ("Access-Control-Request-Method", "GET"),
                                     ("Access-Control-Request-Headers", "a"), ("Access-Control-Request-Headers", "b")]),
            Self.request("OPTIONS", [("Origin", Self.app), ("Access-Control-Request-Method", "GET"), ("Content-Length", "3")]),
            Self.request("OPTIONS", [("Origin", Self.app), ("Access-Control-Request-Method", "GET"), ("Transfer-Encoding", "chunked")]),
            Self.request("GET", [("Origin", Self.app), ("Access-Control-Request-Method", "GET")]),
        ]
        for head in malformed {
            #expect(Self.listed.decide(head) == ordinary, "\(head.headers.fields)")
        }
    }

    @Test func theAnswer_isA204WithoutBody_keepingTheConnectionAsAsked() {
        let fields = [Self.field("Access-Control-Allow-Origin", Self.app), Self.field("Vary", "Origin")]
        let head = "HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: https://app.example\r\nVary: Origin\r\n"
        #expect(HeadFeeding.text(CORSPolicy.preflightResponse(fields, clientVersion: .http1_1, keepAlive: true)) == head + "\r\n")
        #expect(HeadFeeding.text(CORSPolicy.preflightResponse(fields, clientVersion: .http1_1, keepAlive: false))
            == head + "Connection: close\r\n\r\n")
        #expect(HeadFeeding.text(CORSPolicy.preflightResponse(fields, clientVersion: .http1_0, keepAlive: true))
            == head + "Connection: keep-alive\r\n\r\n")
    }

    // MARK: - The backend's last word

    @Test func aBackendWithItsOwnAllowOrigin_isPassedOnUntouched() {
        let fields = Self.listedWithCredentials.decide(Self.request([("Origin", Self.app)])).responseFields
        let own = ResponseHead(status: 200, reason: "OK", headers: ["access-control-allow-origin": "https://other.example"])
        #expect(CORSPolicy.fields(fields, toAddTo: own).isEmpty)
        let plain = ResponseHead(status: 200, reason: "OK", headers: ["Content-Type": "text/event-stream", "Vary": "Accept"])
        #expect(CORSPolicy.fields(fields, toAddTo: plain) == fields)
    }

    @Test func theAddedFields_followTheUpstreamsInTheClientHead() {
        let upstream = ResponseHead(status: 200, reason: "OK", headers: ["Content-Type": "text/event-stream"])
        let plan = ClientResponseBuilder.build(
            upstream, upstreamFraming: .closeDelimited, requestMethod: "GET", clientVersion: .http1_1,
            clientWantsKeepAlive: true, isSSE: true,
            addedFields: [Self.field("Access-Control-Allow-Origin", Self.app), Self.field("Vary", "Origin")])
        #expect(HeadFeeding.text(plan.head) == "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Accel-Buffering: no\r\n"
            + "Cache-Control: no-cache, no-transform\r\nAccess-Control-Allow-Origin: https://app.example\r\nVary: Origin\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n")
    }

    @Test func theUnavailableAnswer_carriesTheFields() {
        let bytes = SSEErrorEvent.unavailableResponse(
            status: 502, reason: "refused", retryMilliseconds: 1000, lastEventID: nil,
            addedFields: [Self.field("Access-Control-Allow-Origin", Self.app)])
        let text = HeadFeeding.text(bytes)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.contains("\r\nX-Accel-Buffering: no\r\nAccess-Control-Allow-Origin: https://app.example\r\nContent-Length: "))
    }
}

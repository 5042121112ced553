import Testing
@testable import SSEKeeperCore

@Suite struct ClientResponseBuilderTests {
    static func plan(
        _ head: ResponseHead,
        upstream: BodyFraming,
        method: String = "GET",
        client: HTTPVersion = .http1_1,
        keepAlive: Bool = true,
        isSSE: Bool = false
    ) -> (text: String, framing: ClientFraming, keepAlive: Bool) {
        let plan = ClientResponseBuilder.build(
            head, upstreamFraming: upstream, requestMethod: method, clientVersion: client,
            clientWantsKeepAlive: keepAlive, isSSE: isSSE
        )
        return (HeadFeeding.text(plan.head), plan.framing, plan.keepAlive)
    }

    static let ok = ResponseHead(status: 200, reason: "OK", headers: ["Content-Type": "text/plain"])

    static let framingTable: [(BodyFraming, HTTPVersion, Bool, ClientFraming)] = [
        (.none, .http1_1, false, .none),
        (.none, .http1_0, true, .none),
        (.contentLength(5), .http1_1, false, .contentLength(5)),
        (.contentLength(5), .http1_0, false, .contentLength(5)),
        (.contentLength(5), .http1_1, true, .chunked),
        (.contentLength(5), .http1_0, true, .closeDelimited),
        (.chunked, .http1_1, false, .chunked),
        (.chunked, .http1_0, false, .closeDelimited),
        (.chunked, .http1_1, true, .chunked),
        (.closeDelimited, .http1_1, false, .chunked),
        (.closeDelimited, .http1_0, true, .closeDelimited),
    ]

    @Test(arguments: framingTable)
    func clientFraming_followsTheTable_andTheHeadAnnouncesIt(
        _ upstream: BodyFraming, _ client: HTTPVersion, _ isSSE: Bool, _ expected: ClientFraming
    ) {
        let result = Self.plan(Self.ok, upstream: upstream, client: client, isSSE: isSSE)
        #expect(result.framing == expected)
        #expect(result.keepAlive == (expected != .closeDelimited))
        switch expected {
        case .contentLength(let length):
            #expect(result.text.contains("\r\nContent-Length: \(length)\r\n"))
            #expect(!result.text.contains("Transfer-Encoding"))
        case .chunked:
            #expect(result.text.contains("\r\nTransfer-Encoding: chunked\r\n"))
            #expect(!result.text.contains("Content-Length"))
        case .none, .closeDelimited:
            #expect(!result.text.contains("Transfer-Encoding") && !result.text.contains("Content-Length"))
        }
        #expect(result.text.contains("Connection: close") == (expected == .closeDelimited))
    }

    @Test func statusLine_isAlwaysHTTP11_andFieldsPassInOrder() {
        let head = ResponseHead(
            version: .http1_0, status: 404, reason: "Not Found",
            headers: ["Server": "up", "Content-Length": "3", "set-cookie": "a=1", "Set-Cookie": "b=2"]
        )
        let result = Self.plan(head, upstream: .contentLength(3))
        #expect(result.text == "HTTP/1.1 404 Not Found\r\nServer: up\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 3\r\n\r\n")
    }

    @Test func hopByHopFields_areRemoved_includingThoseNamedByConnection() {
        let head = ResponseHead(status: 200, reason: "OK", headers: [
            "Connection": "close, X-Internal", "Keep-Alive": "timeout=5", "Transfer-Encoding": "chunked",
            "Trailer": "X-Sum", "Upgrade": "h2c", "Proxy-Connection": "close", "TE": "x", "X-Internal": "1", "ETag": "\"e\"",
        ])
        let result = Self.plan(head, upstream: .chunked)
        #expect(result.text == "HTTP/1.1 200 OK\r\nETag: \"e\"\r\nTransfer-Encoding: chunked\r\n\r\n")
    }

    @Test func sseResponse_getsAntiBufferingFields_whenTheUpstreamDidNotSetThem() {
        let head = ResponseHead(status: 200, reason: "OK", headers: ["Content-Type": "text/event-stream"])
        let result = Self.plan(head, upstream: .closeDelimited, isSSE: true)
        #expect(result.text == "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Accel-Buffering: no\r\n"
            + "Cache-Control: no-cache, no-transform\r\nTransfer-Encoding: chunked\r\n\r\n")
    }

    @Test func sseResponse_keepsTheUpstreamsOwnCacheControlAndBufferingFields_addingNoTransformBeside() {
        let head = ResponseHead(status: 200, reason: "OK", headers: [
            "Content-Type": "text/event-stream", "cache-control": "no-store", "X-Accel-Buffering": "yes",
        ])
        let text = Self.plan(head, upstream: .chunked, isSSE: true).text
        #expect(text.contains("cache-control: no-store\r\nX-Accel-Buffering: yes\r\nCache-Control: no-transform\r\n"),
                "the upstream's value stays as sent; no-transform is a second field line of the same list")
        #expect(!text.contains("no-cache"))
    }

    @Test func sseResponse_whoseUpstreamCacheControlHoldsNoTransform_getsNoSecondLine() {
        let head = ResponseHead(status: 200, reason: "OK", headers: [
            "Content-Type": "text/event-stream", "Cache-Control": "private, No-Transform",
        ])
        let text = Self.plan(head, upstream: .chunked, isSSE: true).text
        #expect(text.lowercased().ranges(of: "cache-control").count == 1)
        #expect(text.contains("Cache-Control: private, No-Transform\r\n"))
    }

    @Test func aResponseThatIsNotSSE_getsNoCacheControlOfOurs() {
        let head = ResponseHead(status: 200, reason: "OK", headers: ["Content-Type": "text/plain"])
        #expect(!Self.plan(head, upstream: .contentLength(1)).text.contains("Cache-Control"))
    }

    @Test func contentLength_ofAHeadOr304Response_isKeptAsIs() {
        let head = ResponseHead(status: 200, reason: "OK", headers: ["Content-Length": "1234"])
        #expect(Self.plan(head, upstream: .none, method: "HEAD").text == "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
        let notModified = ResponseHead(status: 304, reason: "Not Modified", headers: ["ETag": "x", "Content-Length": "9"])
        #expect(Self.plan(notModified, upstream: .none).text == "HTTP/1.1 304 Not Modified\r\nETag: x\r\nContent-Length: 9\r\n\r\n")
    }

    @Test func contentLength_ofA204Response_isDropped() {
        let head = ResponseHead(status: 204, reason: "No Content", headers: ["Content-Length": "0"])
        #expect(Self.plan(head, upstream: .none).text == "HTTP/1.1 204 No Content\r\n\r\n")
    }

    @Test func clientThatDoesNotWantKeepAlive_getsConnectionClose() {
        let result = Self.plan(Self.ok, upstream: .contentLength(2), keepAlive: false)
        #expect(!result.keepAlive)
        #expect(result.text.hasSuffix("Content-Length: 2\r\nConnection: close\r\n\r\n"))
    }

    @Test func http10ClientKeptAlive_getsConnectionKeepAlive() {
        let result = Self.plan(Self.ok, upstream: .contentLength(2), client: .http1_0)
        #expect(result.keepAlive)
        #expect(result.text.hasSuffix("Content-Length: 2\r\nConnection: keep-alive\r\n\r\n"))
    }

    @Test func http11ClientKeptAlive_getsNoConnectionField() {
        #expect(!Self.plan(Self.ok, upstream: .chunked).text.contains("Connection"))
    }

    @Test(arguments: [100, 102, 103, 199])
    func interimResponses_areForwardedToHTTP11Clients_withoutHopByHopFields(_ status: Int) throws {
        let head = ResponseHead(status: status, reason: "Interim", headers: ["Link": "</a.css>; rel=preload", "Connection": "keep-alive"])
        let bytes = try #require(ClientResponseBuilder.interim(head, clientVersion: .http1_1))
        #expect(HeadFeeding.text(bytes) == "HTTP/1.1 \(status) Interim\r\nLink: </a.css>; rel=preload\r\n\r\n")
    }

    @Test func interimResponses_areDroppedForHTTP10Clients_and101AndFinalStatusesAreNotInterim() {
        #expect(ClientResponseBuilder.interim(ResponseHead(status: 100, reason: "Continue"), clientVersion: .http1_0) == nil)
        #expect(ClientResponseBuilder.interim(ResponseHead(status: 101, reason: "Switching"), clientVersion: .http1_1) == nil)
        #expect(ClientResponseBuilder.interim(ResponseHead(status: 200, reason: "OK"), clientVersion: .http1_1) == nil)
    }

    @Test(arguments: [
        ("text/event-stream", true), ("Text/Event-Stream; charset=utf-8", true), (" text/event-stream ;x=y", true),
        ("text/plain", false), ("text/event-streaming", false), ("application/json", false),
    ])
    func isEventStream_matchesTheMediaType_inAnyCaseWithAnyParameters(_ contentType: String, _ expected: Bool) {
        let head = ResponseHead(status: 200, reason: "OK", headers: ["Content-Type": contentType])
        #expect(ClientResponseBuilder.isEventStream(head) == expected)
    }

    @Test func isEventStream_isFalse_withoutContentType() {
        #expect(!ClientResponseBuilder.isEventStream(Self.ok.withoutContentType))
    }

    @Test(arguments: [
        (HTTPVersion.http1_1, "", true), (.http1_1, "close", false), (.http1_1, "Keep-Alive, CLOSE", false),
        (.http1_0, "", false), (.http1_0, "keep-alive", true), (.http1_0, "Keep-Alive", true),
        (.http1_0, "keep-alive, close", false),
    ])
    func clientWantsKeepAlive_followsTheVersionAndConnection(_ version: HTTPVersion, _ connection: String, _ expected: Bool) {
        var head = RequestHead(method: "GET", target: "/", version: version, headers: ["Host": "a"])
        if !connection.isEmpty { head.headers.add("Connection", connection) }
        #expect(ClientResponseBuilder.clientWantsKeepAlive(head) == expected)
    }
}

extension ResponseHead {
    fileprivate var withoutContentType: ResponseHead {
        var copy = self
        copy.headers.remove("Content-Type")
        return copy
    }
}

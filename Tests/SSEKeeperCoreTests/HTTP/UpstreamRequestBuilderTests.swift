import Testing
@testable import SSEKeeperCore

@Suite struct UpstreamRequestBuilderTests {
    /// Parses the request text as the proxy would, then builds the upstream head as text.
    static func upstream(
        _ request: String,
        clientAddress: String = "203.0.113.7",
        clientProtocol: String = "http",
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> String {
        guard let head = HeadFeeding.request(request, sourceLocation: sourceLocation).head,
              let framing = try? head.bodyFraming() else {
            Issue.record("fixture does not parse", sourceLocation: sourceLocation)
            return ""
        }
        let bytes = UpstreamRequestBuilder.build(head, framing: framing, clientAddress: clientAddress, clientProtocol: clientProtocol)
        return HeadFeeding.text(bytes)
    }

    @Test func sseRequest_isRewritten_endToEndFieldsPassInOrderAndCase() {
        let request = "GET /events?topic=a HTTP/1.1\r\n"
            + "Host: example.com\r\n"
            + "User-Agent: curl/8\r\n"
            + "Accept: Text/Event-Stream; charset=utf-8\r\n"
            + "Accept-Encoding: gzip, br\r\n"
            + "last-event-id: 42\r\n"
            + "Connection: keep-alive\r\n"
            + "Cookie: a=b\r\n"
            + "\r\n"
        let expected = "GET /events?topic=a HTTP/1.1\r\n"
            + "Host: example.com\r\n"
            + "User-Agent: curl/8\r\n"
            + "Accept: Text/Event-Stream; charset=utf-8\r\n"
            + "last-event-id: 42\r\n"
            + "Cookie: a=b\r\n"
            + "X-Forwarded-For: 203.0.113.7\r\n"
            + "X-Forwarded-Proto: http\r\n"
            + "X-Forwarded-Host: example.com\r\n"
            + "Connection: close\r\n"
            + "\r\n"
        #expect(Self.upstream(request) == expected)
    }

    @Test func hopByHopFields_areRemoved_includingThoseNamedByConnection() {
        let request = "GET / HTTP/1.1\r\nHost: a\r\n"
            + "Connection: Upgrade, X-Secret , keep-alive\r\nconnection: x-other\r\n"
            + "Keep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X-Sum\r\nUpgrade: websocket\r\n"
            + "Proxy-Connection: keep-alive\r\nx-secret: 1\r\nX-Other: 2\r\nX-Kept: 3\r\n\r\n"
        let expected = "GET / HTTP/1.1\r\nHost: a\r\nX-Kept: 3\r\n"
            + "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: a\r\nConnection: close\r\n\r\n"
        #expect(Self.upstream(request) == expected)
    }

    @Test func withAKeepAlivePool_theRequestCarriesNoConnectionField_soItIsPersistent() {
        guard let head = HeadFeeding.request("GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").head else {
            Issue.record("fixture does not parse")
            return
        }
        let text = HeadFeeding.text(UpstreamRequestBuilder.build(
            head, framing: .none, clientAddress: "203.0.113.7", clientProtocol: "http", keepAlive: true))
        #expect(text == "GET /a HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\n"
            + "X-Forwarded-Host: a\r\n\r\n", "the client's own Connection: close is hop-by-hop and not forwarded")
    }

    @Test func host_isKept_evenWhenConnectionNamesIt() {
        #expect(Self.upstream("GET / HTTP/1.1\r\nHost: a\r\nConnection: host\r\n\r\n").contains("\r\nHost: a\r\n"))
    }

    @Test func contentLength_isReAddedFromTheFraming() {
        let text = Self.upstream("POST /p HTTP/1.1\r\nContent-Length: 5, 5\r\nHost: a\r\n\r\n")
        #expect(text.contains("\r\nContent-Length: 5\r\n"))
        #expect(!text.contains("5, 5"))
    }

    @Test func chunkedBody_isAnnouncedAsChunked_oncePerRequest() {
        let text = Self.upstream("POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n")
        #expect(text.contains("\r\nTransfer-Encoding: chunked\r\n"))
        #expect(!text.contains("CHUNKED"))
    }

    @Test func requestWithoutBody_getsNoFramingFields() {
        let text = Self.upstream("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(!text.contains("Content-Length") && !text.contains("Transfer-Encoding"))
    }

    @Test func xForwardedFor_isAppendedTo_allExistingLinesJoinedInPlace() {
        let text = Self.upstream("GET / HTTP/1.1\r\nX-Forwarded-For: 10.0.0.1\r\nHost: a\r\nx-forwarded-for: 10.0.0.2, 10.0.0.3\r\n\r\n")
        #expect(text.hasPrefix("GET / HTTP/1.1\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2, 10.0.0.3, 203.0.113.7\r\nHost: a\r\n"))
        #expect(text.ranges(of: "orwarded-For").count == 1)
    }

    @Test func xForwardedProtoAndHost_areOverwritten_notTrustedFromTheClient() {
        let text = Self.upstream(
            "GET / HTTP/1.1\r\nX-Forwarded-Proto: https\r\nHost: real.example\r\nX-Forwarded-Host: evil.example\r\n\r\n",
            clientProtocol: "http"
        )
        #expect(text == "GET / HTTP/1.1\r\nHost: real.example\r\nX-Forwarded-For: 203.0.113.7\r\n"
            + "X-Forwarded-Proto: http\r\nX-Forwarded-Host: real.example\r\nConnection: close\r\n\r\n")
    }

    @Test(arguments: ["text/event-stream", "TEXT/EVENT-STREAM", "text/html, text/event-stream;q=0.5", "text/event-stream ; q=0"])
    func acceptEncoding_isDropped_whenTheClientAcceptsAnEventStream(_ accept: String) {
        let text = Self.upstream("GET / HTTP/1.1\r\nHost: a\r\nAccept: \(accept)\r\nAccept-Encoding: gzip\r\n\r\n")
        #expect(!text.contains("Accept-Encoding"))
    }

    @Test(arguments: ["text/html", "text/event-streams", "*/*"])
    func acceptEncoding_isKept_forOtherRequests(_ accept: String) {
        let text = Self.upstream("GET / HTTP/1.1\r\nHost: a\r\nAccept: \(accept)\r\nAccept-Encoding: gzip\r\n\r\n")
        #expect(text.contains("\r\nAccept-Encoding: gzip\r\n"))
    }

    @Test func absoluteFormTarget_isSentInOriginForm_withItsAuthorityAsHost() {
        let text = Self.upstream("GET http://example.com:8080/a?b HTTP/1.1\r\nHost: ignored\r\n\r\n")
        #expect(text.hasPrefix("GET /a?b HTTP/1.1\r\nHost: example.com:8080\r\n"))
        #expect(text.contains("X-Forwarded-Host: example.com:8080\r\n"))
    }

    @Test func http10Request_isUpgradedToHTTP11_withAnEmptyHost() {
        let text = Self.upstream("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(text == "GET /x HTTP/1.1\r\nHost: \r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\nConnection: close\r\n\r\n")
    }

    @Test func builtHead_parsesBack_asAValidRequest() throws {
        let request = "POST /api HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        let bytes = Array(Self.upstream(request).utf8)
        var parser = HeadParser(maxHeaderBytes: 4096)
        let result = try bytes.withUnsafeBytes { buffer throws(HTTPParseError) in try parser.parseRequest(buffer) }
        guard case .complete(let head, let consumed) = result else {
            Issue.record("did not parse back")
            return
        }
        #expect(consumed == bytes.count)
        #expect(try head.bodyFraming() == .chunked)
    }
}

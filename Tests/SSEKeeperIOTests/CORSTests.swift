import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// `cors_allow_origin` over real sockets: the fields added to a backend's response, preflights answered by
/// ssekeeper on a kept-alive connection, and everything else left to the backend.
@Suite(.serialized)
struct CORSTests {
    static let app = "http://127.0.0.1:8080"

    static func settings(_ origins: CORSAllowedOrigins = .list([app]), credentials: Bool = true) -> StreamSettings {
        var settings = StreamSettings()
        settings.corsAllowOrigin = origins
        settings.corsAllowCredentials = credentials
        return settings
    }

    /// An upstream that answers each request with a small SSE stream (`extra` fields in its head), then ends it.
    static func sseUpstream(extra: String = "") throws -> TestUpstream {
        try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead(extra: extra) + chunk("id: 1\ndata: hello\n\n") + "0\r\n\r\n")
        }
    }

    static func preflight(origin: String = app, connection: String = "") -> String {
        "OPTIONS /events HTTP/1.1\r\nHost: t\r\nOrigin: \(origin)\r\nAccess-Control-Request-Method: GET\r\n"
            + "Access-Control-Request-Headers: last-event-id\r\n\(connection)\r\n"
    }

    @Test func aListedOrigin_getsItsOriginEchoedWithCredentials_onTheStream() throws {
        let upstream = try Self.sseUpstream()
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: Self.settings())
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\nOrigin: \(Self.app)\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200)
        #expect(head.header("Access-Control-Allow-Origin") == Self.app)
        #expect(head.header("Access-Control-Allow-Credentials") == "true")
        #expect(head.header("Vary") == "Origin")
        var reader = ChunkedReader(initial: head.rest)
        #expect(String(decoding: try reader.readToEnd(from: client), as: UTF8.self).contains("data: hello\n\n"))
        #expect(upstream.receivedRequests.first?.contains("Origin: \(Self.app)\r\n") == true, "the Origin goes upstream as sent")
    }

    @Test func aPreflight_isAnsweredHere_andTheConnectionServesTheNextRequest() throws {
        let upstream = try Self.sseUpstream()
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: Self.settings())
        let client = try proxy.client()
        // The preflight and the request it clears, pipelined in one write.
        try client.send(Self.preflight() + "GET /events HTTP/1.1\r\nHost: t\r\nOrigin: \(Self.app)\r\nLast-Event-ID: 4\r\n\r\n")
        let answer = try ReceivedHead.read(from: client)
        #expect(answer.statusLine == "HTTP/1.1 204 No Content")
        #expect(answer.headers.map(\.0) == [
            "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
            "Access-Control-Allow-Headers", "Access-Control-Max-Age", "Vary",
        ])
        #expect(answer.header("Access-Control-Allow-Origin") == Self.app)
        #expect(answer.header("Access-Control-Allow-Headers") == "last-event-id")
        #expect(answer.header("Vary") == "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
        var next = answer.rest // the 204 has no body: what follows it is the next response
        while !String(decoding: next, as: UTF8.self).contains("data: hello\n\n") {
            let some = try client.receiveSome()
            if some.isEmpty { break }
            next += some
        }
        let text = String(decoding: next, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n") && text.contains("\r\nAccess-Control-Allow-Origin: \(Self.app)\r\n"), "\(text)")
        #expect(proxy.waitForLogLine(containing: ["OPTIONS", "path=/events", "status=204", "CORS preflight answered by ssekeeper"]) != nil)
        #expect(upstream.receivedRequests.allSatisfy { !$0.hasPrefix("OPTIONS") }, "the backend never sees the preflight")
        #expect(upstream.receivedRequests.count == 1)
        #expect(upstream.receivedRequests.first?.contains("Last-Event-ID: 4\r\n") == true)
    }

    @Test func aPreflightAskingToClose_isAnsweredWithConnectionClose_andTheConnectionEnds() throws {
        let proxy = try ProxyHarness(upstreamPort: closedPort(), settings: Self.settings())
        let client = try proxy.client()
        try client.send(Self.preflight(connection: "Connection: close\r\n"))
        let response = String(decoding: try client.receiveAll(), as: UTF8.self)
        #expect(response.hasPrefix("HTTP/1.1 204 No Content\r\n"))
        #expect(response.hasSuffix("Connection: close\r\n\r\n"))
    }

    @Test func anUnlistedOrigin_getsNoCORSFields_andItsPreflightGoesToTheBackend() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nAllow: GET\r\nContent-Length: 0\r\n\r\n")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: Self.settings())
        let client = try proxy.client()
        try client.send(Self.preflight(origin: "http://evil.example"))
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200)
        #expect(head.header("Allow") == "GET", "the backend's answer")
        #expect(head.header("Access-Control-Allow-Origin") == nil)
        #expect(head.header("Access-Control-Allow-Credentials") == nil)
        #expect(head.header("Vary") == "Origin")
        #expect(upstream.receivedRequests.first?.hasPrefix("OPTIONS /events HTTP/1.1\r\n") == true)
    }

    @Test func anOptionsRequestThatIsNoPreflight_goesToTheBackend_withTheFieldsAdded() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nAllow: GET, OPTIONS\r\nContent-Length: 0\r\n\r\n")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: Self.settings())
        let client = try proxy.client()
        try client.send("OPTIONS /events HTTP/1.1\r\nHost: t\r\nOrigin: \(Self.app)\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.header("Allow") == "GET, OPTIONS")
        #expect(head.header("Access-Control-Allow-Origin") == Self.app)
        #expect(upstream.receivedRequests.count == 1)
    }

    @Test func aBackendThatDoesCORS_isNotOverridden() throws {
        let upstream = try Self.sseUpstream(extra: "Access-Control-Allow-Origin: https://other.example\r\n")
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: Self.settings())
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: t\r\nOrigin: \(Self.app)\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.headers.filter { $0.0.lowercased().hasPrefix("access-control-") }.map { "\($0.0): \($0.1)" }
            == ["Access-Control-Allow-Origin: https://other.example"])
        #expect(head.header("Vary") == nil)
    }

    @Test func theRouteWithoutTheDirective_addsNothing_andForwardsPreflights() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send(Self.preflight())
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200)
        #expect(!head.headers.contains { $0.0.lowercased().hasPrefix("access-control-") || $0.0 == "Vary" })
        #expect(upstream.receivedRequests.count == 1)
    }

    @Test func star_putsTheLiteralStarOnEveryResponse() throws {
        let upstream = try Self.sseUpstream()
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: Self.settings(.any, credentials: false))
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: t\r\nOrigin: https://anyone.example\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.header("Access-Control-Allow-Origin") == "*")
        #expect(head.header("Access-Control-Allow-Credentials") == nil)
    }

    @Test func theUnavailableAnswer_carriesTheFields_soACrossOriginEventSourceSeesItsErrorEvent() throws {
        let proxy = try ProxyHarness(upstreamPort: closedPort(), settings: Self.settings())
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\nOrigin: \(Self.app)\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200)
        #expect(head.header("Content-Type") == "text/event-stream")
        #expect(head.header("Access-Control-Allow-Origin") == Self.app)
        #expect(head.header("Access-Control-Allow-Credentials") == "true")
        #expect(head.header("Vary") == "Origin")
    }
}

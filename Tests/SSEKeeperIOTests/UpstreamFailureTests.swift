import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// What a client gets when the upstream is down, slow or broken, and how requests are routed.
struct UpstreamFailureTests {
    @Test func anUpstreamThatIsDown_gives502_withAPlainTextReason() throws {
        let proxy = try ProxyHarness(upstreamPort: closedPort())
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 502)
        #expect(head.header("Content-Type")?.hasPrefix("text/plain") == true)
        #expect(head.header("Connection") == "close")
        let body = String(decoding: head.rest + (try client.receiveAll()), as: UTF8.self)
        #expect(body.contains("502 Bad Gateway"))
        #expect(body.lowercased().contains("refused"), "body names the cause: \(body)")
        #expect(proxy.waitForLogLine(containing: ["status=502", "end=upstream_error"]) != nil)
    }

    @Test func aRefusingServer_isSkipped_forTheNextOneInThePool() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nup")
        }
        let proxy = try ProxyHarness(routes: [(prefix: "/", ports: [closedPort(), upstream.port], settings: StreamSettings())])
        for _ in 0..<4 {
            let client = try proxy.client()
            try client.send("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            let head = try ReceivedHead.read(from: client)
            #expect(head.status == 200)
        }
        #expect(upstream.connectionCount == 4)
    }

    @Test func serversOfAPool_areUsedRoundRobin() throws {
        let first = try TestUpstream { connection, _, _ in try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na") }
        let second = try TestUpstream { connection, _, _ in try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb") }
        let proxy = try ProxyHarness(routes: [(prefix: "/", ports: [first.port, second.port], settings: StreamSettings())])
        for _ in 0..<6 {
            let client = try proxy.client()
            try client.send("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            _ = try client.receiveAll()
        }
        #expect(first.connectionCount == 3)
        #expect(second.connectionCount == 3)
    }

    @Test func anUpstreamThatSendsNoHead_gives504_afterUpstreamHeaderTimeout() throws {
        let upstream = try TestUpstream { connection, _, _ in
            _ = try? connection.secondsUntilClosed()
        }
        var limits = Limits()
        limits.upstreamHeaderTimeout = .milliseconds(300)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        let client = try proxy.client()
        let start = Date()
        try client.send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 504)
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed > 0.25 && elapsed < 3, "504 after \(elapsed) s, timeout 0.3 s")
    }

    @Test func anUpstreamThatSendsGarbage_gives502() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("SSH-2.0-OpenSSH_9.2\r\n\r\n")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(try ReceivedHead.read(from: client).status == 502)
    }

    @Test func theLongestRoutePrefix_wins_andUnroutedPathsGet404() throws {
        let general = try TestUpstream { connection, _, _ in try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\ngeneral") }
        let special = try TestUpstream { connection, _, _ in try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nspecial") }
        let proxy = try ProxyHarness(routes: [
            (prefix: "/api/", ports: [general.port], settings: StreamSettings()),
            (prefix: "/api/stream/", ports: [special.port], settings: StreamSettings()),
        ])
        func get(_ path: String) throws -> (Int, String) {
            let client = try proxy.client()
            try client.send("GET \(path) HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            let head = try ReceivedHead.read(from: client)
            return (head.status, String(decoding: head.rest + (try client.receiveAll()), as: UTF8.self))
        }
        #expect(try get("/api/stream/x").1 == "special")
        #expect(try get("/api/other").1 == "general")
        let (status, body) = try get("/elsewhere")
        #expect(status == 404)
        #expect(body.contains("no route"))
    }

    @Test func aMalformedRequest_gets400_andNothingReachesTheUpstream() throws {
        let upstream = try TestUpstream { connection, _, _ in try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 400)
        #expect(head.header("Connection") == "close")
        usleep(50_000)
        #expect(upstream.connectionCount == 0)
    }
}

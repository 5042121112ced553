import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// `upstream_keepalive`: idle upstream connections reused for non-SSE requests, over real sockets.
struct UpstreamKeepaliveTests {
    static func pool(_ port: UInt16, keepalive: Int = 4, timeout: Duration = .seconds(60), maxFails: Int = 3) -> Upstream {
        Upstream(name: "p", servers: [UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: port), maxFails: maxFails)],
                 keepalive: keepalive, keepaliveTimeout: timeout)
    }

    /// A keep-alive upstream: `/chunked` answers chunked, `/events` an SSE stream that ends, anything else
    /// `Content-Length`; `X-Close: 1` in the request makes it answer with `Connection: close` (and keep the
    /// connection open, so only the proxy can close it).
    static func keepAliveUpstream() throws -> TestUpstream {
        try TestUpstream(keepAlive: true) { connection, head, _ in
            if head.hasPrefix("GET /chunked ") {
                try connection.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("ch") + chunk("unked") + "0\r\n\r\n")
            } else if head.hasPrefix("GET /events ") {
                try connection.send(sseResponseHead() + chunk("data: one\n\n") + "0\r\n\r\n")
            } else if head.contains("X-Close: 1") {
                try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            } else {
                try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            }
        }
    }

    /// Sends one request on `client` and reads its whole response (Content-Length or chunked); returns status and body.
    static func exchange(_ client: TestSocket, _ request: String) throws -> (Int, String) {
        try client.send(request)
        let head = try ReceivedHead.read(from: client)
        if head.header("Transfer-Encoding") == "chunked" {
            var reader = ChunkedReader(initial: head.rest)
            return (head.status, String(decoding: try reader.readToEnd(from: client), as: UTF8.self))
        }
        var body = head.rest
        let length = Int(head.header("Content-Length") ?? "0") ?? 0
        while body.count < length { body += try client.receiveSome() }
        return (head.status, String(decoding: body, as: UTF8.self))
    }

    /// Waits up to `seconds` for `condition`.
    static func eventually(seconds: Double = 3, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > deadline { return false }
            usleep(10_000)
        }
        return true
    }

    @Test func twentySequentialRequests_reuseOneUpstreamConnection() throws {
        let upstream = try Self.keepAliveUpstream()
        let proxy = try ProxyHarness(upstream: Self.pool(upstream.port))
        // Ten on one kept-alive client connection, ten on a new client connection each: the pool is the proxy's.
        let client = try proxy.client()
        for index in 0..<10 {
            let path = index.isMultiple(of: 2) ? "/chunked" : "/plain"
            let (status, body) = try Self.exchange(client, "GET \(path) HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(status == 200)
            #expect(body == (index.isMultiple(of: 2) ? "chunked" : "ok"))
        }
        for _ in 0..<10 {
            let single = try proxy.client()
            #expect(try Self.exchange(single, "GET /plain HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n") == (200, "ok"))
        }
        #expect(upstream.receivedRequests.count == 20)
        #expect(upstream.connectionCount == 1)
        #expect(upstream.receivedRequests.allSatisfy { !$0.lowercased().contains("connection:") },
                "requests go upstream as persistent HTTP/1.1, without Connection: close")
    }

    @Test func aBackendThatWritesHeadAndBodySeparately_isNotSlowedByDelayedACKs_onAReusedConnection() throws {
        // Head and body in two sends, with Nagle on (the test upstream does not set TCP_NODELAY): the body waits
        // for the head's ACK, which the kernel delays up to 40 ms unless the proxy asks for a quick ACK.
        let upstream = try TestUpstream(keepAlive: true) { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
            try connection.send("ok")
        }
        let proxy = try ProxyHarness(upstream: Self.pool(upstream.port))
        let client = try proxy.client()
        #expect(try Self.exchange(client, "GET / HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        let start = Date()
        for _ in 0..<20 { #expect(try Self.exchange(client, "GET / HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok")) }
        let elapsed = Date().timeIntervalSince(start)
        #expect(upstream.connectionCount == 1)
        #expect(elapsed < 0.4, "20 reused-connection requests took \(elapsed) s; delayed ACKs would make it 0.8 s or more")
    }

    @Test func aBackendThatWritesHeadAndBodySeparately_isNotSlowedByDelayedACKs_onFreshConnections() throws {
        // The same backend without keep-alive: each request on a new upstream connection, which the proxy does not
        // ask for quick ACKs (nor sets TCP_NODELAY on, the request having no body): the kernel's initial quick-ACK
        // mode must carry the head's ACK at once, or each response waits up to 40 ms.
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
            try connection.send("ok")
        }
        let proxy = try ProxyHarness(upstream: Self.pool(upstream.port, keepalive: 0))
        let client = try proxy.client()
        #expect(try Self.exchange(client, "GET / HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        let start = Date()
        for _ in 0..<20 { #expect(try Self.exchange(client, "GET / HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok")) }
        let elapsed = Date().timeIntervalSince(start)
        #expect(upstream.connectionCount == 21)
        #expect(elapsed < 0.4, "20 fresh-connection requests took \(elapsed) s; delayed ACKs would make it 0.8 s or more")
    }

    @Test func withoutKeepalive_everyRequestGetsItsOwnConnection_withConnectionClose() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
        let proxy = try ProxyHarness(upstream: Self.pool(upstream.port, keepalive: 0))
        let client = try proxy.client()
        for _ in 0..<3 { #expect(try Self.exchange(client, "GET / HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok")) }
        #expect(upstream.connectionCount == 3)
        #expect(upstream.receivedRequests.allSatisfy { $0.contains("\r\nConnection: close\r\n") })
    }

    @Test func anUpstreamThatClosesAnIdlePooledConnection_isNotUsedAgain() throws {
        let upstream = try TestUpstream(keepAlive: true) { connection, _, upstream in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            usleep(50_000)
            upstream.noteClosed()
            connection.close()
        }
        let proxy = try ProxyHarness(upstream: Self.pool(upstream.port))
        let client = try proxy.client()
        #expect(try Self.exchange(client, "GET /a HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        #expect(Self.eventually { upstream.closeTimes.count == 1 })
        #expect(Self.eventually { proxy.server.idleUpstreamConnectionCount == 0 }, "the watched idle connection left the pool on its own")
        #expect(try Self.exchange(client, "GET /b HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        #expect(upstream.connectionCount == 2)
        #expect(!proxy.log.contains("reused connection"), "the closed connection had left the pool: no failed reuse")
    }

    /// A keep-alive upstream that answers the first request of each connection and closes the connection without
    /// a word when a second request arrives on it: what a reused connection looks like when the upstream's idle
    /// timeout closed it just as the proxy wrote.
    static func closesOnSecondRequest() throws -> TestUpstream {
        try TestUpstream(keepAlive: true) { connection, _, _ in
            if connection.requestsServed == 0 {
                try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            } else {
                connection.close()
            }
        }
    }

    @Test func aStalePooledConnection_isRetriedOnAFreshOne_forAGET() throws {
        let upstream = try Self.closesOnSecondRequest()
        let proxy = try ProxyHarness(upstream: Self.pool(upstream.port, maxFails: 1))
        let client = try proxy.client()
        #expect(try Self.exchange(client, "GET /first HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        #expect(Self.eventually { proxy.server.idleUpstreamConnectionCount == 1 })
        #expect(try Self.exchange(client, "GET /second HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        #expect(upstream.connectionCount == 2)
        #expect(upstream.receivedRequests.filter { $0.hasPrefix("GET /second ") }.count == 2, "sent on the stale, then on a fresh one")
        #expect(proxy.waitForLogLine(containing: ["reused connection to 127.0.0.1:\(upstream.port) failed before a response", "retrying GET on a fresh connection"]) != nil)
        #expect(!proxy.log.contains("marked down"), "a stale pooled connection is not the server's failure (max_fails=1 here)")
    }

    @Test func aStalePooledConnection_isNotRetried_forAPOST() throws {
        let upstream = try Self.closesOnSecondRequest()
        let proxy = try ProxyHarness(upstream: Self.pool(upstream.port))
        let client = try proxy.client()
        #expect(try Self.exchange(client, "GET /first HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        try client.send("POST /order HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello")
        #expect(try ReceivedHead.read(from: client).status == 502)
        #expect(upstream.connectionCount == 1, "no second connection: a POST is never sent twice")
        #expect(upstream.receivedRequests.filter { $0.hasPrefix("POST /order ") }.count == 1)
    }

    @Test func sseResponses_areNeverPooled() throws {
        let upstream = try Self.keepAliveUpstream()
        let proxy = try ProxyHarness(upstream: Self.pool(upstream.port))
        let client = try proxy.client()
        let (status, body) = try Self.exchange(client, "GET /events HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n")
        #expect(status == 200)
        #expect(body == "data: one\n\n")
        #expect(Self.eventually { upstream.closeTimes.count == 1 }, "the proxy closed the stream's upstream connection")
        #expect(try Self.exchange(client, "GET /plain HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        #expect(upstream.connectionCount == 2)
    }

    @Test func aResponseWithConnectionClose_isNotPooled() throws {
        let upstream = try Self.keepAliveUpstream()
        let proxy = try ProxyHarness(upstream: Self.pool(upstream.port))
        let client = try proxy.client()
        #expect(try Self.exchange(client, "GET /a HTTP/1.1\r\nHost: test\r\nX-Close: 1\r\n\r\n") == (200, "ok"))
        #expect(Self.eventually { upstream.closeTimes.count == 1 })
        #expect(try Self.exchange(client, "GET /b HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        #expect(upstream.connectionCount == 2)
    }

    @Test func anIdlePooledConnection_isClosedAfterTheKeepaliveTimeout() throws {
        let upstream = try Self.keepAliveUpstream()
        let proxy = try ProxyHarness(upstream: Self.pool(upstream.port, timeout: .milliseconds(300)))
        let client = try proxy.client()
        let start = Date()
        #expect(try Self.exchange(client, "GET /a HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        #expect(Self.eventually(seconds: 5) { upstream.closeTimes.count == 1 })
        let idle = upstream.closeTimes.first.map { $0.timeIntervalSince(start) } ?? 0
        #expect(idle > 0.25 && idle < 3, "closed after \(idle) s idle, timeout 0.3 s")
        #expect(try Self.exchange(client, "GET /b HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        #expect(upstream.connectionCount == 2)
    }

    @Test func thePoolKeepsAtMostUpstreamKeepaliveConnections_closingTheOldest() throws {
        let upstream = try TestUpstream(keepAlive: true) { connection, _, _ in
            usleep(200_000)
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
        let proxy = try ProxyHarness(upstream: Self.pool(upstream.port, keepalive: 1))
        let clients = try (0..<3).map { _ in try proxy.client() }
        for client in clients { try client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n") }
        for client in clients { #expect(try ReceivedHead.read(from: client).status == 200) }
        #expect(upstream.connectionCount == 3, "three requests in flight at once need three connections")
        #expect(Self.eventually { upstream.closeTimes.count == 2 }, "one is kept, two are closed")
        usleep(100_000)
        #expect(upstream.closeTimes.count == 2)
    }

    @Test func theCapacityIsPerPool_overAllItsServers() throws {
        let first = try Self.keepAliveUpstream()
        let second = try Self.keepAliveUpstream()
        let proxy = try ProxyHarness(upstream: Upstream(name: "p", servers: [
            UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: first.port)),
            UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: second.port)),
        ], keepalive: 1))
        let client = try proxy.client()
        #expect(try Self.exchange(client, "GET /a HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        #expect(try Self.exchange(client, "GET /b HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        #expect(first.connectionCount == 1 && second.connectionCount == 1, "round-robin over both servers")
        #expect(Self.eventually { first.closeTimes.count == 1 }, "the least recently parked one made room")
        #expect(second.closeTimes.isEmpty)
        #expect(proxy.server.idleUpstreamConnectionCount == 1)
    }

    @Test func aReloadThatTurnsKeepaliveOff_closesTheIdleConnections() throws {
        let upstream = try Self.keepAliveUpstream()
        let proxy = try ProxyHarness(upstream: Self.pool(upstream.port))
        let client = try proxy.client()
        #expect(try Self.exchange(client, "GET /a HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        usleep(50_000)
        #expect(upstream.closeTimes.isEmpty, "pooled, still open")
        var config = proxy.server.config
        config.upstreams[0].keepalive = 0
        try proxy.server.reload(config: config)
        #expect(Self.eventually { upstream.closeTimes.count == 1 }, "the idle connection does not outlive its pool")
    }

    @Test func draining_closesTheIdleConnections_andPoolsNoMore() throws {
        let upstream = try TestUpstream(keepAlive: true) { connection, head, _ in
            if head.hasPrefix("GET /slow ") { usleep(300_000) }
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
        let proxy = try ProxyHarness(upstream: Self.pool(upstream.port))
        let inFlight = try proxy.client()
        try inFlight.send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(Self.eventually { upstream.connectionCount == 1 })
        // The slow request holds the first connection, so this one opens a second, which is then pooled.
        let idle = try proxy.client()
        #expect(try Self.exchange(idle, "GET /a HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        #expect(upstream.connectionCount == 2)
        #expect(Self.eventually { proxy.server.idleUpstreamConnectionCount == 1 })
        proxy.server.drain { _ in }
        #expect(Self.eventually { upstream.closeTimes.count == 1 }, "the idle pooled connection closed at once")
        #expect(try ReceivedHead.read(from: inFlight).status == 200, "the request in flight still finishes")
        #expect(Self.eventually { upstream.closeTimes.count == 2 }, "and its connection is closed, not pooled")
        #expect(proxy.server.idleUpstreamConnectionCount == 0)
    }

    @Test func aReloadThatKeepsThePool_keepsItsIdleConnections() throws {
        let upstream = try Self.keepAliveUpstream()
        let proxy = try ProxyHarness(upstream: Self.pool(upstream.port))
        let client = try proxy.client()
        #expect(try Self.exchange(client, "GET /a HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        var config = proxy.server.config
        config.limits.keepaliveTimeout = .seconds(30)
        try proxy.server.reload(config: config)
        usleep(100_000)
        #expect(try Self.exchange(client, "GET /b HTTP/1.1\r\nHost: test\r\n\r\n") == (200, "ok"))
        #expect(upstream.connectionCount == 1)
    }
}

import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO
import SSEKeeperTestSupport

/// `/healthz`, `/streams`, and the admin endpoint's strictness, over real sockets.
@Suite(.serialized)
struct AdminEndpointTests {
    @Test func healthz_is200WhileAccepting_and503WhileDraining() throws {
        let proxy = try ProxyHarness(upstreamPort: closedPort(), observe: loopbackAdmin)
        let healthy = try AdminResponse.get("/healthz", port: proxy.adminPort)
        #expect(healthy.status == 200)
        #expect(healthy.body == "ok\n")
        #expect(healthy.header("Connection") == "close")
        #expect(try AdminResponse.get("/healthz?probe=1", port: proxy.adminPort).status == 200, "the query is ignored")
        #expect(try proxy.scrape().value("ssekeeper_draining") == 0)
        #expect(try proxy.scrape().value("ssekeeper_event_loops") == 1)
        proxy.server.drain { _ in }
        let draining = try AdminResponse.get("/healthz", port: proxy.adminPort)
        #expect(draining.status == 503, "the admin endpoint stays up while the proxy listeners close")
        #expect(draining.body == "draining\n")
        #expect(try proxy.scrape().value("ssekeeper_draining") == 1)
    }

    @Test func streams_listsEachOpenSSEStream_withItsFigures() throws {
        let head = sseResponseHead(), first = chunk("data: hi\n\n")
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(head)
            try connection.send(first)
            _ = try? connection.secondsUntilClosed()
        }
        let settings = StreamSettings(idleTimeout: .seconds(1), heartbeatFraction: 0.3)
        let proxy = try ProxyHarness(routes: [(prefix: "/live/", ports: [upstream.port], settings: settings)], observe: loopbackAdmin)
        #expect(try AdminResponse.get("/streams", port: proxy.adminPort).body == "[]\n")

        let client = try proxy.client()
        try client.send("GET /live/feed?token=secret HTTP/1.1\r\nHost: t\r\n\r\n")
        let received = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: received.rest)
        _ = try reader.nextChunk(from: client)
        #expect(try reader.nextChunk(from: client) == Array(": heartbeat\n".utf8))
        usleep(100_000)

        let response = try AdminResponse.get("/streams", port: proxy.adminPort)
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [[String: Any]])
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row["route"] as? String == "/live/")
        #expect(row["path"] as? String == "/live/feed", "the query (which may hold secrets) is not shown")
        #expect(row["client"] as? String == "127.0.0.1:\(client.localPort)")
        #expect(row["upstream"] as? String == "127.0.0.1:\(upstream.port)")
        #expect(row["bytes_in"] as? Int == head.utf8.count + first.utf8.count)
        #expect((row["bytes_out"] as? Int ?? 0) > first.utf8.count)
        #expect((row["heartbeats"] as? Int ?? 0) >= 1)
        #expect(row["heartbeats_skipped"] as? Int == 0)
        #expect(row["client_bytes_waiting"] as? Int == 0, "the client read everything and its TCP acknowledged it")
        #expect(row["client_last_accepted_s"] is NSNull, "nothing waits for the client")
        let age = row["age_s"] as? Double ?? 0, quiet = row["last_activity_s"] as? Double ?? 0
        #expect(age >= 0.3 && age < 5, "age \(age)")
        #expect(quiet >= 0.3 && quiet <= age, "last upstream byte \(quiet) s ago")
        client.close()
        let deadline = Date().addingTimeInterval(5)
        var body = ""
        repeat {
            body = try AdminResponse.get("/streams", port: proxy.adminPort).body
            if body == "[]\n" { break }
            usleep(20_000)
        } while Date() < deadline
        #expect(body == "[]\n")
    }

    @Test(arguments: [
        ("POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 405),
        ("HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n", 405),
        ("GET /metrics/ HTTP/1.1\r\nHost: a\r\n\r\n", 404),
        ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 404),
        ("GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 400),
        ("GET /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("GET /metrics HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "b", count: 9000) + "\r\n\r\n", 431),
        ("GET /metrics HTTP/1.1\r\n\r\n", 400),
        ("\u{1}\u{2}garbage\r\n\r\n", 400),
        ("GET /metrics HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    ])
    func anythingButAPlainGETOfAKnownPage_getsAClear4xx(request: String, status: Int) throws {
        let proxy = try ProxyHarness(upstreamPort: closedPort(), observe: loopbackAdmin)
        let response = try AdminResponse.send(request, port: proxy.adminPort)
        #expect(response.status == status, "\(response.body)")
        #expect(response.header("Connection") == "close")
        if status == 405 { #expect(response.header("Allow") == "GET") }
        #expect(try AdminResponse.get("/healthz", port: proxy.adminPort).status == 200, "the endpoint still serves")
    }

    @Test func aHeadThatNeverCompletes_gets408_afterTheAdminHeaderTimeout() throws {
        let proxy = try ProxyHarness(upstreamPort: closedPort(), observe: loopbackAdmin)
        let slow = try TestSocket.connect(port: proxy.adminPort)
        try slow.send("GET /metrics HTTP/1.1\r\nHost: a\r\n")
        let started = Date()
        let response = String(decoding: try slow.receiveAll(), as: UTF8.self)
        let waited = Date().timeIntervalSince(started)
        #expect(response.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(response)")
        #expect(waited > 4 && waited < 8, "answered after \(waited) s, the timeout is 5 s")
    }

    @Test func http10_isServedToo() throws {
        let proxy = try ProxyHarness(upstreamPort: closedPort(), observe: loopbackAdmin)
        let response = try AdminResponse.send("GET /metrics HTTP/1.0\r\n\r\n", port: proxy.adminPort)
        #expect(response.status == 200)
        _ = try ExpositionChecker(response.body)
    }

    @Test func withoutAdminListen_thereIsNoAdminEndpoint() throws {
        let proxy = try ProxyHarness(upstreamPort: closedPort())
        #expect(proxy.server.adminPort == nil)
        #expect(!proxy.log.contains("admin endpoint"))
    }

    /// Whether something accepts on 127.0.0.1:`port`, waiting up to 2 s for it to become `expected` (a listener
    /// closes on its loop, shortly after the reload returned).
    static func accepts(port: UInt16, becoming expected: Bool) -> Bool {
        let deadline = Date().addingTimeInterval(2)
        var accepting = false
        repeat {
            accepting = (try? TestSocket.connect(port: port)) != nil
            if accepting == expected { break }
            usleep(20_000)
        } while Date() < deadline
        return accepting
    }

    @Test func aReloadThatChangesAdminListen_movesTheEndpoint_removesIt_andBringsItBack() throws {
        let proxy = try ProxyHarness(upstreamPort: closedPort(), observe: loopbackAdmin)
        let first = proxy.adminPort
        var next = proxy.server.config
        let second = closedPort()
        next.observe.adminListen = ListenAddress(host: "127.0.0.1", port: second)
        try proxy.server.reload(config: next)
        #expect(proxy.server.adminPort == second)
        #expect(try AdminResponse.get("/healthz", port: second).status == 200)
        #expect(!Self.accepts(port: first, becoming: false), "the old address is closed")
        #expect(proxy.waitForLogLine(containing: ["admin endpoint moved to 127.0.0.1:\(second) from 127.0.0.1:\(first)"]) != nil, "\(proxy.log)")

        next.observe.adminListen = nil
        try proxy.server.reload(config: next)
        #expect(proxy.server.adminPort == nil)
        #expect(!Self.accepts(port: second, becoming: false))

        let third = closedPort()
        next.observe.adminListen = ListenAddress(host: "127.0.0.1", port: third)
        try proxy.server.reload(config: next)
        #expect(try AdminResponse.scrape(port: third).value("ssekeeper_draining") == 0)
    }

    @Test func aReloadWhoseAdminListenCannotBeBound_changesNothing() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port, observe: loopbackAdmin)
        let taken = try TestUpstream { _, _, _ in }
        var next = proxy.server.config
        next.observe.adminListen = ListenAddress(host: "127.0.0.1", port: taken.port)
        next.routes = []
        #expect(throws: SocketError.self) { try proxy.server.reload(config: next) }
        #expect(try AdminResponse.get("/healthz", port: proxy.adminPort).status == 200, "the endpoint stays where it was")
        let client = try proxy.client()
        try client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(String(decoding: try client.receiveAll(), as: UTF8.self).hasSuffix("ok"), "the old routes still apply")
    }
}

extension TestSocket {
    /// The local port of the connection (what the proxy sees as the client's port).
    var localPort: UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }
}

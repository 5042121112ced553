import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// Client connection life: keep-alive, pipelining, timeouts, the connection limit, and SSE special cases.
@Suite(.serialized)
struct ConnectionLifecycleTests {
    @Test func bytesAClientSendsDuringAStream_areNotAClose() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            try connection.send(chunk("data: one\n\n"))
            usleep(200_000)
            try connection.send(chunk("data: two\n\n"))
            try connection.send("0\r\n\r\n")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: head.rest)
        #expect(try reader.nextChunk(from: client) == Array("data: one\n\n".utf8))
        try client.send("GET /next HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(try reader.nextChunk(from: client) == Array("data: two\n\n".utf8))
        #expect(try reader.nextChunk(from: client).isEmpty)
    }

    @Test func pipelinedRequests_areAnsweredInOrder() throws {
        let upstream = try TestUpstream { connection, head, _ in
            let path = head.split(separator: " ")[1]
            usleep(path == "/a" ? 100_000 : 0)
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: \(path.utf8.count)\r\n\r\n\(path)")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\nGET /c HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        let all = String(decoding: try client.receiveAll(), as: UTF8.self)
        let bodies = all.components(separatedBy: "\r\n\r\n").dropFirst().map { $0.prefix(2) }
        #expect(bodies == ["/a", "/b", "/c"], "\(all)")
    }

    @Test func aClientThatNeverFinishesItsHead_gets408_afterClientHeaderTimeout() throws {
        let upstream = try TestUpstream { connection, _, _ in try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") }
        var limits = Limits()
        limits.clientHeaderTimeout = .milliseconds(300)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        let client = try proxy.client()
        let start = Date()
        try client.send("GET / HTTP/1.1\r\nHo")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 408)
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed > 0.25 && elapsed < 3, "408 after \(elapsed) s")
        #expect(upstream.connectionCount == 0)
    }

    @Test func anIdleKeepAliveConnection_isClosed_afterKeepaliveTimeout() throws {
        let upstream = try TestUpstream { connection, _, _ in try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") }
        var limits = Limits()
        limits.keepaliveTimeout = .milliseconds(300)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        let client = try proxy.client()
        try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        var body = head.rest
        while body.count < 2 { body += try client.receiveSome() }
        let closedAfter = try client.secondsUntilClosed()
        #expect(closedAfter > 0.2 && closedAfter < 3, "closed after \(closedAfter) s, keepalive_timeout 0.3 s")
    }

    @Test func connectionsBeyondMaxConnections_get503_atOnce() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            _ = try? connection.secondsUntilClosed()
        }
        var limits = Limits()
        limits.maxConnections = 2
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        var open: [TestSocket] = []
        for _ in 0..<2 {
            let client = try proxy.client()
            try client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try ReceivedHead.read(from: client).status == 200)
            open.append(client)
        }
        let refused = try proxy.client()
        let head = try ReceivedHead.read(from: refused)
        #expect(head.status == 503)
        open[0].close()
        usleep(100_000)
        let admitted = try proxy.client()
        try admitted.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try ReceivedHead.read(from: admitted).status == 200, "a freed slot is usable again")
    }

    @Test func aCompressedSSEResponse_isForwardedUnchanged_withoutHeartbeats() throws {
        let gzipped: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n")
            try connection.send(gzipped)
            usleep(700_000)
        }
        let settings = StreamSettings(idleTimeout: .seconds(1), heartbeatFraction: 0.2)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.header("Content-Encoding") == "gzip")
        var reader = ChunkedReader(initial: head.rest)
        #expect(try reader.readToEnd(from: client) == gzipped, "no heartbeat bytes inside a compressed stream")
        #expect(proxy.waitForLogLine(containing: ["warn", "compressed (gzip) SSE stream"]) != nil)
    }

    @Test func heartbeats_respectCRLineEnds_endToEnd() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            try connection.send(chunk("data: a\r"))
            usleep(450_000)
            try connection.send(chunk("\ndata: b\r\n\r\n"))
            try connection.send("0\r\n\r\n")
        }
        let settings = StreamSettings(idleTimeout: .seconds(1), heartbeatFraction: 0.3)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: head.rest)
        let body = String(decoding: try reader.readToEnd(from: client), as: UTF8.self)
        // After a lone CR the heartbeat starts with LF (the CR's partner) and ends with CR (paired with the
        // upstream's LF), so a client still sees one event with data "a\nb".
        #expect(body == "data: a\r\n: heartbeat\r\ndata: b\r\n\r\n")
    }
}

import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// HTTP/2 clients through a real ssekeeper on an `h2c` listener (prior knowledge), each client stream its own
/// upstream HTTP/1.1 request: SSE as DATA frames, heartbeats as DATA, flow control as back-pressure, a client's
/// RST_STREAM tearing down that stream's upstream only, drain with GOAWAY, malformed requests answered per stream.
/// Driven by `H2TestClient` (frames over a real socket); the interop suite drives curl, nghttp, h2load, Python
/// `h2` and Chromium.
@Suite(.serialized)
struct HTTP2ProxyTests {
    /// A proxy with one h2c listener routing `/` to `upstreamPort`.
    static func proxy(upstreamPort: UInt16, settings: StreamSettings = StreamSettings(), limits: Limits = Limits()) throws -> ProxyHarness {
        var config = Config(listens: [ListenAddress(host: "127.0.0.1", port: 0, transport: .h2c)])
        config.limits = limits
        config.upstreams = [Upstream(name: "app", servers: [ServerAddress(host: "127.0.0.1", port: upstreamPort)])]
        config.routes = [Route(prefix: "/", upstreamName: "app", settings: settings)]
        return try ProxyHarness(config: config)
    }

    /// An upstream answering `/events` with `count` SSE events `gap` apart, and anything else with a short body.
    /// A send that fails (the proxy closed the connection) is recorded with `noteClosed`.
    static func upstream(events count: Int = 3, gap: useconds_t = 20_000) throws -> TestUpstream {
        try TestUpstream { connection, head, upstream in
            if head.hasPrefix("GET /events") {
                do {
                    try connection.send(sseResponseHead())
                    for index in 0..<count {
                        try connection.send(chunk("id: \(index)\ndata: event \(index)\n\n"))
                        usleep(gap)
                    }
                    try connection.send("0\r\n\r\n")
                } catch {
                    upstream.noteClosed()
                    throw error
                }
            } else {
                try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nplain")
            }
        }
    }

    static func events(_ count: Int) -> String {
        (0..<count).map { "id: \($0)\ndata: event \($0)\n\n" }.joined()
    }

    @Test func anSSEStream_arrivesAsDataFrames_withAnHTTP2Head() throws {
        let upstream = try Self.upstream()
        let proxy = try Self.proxy(upstreamPort: upstream.port)
        let client = try H2TestClient(port: proxy.port)
        try client.request(1, path: "/events", extra: [("accept", "text/event-stream")])
        #expect(client.read { $0.ended.contains(1) })
        #expect(client.status(1) == 200)
        #expect(client.header(1, "content-type") == "text/event-stream")
        #expect(client.header(1, "transfer-encoding") == nil && client.header(1, "connection") == nil,
                "no connection-specific field in an HTTP/2 head (RFC 9113 §8.2.2)")
        #expect(client.body(1) == Self.events(3))
        #expect(proxy.waitForLogLine(containing: ["protocol=h2", "path=/events", "status=200", "end=completed"]) != nil)
    }

    @Test func severalStreamsOnOneConnection_eachGetTheirOwnUpstreamRequest() throws {
        let upstream = try Self.upstream()
        let proxy = try Self.proxy(upstreamPort: upstream.port)
        let client = try H2TestClient(port: proxy.port)
        for stream: UInt32 in [1, 3, 5] { try client.request(stream, path: "/events") }
        try client.request(7, path: "/plain")
        #expect(client.read { [1, 3, 5, 7].allSatisfy($0.ended.contains) })
        for stream: UInt32 in [1, 3, 5] { #expect(client.body(stream) == Self.events(3)) }
        #expect(client.body(7) == "plain")
        #expect(upstream.receivedRequests.count == 4)
        // And later, sequentially, on the same connection.
        try client.request(9, path: "/plain")
        #expect(client.read { $0.ended.contains(9) })
        #expect(client.body(9) == "plain")
    }

    @Test func aQuietStream_getsHeartbeatsAsDataFrames() throws {
        let upstream = try Self.upstream(events: 2, gap: 900_000)
        let settings = StreamSettings(idleTimeout: .seconds(1), heartbeatFraction: 0.3, heartbeatComment: "hb")
        let proxy = try Self.proxy(upstreamPort: upstream.port, settings: settings)
        let client = try H2TestClient(port: proxy.port)
        try client.request(1, path: "/events")
        #expect(client.read { $0.ended.contains(1) })
        let body = client.body(1)
        #expect(body.contains(": hb\n"), "heartbeats in: \(body)")
        let dispatched = body.replacingOccurrences(of: ": hb\n", with: "")
        #expect(dispatched == Self.events(2), "heartbeats only between events")
    }

    @Test func aClientReset_closesThatStreamsUpstreamAtOnce_andTheOthersGoOn() throws {
        let upstream = try Self.upstream(events: 40, gap: 50_000)
        let proxy = try Self.proxy(upstreamPort: upstream.port)
        let client = try H2TestClient(port: proxy.port)
        try client.request(1, path: "/events")
        try client.request(3, path: "/events")
        #expect(client.read { $0.bodies[1] != nil && $0.bodies[3] != nil })
        let resetAt = Date()
        try client.send(.rstStream(stream: 1, errorCode: .cancel))
        let deadline = Date().addingTimeInterval(3)
        while upstream.closeTimes.isEmpty, Date() < deadline { usleep(5_000) }
        let closed = try #require(upstream.closeTimes.first, "the reset stream's upstream was closed")
        #expect(closed.timeIntervalSince(resetAt) < 0.5)
        #expect(client.read(seconds: 10) { $0.ended.contains(3) })
        #expect(client.body(3) == Self.events(40), "the other stream got all its events")
        #expect(!client.ended.contains(1))
        #expect(proxy.waitForLogLine(containing: ["end=client_closed", "RST_STREAM"]) != nil)
    }

    @Test func aConnectionReset_closesTheUpstreamOfEveryStreamOnIt() throws {
        let upstream = try Self.upstream(events: 200, gap: 20_000)
        let proxy = try Self.proxy(upstreamPort: upstream.port)
        let client = try H2TestClient(port: proxy.port)
        for stream: UInt32 in [1, 3, 5] { try client.request(stream, path: "/events") }
        #expect(client.read { client in [1, 3, 5].allSatisfy { client.bodies[$0] != nil } })
        client.socket.reset()
        let deadline = Date().addingTimeInterval(3)
        while upstream.closeTimes.count < 3, Date() < deadline { usleep(10_000) }
        #expect(upstream.closeTimes.count == 3, "every stream's upstream was closed")
        for _ in 0..<100 where proxy.log.components(separatedBy: "end=client_closed").count < 4 { usleep(20_000) }
        #expect(proxy.log.components(separatedBy: "protocol=h2").count - 1 >= 3)
    }

    @Test func aShutWindow_holdsTheResponse_untilTheClientOpensIt() throws {
        let upstream = try Self.upstream(events: 20, gap: 1_000)
        let proxy = try Self.proxy(upstreamPort: upstream.port)
        // A 16-byte stream window and no WINDOW_UPDATE until the test says so.
        let client = try H2TestClient(port: proxy.port, settings: [HTTP2Setting(.initialWindowSize, 16)])
        client.returnsWindow = false
        try client.request(1, path: "/events")
        client.read(seconds: 1) { _ in false }
        #expect((client.bodies[1] ?? []).count == 16, "no more than the window")
        client.returnsWindow = true
        try client.send(.windowUpdate(stream: 1, increment: 1 << 20))
        try client.send(.windowUpdate(stream: 0, increment: 1 << 20))
        #expect(client.read { $0.ended.contains(1) })
        #expect(client.body(1) == Self.events(20), "every byte once, in order, once the window opened")
    }

    @Test func requestBodies_reachTheUpstream_withAndWithoutContentLength() throws {
        let upstream = try TestUpstream { connection, head, _ in
            // The head's read may have taken the first body bytes too.
            let split = head.components(separatedBy: "\r\n\r\n")
            var bytes = Array(split.dropFirst().joined(separator: "\r\n\r\n").utf8)
            if head.lowercased().contains("transfer-encoding: chunked") {
                try connection.receive(until: "0\r\n\r\n", into: &bytes)
            } else {
                while bytes.count < 11 { bytes += try connection.receiveSome() }
            }
            let body = "got " + String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "|")
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        }
        let proxy = try Self.proxy(upstreamPort: upstream.port)
        let client = try H2TestClient(port: proxy.port)
        try client.request(1, method: "POST", path: "/a", extra: [("content-length", "11")], endStream: false)
        try client.sendData(1, Array("hello world".utf8), endStream: true)
        try client.request(3, method: "POST", path: "/b", endStream: false)
        try client.sendData(3, Array("abc".utf8), endStream: false)
        try client.sendData(3, Array("de".utf8), endStream: true)
        #expect(client.read { $0.ended.contains(1) && $0.ended.contains(3) })
        #expect(client.body(1) == "got hello world")
        #expect(client.body(3) == "got 3|abc|2|de|0||", "a body without a length goes upstream chunked")
        let requests = upstream.receivedRequests
        #expect(requests.contains { $0.hasPrefix("POST /a HTTP/1.1") && $0.contains("Content-Length: 11") || $0.contains("content-length: 11") })
        #expect(requests.contains { $0.hasPrefix("POST /b HTTP/1.1") && $0.lowercased().contains("transfer-encoding: chunked") })
    }

    @Test func anUploadLargerThanTheStreamWindow_completes_asTheUpstreamTakesIt() throws {
        let size = 3 << 20
        let upstream = try TestUpstream { connection, head, _ in
            var received = head.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n").utf8.count
            while received < size {
                usleep(2_000)  // a slow reader: the body waits in the windows, not in ssekeeper's memory
                received += try connection.receiveSome().count
            }
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: \(String(received).utf8.count)\r\n\r\n\(received)")
        }
        let proxy = try Self.proxy(upstreamPort: upstream.port)
        let client = try H2TestClient(port: proxy.port)
        try client.request(1, method: "POST", path: "/upload", extra: [("content-length", String(size))], endStream: false)
        #expect(client.read { $0.frames.contains { if case .settings = $0 { return true } else { return false } } })
        // Send within the windows ssekeeper grants: its SETTINGS (1 MiB per stream) plus its WINDOW_UPDATEs.
        let initialStream = HTTP2ConnectionConfiguration.defaultInitialWindowSize
        let initialConnection = 65_535
        var sent = 0
        let frame = 16_384
        let deadline = Date().addingTimeInterval(30)
        while sent < size, Date() < deadline {
            let streamRoom = initialStream + (client.windowIncrements[1] ?? 0) - sent
            let connectionRoom = initialConnection + (client.windowIncrements[0] ?? 0) - sent
            let room = min(streamRoom, connectionRoom, frame, size - sent)
            if room <= 0 {
                client.read(seconds: 0.3) { _ in false }
                continue
            }
            try client.sendData(1, [UInt8](repeating: 0x61, count: room), endStream: sent + room == size)
            sent += room
        }
        #expect(sent == size, "the client could send it all within the windows (stalled at \(sent))")
        #expect(client.read(seconds: 30) { $0.ended.contains(1) })
        #expect(client.body(1) == String(size))
        #expect((client.windowIncrements[1] ?? 0) >= size - initialStream, "the stream window came back as the body moved on")
    }

    @Test func aHeldBodyThatNeverEnds_isAnswered408_afterClientHeaderTimeout() throws {
        let upstream = try Self.upstream()
        var limits = Limits()
        limits.clientHeaderTimeout = .seconds(1)
        let proxy = try Self.proxy(upstreamPort: upstream.port, limits: limits)
        let client = try H2TestClient(port: proxy.port)
        // No content-length: the body is held (checked) before the upstream sees anything, as a chunked one is.
        try client.request(1, method: "POST", path: "/upload", endStream: false)
        try client.sendData(1, Array("part".utf8), endStream: false)
        #expect(client.read(seconds: 5) { $0.ended.contains(1) })
        #expect(client.status(1) == 408)
        #expect(upstream.receivedRequests.isEmpty, "nothing was forwarded")
        try client.request(3, path: "/plain")
        #expect(client.read { $0.ended.contains(3) }, "the connection goes on")
    }

    @Test func malformedRequests_areAnsweredPerStream_andNeverForwarded() throws {
        let upstream = try Self.upstream()
        let proxy = try Self.proxy(upstreamPort: upstream.port)
        let client = try H2TestClient(port: proxy.port)
        // A space in :path would split the HTTP/1.1 request line: 400, not forwarded.
        try client.request(1, path: "/a b")
        // CONNECT is not tunnelled.
        try client.sendHeaders(3, [HPACKHeaderField(":method", "CONNECT"), HPACKHeaderField(":authority", "example.com:443")], endStream: false)
        // An upper-case field name is malformed in HTTP/2 (RFC 9113 §8.2.1): RST_STREAM PROTOCOL_ERROR.
        try client.sendHeaders(5, [HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "http"),
                                   HPACKHeaderField(":path", "/events"), HPACKHeaderField("X-Upper", "1")], endStream: true)
        // The connection still serves a good request.
        try client.request(7, path: "/plain")
        #expect(client.read { $0.ended.contains(1) && $0.ended.contains(3) && $0.resets[5] != nil && $0.ended.contains(7) })
        #expect(client.status(1) == 400)
        #expect(client.status(3) == 405)
        #expect(client.resets[5] == .protocolError)
        #expect(client.body(7) == "plain")
        #expect(upstream.receivedRequests.count == 1, "only the good request reached the upstream")
    }

    @Test func moreStreamsThanTheLimit_areRefused() throws {
        let upstream = try Self.upstream(events: 20, gap: 50_000)
        var limits = Limits()
        limits.http2MaxConcurrentStreams = 2
        let proxy = try Self.proxy(upstreamPort: upstream.port, limits: limits)
        let client = try H2TestClient(port: proxy.port)
        try client.request(1, path: "/events")
        try client.request(3, path: "/events")
        try client.request(5, path: "/events")
        #expect(client.read { $0.resets[5] != nil })
        #expect(client.resets[5] == .refusedStream)
        #expect(client.read(seconds: 10) { $0.ended.contains(1) && $0.ended.contains(3) })
    }

    @Test func draining_sendsGoaway_thenEachStreamItsRetryAndEnd() throws {
        let upstream = try Self.upstream(events: 100, gap: 50_000)
        var limits = Limits()
        limits.drainSpread = .zero
        limits.drainRetry = .milliseconds(1500)
        let proxy = try Self.proxy(upstreamPort: upstream.port, limits: limits)
        let client = try H2TestClient(port: proxy.port)
        try client.request(1, path: "/events")
        #expect(client.read { $0.body(1).contains("event 1\n\n") })
        let done = DispatchSemaphore(value: 0)
        proxy.server.drain { _ in done.signal() }
        #expect(client.read { $0.goaway != nil && $0.ended.contains(1) })
        #expect(client.goaway?.code == .noError)
        #expect(client.body(1).hasSuffix("\n\nretry: 1500\n"), "retry at an event boundary, then END_STREAM: \(client.body(1).suffix(60))")
        #expect(done.wait(timeout: .now() + 5) == .success)
    }

    @Test func aStreamReset_ridesThrough_andAReconnectOverHTTP2_getsWhatItMissed_onOneUpstreamRequest() throws {
        let backend = try RideThroughTests.PacedBackend(["id: a\ndata: one\n\n", "data: two\n\n", "id: c\ndata: three\n\n", "data: four\n\n"])
        let proxy = try Self.proxy(upstreamPort: backend.port, settings: RideThroughTests.settings())
        backend.step()
        let first = try H2TestClient(port: proxy.port)
        try first.request(1, path: "/events", extra: [("accept", "text/event-stream")])
        #expect(first.read { $0.body(1).contains("id: sk1.") && $0.body(1).hasSuffix("\n\n") })
        let id = try #require(RideThroughTests.lastID(first.body(1)))
        #expect(id.hasPrefix("sk1.") && id.hasSuffix(".1.a"))
        try first.send(.rstStream(stream: 1, errorCode: .cancel))
        #expect(proxy.waitForLogLine(containing: ["protocol=h2", "end=client_detached"]) != nil, "the stream was kept when the client reset it")

        backend.step(2)  // two and three arrive while nobody is attached
        usleep(200_000)
        let second = try H2TestClient(port: proxy.port)
        try second.request(1, path: "/events", extra: [("accept", "text/event-stream"), ("last-event-id", id)])
        #expect(second.read { $0.body(1).contains("data: three\n") })
        #expect(second.status(1) == 200)
        #expect(!second.body(1).contains("data: one"), "nothing the client had is sent again")
        #expect(second.body(1).contains("data: two\nid: sk1."), "missed events are replayed with their ids")
        backend.step()
        #expect(second.read { $0.body(1).contains("data: four\n") })
        #expect(backend.upstream.connectionCount == 1, "the backend saw one request")
    }

    @Test func aStreamWhoseWindowStaysShut_isResetAfterClientSendTimeout_andItsUpstreamClosed() throws {
        let upstream = try Self.upstream(events: 200, gap: 10_000)
        var settings = StreamSettings()
        settings.clientSendTimeout = .seconds(1)
        let proxy = try Self.proxy(upstreamPort: upstream.port, settings: settings)
        let client = try H2TestClient(port: proxy.port, settings: [HTTP2Setting(.initialWindowSize, 64)])
        client.returnsWindow = false
        try client.request(1, path: "/events")
        #expect(client.read(seconds: 8) { $0.resets[1] != nil }, "the stalled stream was reset")
        #expect(client.resets[1] == .internalError)
        let deadline = Date().addingTimeInterval(3)
        while upstream.closeTimes.isEmpty, Date() < deadline { usleep(10_000) }
        #expect(!upstream.closeTimes.isEmpty, "its upstream was closed")
        #expect(proxy.waitForLogLine(containing: ["protocol=h2", "end=client_stalled"]) != nil)
    }

    @Test func anH2cListener_stillServesHTTP1() throws {
        let upstream = try Self.upstream()
        let proxy = try Self.proxy(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET /plain HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200)
        #expect(head.statusLine.hasPrefix("HTTP/1.1"))
    }

    @Test func aSilentConnection_isPinged() throws {
        let upstream = try Self.upstream(events: 1, gap: 3_000_000)
        let settings = StreamSettings(idleTimeout: .seconds(2), heartbeatFraction: 0.5)
        let proxy = try Self.proxy(upstreamPort: upstream.port, settings: settings)
        let client = try H2TestClient(port: proxy.port)
        try client.request(1, path: "/events")
        #expect(client.read(seconds: 4) { client in client.frames.contains { if case .ping = $0 { return true } else { return false } } })
    }
}

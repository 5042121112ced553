import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// What SSE clients get when the upstream cannot be reached or breaks, and the per-client connection limit.
@Suite(.serialized)
struct SSEUnavailableTests {
    static let sseRequest = "GET /events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\nLast-Event-ID: 12\r\n\r\n"

    @Test func reconnectMode_answersAnUnreachableUpstream_with200EventStream_retryAndAnErrorEvent() throws {
        let proxy = try ProxyHarness(upstreamPort: closedPort(), settings: StreamSettings(sseRetry: .seconds(2)))
        let client = try proxy.client()
        try client.send(Self.sseRequest)
        let response = String(decoding: try client.receiveAll(), as: UTF8.self)
        #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(response.contains("\r\nContent-Type: text/event-stream\r\n"))
        let body = response.components(separatedBy: "\r\n\r\n")[1]
        #expect(body.hasPrefix("retry: 2000\nid: 12\nevent: error\ndata: {\"status\":502,\"reason\":\"upstream pool0 unreachable: "))
        #expect(body.hasSuffix("\"}\n\n"))
        #expect(proxy.waitForLogLine(containing: ["path=/events", "status=200", "502 answered as an SSE error event"]) != nil)
    }

    @Test func reconnectMode_leavesNonSSERequests_withTheir502() throws {
        let proxy = try ProxyHarness(upstreamPort: closedPort())
        let client = try proxy.client()
        try client.send("GET /page HTTP/1.1\r\nHost: t\r\nAccept: text/html\r\n\r\n")
        #expect(try ReceivedHead.read(from: client).status == 502)
    }

    @Test func statusMode_answers502_withRetryAfter() throws {
        let settings = StreamSettings(sseUnavailable: .status)
        let proxy = try ProxyHarness(upstreamPort: closedPort(), settings: settings)
        let client = try proxy.client()
        try client.send(Self.sseRequest)
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 502)
        #expect(head.header("Retry-After") == "5", "the default delay when the route sets no sse_retry")
    }

    /// Streams `first` through a proxy with `sse_upstream_error_event on`, then resets the upstream; returns the
    /// body the client got and whether its final chunk came.
    static func bodyAfterUpstreamReset(sending first: String) throws -> (body: String, finished: Bool) {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead() + chunk(first))
            usleep(100_000)
            connection.reset()
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: StreamSettings(sseUpstreamErrorEvent: true))
        let client = try proxy.client()
        try client.send(sseRequest)
        let head = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: head.rest)
        var received = ""
        while let piece = try? reader.nextChunk(from: client), !piece.isEmpty {
            received += String(decoding: piece, as: UTF8.self)
        }
        return (received, reader.finished)
    }

    @Test func upstreamErrorEvent_isSentWhenTheUpstreamBreaksBetweenEvents_withoutRewindingItsLastEventID() throws {
        let (received, finished) = try Self.bodyAfterUpstreamReset(sending: "id: 3\ndata: three\n\n")
        // No `id: 12` (the request's Last-Event-ID): the client's last event ID is 3 now, and must stay 3.
        #expect(received.hasPrefix("id: 3\ndata: three\n\nevent: error\ndata: {\"status\":502,\"reason\":\"upstream connection failed: "))
        #expect(!finished, "no final chunk: the client still learns the response is incomplete")
    }

    @Test func upstreamErrorEvent_beforeTheUpstreamsFirstEvent_keepsTheRequestsLastEventID() throws {
        // Before the stream's first blank line the client's buffer is empty: dispatching without `id: 12` would
        // clear the ID it reconnected with.
        let (received, _) = try Self.bodyAfterUpstreamReset(sending: ": warming up\n")
        #expect(received.hasPrefix(": warming up\nid: 12\nevent: error\ndata: {\"status\":502,"))
    }

    @Test func upstreamErrorEvent_isNotSentInsideAnUnfinishedEvent() throws {
        let (received, _) = try Self.bodyAfterUpstreamReset(sending: "data: half\n")
        #expect(received == "data: half\n")
    }

    @Test func maxConnectionsPerIP_refusesTheNextConnection_with503AndRetryAfter() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
        var limits = Limits()
        limits.maxConnectionsPerClient = 2
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        let held = [try proxy.client(), try proxy.client()]
        usleep(50_000)
        let third = try proxy.client()
        let head = try ReceivedHead.read(from: third)
        #expect(head.status == 503)
        #expect(head.header("Retry-After") == "1")
        #expect(proxy.waitForLogLine(containing: ["max_connections_per_ip 2 reached for 127.0.0.1"]) != nil)
        held[0].close()
        usleep(100_000)
        let fourth = try proxy.client()
        try fourth.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(String(decoding: try fourth.receiveAll(), as: UTF8.self).hasSuffix("ok"), "a closed connection frees its slot")
    }
}

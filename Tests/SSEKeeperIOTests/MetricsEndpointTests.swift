import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// `/metrics` scraped by a real client while real traffic flows: every scrape is parsed line by line by the
/// strict exposition reader, and the values must move with the traffic.
@Suite(.serialized)
struct MetricsEndpointTests {
    @Test func anSSEStream_movesEveryStreamFigure_fromOpenThroughHeartbeatsToAQuietClientClose() throws {
        let head = sseResponseHead()
        let one = chunk("data: one\n\n"), two = chunk("data: two\n\n")
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(head)
            try connection.send(one)
            usleep(1_200_000)
            try connection.send(two)
            _ = try? connection.secondsUntilClosed()
        }
        // Heartbeat after 1s x 0.3 = 300 ms of silence.
        let settings = StreamSettings(idleTimeout: .seconds(1), heartbeatFraction: 0.3, heartbeatComment: "hb")
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings, observe: loopbackAdmin)
        let route = ["route": "/"]

        let before = try proxy.scrape()
        #expect(before.value("ssekeeper_open_streams", route) == 0)
        #expect(before.value("ssekeeper_requests_total", ["route": "/", "code": "2xx"]) == 0)

        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        let received = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: received.rest)
        #expect(String(decoding: try reader.nextChunk(from: client), as: UTF8.self) == "data: one\n\n")

        let open = try proxy.scrape()
        #expect(open.value("ssekeeper_open_streams", route) == 1)
        #expect(open.value("ssekeeper_active_requests", route) == 1)
        #expect(open.value("ssekeeper_open_connections") == 1)
        #expect(open.value("ssekeeper_upstream_received_bytes_total", route) == Double(head.utf8.count + one.utf8.count))
        #expect((open.value("ssekeeper_client_sent_bytes_total", route) ?? 0) > Double(one.utf8.count))

        var heartbeatsSeen = 0
        while true {
            let data = String(decoding: try reader.nextChunk(from: client), as: UTF8.self)
            if data == "data: two\n\n" { break }
            #expect(data == ": hb\n")
            heartbeatsSeen += 1
        }
        #expect(heartbeatsSeen >= 2, "1.2 s of upstream quiet at a 300 ms interval")
        let flowing = try proxy.scrape()
        #expect((flowing.value("ssekeeper_heartbeats_sent_total", route) ?? 0) >= Double(heartbeatsSeen))
        #expect(flowing.value("ssekeeper_heartbeats_skipped_total", route) == 0)
        // The 1.2 s gap before "two" is one observation above 1 s; the head-to-"one" gap (if "one" came in a
        // read of its own) is a tiny one.
        let gaps = try #require(flowing.value("ssekeeper_upstream_quiet_seconds_count", route))
        #expect(gaps >= 1 && gaps <= 2)
        #expect(flowing.value("ssekeeper_upstream_quiet_seconds_bucket", ["route": "/", "le": "1"]) == gaps - 1)
        #expect(flowing.value("ssekeeper_upstream_quiet_seconds_bucket", ["route": "/", "le": "2.5"]) == gaps)
        #expect((flowing.value("ssekeeper_upstream_quiet_seconds_sum", route) ?? 0) > 1.1)

        // Quiet again for longer than a heartbeat interval, then the client side closes: the passive measurement.
        usleep(700_000)
        client.close()
        let closed = try proxy.scrape { $0.value("ssekeeper_open_streams", route) == 0 }
        #expect(closed.value("ssekeeper_open_streams", route) == 0)
        #expect(closed.value("ssekeeper_active_requests", route) == 0)
        #expect(closed.value("ssekeeper_open_connections") == 0)
        #expect(closed.value("ssekeeper_requests_total", ["route": "/", "code": "2xx"]) == 1)
        #expect(closed.value("ssekeeper_quiet_client_closes_total", route) == 1)
        #expect(closed.value("ssekeeper_quiet_client_close_age_seconds_count", route) == 1)
        let age = try #require(closed.value("ssekeeper_quiet_client_close_age_seconds_sum", route))
        #expect(age > 1.7 && age < 6, "the stream lived about 1.9 s, got \(age)")
        #expect(closed.value("ssekeeper_quiet_client_close_age_seconds_bucket", ["route": "/", "le": "1"]) == 0)
        #expect(closed.value("ssekeeper_quiet_client_close_age_seconds_bucket", ["route": "/", "le": "5"]) == 1)
        #expect(closed.value("ssekeeper_stream_duration_seconds_count", route) == 1)
        #expect(closed.value("ssekeeper_teardown_seconds_count", route) == 1)
        #expect((closed.value("ssekeeper_teardown_seconds_sum", route) ?? 1) < 0.1)
        #expect(closed.value("ssekeeper_upstream_received_bytes_total", route) == Double(head.utf8.count + one.utf8.count + two.utf8.count))

        // The counters agree with the stream's access record.
        let record = try #require(proxy.waitForLogLine(containing: ["end=client_closed"]))
        let fields = Dictionary(record.split(separator: " ").compactMap { part -> (String, String)? in
            guard let equals = part.firstIndex(of: "=") else { return nil }
            return (String(part[..<equals]), String(part[part.index(after: equals)...]))
        }, uniquingKeysWith: { first, _ in first })
        #expect(closed.value("ssekeeper_client_sent_bytes_total", route) == fields["bytes"].flatMap(Double.init))
        #expect(closed.value("ssekeeper_heartbeats_sent_total", route) == fields["heartbeats"].flatMap(Double.init))
    }

    @Test func anUpstreamPausedMidLine_countsSkippedHeartbeats_notSentOnes() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            try connection.send(chunk("data: half a li"))
            usleep(800_000)
            try connection.send(chunk("ne\n\n"))
            try connection.send("0\r\n\r\n")
        }
        let settings = StreamSettings(idleTimeout: .seconds(1), heartbeatFraction: 0.2)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings, observe: loopbackAdmin)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: head.rest)
        #expect(String(decoding: try reader.readToEnd(from: client), as: UTF8.self) == "data: half a line\n\n")
        let metrics = try proxy.scrape { $0.value("ssekeeper_open_streams", ["route": "/"]) == 0 }
        #expect((metrics.value("ssekeeper_heartbeats_skipped_total", ["route": "/"]) ?? 0) >= 2, "800 ms mid-line at a 200 ms interval")
        #expect(metrics.value("ssekeeper_heartbeats_sent_total", ["route": "/"]) == 0)
        #expect(metrics.value("ssekeeper_requests_total", ["route": "/", "code": "2xx"]) == 1)
        #expect(metrics.value("ssekeeper_quiet_client_closes_total", ["route": "/"]) == 0, "the upstream ended this stream")
    }

    @Test func connectErrorsAndRejections_areCountedByKindAndReason() throws {
        let proxy = try ProxyHarness(routes: [(prefix: "/", ports: [closedPort()], settings: StreamSettings())], observe: loopbackAdmin)
        let refused = try proxy.client()
        try refused.send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try ReceivedHead.read(from: refused).status == 502)

        let smuggling = try proxy.client()
        try smuggling.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(try ReceivedHead.read(from: smuggling).status == 400)

        let long = try proxy.client()
        try long.send("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try ReceivedHead.read(from: long).status == 414)

        let metrics = try proxy.scrape { $0.value("ssekeeper_requests_total", ["route": "none", "code": "4xx"]) == 2 }
        #expect(metrics.value("ssekeeper_upstream_connect_errors_total", ["route": "/", "kind": "refused"]) == 1)
        #expect(metrics.value("ssekeeper_upstream_connect_errors_total", ["route": "/", "kind": "timeout"]) == 0)
        #expect(metrics.value("ssekeeper_requests_total", ["route": "/", "code": "5xx"]) == 1)
        #expect(metrics.value("ssekeeper_rejected_requests_total", ["reason": "bad_request"]) == 1)
        #expect(metrics.value("ssekeeper_rejected_requests_total", ["reason": "too_large"]) == 1)
        #expect(metrics.value("ssekeeper_rejected_requests_total", ["reason": "max_connections"]) == 0)
        #expect(metrics.value("ssekeeper_requests_total", ["route": "none", "code": "4xx"]) == 2)
        #expect(metrics.value("ssekeeper_connections_accepted_total") == 3)
    }

    @Test func connectionsOverMaxConnections_areCountedAsRejected() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            _ = try? connection.secondsUntilClosed()
        }
        var limits = Limits()
        limits.maxConnections = 1
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits, observe: loopbackAdmin)
        let first = try proxy.client()
        try first.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = try ReceivedHead.read(from: first)
        let second = try proxy.client()
        #expect(try ReceivedHead.read(from: second).status == 503)
        let metrics = try proxy.scrape()
        #expect(metrics.value("ssekeeper_rejected_requests_total", ["reason": "max_connections"]) == 1)
        #expect(metrics.value("ssekeeper_open_connections") == 1)
    }

    @Test func scrapingTheAdminEndpoint_isNotProxiedTraffic() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port, observe: loopbackAdmin)
        for _ in 0..<3 {
            let metrics = try proxy.scrape()
            _ = try AdminResponse.get("/healthz", port: proxy.adminPort)
            _ = try AdminResponse.get("/nope", port: proxy.adminPort)
            #expect(metrics.value("ssekeeper_connections_accepted_total") == 0)
            #expect(metrics.value("ssekeeper_open_connections") == 0)
            #expect(metrics.samples("ssekeeper_requests_total").allSatisfy { $0.value == 0 })
            #expect(metrics.samples("ssekeeper_rejected_requests_total").allSatisfy { $0.value == 0 })
            #expect(metrics.value("ssekeeper_client_sent_bytes_total", ["route": "/"]) == 0)
        }
        let client = try proxy.client()
        try client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(String(decoding: try client.receiveAll(), as: UTF8.self).hasSuffix("\r\n\r\nok"))
        let after = try proxy.scrape { $0.value("ssekeeper_requests_total", ["route": "/", "code": "2xx"]) == 1 }
        #expect(after.value("ssekeeper_requests_total", ["route": "/", "code": "2xx"]) == 1)
        #expect(after.value("ssekeeper_connections_accepted_total") == 1)
    }

    @Test func streamsOnSeveralLoops_areMergedIntoOneScrape() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            try connection.send(chunk("data: x\n\n"))
            _ = try? connection.secondsUntilClosed()
        }
        let proxy = try ProxyHarness(routes: [(prefix: "/", ports: [upstream.port], settings: StreamSettings())],
                                     observe: loopbackAdmin, loopCount: 2)
        var clients: [TestSocket] = []
        for index in 0..<6 {
            let client = try proxy.client()
            try client.send("GET /s\(index) HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try ReceivedHead.read(from: client)
            var reader = ChunkedReader(initial: head.rest)
            _ = try reader.nextChunk(from: client)
            clients.append(client)
        }
        let metrics = try proxy.scrape()
        #expect(metrics.value("ssekeeper_open_streams", ["route": "/"]) == 6)
        #expect(metrics.value("ssekeeper_active_requests", ["route": "/"]) == 6)
        let streams = try AdminResponse.get("/streams", port: proxy.adminPort)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(streams.body.utf8)) as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["path"] as? String }) == Set((0..<6).map { "/s\($0)" }))
        clients.forEach { $0.close() }
        let closed = try proxy.scrape { $0.value("ssekeeper_open_streams", ["route": "/"]) == 0 }
        #expect(closed.value("ssekeeper_open_streams", ["route": "/"]) == 0)
        #expect(closed.value("ssekeeper_stream_duration_seconds_count", ["route": "/"]) == 6)
    }
}

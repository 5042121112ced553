import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// The probe endpoint over real sockets: one event, complete silence (no heartbeats, even with a short
/// heartbeat interval), a final event, and a warning when a client is cut during the silence.
@Suite(.serialized)
struct ProbeEndpointTests {
    static func harness(maxSilence: Duration = .seconds(900)) throws -> (ProxyHarness, TestUpstream) {
        let upstream = try TestUpstream { connection, _, _ in try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nup") }
        let settings = StreamSettings(idleTimeout: .seconds(1), heartbeatFraction: 0.1)
        let proxy = try ProxyHarness(routes: [(prefix: "/", ports: [upstream.port], settings: settings)],
                                     probe: ProbeSettings(path: "/.ssekeeper/probe", maxSilence: maxSilence))
        return (proxy, upstream)
    }

    @Test func aProbe_sendsOneEvent_staysSilentForTheAskedTime_thenEnds() throws {
        let (proxy, upstream) = try Self.harness()
        let client = try proxy.client()
        let start = Date()
        try client.send("GET /.ssekeeper/probe?silence=600ms HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200)
        #expect(head.header("Content-Type") == "text/event-stream")
        var reader = ChunkedReader(initial: head.rest)
        let first = String(decoding: try reader.nextChunk(from: client), as: UTF8.self)
        #expect(first.hasPrefix("event: probe-start\ndata: {\"server_time_ms\": "))
        #expect(first.contains("\"silence_ms\": 600}"))
        let second = String(decoding: try reader.nextChunk(from: client), as: UTF8.self)
        let elapsed = Date().timeIntervalSince(start)
        #expect(second.hasPrefix("event: probe-end\n"), "nothing but the final event after the silence: \(second.debugDescription)")
        #expect(elapsed > 0.55 && elapsed < 3, "the silence lasted \(elapsed) s")
        #expect(try reader.nextChunk(from: client).isEmpty)
        #expect(upstream.connectionCount == 0, "the probe never goes upstream")
        try client.send("GET /after HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(try ReceivedHead.read(from: client).status == 200, "the connection is kept after a probe")
    }

    @Test func aBusyPhase_sendsCommentsForItsTime_thenTheSilence_thenTheEnd() throws {
        let (proxy, _) = try Self.harness()
        let client = try proxy.client()
        let start = Date()
        try client.send("GET /.ssekeeper/probe?busy=500ms&silence=400ms HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: head.rest)
        #expect(String(decoding: try reader.nextChunk(from: client), as: UTF8.self).contains("\"silence_ms\": 400, \"busy_ms\": 500}"))
        var ticks = 0
        var lastTick = start
        while true {
            let chunk = String(decoding: try reader.nextChunk(from: client), as: UTF8.self)
            guard chunk == ": probe-busy\n\n" else {
                #expect(chunk.hasPrefix("event: probe-end\n"), "\(chunk.debugDescription)")
                break
            }
            ticks += 1
            lastTick = Date()
        }
        let silence = Date().timeIntervalSince(lastTick)
        #expect(ticks >= 4 && ticks <= 6, "a comment every 100 ms for 500 ms: \(ticks)")
        #expect(lastTick.timeIntervalSince(start) > 0.45, "the comments last the busy phase")
        #expect(silence > 0.35 && silence < 1.5, "then the asked silence: \(silence) s")
    }

    @Test func theSilence_isCappedByProbeMaxSilence() throws {
        let (proxy, _) = try Self.harness(maxSilence: .milliseconds(200))
        let client = try proxy.client()
        try client.send("GET /.ssekeeper/probe?silence=1h HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: head.rest)
        #expect(String(decoding: try reader.nextChunk(from: client), as: UTF8.self).contains("\"silence_ms\": 200}"))
        #expect(String(decoding: try reader.nextChunk(from: client), as: UTF8.self).hasPrefix("event: probe-end"))
    }

    @Test func aBadSilence_gets400() throws {
        let (proxy, _) = try Self.harness()
        let client = try proxy.client()
        try client.send("GET /.ssekeeper/probe?silence=soon HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try ReceivedHead.read(from: client).status == 400)
    }

    @Test func aClientCutDuringTheSilence_isLoggedWithTheSilenceThatPassed() throws {
        let (proxy, _) = try Self.harness()
        let client = try proxy.client()
        try client.send("GET /.ssekeeper/probe?silence=30s HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = try ReceivedHead.read(from: client)
        usleep(300_000)
        client.close()
        let line = proxy.waitForLogLine(containing: ["warn", "probe /.ssekeeper/probe", "cut after"])
        #expect(line != nil, "\(proxy.log)")
        #expect(proxy.waitForLogLine(containing: ["path=/.ssekeeper/probe", "end=client_closed"]) != nil)
    }
}

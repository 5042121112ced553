import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// SSE through a real ssekeeper over 127.0.0.1: latency, heartbeats, teardown. Serialized: these measure time,
/// and the margins are generous because CI machines are shared 2-core boxes.
@Suite(.serialized)
struct SSEStreamingTests {
    @Test func smallEvents_arriveWithin50ms_ofTheUpstreamSendingThem() throws {
        let sendTimes = TimesBox()
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            for index in 0..<10 {
                usleep(30_000)
                sendTimes.append(Date())
                try connection.send(chunk("data: event \(index)\n\n"))
            }
            try connection.send("0\r\n\r\n")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200)
        #expect(head.header("Transfer-Encoding") == "chunked")
        var reader = ChunkedReader(initial: head.rest)
        var latencies: [Double] = []
        for index in 0..<10 {
            let data = try reader.nextChunk(from: client)
            let arrived = Date()
            #expect(String(decoding: data, as: UTF8.self) == "data: event \(index)\n\n")
            latencies.append(arrived.timeIntervalSince(sendTimes.values[index]))
        }
        let worst = latencies.max()!
        #expect(worst < 0.050, "worst event latency \(worst * 1000) ms")
        #expect(try reader.nextChunk(from: client).isEmpty, "the clean end of the upstream stream ends the client's response")
    }

    @Test func aQuietUpstream_yieldsHeartbeats_atTheConfiguredInterval() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            try connection.send(chunk("data: first\n\n"))
            usleep(1_600_000)
            try connection.send(chunk("data: second\n\n"))
            try connection.send("0\r\n\r\n")
        }
        // Heartbeat after 1s x 0.3 = 300 ms of silence: about 5 in the 1.6 s pause.
        let settings = StreamSettings(idleTimeout: .seconds(1), heartbeatFraction: 0.3, heartbeatComment: "hb")
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: head.rest)
        var pieces: [(Date, String)] = []
        while !reader.finished {
            let data = try reader.nextChunk(from: client)
            pieces.append((Date(), String(decoding: data, as: UTF8.self)))
        }
        let heartbeats = pieces.filter { $0.1 == ": hb\n" }
        #expect((4...6).contains(heartbeats.count), "got \(heartbeats.count) heartbeats: \(pieces.map(\.1))")
        let gaps = zip(heartbeats.dropFirst(), heartbeats).map { $0.0.0.timeIntervalSince($0.1.0) }
        for gap in gaps {
            #expect(gap > 0.2 && gap < 0.5, "heartbeat gap \(gap) s, configured 0.3 s")
        }
        #expect(pieces.first?.1 == "data: first\n\n")
        #expect(pieces.dropLast().last?.1 == "data: second\n\n")
        #expect(proxy.waitForLogLine(containing: ["end=completed", "heartbeats=\(heartbeats.count)"]) != nil)
    }

    @Test func anActiveUpstream_yieldsNoHeartbeats() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            for index in 0..<12 {
                try connection.send(chunk("data: \(index)\n\n"))
                usleep(100_000)
            }
            try connection.send("0\r\n\r\n")
        }
        let settings = StreamSettings(idleTimeout: .seconds(1), heartbeatFraction: 0.3)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: head.rest)
        let body = String(decoding: try reader.readToEnd(from: client), as: UTF8.self)
        #expect(!body.contains("heartbeat"), "events every 100 ms leave no 300 ms silence: \(body.debugDescription)")
        #expect(body == (0..<12).map { "data: \($0)\n\n" }.joined())
    }

    @Test(arguments: [false, true])
    func aClientClose_makesTheUpstreamSeeEOF_quickly(reset: Bool) throws {
        let closeSeen = TimesBox()
        let upstream = try TestUpstream { connection, _, upstream in
            try connection.send(sseResponseHead())
            try connection.send(chunk("data: hello\n\n"))
            connection.setReceiveTimeout(seconds: 5)
            _ = try? connection.secondsUntilClosed()
            closeSeen.append(Date())
            upstream.noteClosed()
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: head.rest)
        _ = try reader.nextChunk(from: client)
        usleep(100_000)
        let closedAt = Date()
        if reset { client.reset() } else { client.close() }
        let deadline = Date().addingTimeInterval(3)
        while closeSeen.values.isEmpty && Date() < deadline { usleep(1_000) }
        let seen = try #require(closeSeen.values.first, "the upstream never saw the close")
        let delay = seen.timeIntervalSince(closedAt)
        #expect(delay < 0.1, "upstream saw the close after \(delay * 1000) ms")
        #expect(proxy.waitForLogLine(containing: ["end=client_closed", "status=200"]) != nil)
    }

    @Test func sseRetry_isSentFirst_andTheUpstreamStreamFollowsUnchanged() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            try connection.send(chunk("id: 7\ndata: x\n\n"))
            try connection.send("0\r\n\r\n")
        }
        var settings = StreamSettings()
        settings.sseRetry = .milliseconds(2500)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.header("Cache-Control") == "no-cache, no-transform")
        #expect(head.header("X-Accel-Buffering") == "no")
        var reader = ChunkedReader(initial: head.rest)
        let body = String(decoding: try reader.readToEnd(from: client), as: UTF8.self)
        #expect(body == "retry: 2500\nid: 7\ndata: x\n\n", "retry takes effect on its own line; no blank line before the upstream's first event")
    }

    @Test func anHTTP10Client_getsTheStreamCloseDelimited_withHeartbeats() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            try connection.send(chunk("data: a\n\n"))
            usleep(500_000)
            try connection.send(chunk("data: b\n\n"))
            try connection.send("0\r\n\r\n")
        }
        let settings = StreamSettings(idleTimeout: .seconds(1), heartbeatFraction: 0.3)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.0\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.header("Transfer-Encoding") == nil)
        let body = String(decoding: head.rest + (try client.receiveAll()), as: UTF8.self)
        #expect(body == "data: a\n\n: heartbeat\ndata: b\n\n")
    }

    @Test func anUpstreamThatBreaksMidStream_breaksTheClientConnection_withoutAFinalChunk() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            try connection.send(chunk("data: a\n\n"))
            usleep(50_000)
            connection.close()
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: head.rest)
        #expect(try reader.nextChunk(from: client) == Array("data: a\n\n".utf8))
        #expect(throws: TestError.self) { _ = try reader.nextChunk(from: client) }
        #expect(proxy.waitForLogLine(containing: ["end=upstream_closed"]) != nil)
    }

    @Test func aClientThatStopsReading_backPressuresTheUpstream_andLaterGetsEveryByteInOrder() throws {
        let written = CounterBox()
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead(chunked: false))
            let line = Array(("data: " + String(repeating: "x", count: 1000) + "\n\n").utf8)
            // Non-blocking so the writer notices the proxy stopped reading instead of blocking forever.
            let flags = fcntl(connection.fd, F_GETFL)
            _ = fcntl(connection.fd, F_SETFL, flags | O_NONBLOCK)
            let start = Date()
            var pending = line[...]
            while Date().timeIntervalSince(start) < 2 || pending.count != line.count {
                let sent = pending.withUnsafeBytes { send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent > 0 {
                    written.add(sent)
                    pending = pending.dropFirst(sent)
                    if pending.isEmpty { pending = line[...] }
                } else {
                    usleep(1_000)
                }
            }
        }
        var limits = Limits()
        limits.maxBufferedBytes = 64 * 1024
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        usleep(2_300_000)
        // What may legitimately sit in socket buffers: the upstream's send buffer, the proxy's receive and send
        // buffers (kernel autotuning maxima) and the proxy's own cap. Without back-pressure the proxy would have
        // read hundreds of MiB from a loopback upstream in two seconds.
        let bound = 2 * kernelBufferMax("tcp_wmem") + kernelBufferMax("tcp_rmem") + 2 * limits.maxBufferedBytes + 1024 * 1024
        #expect(written.value < bound, "upstream wrote \(written.value) bytes into a client that never read (bound \(bound))")
        #expect(written.value > 0)

        // The client resumes: it gets every byte the upstream wrote, in order (the upstream has stopped and closed).
        client.setReceiveTimeout(seconds: 10)
        let head = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: head.rest)
        let body = try reader.readToEnd(from: client)
        let line = Array(("data: " + String(repeating: "x", count: 1000) + "\n\n").utf8)
        #expect(body.count == written.value, "received \(body.count) of \(written.value) bytes")
        var offset = 0
        while offset < body.count {
            let end = min(offset + line.count, body.count)
            guard body[offset..<end].elementsEqual(line[0..<(end - offset)]) else {
                Issue.record("bytes out of order at offset \(offset)")
                break
            }
            offset = end
        }
    }
}

/// Thread-safe list of timestamps for tests.
final class TimesBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Date] = []
    func append(_ date: Date) { lock.withLock { stored.append(date) } }
    var values: [Date] { lock.withLock { stored } }
}

final class CounterBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = 0
    func add(_ amount: Int) { lock.withLock { stored += amount } }
    var value: Int { lock.withLock { stored } }
}

/// The third (maximum) value of /proc/sys/net/ipv4/NAME.
func kernelBufferMax(_ name: String) -> Int {
    let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/\(name)", encoding: .utf8)) ?? ""
    return text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }.last ?? 8 * 1024 * 1024
}

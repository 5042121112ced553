import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// Peers that stop without a word: a client that never reads again, an upstream that stalls mid-body or goes silent,
/// and the slow reader and the quiet-but-live backend that must not be mistaken for them. Real sockets on 127.0.0.1.
/// (Peers whose packets vanish altogether need a private network namespace: `Benchmarks/deadpeers/run.py`.)
@Suite(.serialized)
struct DeadPeerTests {
    /// An upstream that writes 1 KiB events as fast as the proxy takes them, until a write fails; it records when.
    static func floodingUpstream(written: CounterBox, seconds: Double = 20) throws -> TestUpstream {
        try TestUpstream { connection, _, upstream in
            try connection.send(sseResponseHead(chunked: false))
            let event = Array(("data: " + String(repeating: "x", count: 1000) + "\n\n").utf8)
            let flags = fcntl(connection.fd, F_GETFL)
            _ = fcntl(connection.fd, F_SETFL, flags | O_NONBLOCK)
            let start = Date()
            var pending = event[...]
            while Date().timeIntervalSince(start) < seconds {
                let sent = pending.withUnsafeBytes { send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent > 0 {
                    written.add(sent)
                    pending = pending.dropFirst(sent)
                    if pending.isEmpty { pending = event[...] }
                } else if sent < 0, errno != EAGAIN, errno != EWOULDBLOCK {
                    upstream.noteClosed()
                    return
                } else {
                    usleep(2_000)
                }
            }
        }
    }

    /// An SSE upstream that sends `events` events of 1,000 `fill` bytes each, ten at a time with `pauseMicroseconds`
    /// between them (paced, so the stream is still open while a client pauses: the kernel buffers alone could hold all
    /// of it, and the stream would end before the client paused).
    static func pacedUpstream(events: Int, fill: Character, pauseMicroseconds: UInt32) throws -> TestUpstream {
        let event = "data: " + String(repeating: fill, count: 1000) + "\n\n"
        return try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead(chunked: false))
            for index in 0..<events {
                try connection.send(event)
                if index % 10 == 9 { usleep(pauseMicroseconds) }
            }
        }
    }

    /// A client with a 16 KiB receive buffer (its window closes soon after it stops reading) that asked for
    /// `/events` with `Connection: close`, and the response head it got.
    static func smallWindowStream(through proxy: ProxyHarness) throws -> (TestSocket, ReceivedHead) {
        let client = try proxy.client()
        var small: Int32 = 16 * 1024
        setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        client.setReceiveTimeout(seconds: 10)
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        return (client, try ReceivedHead.read(from: client))
    }

    @Test func aClientThatNeverReads_isClosed_afterClientSendTimeout_andTheUpstreamIsTornDown() throws {
        let written = CounterBox()
        let upstream = try Self.floodingUpstream(written: written)
        var settings = StreamSettings()
        settings.clientSendTimeout = .seconds(1)
        var limits = Limits()
        limits.maxBufferedBytes = 64 * 1024
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings, limits: limits)
        let client = try proxy.client()
        var small: Int32 = 4096
        setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        let start = Date()
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        // The client never reads. Its buffers and the proxy's fill within a second or so; then nothing is
        // acknowledged for client_send_timeout (1 s), and the next check (every 250 ms) closes the client.
        let line = proxy.waitForLogLine(containing: ["end=client_stalled"], seconds: 12)
        #expect(line != nil, "no client_stalled record; log:\n\(proxy.log)")
        let deadline = Date().addingTimeInterval(5)
        while upstream.closeTimes.isEmpty && Date() < deadline { usleep(20_000) }
        let upstreamToldAfter = upstream.closeTimes.first.map { $0.timeIntervalSince(start) }
        #expect(upstreamToldAfter != nil, "the upstream kept writing for nobody")
        #expect((upstreamToldAfter ?? 99) < 10, "the upstream saw its connection end \(upstreamToldAfter ?? -1) s after the request")
        #expect(line?.contains("client_send_timeout") == true || proxy.log.contains("client_send_timeout"))
    }

    @Test func aSlowReaderThatPausesShorterThanTheTimeout_losesNothing() throws {
        // An event stream (heartbeats on, so the watch looks at the client on the stream's own deadlines), big
        // enough that the buffers fill during each pause; nothing is acknowledged while the client sleeps.
        let events = 3_000
        let upstream = try Self.pacedUpstream(events: events, fill: "x", pauseMicroseconds: 10_000)  // about 1 MB/s
        var settings = StreamSettings(idleTimeout: .milliseconds(600), heartbeatFraction: 0.5)
        settings.clientSendTimeout = .seconds(3)
        var limits = Limits()
        limits.maxBufferedBytes = 64 * 1024
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings, limits: limits)
        let (client, head) = try Self.smallWindowStream(through: proxy)
        #expect(head.status == 200)
        var body = head.rest
        var pauses = 0
        while true {
            if body.count > (pauses + 1) * 512 * 1024 && pauses < 4 {
                usleep(800_000)  // well under client_send_timeout 3s: the buffers fill, nothing is acknowledged
                pauses += 1
            }
            let bytes = try client.receiveSome()
            if bytes.isEmpty { break }
            body += bytes
        }
        let received = String(decoding: body, as: UTF8.self).components(separatedBy: "data: x").count - 1
        #expect(received == events, "received \(received) of \(events) events")
        #expect(pauses == 4)
        #expect(!proxy.log.contains("client_stalled"))
    }

    @Test func aReaderPausedLongerThanClientAckTimeout_butUnderClientSendTimeout_losesNothing() throws {
        // Linux also ends a connection whose receive window stays closed for TCP_USER_TIMEOUT, answered probes or
        // not; the proxy holds that off while the client is alive but paused, so only client_send_timeout judges it.
        let events = 1_000
        // About 2.5 s in all: the pause starts mid-stream.
        let upstream = try Self.pacedUpstream(events: events, fill: "y", pauseMicroseconds: 25_000)
        var settings = StreamSettings(idleTimeout: .milliseconds(600), heartbeatFraction: 0.5)
        settings.clientSendTimeout = .seconds(5)
        var limits = Limits()
        limits.clientAckTimeout = .milliseconds(1500)
        limits.maxBufferedBytes = 64 * 1024
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings, limits: limits)
        let (client, head) = try Self.smallWindowStream(through: proxy)
        #expect(head.status == 200)
        var body = head.rest
        var paused = false
        while true {
            if !paused && body.count > 256 * 1024 {
                sleep(3)  // past client_ack_timeout (1.5 s), under client_send_timeout (5 s)
                paused = true
            }
            let bytes: [UInt8]
            do { bytes = try client.receiveSome() } catch {
                Issue.record("\(error) after \(body.count) bytes; log:\n\(proxy.log)")
                break
            }
            if bytes.isEmpty { break }
            body += bytes
        }
        let received = String(decoding: body, as: UTF8.self).components(separatedBy: "data: y").count - 1
        #expect(received == events, "received \(received) of \(events) events; log:\n\(proxy.log)")
        #expect(!proxy.log.contains("client_dead") && !proxy.log.contains("client_stalled"))
    }

    @Test func anUpstreamThatStallsMidBody_isCut_afterUpstreamReadTimeout() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nfirst ten.")
            _ = try? connection.secondsUntilClosed()
        }
        var settings = StreamSettings()
        settings.upstreamReadTimeout = .milliseconds(500)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings)
        let client = try proxy.client()
        client.setReceiveTimeout(seconds: 10)
        let start = Date()
        try client.send("GET /report HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200)
        let rest = head.rest + (try client.receiveAll())
        let elapsed = Date().timeIntervalSince(start)
        #expect(String(decoding: rest, as: UTF8.self) == "first ten.", "a cut response keeps what came and stops short")
        #expect(elapsed >= 0.45 && elapsed < 5, "cut after \(elapsed) s")
        #expect(proxy.waitForLogLine(containing: ["end=upstream_read_timeout"]) != nil, "log:\n\(proxy.log)")
    }

    @Test func aSilentSSEUpstream_endsTheStream_afterSSEMaxSilence_withAnErrorEvent() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead(chunked: true))
            let event = "data: hello\n\n"
            try connection.send(String(event.utf8.count, radix: 16) + "\r\n" + event + "\r\n")
            _ = try? connection.secondsUntilClosed()
        }
        var settings = StreamSettings(idleTimeout: .milliseconds(400), heartbeatFraction: 0.5, sseUpstreamErrorEvent: true)
        settings.sseMaxSilence = .milliseconds(900)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings)
        let client = try proxy.client()
        client.setReceiveTimeout(seconds: 10)
        let start = Date()
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200)
        let body = String(decoding: head.rest + (try client.receiveAll()), as: UTF8.self)
        let elapsed = Date().timeIntervalSince(start)
        #expect(body.contains("data: hello"))
        #expect(body.contains(": heartbeat"), "heartbeats go on while the upstream is silent: \(body)")
        #expect(body.contains("event: error"), "the client is told before the end: \(body)")
        #expect(elapsed >= 0.85 && elapsed < 5, "ended after \(elapsed) s")
        #expect(proxy.waitForLogLine(containing: ["end=upstream_silent"]) != nil, "log:\n\(proxy.log)")
    }

    @Test func aQuietButLiveUpstream_isNotDisturbed_byUpstreamDeadTimeout() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead(chunked: false))
            try connection.send("data: one\n\n")
            usleep(4_500_000)  // quiet past upstream_dead_timeout: its kernel answers the keepalive probes
            try connection.send("data: two\n\n")
            _ = try? connection.secondsUntilClosed()
        }
        var limits = Limits()
        limits.upstreamDeadTimeout = .seconds(3)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: StreamSettings(idleTimeout: .seconds(2)), limits: limits)
        let client = try proxy.client()
        client.setReceiveTimeout(seconds: 10)
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        var buffer: [UInt8] = []
        try client.receive(until: "data: two", into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self).contains("data: one"))
        #expect(!proxy.log.contains("upstream_dead"))
    }
}

/// The kernel timers behind `client_ack_timeout` and `upstream_dead_timeout`, read back from the proxy's own sockets
/// (what the kernel then does with them is measured in `Benchmarks/deadpeers/run.py`, with packets really dropped).
@Suite(.serialized)
struct DeadPeerSocketOptionTests {
    static func intOption(_ fd: Int32, _ level: Int32, _ name: Int32) -> Int32 {
        var value: Int32 = -1
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, level, name, &value, &length)
        return value
    }

    /// The client connection's and its stream's upstream descriptors, read on the loop.
    static func descriptors(_ proxy: ProxyHarness) -> (client: Int32, upstream: Int32)? {
        let loop = proxy.server.group.loops[0]
        return loop.queue.sync {
            for case let connection as HTTP1Connection in loop.sessions.values {
                if let upstream = connection.stream?.upstream { return (connection.client.fd, upstream.fd) }
            }
            return nil
        }
    }

    static func openStream(_ limits: Limits) throws -> (ProxyHarness, TestSocket, TestUpstream) {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead(chunked: false))
            try connection.send("data: one\n\n")
            _ = try? connection.secondsUntilClosed()
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        let client = try proxy.client()
        client.setReceiveTimeout(seconds: 5)
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        var seen: [UInt8] = []
        try client.receive(until: "data: one\n\n", into: &seen)
        return (proxy, client, upstream)
    }

    @Test func clientAckTimeout_isTheClientSocketsUserTimeout_andUpstreamDeadTimeout_setsKeepaliveAndUserTimeout_aQuarterOfItIn() throws {
        var limits = Limits()
        limits.clientAckTimeout = .milliseconds(7_500)
        limits.upstreamDeadTimeout = .seconds(12)
        let (proxy, client, upstream) = try Self.openStream(limits)
        let fds = try #require(Self.descriptors(proxy))
        let tcp = Int32(IPPROTO_TCP)
        #expect(Self.intOption(fds.client, tcp, 18 /* TCP_USER_TIMEOUT */) == 7_500)
        // The upstream's watch is turned on 3 s (a quarter of the timeout) after the connect, not at it: a stream
        // that ends sooner never pays for it (see `ProxyStream.watchUpstreamLater`).
        #expect(Self.intOption(fds.upstream, SOL_SOCKET, SO_KEEPALIVE) == 0, "not yet at the first event")
        #expect(Self.intOption(fds.upstream, tcp, 18) == 0)
        let deadline = Date().addingTimeInterval(10)
        while Self.intOption(fds.upstream, tcp, 18) == 0, Date() < deadline { usleep(50_000) }
        #expect(Self.intOption(fds.upstream, tcp, 18) == 12_000)
        #expect(Self.intOption(fds.upstream, SOL_SOCKET, SO_KEEPALIVE) == 1)
        #expect(Self.intOption(fds.upstream, tcp, TCP_KEEPIDLE) == 6)
        #expect(Self.intOption(fds.upstream, tcp, TCP_KEEPINTVL) == 2)
        // At least 3 probes (set to 3 only where the system's default allows fewer): the user timeout then ends a
        // silent connection at 6 + 3 × 2 = 12 s, never earlier.
        #expect(Self.intOption(fds.upstream, tcp, TCP_KEEPCNT) >= 3)
        withExtendedLifetime((client, upstream)) {}
    }

    @Test func aReloadedClientAckTimeout_appliesToConnectionsAcceptedAfterIt_andTheClientGetsNoDelay() throws {
        var limits = Limits()
        limits.clientAckTimeout = .milliseconds(7_500)
        let (proxy, first, upstream) = try Self.openStream(limits)
        let tcp = Int32(IPPROTO_TCP)
        let before = try #require(Self.descriptors(proxy))
        #expect(Self.intOption(before.client, tcp, 18) == 7_500)
        #expect(Self.intOption(before.client, tcp, TCP_NODELAY) == 1, "inherited from the listening socket")
        var config = proxy.server.config
        config.limits.clientAckTimeout = .milliseconds(4_200)
        try proxy.server.reload(config: config)
        first.close()
        for _ in 0..<100 where Self.descriptors(proxy) != nil { usleep(10_000) }
        let second = try proxy.client()
        second.setReceiveTimeout(seconds: 5)
        try second.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        var seen: [UInt8] = []
        try second.receive(until: "data: one\n\n", into: &seen)
        let after = try #require(Self.descriptors(proxy))
        #expect(Self.intOption(after.client, tcp, 18) == 4_200, "a connection accepted after the reload has the new value")
        withExtendedLifetime((second, upstream)) {}
    }

    @Test func off_leavesTheKernelsDefaults() throws {
        var limits = Limits()
        limits.clientAckTimeout = nil
        limits.upstreamDeadTimeout = nil
        let (proxy, client, upstream) = try Self.openStream(limits)
        let fds = try #require(Self.descriptors(proxy))
        #expect(Self.intOption(fds.client, Int32(IPPROTO_TCP), 18) == 0)
        #expect(Self.intOption(fds.upstream, Int32(IPPROTO_TCP), 18) == 0)
        #expect(Self.intOption(fds.upstream, SOL_SOCKET, SO_KEEPALIVE) == 0)
        withExtendedLifetime((client, upstream)) {}
    }
}

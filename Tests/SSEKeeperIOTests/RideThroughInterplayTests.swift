import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// Client ride-through with the rest of the proxy (issue 15, point 7) over real sockets: `upstream_resume` in the
/// same stream, back-pressure of a full replay buffer, `client_resume_memory`, a position no longer buffered,
/// draining, and `/streams`.
@Suite(.serialized)
struct RideThroughInterplayTests {
    typealias Ride = RideThroughTests

    static func counters(_ proxy: ProxyHarness) -> RouteCounters {
        let loop = proxy.server.group.loops[0]
        return loop.queue.sync { loop.metrics.route("/").counters }
    }

    /// The `data:` values a client dispatched, in order, from everything it received (chunked framing removed
    /// roughly: only `data:` lines are read).
    static func dataValues(_ text: String) -> [String] {
        // Split on LF bytes: in a `String`, CR LF is one character and would hide the LF.
        text.utf8.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
            .filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
    }

    @Test func aBackendRestartAndAClientBlip_inTheSameStream_loseNothing() throws {
        let release = DispatchSemaphore(value: 0)
        let upstream = try TestUpstream { connection, request, _ in
            try connection.send(sseResponseHead(chunked: true))
            if request.contains("Last-Event-ID: 1\r\n") {
                try connection.send(chunk("id: 2\ndata: two\n\n"))
                _ = try? connection.secondsUntilClosed()
            } else {
                try connection.send(chunk("id: 1\ndata: one\n\n"))
                release.wait()
                // The backend restarts: its connection ends mid-stream.
            }
        }
        var settings = Ride.settings()
        settings.upstreamResume = .on
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings)
        let (first, _, id) = try Ride.openUntilID(proxy)
        first.close()
        _ = proxy.waitForLogLine(containing: ["client_detached"])
        release.signal()
        #expect(proxy.waitForLogLine(containing: ["resumed from upstream"]) != nil, "the upstream was resumed while the client was away")
        let (second, back) = try Ride.open(proxy, headers: "Last-Event-ID: \(id)\r\n", until: "data: two\n")
        second.close()
        #expect(Self.dataValues(back) == ["two"])
        #expect(upstream.connectionCount == 2)
        #expect(upstream.receivedRequests.allSatisfy { !$0.contains("sk1.") }, "the backend never sees ssekeeper's ids")
    }

    @Test func aFullReplayBuffer_pausesTheUpstream_andTheClientThatComesBackGetsEveryEvent() throws {
        let release = DispatchSemaphore(value: 0)
        let events = (1...60).map { "data: \($0) " + String(repeating: "x", count: 200) + "\n\n" }
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead(chunked: false))
            try connection.send("data: 0\n\n")
            release.wait()
            try connection.send(events.joined())
            _ = try? connection.secondsUntilClosed()
        }
        var settings = Ride.settings()
        settings.clientResumeBuffer = 4096
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings)
        let (first, _, id) = try Ride.openUntilID(proxy)
        first.close()
        _ = proxy.waitForLogLine(containing: ["client_detached"])
        release.signal()
        usleep(300_000)
        let held = Self.counters(proxy).resumeBufferBytes
        #expect(held >= 4096 && held < 4096 + 64 * 1024 + 1024, "the ring stops near its budget (\(held) bytes)")
        let (second, text) = try Ride.open(proxy, headers: "Last-Event-ID: \(id)\r\n", until: "data: 60 ")
        var all = Array(text.utf8)
        try second.receive(until: "id: sk1.", into: &all)  // noop when present; the last event's id follows
        second.close()
        let numbers = Self.dataValues(String(decoding: all, as: UTF8.self)).compactMap { Int($0.split(separator: " ")[0]) }
        #expect(numbers == Array(1...60), "every event once, in order, none lost to the full buffer")
    }

    @Test func clientResumeMemory_endsTheStreamDetachedLongest_first() throws {
        let upstream = try TestUpstream { connection, request, _ in
            try connection.send(sseResponseHead(chunked: false))
            for index in 1...3 { try connection.send("data: \(index) " + String(repeating: "y", count: 1000) + "\n\n") }
            _ = try? connection.secondsUntilClosed()
        }
        var settings = Ride.settings()
        settings.clientResumeBuffer = 4096
        var limits = Limits()
        limits.clientResumeMemory = 6000
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings, limits: limits)
        let (a, _) = try Ride.open(proxy, path: "/a", until: "data: 3 ")
        a.close()
        _ = proxy.waitForLogLine(containing: ["path=/a", "client_detached"])
        let (b, _) = try Ride.open(proxy, path: "/b", until: "data: 3 ")
        #expect(proxy.waitForLogLine(containing: ["path=/a", "resume_evicted"]) != nil, "the detached stream ends first")
        b.close()
        #expect(Self.counters(proxy).resumeEvicted == 1)
        #expect(Self.counters(proxy).resumeBufferBytes <= 6000)
    }

    @Test func aMatchingReconnectForEventsNoLongerBuffered_endsTheOldStream_andIsANewRequest() throws {
        let upstream = try TestUpstream { connection, request, _ in
            try connection.send(sseResponseHead(chunked: false))
            for index in 1...10 { try connection.send("data: \(index) " + String(repeating: "z", count: 1000) + "\n\n") }
            _ = try? connection.secondsUntilClosed()
        }
        var settings = Ride.settings()
        settings.clientResumeBuffer = 4096
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings)
        let (first, seen, _) = try Ride.openUntilID(proxy)
        var rest = Array(seen.utf8)
        try first.receive(until: "data: 10 ", into: &rest)
        let firstID = try #require(rest.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
            .first { $0.hasPrefix("id: ") }).dropFirst(4)
        #expect(firstID.hasSuffix(".1"))
        // The client claims to have only the first event: the ring (4 KiB) no longer holds the second.
        let second: TestSocket
        (second, _) = try Ride.open(proxy, headers: "Last-Event-ID: \(firstID)\r\n", until: "data: 10 ")
        second.close()
        #expect(try first.secondsUntilClosed() < 2, "the old stream ended, and its connection with it")
        #expect(proxy.waitForLogLine(containing: ["resume_lost"]) != nil)
        #expect(upstream.connectionCount == 2)
        #expect(Self.counters(proxy).resumeUnattachable == 1)
    }

    @Test func drain_endsDetachedStreamsAtOnce_andGivesAttachedOnesTheirRetry() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead(chunked: false))
            try connection.send("data: one\n\n")
            _ = try? connection.secondsUntilClosed()
        }
        var limits = Limits()
        limits.drainSpread = .zero
        limits.drainRetry = .milliseconds(750)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: Ride.settings(window: .seconds(60)), limits: limits)
        let (away, _) = try Ride.open(proxy, path: "/away", until: "data: one\n")
        away.close()
        _ = proxy.waitForLogLine(containing: ["path=/away", "client_detached"])
        let (here, _) = try Ride.open(proxy, path: "/here", until: "data: one\n")
        let result = DrainAndReloadTests.drain(proxy)
        #expect(proxy.waitForLogLine(containing: ["path=/away", "end=draining"], seconds: 3) != nil, "the detached stream ends at once")
        let rest = String(decoding: try here.receiveAll(), as: UTF8.self)
        #expect(rest.contains("retry: 750\n"), "the attached stream gets its retry:")
        here.close()
        for _ in 0..<150 where result.load() != 0 { usleep(20_000) }
        #expect(result.load() == 0, "the drain completes with nothing open")
    }

    @Test func aReload_keepsDetachedStreams_andTheirClientsStillReattach() throws {
        // The first event at once, the second when the test says (`step`).
        let backend = try RideThroughTests.PacedBackend(["data: one\n\n", "data: two\n\n"])
        backend.step()
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Ride.settings())
        let (first, _, id) = try Ride.openUntilID(proxy)
        first.close()
        _ = proxy.waitForLogLine(containing: ["client_detached"])
        // A reload with another heartbeat setting: the stream started with the old one and is kept.
        var next = proxy.server.config
        next.routes[0] = next.routes[0].with { $0.heartbeatFraction = 0.5 }
        try proxy.server.reload(config: next)
        backend.step()
        let (second, back) = try Ride.open(proxy, headers: "Last-Event-ID: \(id)\r\n", until: "data: two\n")
        second.close()
        #expect(Self.dataValues(back) == ["two"])
        #expect(backend.upstream.connectionCount == 1)
    }

    @Test func streamsPage_listsADetachedStream_withItsBuffer() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead(chunked: false))
            try connection.send("data: one\n\n")
            _ = try? connection.secondsUntilClosed()
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: Ride.settings())
        let (away, _) = try Ride.open(proxy, until: "data: one\n")
        away.close()
        _ = proxy.waitForLogLine(containing: ["client_detached"])
        usleep(100_000)
        let page = proxy.server.streamsDocument()
        #expect(page.contains("\"detached_s\":") && !page.contains("\"detached_s\":null"), "the row shows the stream detached: \(page)")
        #expect(page.contains("\"replay_buffer_bytes\":"))
        #expect(!page.contains("\"replay_buffer_bytes\":0,"), "the ring holds the event: \(page)")
    }
}

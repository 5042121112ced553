import Foundation
import Glibc
import Synchronization
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// One process with several event loops (`event_loops`) reads as one server (issue 16): a ride-through reconnect
/// accepted on another loop is handed to its stream's loop; the limits, `/streams` and the metrics are the
/// process's. Run under ThreadSanitizer in CI (`swift test --sanitize=thread --filter SeveralLoops`).
@Suite(.serialized)
struct SeveralLoopsTests {
    static func proxy(upstreamPort: UInt16, settings: StreamSettings, limits: Limits = Limits(), loops: Int = 2) throws -> ProxyHarness {
        try ProxyHarness(routes: [(prefix: "/", ports: [upstreamPort], settings: settings)], limits: limits, loopCount: loops)
    }

    @Test func aReconnectAcceptedOnAnotherLoop_isHandedToItsStreamsLoop_andReattaches() throws {
        // The first event at once, the second when the test says (`step`).
        let backend = try RideThroughTests.PacedBackend(["id: a\ndata: one\n\n", "data: two\n\n"])
        backend.step()
        let proxy = try Self.proxy(upstreamPort: backend.port, settings: RideThroughTests.settings())
        let loops = proxy.server.group.loops
        // Connections go to the loops round-robin: the reconnect lands on the other loop than the stream's.
        let (first, _, id) = try RideThroughTests.openUntilID(proxy)
        let streamLoop = try #require(loops.first { loop in loop.queue.sync { !loop.rideThrough.streams.isEmpty } })
        first.close()
        _ = proxy.waitForLogLine(containing: ["client_detached"])
        backend.step()
        usleep(100_000)
        let (second, back) = try RideThroughTests.open(proxy, headers: "Last-Event-ID: \(id)\r\n", until: "data: two\n")
        #expect(!back.contains("data: one"))
        #expect(backend.upstream.connectionCount == 1, "the backend saw one request")
        #expect(streamLoop.queue.sync { streamLoop.metrics.route("/").counters.resumeReattached } == 1)
        let handedOver = loops.map { loop in loop.queue.sync { loop.metrics.process.connectionsHandedOver } }.reduce(0, +)
        #expect(handedOver == 1, "the reconnect was accepted on the other loop and handed over")
        // The reattached connection now lives on the stream's loop.
        #expect(streamLoop.queue.sync { streamLoop.sessions.count } >= 1)
        second.close()
    }

    @Test func manyReconnects_overSeveralLoops_eachReattachToTheirOwnStream() throws {
        let streams = 24
        let gate = DispatchSemaphore(value: 0)
        let upstream = try TestUpstream { connection, request, _ in
            let name = request.split(separator: " ")[1]
            try connection.send(sseResponseHead(chunked: false))
            try connection.send("data: \(name) one\n\n")
            gate.wait()
            try connection.send("data: \(name) two\n\n")
            _ = try? connection.secondsUntilClosed()
        }
        let proxy = try Self.proxy(upstreamPort: upstream.port, settings: RideThroughTests.settings(), loops: 4)
        var ids: [String] = []
        for index in 0..<streams {
            let (client, _, id) = try RideThroughTests.openUntilID(proxy, path: "/s\(index)")
            ids.append(id)
            client.close()
        }
        let stampedIDs = ids
        for _ in 0..<streams { gate.signal() }
        usleep(200_000)
        // Reconnect all at once, from several threads.
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: streams) { index in
            do {
                let (client, text) = try RideThroughTests.open(proxy, path: "/s\(index)", headers: "Last-Event-ID: \(stampedIDs[index])\r\n",
                                                                until: "/s\(index) two\n")
                if text.contains("/s\(index) one") { failures.withLock { $0.append("\(index): replayed what it had") } }
                client.close()
            } catch {
                failures.withLock { $0.append("\(index): \(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(upstream.connectionCount == streams, "one backend request per stream, none for the reconnects")
        let reattached = proxy.server.group.loops.map { loop in loop.queue.sync { loop.metrics.route("/").counters.resumeReattached } }
        #expect(reattached.reduce(0, +) == UInt64(streams))
    }

    @Test func maxConnections_holdsForTheProcess_notPerLoop() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead(chunked: false))
            try connection.send("data: one\n\n")
            _ = try? connection.secondsUntilClosed()
        }
        var limits = Limits()
        limits.maxConnections = 3
        let proxy = try Self.proxy(upstreamPort: upstream.port, settings: StreamSettings(), limits: limits, loops: 2)
        var open: [TestSocket] = []
        for _ in 0..<3 {
            let (client, _) = try RideThroughTests.open(proxy, until: "data: one\n")
            open.append(client)
        }
        let fourth = try proxy.client()
        fourth.setReceiveTimeout(seconds: 5)
        try? fourth.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        let answer = String(decoding: (try? fourth.receiveAll()) ?? [], as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 503"), "the fourth connection is refused, whichever loop it would go to")
        open.forEach { $0.close() }
    }

    @Test func theLimitOnAllReplayBuffers_holdsForTheProcess() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead(chunked: false))
            for index in 1...3 { try connection.send("data: \(index) " + String(repeating: "y", count: 1000) + "\n\n") }
            _ = try? connection.secondsUntilClosed()
        }
        var settings = RideThroughTests.settings()
        settings.clientResumeBuffer = 4096
        var limits = Limits()
        limits.clientResumeMemory = 6000
        let proxy = try Self.proxy(upstreamPort: upstream.port, settings: settings, limits: limits, loops: 2)
        // Two streams on two loops: together they pass the cap, and the one detached ends.
        let (a, _) = try RideThroughTests.open(proxy, path: "/a", until: "data: 3 ")
        a.close()
        _ = proxy.waitForLogLine(containing: ["path=/a", "client_detached"])
        let (b, _) = try RideThroughTests.open(proxy, path: "/b", until: "data: 3 ")
        b.close()
        let loops = proxy.server.group.loops
        let held = loops.map { loop in loop.queue.sync { loop.metrics.route("/").counters.resumeBufferBytes } }.reduce(0, +)
        #expect(held <= 6000, "the process holds at most client_resume_memory (\(held))")
    }

    @Test func http2Connections_onSeveralLoops_eachServeTheirStreams_andTheMetricsAddUp() throws {
        let upstream = try HTTP2ProxyTests.upstream(events: 5, gap: 5_000)
        var config = Config(listens: [ListenAddress(host: "127.0.0.1", port: 0, transport: .h2c)])
        config.upstreams = [Upstream(name: "app", servers: [ServerAddress(host: "127.0.0.1", port: upstream.port)])]
        config.routes = [Route(prefix: "/", upstreamName: "app", settings: StreamSettings())]
        let proxy = try ProxyHarness(config: config, loopCount: 2)
        let clients = try (0..<6).map { _ in try H2TestClient(port: proxy.port) }
        for client in clients {
            for stream: UInt32 in [1, 3, 5] { try client.request(stream, path: "/events") }
        }
        for client in clients {
            #expect(client.read { client in [1, 3, 5].allSatisfy(client.ended.contains) })
            for stream: UInt32 in [1, 3, 5] { #expect(client.body(stream) == HTTP2ProxyTests.events(5)) }
        }
        let loops = proxy.server.group.loops
        let perLoop = loops.map { loop in loop.queue.sync { loop.metrics.process.http2Connections } }
        #expect(perLoop.reduce(0, +) == 6)
        #expect(perLoop.allSatisfy { $0 > 0 }, "both loops served HTTP/2 connections: \(perLoop)")
        #expect(loops.map { loop in loop.queue.sync { loop.metrics.process.http2Streams } }.reduce(0, +) == 18)
    }
}

import Foundation
import Glibc
import Synchronization
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// SIGTERM's drain and SIGHUP's reload, driven through `ProxyServer` over real sockets, and through the real binary.
@Suite(.serialized)
struct DrainAndReloadTests {
    /// An upstream that answers SSE, sends `first`, then whatever the test pushes through `feed` (one write each).
    final class FeedUpstream: @unchecked Sendable {
        let feed = Mutex<[String]>([])
        let closed = Atomic<Bool>(false)
        var upstream: TestUpstream!

        init(first: String) throws {
            upstream = try TestUpstream { [self] connection, _, _ in
                try connection.send(sseResponseHead() + chunk(first))
                connection.setReceiveTimeout(seconds: 0.02)
                while true {
                    let next = feed.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                    if let next { try connection.send(chunk(next)) }
                    if (try? connection.receiveSome()) == [] { closed.store(true, ordering: .relaxed); return }
                }
            }
        }

        func push(_ text: String) { feed.withLock { $0.append(text) } }
    }

    static func sseRequest(_ path: String = "/events") -> String {
        "GET \(path) HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n"
    }

    static func config(listenPort: UInt16 = 0, routes: [(prefix: String, port: UInt16, settings: StreamSettings)],
                       limits: Limits = Limits()) -> Config {
        var config = Config(listens: [ListenAddress(host: "127.0.0.1", port: listenPort)])
        for (index, route) in routes.enumerated() {
            config.upstreams.append(Upstream(name: "pool\(index)", servers: [ServerAddress(host: "127.0.0.1", port: route.port)]))
            config.routes.append(Route(prefix: route.prefix, upstreamName: "pool\(index)", settings: route.settings))
        }
        config.limits = limits
        return config
    }

    /// What `drain`'s completion reported: -1 until it runs, then the connections still open.
    final class DrainResult: Sendable {
        let open = Atomic<Int>(-1)
        func load() -> Int { open.load(ordering: .relaxed) }
    }

    static func drain(_ proxy: ProxyHarness) -> DrainResult {
        let result = DrainResult()
        proxy.server.drain { open in result.open.store(open, ordering: .relaxed) }
        return result
    }

    @Test func drain_endsAnSSEStreamWithRetry_andAFinalChunk_thenCompletesWithNothingOpen() throws {
        let backend = try FeedUpstream(first: "id: 1\ndata: one\n\n")
        var limits = Limits()
        limits.drainRetry = .milliseconds(750)
        limits.drainSpread = .zero
        let proxy = try ProxyHarness(upstreamPort: backend.upstream.port, limits: limits)
        let client = try proxy.client()
        try client.send(Self.sseRequest())
        let head = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: head.rest)
        #expect(String(decoding: try reader.nextChunk(from: client), as: UTF8.self) == "id: 1\ndata: one\n\n")

        let result = Self.drain(proxy)
        let rest = String(decoding: try reader.readToEnd(from: client), as: UTF8.self)
        #expect(rest == "retry: 750\n", "the client is told to come back soon, and nothing else is added")
        #expect(reader.finished, "the response ends cleanly with its final chunk")
        #expect(try client.secondsUntilClosed() < 2)
        client.close()
        for _ in 0..<100 where result.load() != 0 { usleep(20_000) }
        #expect(result.load() == 0)
        #expect(proxy.server.isDraining)
        #expect(proxy.waitForLogLine(containing: ["path=/events", "end=draining"]) != nil)
        #expect((try? TestSocket.connect(port: proxy.port)) == nil, "a draining proxy accepts no new connection")
    }

    @Test func drain_waitsForTheEventInFlight_beforeEndingTheStream() throws {
        let backend = try FeedUpstream(first: "data: first line of two\n")
        var limits = Limits()
        limits.drainSpread = .zero
        let proxy = try ProxyHarness(upstreamPort: backend.upstream.port, limits: limits)
        let client = try proxy.client()
        try client.send(Self.sseRequest())
        let head = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: head.rest)
        #expect(String(decoding: try reader.nextChunk(from: client), as: UTF8.self) == "data: first line of two\n")
        _ = Self.drain(proxy)
        client.setReceiveTimeout(seconds: 0.3)
        #expect((try? client.receiveSome()) == nil, "nothing may be injected inside the upstream's unfinished event")
        client.setReceiveTimeout(seconds: 5)
        backend.push("data: second\n\n")
        let rest = String(decoding: try reader.readToEnd(from: client), as: UTF8.self)
        #expect(rest == "data: second\n\nretry: 1000\n")
    }

    @Test func drain_endsAStreamWhoseHeadCameAfterItStarted_insteadOfWaitingForDrainTimeout() throws {
        let headNow = DispatchSemaphore(value: 0)
        let upstream = try TestUpstream { connection, _, _ in
            headNow.wait()
            try connection.send(sseResponseHead(chunked: false))
            try connection.send("data: one\n\n")
            _ = try? connection.secondsUntilClosed()
        }
        var limits = Limits()
        limits.drainSpread = .zero
        limits.drainRetry = .milliseconds(600)
        limits.drainTimeout = .seconds(10)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        let client = try proxy.client()
        client.setReceiveTimeout(seconds: 5)
        try client.send(Self.sseRequest())
        usleep(200_000)  // the request is upstream, waiting for its head
        let result = Self.drain(proxy)
        usleep(100_000)
        headNow.signal()
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200)
        var reader = ChunkedReader(initial: head.rest)
        let started = Date()
        let body = String(decoding: try reader.readToEnd(from: client), as: UTF8.self)
        // The drain may reach the stream before the backend's first event arrives (then the client reconnects
        // elsewhere for it) or just after: either way it ends with its retry: at an event boundary.
        #expect(body == "retry: 600\n" || body == "data: one\n\nretry: 600\n", "the late stream gets its retry: and its end")
        #expect(Date().timeIntervalSince(started) < 3, "ended by the drain, not by drain_timeout")
        client.close()
        for _ in 0..<100 where result.load() != 0 { usleep(20_000) }
        #expect(result.load() == 0)
    }

    /// Opens `count` SSE streams through `proxy` and reads each one's first event (`data: one`).
    static func openStreams(_ count: Int, through proxy: ProxyHarness) throws -> [(TestSocket, ChunkedReader)] {
        try (0..<count).map { _ in
            let client = try proxy.client()
            try client.send(Self.sseRequest())
            let head = try ReceivedHead.read(from: client)
            var reader = ChunkedReader(initial: head.rest)
            #expect(String(decoding: try reader.nextChunk(from: client), as: UTF8.self) == "data: one\n\n")
            return (client, reader)
        }
    }

    /// Once a response is complete, flushed and half-closed, nothing is left to wait for: the drain must not wait
    /// the 5 s linger for each client to close its side (it used to, so every `systemctl stop` took 5 s more).
    @Test func drain_ofSixStreams_completesWellUnderASecond_withoutWaitingForTheClientsToClose() throws {
        let backend = try FeedUpstream(first: "data: one\n\n")
        var limits = Limits()
        limits.drainSpread = .zero
        let proxy = try ProxyHarness(upstreamPort: backend.upstream.port, limits: limits)
        var streams = try Self.openStreams(6, through: proxy)
        let started = Date()
        let result = Self.drain(proxy)
        for _ in 0..<150 where result.load() < 0 { usleep(10_000) }
        let drained = Date().timeIntervalSince(started)
        #expect(result.load() == 0, "every connection ended")
        #expect(drained < 1, "the drain took \(drained) s")
        #expect(proxy.server.openConnectionCount == 0)
        for index in streams.indices {
            let rest = String(decoding: try streams[index].1.readToEnd(from: streams[index].0), as: UTF8.self)
            #expect(rest == "retry: 1000\n")
            #expect(streams[index].1.finished, "the response ended with its final chunk")
            #expect(try streams[index].0.secondsUntilClosed() < 1, "and the connection with a FIN, not a reset")
            streams[index].0.close()
        }
    }

    /// `drain_spread 1s`: forty streams end at random points of the window, each with its own `retry:` around
    /// `drain_retry`, instead of all in the same instant; all within `drain_timeout`.
    @Test func drainSpread_spreadsTheEndsOfFortyStreams_overTheWindow_withJitteredRetries() throws {
        let backend = try FeedUpstream(first: "data: one\n\n")
        var limits = Limits()
        limits.drainSpread = .seconds(1)
        limits.drainTimeout = .seconds(3)
        let proxy = try ProxyHarness(upstreamPort: backend.upstream.port, limits: limits)
        let streams = try Self.openStreams(40, through: proxy)
        let endings = Mutex<[(seconds: Double, rest: String, finished: Bool)]>([])
        let group = DispatchGroup()
        let started = Date()
        let result = Self.drain(proxy)
        for (client, initial) in streams {
            let thread = Thread {
                var reader = initial
                let rest = (try? reader.readToEnd(from: client)).map { String(decoding: $0, as: UTF8.self) } ?? "(failed)"
                let seconds = Date().timeIntervalSince(started)
                endings.withLock { $0.append((seconds, rest, reader.finished)) }
                group.leave()
            }
            group.enter()
            thread.start()
        }
        #expect(group.wait(timeout: .now() + 5) == .success)
        for _ in 0..<100 where result.load() < 0 { usleep(10_000) }
        #expect(result.load() == 0)
        let seen = endings.withLock { $0 }
        #expect(seen.count == 40)
        #expect(seen.allSatisfy { $0.finished }, "every stream ended cleanly")
        let retries = seen.compactMap { ending -> Int? in
            guard ending.rest.hasPrefix("retry: "), ending.rest.hasSuffix("\n") else { return nil }
            return Int(ending.rest.dropFirst("retry: ".count).dropLast())
        }
        #expect(retries.count == 40, "\(seen.map(\.rest))")
        #expect(retries.allSatisfy { (500..<1500).contains($0) }, "\(retries.sorted())")
        #expect(Set(retries).count > 10, "the retry values are jittered: \(retries.sorted())")
        var buckets = [Int](repeating: 0, count: 31)
        for ending in seen { buckets[min(30, Int(ending.seconds * 10))] += 1 }
        #expect(seen.allSatisfy { $0.seconds < 1.5 }, "all within the spread (and drain_timeout 3s): \(buckets)")
        #expect(buckets.allSatisfy { $0 <= 40 / 3 }, "no 100 ms holds more than a third of the ends: \(buckets)")
        #expect(buckets.filter { $0 > 0 }.count >= 6, "the ends cover the window: \(buckets)")
        for (client, _) in streams { client.close() }
    }

    @Test func drain_letsAPlainResponseInFlightFinish_withConnectionClose() throws {
        let upstream = try TestUpstream { connection, _, _ in
            usleep(300_000)
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(100_000)
        let result = Self.drain(proxy)
        let response = String(decoding: try client.receiveAll(), as: UTF8.self)
        #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(response.contains("\r\nConnection: close\r\n"))
        #expect(response.hasSuffix("\r\n\r\nhello"))
        client.close()
        for _ in 0..<100 where result.load() != 0 { usleep(20_000) }
        #expect(result.load() == 0)
    }

    @Test func drain_givesUpAtDrainTimeout_reportingWhatIsStillOpen() throws {
        let backend = try FeedUpstream(first: "data: an event that never ends\n")
        var limits = Limits()
        limits.drainTimeout = .milliseconds(500)
        let proxy = try ProxyHarness(upstreamPort: backend.upstream.port, limits: limits)
        let client = try proxy.client()
        try client.send(Self.sseRequest())
        _ = try ReceivedHead.read(from: client)
        let started = Date()
        let result = Self.drain(proxy)
        for _ in 0..<200 where result.load() < 0 { usleep(20_000) }
        #expect(result.load() == 1)
        #expect(Date().timeIntervalSince(started) >= 0.45)
        #expect(Date().timeIntervalSince(started) < 3)
    }

    @Test func reload_appliesToNewRequests_whileAnOpenStreamKeepsItsHeartbeats() throws {
        let backend = try FeedUpstream(first: "data: old\n\n")
        let newUpstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnew")
        }
        let fast = StreamSettings(idleTimeout: .milliseconds(300), heartbeatFraction: 0.5)
        let proxy = try ProxyHarness(routes: [(prefix: "/", ports: [backend.upstream.port], settings: fast)])
        let stream = try proxy.client()
        try stream.send(Self.sseRequest())
        let head = try ReceivedHead.read(from: stream)
        var reader = ChunkedReader(initial: head.rest)
        _ = try reader.nextChunk(from: stream)

        var next = Self.config(routes: [(prefix: "/", port: newUpstream.port, settings: StreamSettings())])
        next.listens = proxy.server.config.listens
        try proxy.server.reload(config: next)

        let plain = try proxy.client()
        try plain.send("GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(String(decoding: try plain.receiveAll(), as: UTF8.self).hasSuffix("new"), "new requests follow the new config")
        // The open stream keeps its 150 ms heartbeat (the new default would be 19.8 s) and keeps relaying.
        #expect(String(decoding: try reader.nextChunk(from: stream), as: UTF8.self) == ": heartbeat\n")
        backend.push("data: still here\n\n")
        var seen = ""
        while !seen.contains("still here") { seen += String(decoding: try reader.nextChunk(from: stream), as: UTF8.self) }
        #expect(proxy.server.boundPorts == [proxy.port], "an unchanged listen address keeps its socket")
    }

    @Test func reload_opensAddedListenAddresses_andClosesRemovedOnes() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let added = closedPort()
        let next = Self.config(listenPort: added, routes: [(prefix: "/", port: upstream.port, settings: StreamSettings())])
        try proxy.server.reload(config: next)
        #expect(proxy.server.boundPorts == [added])
        usleep(50_000)
        let client = try TestSocket.connect(port: added)
        try client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(String(decoding: try client.receiveAll(), as: UTF8.self).hasSuffix("ok"))
        #expect((try? TestSocket.connect(port: proxy.port)) == nil, "the removed address is closed")
    }

    @Test func reload_thatCannotBind_changesNothing() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let taken = try TestUpstream { _, _, _ in }
        var next = Self.config(routes: [(prefix: "/", port: closedPort(), settings: StreamSettings())])
        next.listens = proxy.server.config.listens + [ListenAddress(host: "127.0.0.1", port: taken.port)]
        #expect(throws: SocketError.self) { try proxy.server.reload(config: next) }
        let client = try proxy.client()
        try client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(String(decoding: try client.receiveAll(), as: UTF8.self).hasSuffix("ok"), "the old routes still apply")
    }
}

import Foundation
import Glibc
import Synchronization
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// Every path by which the loops of one process share state (issue 16), driven over real sockets with several loops
/// at once, so ThreadSanitizer sees each of them: streams and heartbeats on every loop while `/metrics` and
/// `/streams` are scraped from another thread, a reload and a drain reaching every loop, upstream health shared by
/// the loops, `max_connections_per_ip` admitted on several loops, and one `SO_REUSEPORT` socket per loop.
/// `.ci/run` runs these (with `SeveralLoopsTests`) under `swift test --sanitize=thread`.
@Suite(.serialized)
struct SeveralLoopsSharedStateTests {
    /// Scrapes `/metrics` (strictly checked) and `/streams` (parsed) over and over on a global queue until `stop()`.
    final class Scraper: Sendable {
        private let stopped = Atomic<Bool>(false)
        private let finished = DispatchSemaphore(value: 0)
        private let scrapes = Atomic<Int>(0)
        private let errors = Locked<[String]>([])

        init(adminPort: UInt16) {
            // A thread of its own: under the whole suite Dispatch's global pool can be busy with other tests'
            // blocking waits for a long time, and the scraper must run while the streams do.
            Thread { [self] in
                while !stopped.load(ordering: .relaxed) {
                    do {
                        _ = try AdminResponse.scrape(port: adminPort)
                        let page = try AdminResponse.get("/streams", port: adminPort)
                        guard page.status == 200, try JSONSerialization.jsonObject(with: Data(page.body.utf8)) is [[String: Any]] else {
                            throw TestError("/streams answered \(page.status): \(page.body)")
                        }
                        scrapes.add(1, ordering: .relaxed)
                    } catch {
                        errors.withLock { $0.append("\(error)") }
                    }
                }
                finished.signal()
            }.start()
        }

        /// Stops scraping; returns how many scrapes succeeded and what failed.
        func stop() -> (scrapes: Int, errors: [String]) {
            stopped.store(true, ordering: .relaxed)
            finished.wait()
            return (scrapes.load(ordering: .relaxed), errors.withLock { $0 })
        }
    }

    /// A backend answering each request with an SSE head and one event naming its path, then staying quiet.
    static func quietBackend() throws -> TestUpstream {
        try TestUpstream { connection, request, _ in
            let path = request.split(separator: " ")[1]
            try connection.send(sseResponseHead() + chunk("data: \(path)\n\n"))
            _ = try? connection.secondsUntilClosed()
        }
    }

    /// A heartbeat about every 100 ms.
    static let heartbeating = StreamSettings(idleTimeout: .milliseconds(300))

    /// Opens `/s<index>` and reads its event, then `heartbeats` heartbeats.
    static func openStream(_ proxy: ProxyHarness, _ index: Int, heartbeats: Int = 0) throws -> TestSocket {
        let (client, seen) = try RideThroughTests.open(proxy, path: "/s\(index)", until: "data: /s\(index)\n\n")
        try readHeartbeats(client, heartbeats, after: seen)
        return client
    }

    /// Reads until `count` heartbeats arrived after what `seen` held.
    static func readHeartbeats(_ client: TestSocket, _ count: Int, after seen: String = "") throws {
        let before = seen.components(separatedBy: ": heartbeat\n").count
        var text = seen
        while text.components(separatedBy: ": heartbeat\n").count < before + count {
            let some = try client.receiveSome()
            if some.isEmpty { throw TestError("EOF before \(count) heartbeats: \(text.debugDescription)") }
            text += String(decoding: some, as: UTF8.self)
        }
    }

    /// Runs `body` for `0..<count`, each on a thread of its own, all at once (`concurrentPerform` would run only
    /// as many at a time as there are cores); returns the errors thrown, by index.
    static func concurrently(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) -> [String] {
        let failures = Locked<[String]>([])
        let done = DispatchGroup()
        for index in 0..<count {
            done.enter()
            Thread {
                do { try body(index) } catch { failures.withLock { $0.append("\(index): \(error)") } }
                done.leave()
            }.start()
        }
        done.wait()
        return failures.withLock { $0 }
    }

    /// The sessions each loop holds now.
    static func sessionsPerLoop(_ proxy: ProxyHarness) -> [Int] {
        proxy.server.group.loops.map { loop in loop.queue.sync { loop.sessions.count } }
    }

    @Test func streamsOnFourLoops_keepTheirHeartbeats_whileMetricsAndStreamsAreScrapedFromAnotherThread() throws {
        let upstream = try Self.quietBackend()
        let accessLog = NSTemporaryDirectory() + "ssekeeper-access-\(UUID().uuidString).log"
        defer { unlink(accessLog) }
        let observe = ObserveSettings(adminListen: loopbackAdmin.adminListen, accessLog: .file(accessLog))
        let proxy = try ProxyHarness(routes: [(prefix: "/", ports: [upstream.port], settings: Self.heartbeating)],
                                     observe: observe, loopCount: 4)
        let scraper = Scraper(adminPort: proxy.adminPort)
        let clients = Locked<[TestSocket]>([])
        let failures = Self.concurrently(16) { index in
            let client = try Self.openStream(proxy, index, heartbeats: 2)
            clients.withLock { $0.append(client) }
        }
        #expect(failures == [])
        #expect(Self.sessionsPerLoop(proxy).allSatisfy { $0 >= 1 }, "every loop serves streams")
        let open = try proxy.scrape()
        #expect(open.value("ssekeeper_open_streams", ["route": "/"]) == 16)
        #expect(open.value("ssekeeper_event_loops") == 4)
        clients.withLock { $0.forEach { $0.close() } }
        let closed = try proxy.scrape { $0.value("ssekeeper_open_streams", ["route": "/"]) == 0 }
        #expect(closed.value("ssekeeper_stream_duration_seconds_count", ["route": "/"]) == 16)
        let (scrapes, errors) = scraper.stop()
        #expect(errors == [])
        #expect(scrapes > 0)
        let records = AccessLogTests.lines(in: accessLog, count: 16).filter { $0.contains(" path=/s") }
        #expect(records.count == 16, "one access record per stream, from every loop, whole lines")
    }

    /// Each loop keeps the context it read last (`EventLoop.context(of:)`); a reload moves every loop to the new one
    /// at once, so a loop that serves nothing afterwards does not keep the old context (and its access log's
    /// descriptor) alive.
    @Test func aReload_releasesTheOldContext_onLoopsThatServeNothingAfterIt() throws {
        let upstream = try Self.quietBackend()
        let proxy = try ProxyHarness(routes: [(prefix: "/", ports: [upstream.port], settings: StreamSettings())],
                                     loopCount: 2)
        // A stream on each loop (round-robin), so both loops have read the context; then both end.
        for index in 0..<2 { try Self.openStream(proxy, index).close() }
        weak let old = proxy.server.runtime.context
        try proxy.server.reload(config: proxy.server.config)
        var open = -1
        for _ in 0..<200 {
            open = proxy.server.group.loops.map { loop in loop.queue.sync { loop.sessions.count } }.reduce(0, +)
            if open == 0 && old == nil { break }
            usleep(10_000)
        }
        #expect(open == 0, "the streams ended")
        #expect(old == nil, "no loop holds the context the reload replaced")
    }

    @Test func reloads_whileStreamsRunOnEveryLoop_keepTheOpenStreams_andServeNewOnes() throws {
        let upstream = try Self.quietBackend()
        let proxy = try ProxyHarness(routes: [(prefix: "/", ports: [upstream.port], settings: Self.heartbeating)],
                                     observe: loopbackAdmin, loopCount: 4)
        let scraper = Scraper(adminPort: proxy.adminPort)
        let before = try (0..<8).map { try Self.openStream(proxy, $0) }
        let base = proxy.server.config
        let reloaded = DispatchSemaphore(value: 0)
        let reloadErrors = Locked<[String]>([])
        DispatchQueue.global().async {
            for round in 0..<12 {
                var config = base
                config.routes[0] = config.routes[0].with { $0.idleTimeout = .milliseconds(round % 2 == 0 ? 240 : 300) }
                if round % 3 == 0 {
                    config.routes.insert(Route(prefix: "/other", upstreamName: "pool0", settings: StreamSettings()), at: 0)
                }
                do { try proxy.server.reload(config: config) } catch { reloadErrors.withLock { $0.append("\(error)") } }
                usleep(20_000)
            }
            reloaded.signal()
        }
        let clients = Locked<[TestSocket]>([])
        let failures = Self.concurrently(8) { index in
            let client = try Self.openStream(proxy, 8 + index, heartbeats: 1)
            clients.withLock { $0.append(client) }
        }
        reloaded.wait()
        #expect(reloadErrors.withLock { $0 } == [])
        #expect(failures == [])
        for client in before { try Self.readHeartbeats(client, 2) }
        let after = try Self.openStream(proxy, 99, heartbeats: 1)
        #expect(proxy.server.config.routes[0].settings.idleTimeout == .milliseconds(300), "the last reload holds")
        let (_, errors) = scraper.stop()
        #expect(errors == [])
        (before + clients.withLock { $0 } + [after]).forEach { $0.close() }
    }

    @Test(arguments: [Listener.Mode.acceptor, .socketPerLoop])
    func aDrain_reachesEveryLoop_andEndsEachStreamWithRetry(mode: Listener.Mode) throws {
        let upstream = try Self.quietBackend()
        var limits = Limits()
        limits.drainSpread = .zero
        limits.drainRetry = .milliseconds(500)
        let proxy = try ProxyHarness(routes: [(prefix: "/", ports: [upstream.port], settings: StreamSettings())],
                                     limits: limits, loopCount: 4, acceptMode: mode)
        let clients = Locked<[TestSocket]>([])
        #expect(Self.concurrently(16) { index in
            let client = try Self.openStream(proxy, index)
            clients.withLock { $0.append(client) }
        } == [])
        let perLoop = Self.sessionsPerLoop(proxy)
        // Round-robin fills every loop; the kernel's hash over 16 source ports leaves at most one loop empty in
        // practice (all 16 on one loop: 4^-15).
        #expect(perLoop.filter { $0 > 0 }.count >= (mode == .acceptor ? 4 : 2), "streams on \(perLoop)")
        let accepted = proxy.server.group.loops.map { loop in loop.queue.sync { loop.metrics.process.connectionsAccepted } }
        if mode == .socketPerLoop {
            #expect(accepted.filter { $0 > 0 }.count >= 2, "several sockets accepted: \(accepted)")
        } else {
            #expect(accepted == [16, 0, 0, 0], "one acceptor, on the first loop: \(accepted)")
        }
        let result = DrainAndReloadTests.drain(proxy)
        let endings = Self.concurrently(16) { index in
            let client = clients.withLock { $0[index] }
            let text = String(decoding: try client.receiveAll(), as: UTF8.self)
            guard text.contains("retry: 500\n"), text.hasSuffix("\r\n0\r\n\r\n") else { throw TestError("ended with \(text.debugDescription)") }
        }
        #expect(endings == [])
        for _ in 0..<100 where result.load() != 0 { usleep(20_000) }
        #expect(result.load() == 0)
        #expect(proxy.log.components(separatedBy: "end=draining").count - 1 == 16)
        #expect((try? TestSocket.connect(port: proxy.port)) == nil, "no socket of any loop accepts any more")
    }

    @Test func aServerMarkedDownOnOneLoop_isSkippedOnTheOthers() throws {
        let dead = closedPort()
        let live = try UpstreamBalancingTests.answering("ok")
        let proxy = try ProxyHarness(config: {
            var config = Config(listens: [ListenAddress(host: "127.0.0.1", port: 0)], upstreams: [Upstream(name: "pool0", servers: [
                UpstreamBalancingTests.server(dead, maxFails: 1, failTimeout: .seconds(60)), UpstreamBalancingTests.server(live.port),
            ])])
            config.routes = [Route(prefix: "/", upstreamName: "pool0", settings: StreamSettings())]
            return config
        }(), loopCount: 4)
        @Sendable func get() throws {
            let client = try proxy.client()
            client.setReceiveTimeout(seconds: 5)
            try client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let text = String(decoding: try client.receiveAll(), as: UTF8.self)
            guard text.hasPrefix("HTTP/1.1 200"), text.hasSuffix("ok") else { throw TestError("got \(text.debugDescription)") }
        }
        // One connection after the other: each lands on the next loop.
        for _ in 0..<8 { try get() }
        #expect(UpstreamBalancingTests.refusedConnects(in: proxy, port: dead).count == 1, "tried once, on one loop")
        #expect(proxy.log.components(separatedBy: "marked down").count - 1 == 1)
        // Now from several threads at once, over every loop: still skipped.
        #expect(Self.concurrently(16) { _ in try get() } == [])
        #expect(UpstreamBalancingTests.refusedConnects(in: proxy, port: dead).count == 1, "skipped by every loop")
    }

    @Test(arguments: [Listener.Mode.acceptor, .socketPerLoop])
    func maxConnectionsPerIP_holdsForTheProcess_whenConnectionsArriveOnSeveralLoopsAtOnce(mode: Listener.Mode) throws {
        let upstream = try UpstreamBalancingTests.answering("ok")
        var limits = Limits()
        limits.maxConnectionsPerClient = 3
        let proxy = try ProxyHarness(routes: [(prefix: "/", ports: [upstream.port], settings: StreamSettings())],
                                     limits: limits, loopCount: 4, acceptMode: mode)
        // Ten connect at once; an admitted one hears nothing until it asks, a refused one gets its 503 at once.
        let admitted = Locked<[TestSocket]>([])
        let refused = Atomic<Int>(0)
        #expect(Self.concurrently(10) { _ in
            let client = try proxy.client()
            client.setReceiveTimeout(seconds: 1)
            do {
                let head = try ReceivedHead.read(from: client)
                guard head.status == 503 else { throw TestError("unasked, got \(head.statusLine)") }
                refused.add(1, ordering: .relaxed)
            } catch let error as TestError where error.description == "receive timed out" {
                admitted.withLock { $0.append(client) }
            }
        } == [])
        let held = admitted.withLock { $0 }
        #expect(held.count == 3, "three admitted over the loops, \(refused.load(ordering: .relaxed)) refused")
        #expect(refused.load(ordering: .relaxed) == 7)
        for client in held {
            client.setReceiveTimeout(seconds: 5)
            try client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            #expect(String(decoding: try client.receiveAll(), as: UTF8.self).hasSuffix("ok"))
            client.close()
        }
        for _ in 0..<100 where proxy.server.openConnectionCount != 0 { usleep(20_000) }
        #expect(proxy.server.openConnectionCount == 0, "each loop released its connections' slots")
        #expect(Self.concurrently(3) { _ in
            let client = try proxy.client()
            client.setReceiveTimeout(seconds: 5)
            try client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let text = String(decoding: try client.receiveAll(), as: UTF8.self)
            guard text.hasSuffix("ok") else { throw TestError("got \(text.debugDescription)") }
        } == [])
    }
}

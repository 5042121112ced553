import Foundation
import Glibc
import Synchronization
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// Weighted round-robin, backups and passive health over real sockets.
struct UpstreamBalancingTests {
    static func server(_ port: UInt16, weight: Int = 1, backup: Bool = false, maxFails: Int = 3,
                       failTimeout: Duration = .seconds(10)) -> UpstreamServer {
        UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: port), weight: weight, isBackup: backup,
                       maxFails: maxFails, failTimeout: failTimeout)
    }

    static func answering(_ body: String) throws -> TestUpstream {
        try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        }
    }

    /// The warnings about refused connects to 127.0.0.1:`port` logged so far.
    static func refusedConnects(in proxy: ProxyHarness, port: UInt16) -> [Substring] {
        proxy.log.split(separator: "\n").filter { $0.contains(" warn ") && $0.contains("connect 127.0.0.1:\(port): Connection refused") }
    }

    /// Sends `count` GETs one after the other on one keep-alive client connection; returns the bodies.
    static func get(_ proxy: ProxyHarness, count: Int) throws -> [String] {
        let client = try proxy.client()
        var bodies: [String] = []
        for _ in 0..<count {
            try client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            let head = try ReceivedHead.read(from: client)
            var body = head.rest
            let length = Int(head.header("Content-Length") ?? "0") ?? 0
            while body.count < length { body += try client.receiveSome() }
            #expect(head.status == 200, "got \(head.statusLine): \(String(decoding: body, as: UTF8.self))")
            bodies.append(String(decoding: body, as: UTF8.self))
        }
        return bodies
    }

    @Test func weights5to1_split100Requests83to17() throws {
        let heavy = try Self.answering("heavy")
        let light = try Self.answering("light")
        let proxy = try ProxyHarness(upstream: Upstream(name: "p", servers: [
            Self.server(heavy.port, weight: 5), Self.server(light.port, weight: 1),
        ]))
        let bodies = try Self.get(proxy, count: 100)
        // Smooth weighted round-robin is exact: 16 cycles of a a a b a a, then a a a b.
        #expect(bodies.filter { $0 == "heavy" }.count == 83)
        #expect(bodies.filter { $0 == "light" }.count == 17)
        #expect(heavy.connectionCount == 83)
        #expect(light.connectionCount == 17)
    }

    @Test func aBackup_isUsedOnlyWhenThePrimaryIsDown() throws {
        let primary = try Self.answering("primary")
        let backup = try Self.answering("backup")
        let primaryPort = primary.port
        let proxy = try ProxyHarness(upstream: Upstream(name: "p", servers: [
            Self.server(primary.port, maxFails: 1, failTimeout: .seconds(60)), Self.server(backup.port, backup: true),
        ]))
        #expect(try Self.get(proxy, count: 10) == Array(repeating: "primary", count: 10))
        #expect(backup.connectionCount == 0)

        primary.stop()
        // The first request finds the primary refusing, marks it down and is served by the backup; the next ones
        // go to the backup without trying the primary.
        #expect(try Self.get(proxy, count: 6) == Array(repeating: "backup", count: 6))
        #expect(proxy.waitForLogLine(containing: ["upstream pool0: server 127.0.0.1:\(primaryPort) marked down for 1m after 1 failed connect"]) != nil)
        let attempts = Self.refusedConnects(in: proxy, port: primaryPort)
        #expect(attempts.count == 1, "the primary was tried once, then skipped: \(attempts)")
    }

    @Test func aResettingServer_isMarkedDownAfterMaxFails_skipped_andBackAfterFailTimeout() throws {
        let healthy = Atomic<Bool>(false)
        let flaky = try TestUpstream { connection, _, _ in
            if healthy.load(ordering: .relaxed) {
                try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nflaky")
            } else {
                connection.reset()
            }
        }
        let steady = try Self.answering("steady")
        let flakyPort = flaky.port
        let proxy = try ProxyHarness(upstream: Upstream(name: "p", servers: [
            Self.server(flaky.port, maxFails: 2, failTimeout: .seconds(1)), Self.server(steady.port),
        ]))
        // Every GET still succeeds: a reset before the response head sends it on to the next server.
        #expect(try Self.get(proxy, count: 12) == Array(repeating: "steady", count: 12))
        #expect(flaky.connectionCount == 2, "two failures mark it down; it is skipped after that")
        #expect(proxy.waitForLogLine(containing: ["server 127.0.0.1:\(flakyPort) marked down for 1s after 2 failed connects"]) != nil)
        #expect(proxy.log.components(separatedBy: "marked down").count == 2, "logged once")

        healthy.store(true, ordering: .relaxed)
        usleep(1_300_000)
        let bodies = try Self.get(proxy, count: 4)
        #expect(bodies.filter { $0 == "flaky" }.count == 2, "back in the rotation: \(bodies)")
        #expect(proxy.waitForLogLine(containing: ["server 127.0.0.1:\(flakyPort) is back up after"]) != nil)
    }

    @Test func aRefusingServer_isTriedMaxFailsTimes_thenSkipped() throws {
        let refusing = closedPort()
        let steady = try Self.answering("steady")
        let proxy = try ProxyHarness(upstream: Upstream(name: "p", servers: [
            Self.server(refusing), Self.server(steady.port),
        ]))
        #expect(try Self.get(proxy, count: 15) == Array(repeating: "steady", count: 15))
        let attempts = Self.refusedConnects(in: proxy, port: refusing)
        #expect(attempts.count == 3, "max_fails defaults to 3: \(attempts)")
        #expect(proxy.log.contains("server 127.0.0.1:\(refusing) marked down for 10s after 3 failed connects"))
    }

    @Test func whenEveryServerIsDown_requestsStillTryThem() throws {
        let refusing = closedPort()
        let proxy = try ProxyHarness(upstream: Upstream(name: "p", servers: [Self.server(refusing, maxFails: 1)]))
        for _ in 0..<3 {
            let client = try proxy.client()
            try client.send("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            #expect(try ReceivedHead.read(from: client).status == 502)
        }
        let attempts = Self.refusedConnects(in: proxy, port: refusing)
        #expect(attempts.count == 3, "a pool with nothing available still connects: \(attempts)")
    }

    @Test func aPOSTWhoseServerResets_isNotSentToTheNextServer() throws {
        let resetting = try TestUpstream { connection, _, _ in connection.reset() }
        let steady = try Self.answering("steady")
        let proxy = try ProxyHarness(upstream: Upstream(name: "p", servers: [Self.server(resetting.port), Self.server(steady.port)]))
        let client = try proxy.client()
        try client.send("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello")
        #expect(try ReceivedHead.read(from: client).status == 502)
        #expect(steady.connectionCount == 0, "the upstream may have acted on the POST: it is not sent again")
    }

    @Test func aServerThatSendsNoHeadWithinUpstreamHeaderTimeout_isMarkedDown_andSkipped() throws {
        let silent = try TestUpstream { connection, _, _ in _ = try? connection.secondsUntilClosed() }
        let steady = try Self.answering("steady")
        let silentPort = silent.port
        var limits = Limits()
        limits.upstreamHeaderTimeout = .milliseconds(300)
        let proxy = try ProxyHarness(upstream: Upstream(name: "p", servers: [
            Self.server(silent.port, maxFails: 1, failTimeout: .seconds(60)), Self.server(steady.port),
        ]), limits: limits)
        let first = try proxy.client()
        try first.send("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        #expect(try ReceivedHead.read(from: first).status == 504)
        #expect(proxy.waitForLogLine(containing: ["server 127.0.0.1:\(silentPort) marked down for 1m after 1 failed connect"]) != nil)
        // Round-robin would send every other request to the silent server; marked down, it is skipped.
        #expect(try Self.get(proxy, count: 4) == Array(repeating: "steady", count: 4))
        #expect(silent.connectionCount == 1)
    }
}

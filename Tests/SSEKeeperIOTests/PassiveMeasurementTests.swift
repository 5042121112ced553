import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// What ssekeeper notices while proxying: a client-side close during upstream quiet is a warning (a cluster of
/// them reveals an intermediary cutting streams), and every SSE access line carries the longest upstream gap.
@Suite(.serialized)
struct PassiveMeasurementTests {
    @Test func twoClientClosesDuringUpstreamQuiet_atTheSameAge_areAWarning_withTheQuietAndTheStreamAge() throws {
        let proxy = try quietUpstreamProxy()
        let clients = try (0..<2).map { _ in try proxy.client() }
        for client in clients {
            try client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
            _ = try ReceivedHead.read(from: client)
        }
        usleep(800_000)
        for client in clients { client.close() }
        let warning = try #require(proxy.waitForLogLine(containing: ["warn", "route /: the client side closed a stream"]), "\(proxy.log)")
        #expect(warning.contains("heartbeat interval 0.300s"))
        #expect(warning.contains("heartbeats sent"))
        #expect(warning.contains("another such close came at about the same age"))
        let access = try #require(proxy.waitForLogLine(containing: ["end=client_closed", "upstream_quiet_max="]))
        let quiet = access.split(separator: " ").first { $0.hasPrefix("upstream_quiet_max=") }
            .flatMap { Double($0.dropFirst("upstream_quiet_max=".count).dropLast()) }
        #expect((quiet ?? 0) > 0.7 && (quiet ?? 0) < 3, "\(access)")
    }

    /// Someone stopping `curl` in the demo: one close proves nothing about intermediaries, so it is counted only.
    @Test func aLoneClientCloseDuringUpstreamQuiet_isCounted_butNoWarning() throws {
        let proxy = try quietUpstreamProxy()
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = try ReceivedHead.read(from: client)
        usleep(800_000)
        client.close()
        #expect(proxy.waitForLogLine(containing: ["end=client_closed"]) != nil)
        let counted = "ssekeeper_quiet_client_closes_total{route=\"/\"} 1\n"
        var page = ""
        for _ in 0..<100 where !page.contains(counted) {
            page = proxy.server.metricsExposition()
            usleep(20_000)
        }
        #expect(page.contains(counted))
        #expect(!proxy.log.contains("the client side closed a stream"), "\(proxy.log)")
    }

    @Test func aClientCloseOnAnActiveStream_isNoWarning() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            for index in 0..<100 {
                try connection.send(chunk("data: \(index)\n\n"))
                usleep(50_000)
            }
        }
        let settings = StreamSettings(idleTimeout: .seconds(1), heartbeatFraction: 0.3)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = try ReceivedHead.read(from: client)
        usleep(600_000)
        client.close()
        #expect(proxy.waitForLogLine(containing: ["end=client_closed"]) != nil)
        #expect(!proxy.log.contains("the client side closed a stream"), "\(proxy.log)")
    }

    @Test func manyClientsClosingDuringQuiet_logTenWarnings_andOneLineForTheRest_whileTheMetricCountsAll() throws {
        let proxy = try quietUpstreamProxy()
        var clients: [TestSocket] = []
        for _ in 0..<25 {
            let client = try proxy.client()
            try client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
            _ = try ReceivedHead.read(from: client)
            clients.append(client)
        }
        usleep(800_000)
        for client in clients { client.close() }
        #expect(proxy.waitForLogLine(containing: ["further such warnings are left out"]) != nil, "\(proxy.log)")
        // Every close is counted, logged or not.
        let deadline = Date().addingTimeInterval(5)
        let counted = "ssekeeper_quiet_client_closes_total{route=\"/\"} 25\n"
        var page = ""
        while Date() < deadline {
            page = proxy.server.metricsExposition()
            if page.contains(counted) { break }
            usleep(50_000)
        }
        #expect(page.contains(counted), "\(page.split(separator: "\n").filter { $0.contains("quiet_client_closes_total") })")
        let lines = proxy.log.split(separator: "\n")
        #expect(lines.filter { $0.contains("after it started, while the upstream had been quiet") }.count == 10, "\(proxy.log)")
        #expect(lines.filter { $0.contains("further such warnings are left out") }.count == 1, "\(proxy.log)")
    }

    /// A proxy (idle timeout 1 s, heartbeat interval 0.3 s) in front of an upstream that sends the SSE head and one
    /// event, then stays quiet until the connection is closed. The upstream needs no owner: its accept thread keeps
    /// it for the rest of the process, as in every test that starts one.
    private func quietUpstreamProxy() throws -> ProxyHarness {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            try connection.send(chunk("data: only\n\n"))
            _ = try? connection.secondsUntilClosed()
        }
        let settings = StreamSettings(idleTimeout: .seconds(1), heartbeatFraction: 0.3)
        return try ProxyHarness(upstreamPort: upstream.port, settings: settings)
    }
}

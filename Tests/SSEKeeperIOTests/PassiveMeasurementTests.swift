import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// What ssekeeper notices while proxying: a client-side close during upstream quiet is a warning (a cluster of
/// them reveals an intermediary cutting streams), and every SSE access line carries the longest upstream gap.
@Suite(.serialized)
struct PassiveMeasurementTests {
    @Test func aClientCloseDuringUpstreamQuiet_isAWarning_withTheQuietAndTheStreamAge() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            try connection.send(chunk("data: only\n\n"))
            _ = try? connection.secondsUntilClosed()
        }
        let settings = StreamSettings(idleTimeout: .seconds(1), heartbeatFraction: 0.3)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = try ReceivedHead.read(from: client)
        usleep(800_000)
        client.close()
        let warning = try #require(proxy.waitForLogLine(containing: ["warn", "route /: the client side closed a stream"]), "\(proxy.log)")
        #expect(warning.contains("heartbeat interval 0.300s"))
        #expect(warning.contains("heartbeats sent"))
        let access = try #require(proxy.waitForLogLine(containing: ["end=client_closed", "upstream_quiet_max="]))
        let quiet = access.split(separator: " ").first { $0.hasPrefix("upstream_quiet_max=") }
            .flatMap { Double($0.dropFirst("upstream_quiet_max=".count).dropLast()) }
        #expect((quiet ?? 0) > 0.7 && (quiet ?? 0) < 3, "\(access)")
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
}

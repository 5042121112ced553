import Testing
@testable import SSEKeeperCore

/// The operations directives: drain, per-client limits, and what SSE clients get when the upstream fails.
struct OperationsDirectiveTests {
    static let base = "listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; }\n"

    @Test func defaults_drainIn10s_retryAfter1s_noPerClientLimit_reconnectMode() throws {
        let config = try ConfigParser.parse(Self.base, fileName: "t")
        #expect(config.limits.drainTimeout == .seconds(10))
        #expect(config.limits.drainRetry == .seconds(1))
        #expect(config.limits.maxConnectionsPerClient == nil)
        #expect(config.routes[0].settings.sseUnavailable == .reconnect)
        #expect(config.routes[0].settings.sseUpstreamErrorEvent == false)
    }

    @Test func topLevelValues_areParsed_andRoutesOverrideTheSSESettings() throws {
        let config = try ConfigParser.parse("""
            listen 8080;
            drain_timeout 30s;
            drain_retry 250ms;
            max_connections_per_ip 50;
            sse_unavailable status;
            sse_upstream_error_event on;
            upstream a { server 127.0.0.1:9000; }
            route /x { upstream a; sse_unavailable reconnect; sse_upstream_error_event off; }
            route / { upstream a; }
            """, fileName: "t")
        #expect(config.limits.drainTimeout == .seconds(30))
        #expect(config.limits.drainRetry == .milliseconds(250))
        #expect(config.limits.maxConnectionsPerClient == 50)
        #expect(config.routes[0].settings.sseUnavailable == .reconnect)
        #expect(config.routes[0].settings.sseUpstreamErrorEvent == false)
        #expect(config.routes[1].settings.sseUnavailable == .status)
        #expect(config.routes[1].settings.sseUpstreamErrorEvent == true)
        #expect(try ConfigParser.parse(Self.base + "max_connections_per_ip off;", fileName: "t").limits.maxConnectionsPerClient == nil)
    }

    @Test func badValues_areReportedWithTheirPosition() {
        let cases: [(String, String)] = [
            ("sse_unavailable maybe;", #"t:4:17: sse_unavailable must be reconnect or status, got "maybe""#),
            ("sse_upstream_error_event yes;", #"t:4:26: sse_upstream_error_event must be on or off, got "yes""#),
            ("max_connections_per_ip 0;", "t:4:24: max_connections_per_ip must be between 1 and 1000000, got 0"),
            ("max_connections_per_ip many;", #"t:4:24: invalid number "many" (use digits only, e.g. 10000, or off)"#),
            ("drain_timeout forever;", #"t:4:15: invalid duration "forever" (use 250ms, 15s, 2m, 1h)"#),
        ]
        for (line, expected) in cases {
            do {
                _ = try ConfigParser.parse(Self.base + line, fileName: "t")
                Issue.record("accepted \(line)")
            } catch {
                #expect(error.errors.map(\.description) == [expected])
            }
        }
    }

    @Test func drainDirectives_areNotAllowedInARoute() {
        #expect(throws: ConfigErrors.self) {
            try ConfigParser.parse("listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; drain_timeout 5s; }\n", fileName: "t")
        }
    }
}

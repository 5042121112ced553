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

    @Test func drainSpread_is2sByDefault_0sTurnsItOff_andAShortDrainTimeoutAloneHalvesIt() throws {
        #expect(try ConfigParser.parse(Self.base, fileName: "t").limits.drainSpread == .seconds(2))
        #expect(try ConfigParser.parse(Self.base + "drain_spread 0s;", fileName: "t").limits.drainSpread == .zero)
        #expect(try ConfigParser.parse(Self.base + "drain_spread 750ms;", fileName: "t").limits.drainSpread == .milliseconds(750))
        let short = try ConfigParser.parse(Self.base + "drain_timeout 3s;", fileName: "t")
        #expect(short.limits.drainSpread == .milliseconds(1500), "unwritten, the spread stays within half of drain_timeout")
        let written = try ConfigParser.parse("drain_spread 9s;\n" + Self.base + "drain_timeout 30s;", fileName: "t")
        #expect(written.limits.drainSpread == .seconds(9), "checked against drain_timeout wherever it stands")
    }

    @Test func drainSpread_notShorterThanDrainTimeout_isReportedAtItsArgument() {
        let cases: [(String, String)] = [
            ("drain_timeout 5s;\ndrain_spread 5s;",
             "t:5:14: drain_spread 5s must be shorter than drain_timeout 5s: the last streams would get no time to end; "
                + "shorten it (0s ends every stream at once) or lengthen drain_timeout"),
            ("drain_spread 11s;",
             "t:4:14: drain_spread 11s must be shorter than drain_timeout 10s: the last streams would get no time to end; "
                + "shorten it (0s ends every stream at once) or lengthen drain_timeout"),
            ("drain_spread -1s;", #"t:4:14: invalid duration "-1s" (use 250ms, 15s, 2m, 1h)"#),
            ("drain_spread 25h;", "t:4:14: drain_spread must be between 0s and 24h, got 25h"),
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

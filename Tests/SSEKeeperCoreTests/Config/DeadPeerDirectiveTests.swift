import Testing
@testable import SSEKeeperCore

/// The dead-peer directives (issue 14): `client_send_timeout`, `client_ack_timeout`, `upstream_dead_timeout`,
/// `upstream_read_timeout`, `sse_max_silence`, `heartbeat_event` and `heartbeat_data`: defaults, top level and per
/// route, `off`, ranges, contexts, and the check of `client_send_timeout` against the heartbeat interval.
struct DeadPeerDirectiveTests {
    /// Lines 1-3; a line added to it is line 4.
    static let base = "listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; }\n"

    /// The one error `text` gives, as `t:LINE:COLUMN: message`, or every error when there are several.
    static func errors(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        do {
            _ = try ConfigParser.parse(text, fileName: "t")
            Issue.record("accepted \(text)", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    // MARK: - Values

    @Test func defaults_are60s_30s_60s_60s_offAndTheCommentHeartbeat() throws {
        let config = try ConfigParser.parse(Self.base, fileName: "t")
        let settings = config.routes[0].settings
        #expect(settings.clientSendTimeout == .seconds(60))
        #expect(settings.upstreamReadTimeout == .seconds(60))
        #expect(settings.sseMaxSilence == nil)
        #expect(settings.heartbeatEvent == nil)
        #expect(settings.heartbeatData == nil, "nil: the Unix time in milliseconds")
        #expect(config.limits.clientAckTimeout == .seconds(30))
        #expect(config.limits.upstreamDeadTimeout == .seconds(60))
    }

    @Test func topLevelValues_applyToRoutes_andARouteOverridesThem_offIncluded() throws {
        let config = try ConfigParser.parse("""
            listen 8080;
            client_send_timeout 2m;
            upstream_read_timeout 30s;
            sse_max_silence 5m;
            heartbeat_event heartbeat;
            heartbeat_data ping;
            client_ack_timeout 10s;
            upstream_dead_timeout 20s;
            upstream a { server 127.0.0.1:9000; }
            route /quiet { upstream a; client_send_timeout off; upstream_read_timeout off; sse_max_silence off; heartbeat_event off; }
            route /own { upstream a; client_send_timeout 45s; upstream_read_timeout 1h; sse_max_silence 90s; heartbeat_event message; heartbeat_data "still here"; }
            route / { upstream a; }
            """, fileName: "t")
        #expect(config.limits.clientAckTimeout == .seconds(10))
        #expect(config.limits.upstreamDeadTimeout == .seconds(20))
        let quiet = config.routes[0].settings
        #expect(quiet.clientSendTimeout == nil && quiet.upstreamReadTimeout == nil && quiet.sseMaxSilence == nil)
        #expect(quiet.heartbeatEvent == nil)
        #expect(quiet.heartbeatData == "ping", "a route without heartbeat_data inherits the top-level one")
        let own = config.routes[1].settings
        #expect(own.clientSendTimeout == .seconds(45))
        #expect(own.upstreamReadTimeout == .seconds(3600))
        #expect(own.sseMaxSilence == .seconds(90))
        #expect(own.heartbeatEvent == "message", "message is allowed: it reaches onmessage")
        #expect(own.heartbeatData == "still here")
        let root = config.routes[2].settings
        #expect(root.clientSendTimeout == .seconds(120))
        #expect(root.upstreamReadTimeout == .seconds(30))
        #expect(root.sseMaxSilence == .seconds(300))
        #expect(root.heartbeatEvent == "heartbeat")
        #expect(root.heartbeatData == "ping")
    }

    @Test func theSocketTimeouts_takeOff_andTheirRangeBounds() throws {
        let off = try ConfigParser.parse(Self.base + "client_ack_timeout off;\nupstream_dead_timeout off;\n", fileName: "t")
        #expect(off.limits.clientAckTimeout == nil)
        #expect(off.limits.upstreamDeadTimeout == nil)
        let low = try ConfigParser.parse(Self.base + "client_ack_timeout 1s;\nupstream_dead_timeout 3s;\n", fileName: "t")
        #expect(low.limits.clientAckTimeout == .seconds(1))
        #expect(low.limits.upstreamDeadTimeout == .seconds(3))
        let high = try ConfigParser.parse(Self.base + "client_ack_timeout 1h;\nupstream_dead_timeout 60m;\n", fileName: "t")
        #expect(high.limits.clientAckTimeout == .seconds(3600))
        #expect(high.limits.upstreamDeadTimeout == .seconds(3600))
    }

    @Test func heartbeatTexts_mayHoldSpacesInside_unicode_andAnEmptyData() throws {
        let settings = try ConfigParser.parse(Self.base + "heartbeat_event \"keep alive\";\nheartbeat_data \"\";\n", fileName: "t")
            .routes[0].settings
        #expect(settings.heartbeatEvent == "keep alive")
        #expect(settings.heartbeatData == "", "data: with nothing after it still dispatches the event")
        let unicode = try ConfigParser.parse(
            Self.base + "heartbeat_event ♥;\nheartbeat_data " + String(repeating: "é", count: 100) + ";\n", fileName: "t")
        #expect(unicode.routes[0].settings.heartbeatEvent == "♥")
        #expect(unicode.routes[0].settings.heartbeatData?.utf8.count == 200, "200 bytes is the limit, not 200 scalars")
        let longest = String(repeating: "e", count: 64)
        #expect(try ConfigParser.parse(Self.base + "heartbeat_event \(longest);", fileName: "t").routes[0].settings.heartbeatEvent == longest)
    }

    // MARK: - Errors

    @Test(arguments: [
        ("client_send_timeout 0s;", "t:4:21: client_send_timeout must be between 1ms and 24h, got 0s"),
        ("client_send_timeout 25h;", "t:4:21: client_send_timeout must be between 1ms and 24h, got 25h"),
        ("client_send_timeout soon;", #"t:4:21: invalid duration "soon" (use 250ms, 15s, 2m, 1h, or off)"#),
        ("upstream_read_timeout 0ms;", "t:4:23: upstream_read_timeout must be between 1ms and 24h, got 0ms"),
        ("upstream_read_timeout on;", #"t:4:23: invalid duration "on" (use 250ms, 15s, 2m, 1h, or off)"#),
        ("sse_max_silence 1.5s;", #"t:4:17: invalid duration "1.5s" (use 250ms, 15s, 2m, 1h, or off)"#),
        ("sse_max_silence 2d;", #"t:4:17: invalid duration "2d" (use 250ms, 15s, 2m, 1h, or off)"#),
        ("client_ack_timeout 999ms;", "t:4:20: client_ack_timeout must be between 1s and 1h, got 999ms"),
        ("client_ack_timeout 61m;", "t:4:20: client_ack_timeout must be between 1s and 1h, got 61m"),
        ("client_ack_timeout OFF;", #"t:4:20: invalid duration "OFF" (use 250ms, 15s, 2m, 1h, or off)"#),
        ("upstream_dead_timeout 2999ms;", "t:4:23: upstream_dead_timeout must be between 3s and 1h, got 2999ms"),
        ("upstream_dead_timeout 2h;", "t:4:23: upstream_dead_timeout must be between 3s and 1h, got 2h"),
    ])
    func badDurations_areReportedAtTheirArgument_withTheRange(line: String, expected: String) {
        #expect(Self.errors(Self.base + line) == [expected])
    }

    /// A line feed inside a quoted string is already a lexer error ("unterminated string"), so CR, tab and NUL are
    /// what reaches these checks.
    @Test(arguments: [
        ("heartbeat_event \"\";", "t:4:17: heartbeat_event must not be empty"),
        ("heartbeat_event \" ping\";",
         #"t:4:17: heartbeat_event must not start or end with a space: a client would have to listen for " ping", spaces included"#),
        ("heartbeat_event \"ping \";",
         #"t:4:17: heartbeat_event must not start or end with a space: a client would have to listen for "ping ", spaces included"#),
        ("heartbeat_event \"a\rb\";", "t:4:17: heartbeat_event must not contain control characters such as CR, LF, NUL or tab"),
        ("heartbeat_event \"a\tb\";", "t:4:17: heartbeat_event must not contain control characters such as CR, LF, NUL or tab"),
        ("heartbeat_event \"a\u{0}b\";", "t:4:17: heartbeat_event must not contain control characters such as CR, LF, NUL or tab"),
        ("heartbeat_event " + String(repeating: "e", count: 65) + ";", "t:4:17: heartbeat_event must be at most 64 bytes, got 65"),
        ("heartbeat_event error;",
         #"t:4:17: heartbeat_event must not be "error": EventSource fires "error" itself, so every heartbeat would reach the client's onerror handler; choose another name, e.g. heartbeat"#),
        ("heartbeat_event open;",
         #"t:4:17: heartbeat_event must not be "open": EventSource fires "open" itself, so every heartbeat would reach the client's onopen handler; choose another name, e.g. heartbeat"#),
        ("heartbeat_data \"1\r2\";", "t:4:16: heartbeat_data must not contain control characters such as CR, LF, NUL or tab"),
        ("heartbeat_data \"a\u{0}\";", "t:4:16: heartbeat_data must not contain control characters such as CR, LF, NUL or tab"),
        ("heartbeat_data " + String(repeating: "d", count: 201) + ";", "t:4:16: heartbeat_data must be at most 200 bytes, got 201"),
    ])
    func badHeartbeatNamesAndTexts_areReportedAtTheirArgument(line: String, expected: String) {
        #expect(Self.errors(Self.base + line) == [expected])
    }

    @Test(arguments: [
        ("route /x { upstream a; client_ack_timeout 5s; }",
         #"t:4:24: "client_ack_timeout" is not allowed in a route block; it belongs at top level"#),
        ("route /x { upstream a; upstream_dead_timeout 5s; }",
         #"t:4:24: "upstream_dead_timeout" is not allowed in a route block; it belongs at top level"#),
        ("upstream b { server 127.0.0.1:9001; client_send_timeout 5s; }",
         #"t:4:37: "client_send_timeout" is not allowed in an upstream block; it belongs at top level or in a route block"#),
        ("upstream b { server 127.0.0.1:9001; upstream_read_timeout 5s; }",
         #"t:4:37: "upstream_read_timeout" is not allowed in an upstream block; it belongs at top level or in a route block"#),
        ("upstream b { server 127.0.0.1:9001; sse_max_silence 5s; }",
         #"t:4:37: "sse_max_silence" is not allowed in an upstream block; it belongs at top level or in a route block"#),
        ("upstream b { server 127.0.0.1:9001; heartbeat_event ping; }",
         #"t:4:37: "heartbeat_event" is not allowed in an upstream block; it belongs at top level or in a route block"#),
        ("upstream b { server 127.0.0.1:9001; heartbeat_data ping; }",
         #"t:4:37: "heartbeat_data" is not allowed in an upstream block; it belongs at top level or in a route block"#),
    ])
    func eachDirective_isRefusedOutsideItsContexts(line: String, expected: String) {
        #expect(Self.errors(Self.base + line) == [expected])
    }

    @Test func aDirectiveWrittenTwiceInOneBlock_isADuplicate() {
        #expect(Self.errors(Self.base + "sse_max_silence 1m;\nsse_max_silence off;\n")
            == [#"t:5:1: duplicate directive "sse_max_silence", first at line 4"#])
    }

    // MARK: - client_send_timeout against the heartbeat interval

    /// With the default `idle_timeout 60s` and `heartbeat_fraction 0.33` a heartbeat is due every 19800ms.
    @Test func aTopLevelClientSendTimeout_belowARoutesHeartbeatInterval_isAnError_atTheTopLevelValue() {
        #expect(Self.errors(Self.base + "client_send_timeout 10s;\n") == [
            "t:4:21: client_send_timeout 10s is shorter than the heartbeat interval of route \"/\" (19800ms, "
                + "idle_timeout x heartbeat_fraction): on a quiet stream a client that accepts each heartbeat before "
                + "the next is due keeps up, and would be cut; use at least 19800ms, or off",
        ])
    }

    @Test func aRoutesOwnClientSendTimeout_isCheckedAgainstItsOwnInterval_atItsOwnValue() {
        let text = """
            listen 8080;
            upstream a { server 127.0.0.1:9000; }
            route /equal { upstream a; idle_timeout 10s; heartbeat_fraction 0.5; client_send_timeout 5s; }
            route /slow { upstream a; idle_timeout 30s; heartbeat_fraction 0.5; client_send_timeout 14999ms; }
            route / { upstream a; }
            """
        #expect(Self.errors(text) == [
            "t:4:89: client_send_timeout 14999ms is shorter than the heartbeat interval of route \"/slow\" (15s, "
                + "idle_timeout x heartbeat_fraction): on a quiet stream a client that accepts each heartbeat before "
                + "the next is due keeps up, and would be cut; use at least 15s, or off",
        ], "a timeout equal to the interval is accepted")
    }

    @Test func aTopLevelClientSendTimeout_isReportedOncePerRouteItIsTooShortFor_andARouteMayTurnItOff() {
        let text = """
            listen 8080;
            client_send_timeout 10s;
            upstream a { server 127.0.0.1:9000; }
            route /off { upstream a; client_send_timeout off; }
            route /short { upstream a; idle_timeout 20s; heartbeat_fraction 0.5; }
            route / { upstream a; }
            """
        #expect(Self.errors(text) == [
            "t:2:21: client_send_timeout 10s is shorter than the heartbeat interval of route \"/\" (19800ms, "
                + "idle_timeout x heartbeat_fraction): on a quiet stream a client that accepts each heartbeat before "
                + "the next is due keeps up, and would be cut; use at least 19800ms, or off",
        ])
    }

    @Test func theDefaultClientSendTimeout_isNotHeldAgainstALongHeartbeatInterval() throws {
        let config = try ConfigParser.parse(Self.base.replacingOccurrences(of: "upstream a; }", with: "upstream a; idle_timeout 300s; }"),
                                            fileName: "t")
        #expect(config.routes[0].settings.heartbeatInterval > .seconds(60))
        #expect(config.routes[0].settings.clientSendTimeout == .seconds(60))
    }

    @Test func sseMaxSilence_belowTheHeartbeatInterval_isAllowed() throws {
        let config = try ConfigParser.parse(Self.base + "sse_max_silence 5s;\n", fileName: "t")
        #expect(config.routes[0].settings.sseMaxSilence == .seconds(5))
        #expect(config.routes[0].settings.heartbeatInterval > .seconds(5))
    }
}

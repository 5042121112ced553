import Testing
@testable import SSEKeeperCore

/// The client ride-through directives (issue 15): `client_resume_window`, `client_resume_buffer`,
/// `client_resume_memory`, `client_resume_match` and `stream_max_duration`: defaults, top level and per route,
/// `off` and `none`, ranges, header names, contexts, and the check of each route's buffer against the memory cap.
struct RideThroughDirectiveTests {
    /// Lines 1-3; a line added to it is line 4.
    static let base = "listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; }\n"

    /// The settings of the only route of `base` plus `lines`.
    static func settings(_ lines: String) throws -> StreamSettings {
        try ConfigParser.parse(base + lines, fileName: "t").routes[0].settings
    }

    // MARK: - Values

    @Test func defaults_areOff_1m_256m_AuthorizationAndCookie_andOff() throws {
        let config = try ConfigParser.parse(Self.base, fileName: "t")
        for settings in [config.routes[0].settings, config.defaults] {
            #expect(settings.clientResumeWindow == nil)
            #expect(settings.clientResumeBuffer == 1024 * 1024)
            #expect(settings.clientResumeMatch == ["Authorization", "Cookie"])
            #expect(settings.streamMaxDuration == nil)
        }
        #expect(config.limits.clientResumeMemory == 256 * 1024 * 1024)
    }

    @Test func topLevelValues_applyToRoutes_andARouteOverridesThem_offAndNoneIncluded() throws {
        let config = try ConfigParser.parse("""
            listen 8080;
            client_resume_window 30s;
            client_resume_buffer 64k;
            client_resume_memory 512m;
            client_resume_match X-Api-Key;
            stream_max_duration 50m;
            upstream a { server 127.0.0.1:9000; }
            route /off { upstream a; client_resume_window off; stream_max_duration off; client_resume_match none; }
            route /own { upstream a; client_resume_window 2m; client_resume_buffer 8m; client_resume_match Cookie "X-Tenant"; stream_max_duration 90s; }
            route / { upstream a; }
            """, fileName: "t")
        #expect(config.limits.clientResumeMemory == 512 * 1024 * 1024)
        let off = config.routes[0].settings
        #expect(off.clientResumeWindow == nil && off.streamMaxDuration == nil)
        #expect(off.clientResumeMatch == [], "none: no header is matched")
        #expect(off.clientResumeBuffer == 64 * 1024, "a route that does not write it inherits the top-level one")
        let own = config.routes[1].settings
        #expect(own.clientResumeWindow == .seconds(120))
        #expect(own.clientResumeBuffer == 8 * 1024 * 1024)
        #expect(own.clientResumeMatch == ["Cookie", "X-Tenant"])
        #expect(own.streamMaxDuration == .seconds(90))
        let root = config.routes[2].settings
        #expect(root.clientResumeWindow == .seconds(30))
        #expect(root.clientResumeBuffer == 64 * 1024)
        #expect(root.clientResumeMatch == ["X-Api-Key"])
        #expect(root.streamMaxDuration == .seconds(3000))
        #expect(config.defaults == root)
    }

    @Test func eachStreamSetting_writtenOnlyInARoute_leavesTheOtherRoutesAtTheDefault() throws {
        let config = try ConfigParser.parse("""
            listen 8080;
            upstream a { server 127.0.0.1:9000; }
            route /live { upstream a; client_resume_window 1h; client_resume_buffer 4k; client_resume_match Authorization; stream_max_duration 24h; }
            route / { upstream a; }
            """, fileName: "t")
        let live = config.routes[0].settings
        #expect(live.clientResumeWindow == .seconds(3600))
        #expect(live.clientResumeBuffer == 4096)
        #expect(live.clientResumeMatch == ["Authorization"])
        #expect(live.streamMaxDuration == .seconds(24 * 3600))
        #expect(config.routes[1].settings == StreamSettings())
    }

    @Test func theRangeBounds_areAccepted() throws {
        let low = try ConfigParser.parse(Self.base + """
            client_resume_window 1s;
            client_resume_buffer 4k;
            client_resume_memory 1m;
            stream_max_duration 1000ms;
            """, fileName: "t")
        #expect(low.routes[0].settings.clientResumeWindow == .seconds(1))
        #expect(low.routes[0].settings.clientResumeBuffer == 4096)
        #expect(low.limits.clientResumeMemory == 1024 * 1024, "1m holds the default 1m buffer")
        #expect(low.routes[0].settings.streamMaxDuration == .seconds(1))
        let high = try ConfigParser.parse(Self.base + """
            client_resume_window 60m;
            client_resume_buffer 1024m;
            client_resume_memory 1048576m;
            stream_max_duration 24h;
            """, fileName: "t")
        #expect(high.routes[0].settings.clientResumeWindow == .seconds(3600))
        #expect(high.routes[0].settings.clientResumeBuffer == 1 << 30)
        #expect(high.limits.clientResumeMemory == 1 << 40)
        #expect(high.routes[0].settings.streamMaxDuration == .seconds(24 * 3600))
    }

    @Test func headerNames_areKeptAsWritten_quotedOrNot_inTheirOrder() throws {
        #expect(try Self.settings("client_resume_match x-API-key \"cookie\" Authorization;").clientResumeMatch
            == ["x-API-key", "cookie", "Authorization"])
        #expect(try Self.settings("client_resume_match \"!#$%&'*+-.^_`|~09azAZ\";").clientResumeMatch
            == ["!#$%&'*+-.^_`|~09azAZ"], "every tchar of RFC 9110 §5.6.2 (quoted: # starts a comment)")
    }

    @Test func theOverrides_tellApartEachRideThroughSetting() {
        var window = StreamSettingsOverrides()
        window.clientResumeWindow = .some(nil)
        var buffer = StreamSettingsOverrides()
        buffer.clientResumeBuffer = 4096
        var match = StreamSettingsOverrides()
        match.clientResumeMatch = []
        var maxDuration = StreamSettingsOverrides()
        maxDuration.streamMaxDuration = .some(nil)
        let all = [StreamSettingsOverrides(), window, buffer, match, maxDuration]
        for (i, lhs) in all.enumerated() {
            for (j, rhs) in all.enumerated() {
                #expect((lhs == rhs) == (i == j), "overrides \(i) and \(j)")
            }
        }
        var off = StreamSettings()
        off.clientResumeWindow = .seconds(5)
        #expect(window.applied(to: off).clientResumeWindow == nil, "an explicit off replaces an inherited window")
    }

    // MARK: - Errors

    @Test(arguments: [
        ("client_resume_window 999ms;", "test.conf:4:22: client_resume_window must be between 1s and 1h, got 999ms"),
        ("client_resume_window 61m;", "test.conf:4:22: client_resume_window must be between 1s and 1h, got 61m"),
        ("client_resume_window 0;", "test.conf:4:22: client_resume_window must be between 1s and 1h, got 0"),
        ("client_resume_window on;", #"test.conf:4:22: invalid duration "on" (use 250ms, 15s, 2m, 1h, or off)"#),
        ("client_resume_buffer 4095;", "test.conf:4:22: client_resume_buffer must be between 4k and 1024m, got 4095"),
        ("client_resume_buffer 1025m;", "test.conf:4:22: client_resume_buffer must be between 4k and 1024m, got 1025m"),
        ("client_resume_buffer 1g;", #"test.conf:4:22: invalid size "1g" (use 512, 16k, 1m)"#),
        ("client_resume_buffer off;", #"test.conf:4:22: invalid size "off" (use 512, 16k, 1m)"#),
        ("client_resume_memory 1023k;", "test.conf:4:22: client_resume_memory must be between 1m and 1048576m, got 1023k"),
        ("client_resume_memory 1048577m;", "test.conf:4:22: client_resume_memory must be between 1m and 1048576m, got 1048577m"),
        ("stream_max_duration 999ms;", "test.conf:4:21: stream_max_duration must be between 1s and 24h, got 999ms"),
        ("stream_max_duration 25h;", "test.conf:4:21: stream_max_duration must be between 1s and 24h, got 25h"),
        ("stream_max_duration 1.5h;", #"test.conf:4:21: invalid duration "1.5h" (use 250ms, 15s, 2m, 1h, or off)"#),
    ])
    func badValues_areReportedAtTheirArgument_withTheRange(line: String, expected: String) {
        #expect(parseErrors(Self.base + line) == [expected])
    }

    @Test(arguments: [
        ("client_resume_match \"X Api\";",
         [#"test.conf:4:21: client_resume_match "X Api" is not a header name (RFC 9110 field-name: letters, digits and !#$%&'*+-.^_`|~, at least one)"#]),
        ("client_resume_match \"\";",
         [#"test.conf:4:21: client_resume_match "" is not a header name (RFC 9110 field-name: letters, digits and !#$%&'*+-.^_`|~, at least one)"#]),
        ("client_resume_match Cookie Authorization: X(y) Bénéfice;", [
            #"test.conf:4:28: client_resume_match "Authorization:" is not a header name (RFC 9110 field-name: letters, digits and !#$%&'*+-.^_`|~, at least one)"#,
            #"test.conf:4:43: client_resume_match "X(y)" is not a header name (RFC 9110 field-name: letters, digits and !#$%&'*+-.^_`|~, at least one)"#,
            #"test.conf:4:48: client_resume_match "Bénéfice" is not a header name (RFC 9110 field-name: letters, digits and !#$%&'*+-.^_`|~, at least one)"#,
        ]),
        ("client_resume_match Cookie Authorization cookie;",
         ["test.conf:4:42: header cookie is listed twice (header names are compared ignoring case)"]),
        ("client_resume_match last-event-id;",
         ["test.conf:4:21: client_resume_match must not list last-event-id: a reconnect sends it with a new value, so no reconnect would ever be attached"]),
        ("client_resume_match Cookie none;",
         ["test.conf:4:28: client_resume_match none stands alone: write it without header names"]),
        ("client_resume_match;", [#"test.conf:4:1: "client_resume_match" needs an argument: client_resume_match HEADER ...|none;"#]),
    ])
    func badHeaderLists_areReportedAtEachBadName(line: String, expected: [String]) {
        #expect(parseErrors(Self.base + line) == expected)
    }

    @Test func aBadName_leavesTheListUnchanged_evenInARoute() {
        let text = Self.base.replacingOccurrences(of: "upstream a; }\n", with: "upstream a; client_resume_match X-A \"a b\"; }\n")
        #expect(parseErrors(text).count == 1)
    }

    @Test func aListOfMoreThan32Headers_isReportedAtThe33rd() {
        let names = (1...33).map { "X-H\($0)" }
        let line = "client_resume_match " + names.joined(separator: " ") + ";"
        let column = 1 + "client_resume_match ".count + names.prefix(32).map { $0.count + 1 }.reduce(0, +)
        #expect(parseErrors(Self.base + line) == ["test.conf:4:\(column): client_resume_match lists 33 headers, more than 32"])
        #expect(throws: Never.self) {
            try ConfigParser.parse(Self.base + "client_resume_match " + names.prefix(32).joined(separator: " ") + ";", fileName: "t")
        }
    }

    @Test(arguments: [
        ("route /x { upstream a; client_resume_memory 1g; }",
         #"test.conf:4:24: "client_resume_memory" is not allowed in a route block; it belongs at top level"#),
        ("upstream b { server 127.0.0.1:9001; client_resume_window 5s; }",
         #"test.conf:4:37: "client_resume_window" is not allowed in an upstream block; it belongs at top level or in a route block"#),
        ("upstream b { server 127.0.0.1:9001; client_resume_buffer 5k; }",
         #"test.conf:4:37: "client_resume_buffer" is not allowed in an upstream block; it belongs at top level or in a route block"#),
        ("upstream b { server 127.0.0.1:9001; client_resume_match Cookie; }",
         #"test.conf:4:37: "client_resume_match" is not allowed in an upstream block; it belongs at top level or in a route block"#),
        ("upstream b { server 127.0.0.1:9001; stream_max_duration 1h; }",
         #"test.conf:4:37: "stream_max_duration" is not allowed in an upstream block; it belongs at top level or in a route block"#),
    ])
    func eachDirective_isRefusedOutsideItsContexts(line: String, expected: String) {
        #expect(parseErrors(Self.base + line) == [expected])
    }

    @Test func aDirectiveWrittenTwiceInOneBlock_isADuplicate() {
        #expect(parseErrors(Self.base + "client_resume_match Cookie;\nclient_resume_match none;\n")
            == [#"test.conf:5:1: duplicate directive "client_resume_match", first at line 4"#])
    }

    // MARK: - client_resume_buffer against client_resume_memory

    @Test func aTopLevelBufferLargerThanTheMemoryCap_isAnError_reportedOnceAtTheBuffer() {
        let text = """
            listen 8080;
            client_resume_memory 1m;
            client_resume_buffer 1025k;
            upstream a { server 127.0.0.1:9000; }
            route /x { upstream a; }
            route / { upstream a; }
            """
        #expect(parseErrors(text) == [
            "test.conf:3:22: client_resume_buffer 1025k is larger than client_resume_memory 1m, which caps all streams' "
                + "buffers together: lower client_resume_buffer or raise client_resume_memory",
        ], "two routes inherit it; one error")
    }

    @Test func aRoutesOwnBufferLargerThanTheMemoryCap_isAnError_atTheRoutesValue() {
        let text = """
            listen 8080;
            client_resume_memory 8m;
            upstream a { server 127.0.0.1:9000; }
            route /equal { upstream a; client_resume_buffer 8m; }
            route /big { upstream a; client_resume_buffer 9m; }
            route / { upstream a; }
            """
        #expect(parseErrors(text) == [
            "test.conf:5:47: route \"/big\": client_resume_buffer 9m is larger than client_resume_memory 8m, which caps all "
                + "streams' buffers together: lower client_resume_buffer or raise client_resume_memory",
        ], "a buffer equal to the cap is accepted")
    }

    @Test func aRouteMayLowerATopLevelBufferThatIsTooLarge_onlyTheRoutesInheritingItAreChecked() {
        let text = """
            listen 8080;
            client_resume_buffer 300m;
            upstream a { server 127.0.0.1:9000; }
            route / { upstream a; client_resume_buffer 1m; }
            """
        #expect(throws: Never.self) { try ConfigParser.parse(text, fileName: "t") }
        #expect(parseErrors(text + "\nroute /x { upstream a; }") == [
            "test.conf:2:22: client_resume_buffer 300m is larger than client_resume_memory 256m, which caps all streams' "
                + "buffers together: lower client_resume_buffer or raise client_resume_memory",
        ])
    }
}

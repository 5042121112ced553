import Testing
@testable import SSEKeeperCore

/// Each kind of error, with its exact line and column. `minimalConfig` fills lines 1-3, so a bad line 4 is alone.
@Suite struct ConfigParserErrorTests {
    @Test func unknownDirective_isReportedAtItsName_withASuggestion() {
        #expect(parseErrors(minimalConfig + "  idle_timout 5s;\n") == [
            #"test.conf:4:3: unknown directive "idle_timout"; did you mean "idle_timeout"?"#,
        ])
        #expect(parseErrors(minimalConfig + "frobnicate on;\n") == [
            #"test.conf:4:1: unknown directive "frobnicate""#,
        ])
    }

    @Test func missingSemicolon_isReportedWhereItWasExpected() {
        #expect(parseErrors("listen 8081\n" + minimalConfig) == [
            #"test.conf:2:1: expected ";" after "listen 8081""#,
        ])
        #expect(parseErrors(minimalConfig + "upstream b { server b:1 }\n") == [
            #"test.conf:4:25: expected ";" after "server b:1""#,
        ])
        #expect(parseErrors(minimalConfig + "idle_timeout 5s") == [
            #"test.conf:4:16: expected ";" after "idle_timeout 5s""#,
        ])
    }

    @Test func unexpectedCloseBrace_atTopLevel_isReported() {
        #expect(parseErrors(minimalConfig + "}\n") == [#"test.conf:4:1: unexpected "}" (no block is open)"#])
    }

    @Test func strayPunctuation_isReported() {
        #expect(parseErrors(minimalConfig + "; { listen 1; }\n") == [
            #"test.conf:4:1: unexpected ";" (no directive before it)"#,
            #"test.conf:4:3: unexpected "{" (a block needs a directive name before it)"#,
        ])
        #expect(parseErrors(minimalConfig + "\"listen\" 1;\n") == [
            #"test.conf:4:1: expected a directive name, got quoted string "listen""#,
        ])
    }

    @Test func unclosedBrace_isReportedAtTheBrace() {
        #expect(parseErrors(minimalConfig + "upstream b {\n  server b:1;\n") == [
            #"test.conf:4:12: unclosed "{" of "upstream b": no matching "}" before end of file"#,
        ])
    }

    @Test func wrongArgumentCount_isReported() {
        #expect(parseErrors(minimalConfig + "idle_timeout;\n") == [
            #"test.conf:4:1: "idle_timeout" needs an argument: idle_timeout DURATION;"#,
        ])
        #expect(parseErrors(minimalConfig + "listen 127.0.0.1 8081;\n") == [
            #"test.conf:4:18: "listen" takes an address and the option tls or h2c, got "8081": listen HOST:PORT [tls|h2c];"#,
        ])
        #expect(parseErrors(minimalConfig + "route { upstream api; }\n") == [
            #"test.conf:4:1: "route" needs an argument: route PREFIX { upstream NAME; }"#,
        ])
    }

    @Test func blockShape_isChecked() {
        #expect(parseErrors(minimalConfig + "listen 8081 { }\n") == [
            #"test.conf:4:13: "listen" takes no block at top level: listen HOST:PORT [tls|h2c];"#,
        ])
        #expect(parseErrors(minimalConfig + "route /x;\n") == [
            #"test.conf:4:9: "route" needs a block here: route PREFIX { upstream NAME; }"#,
        ])
        // The rejected "upstream" still counts as present: no follow-on "has no upstream" error.
        #expect(parseErrors(minimalConfig + "route /x { upstream api { server a:1; } }\n") == [
            #"test.conf:4:25: "upstream" takes no block in a route block: upstream NAME;"#,
        ])
        #expect(parseErrors(minimalConfig + "upstream api2;\n") == [
            #"test.conf:4:14: "upstream" needs a block here: upstream NAME { server HOST:PORT; }"#,
        ])
    }

    @Test func badValues_areReportedAtTheValue() {
        #expect(parseErrors(minimalConfig + "idle_timeout 5x;\n") == [
            #"test.conf:4:14: invalid duration "5x" (use 250ms, 15s, 2m, 1h)"#,
        ])
        #expect(parseErrors(minimalConfig + "sse_retry never;\n") == [
            #"test.conf:4:11: invalid duration "never" (use 250ms, 15s, 2m, 1h, or off)"#,
        ])
        #expect(parseErrors(minimalConfig + "max_header_size 12q;\n") == [
            #"test.conf:4:17: invalid size "12q" (use 512, 16k, 1m)"#,
        ])
        #expect(parseErrors(minimalConfig + "max_connections 10k;\n") == [
            #"test.conf:4:17: invalid number "10k" (use digits only, e.g. 10000)"#,
        ])
        #expect(parseErrors(minimalConfig + "heartbeat_fraction 1/3;\n") == [
            #"test.conf:4:20: invalid heartbeat_fraction "1/3" (use a decimal such as 0.33)"#,
        ])
    }

    @Test(arguments: [
        ("idle_timeout 0s;", "4:14: idle_timeout must be between 1ms and 24h, got 0s"),
        ("idle_timeout 25h;", "4:14: idle_timeout must be between 1ms and 24h, got 25h"),
        ("sse_retry 0;", "4:11: sse_retry must be between 1ms and 24h, got 0"),
        ("keepalive_timeout 0ms;", "4:19: keepalive_timeout must be between 1ms and 24h, got 0ms"),
        ("heartbeat_fraction 1.5;", "4:20: heartbeat_fraction must be between 0 and 1 (exclusive), got 1.5"),
        ("heartbeat_fraction 0;", "4:20: heartbeat_fraction must be between 0 and 1 (exclusive), got 0"),
        ("heartbeat_fraction 1.0;", "4:20: heartbeat_fraction must be between 0 and 1 (exclusive), got 1.0"),
        ("max_connections 0;", "4:17: max_connections must be between 1 and 1000000, got 0"),
        ("max_connections 1000001;", "4:17: max_connections must be between 1 and 1000000, got 1000001"),
        ("max_header_size 1023;", "4:17: max_header_size must be between 1k and 1m, got 1023"),
        ("max_header_size 2m;", "4:17: max_header_size must be between 1k and 1m, got 2m"),
        ("max_buffer_size 1k;", "4:17: max_buffer_size must be between 4k and 64m, got 1k"),
        ("max_buffer_size 65m;", "4:17: max_buffer_size must be between 4k and 64m, got 65m"),
        ("heartbeat_comment \"\";", "4:19: heartbeat_comment must not be empty"),
        ("heartbeat_comment \"a\u{1}b\";",
         "4:19: heartbeat_comment must not contain control characters such as CR, LF, NUL or tab"),
        ("heartbeat_comment \"a\rb\";",
         "4:19: heartbeat_comment must not contain control characters such as CR, LF, NUL or tab"),
        ("heartbeat_comment " + String(repeating: "é", count: 101) + ";",
         "4:19: heartbeat_comment must be at most 200 bytes, got 202"),
    ])
    func outOfRangeValues_areReportedAtTheValue(line: String, expected: String) {
        #expect(parseErrors(minimalConfig + line + "\n") == ["test.conf:" + expected])
    }

    @Test func directivesInTheWrongContext_areReported() {
        #expect(parseErrors(minimalConfig + "server 127.0.0.1:1;\n") == [
            #"test.conf:4:1: "server" is not allowed at top level; it belongs in an upstream block"#,
        ])
        #expect(parseErrors(minimalConfig + "route /x { upstream api; listen 1; max_connections 5; }\n") == [
            #"test.conf:4:26: "listen" is not allowed in a route block; it belongs at top level"#,
            #"test.conf:4:36: "max_connections" is not allowed in a route block; it belongs at top level"#,
        ])
        #expect(parseErrors(minimalConfig + "upstream b { server b:1; idle_timeout 1s; }\n") == [
            #"test.conf:4:26: "idle_timeout" is not allowed in an upstream block; it belongs at top level or in a route block"#,
        ])
    }

    @Test func routeInsideRoute_hintsAtAMissingBrace() {
        #expect(parseErrors(minimalConfig + "route /a {\n  upstream api;\nroute /b { upstream api; }\n}\n") == [
            #"test.conf:6:1: "route" is not allowed in a route block; it belongs at top level (is a "}" missing before it?)"#,
        ])
    }

    @Test func unknownUpstream_isReportedAtTheName() {
        #expect(parseErrors(minimalConfig + "route /x {\n    upstream nope;\n}\n") == [
            #"test.conf:5:14: route "/x" names unknown upstream "nope""#,
        ])
        #expect(parseErrors(minimalConfig + "route /x { upstream apj; }\n") == [
            #"test.conf:4:21: route "/x" names unknown upstream "apj"; did you mean "api"?"#,
        ])
    }

    @Test func duplicateListens_areReportedAtTheSecond() {
        #expect(parseErrors("listen 127.0.0.1:8080;\n" + minimalConfig + "listen 127.0.0.1:8080;\n") == [
            "test.conf:5:8: duplicate listen 127.0.0.1:8080, first at line 1",
        ])
        #expect(parseErrors(minimalConfig + "listen *:8080;\nlisten 0.0.0.0:8080;\n") == [
            "test.conf:4:8: duplicate listen *:8080, first at line 1",
            "test.conf:5:8: duplicate listen 0.0.0.0:8080, first at line 1",
        ])
        #expect(parseErrors(minimalConfig + "listen [::1]:1;\nlisten [::1]:1;\n") == [
            "test.conf:5:8: duplicate listen [::1]:1, first at line 4",
        ])
    }

    @Test func duplicates_areReportedAtTheSecond() {
        #expect(parseErrors(minimalConfig + "upstream api { server b:1; }\n") == [
            #"test.conf:4:10: duplicate upstream "api", first at line 2"#,
        ])
        #expect(parseErrors(minimalConfig + "route / { upstream api; }\n") == [
            #"test.conf:4:7: duplicate route "/", first at line 3"#,
        ])
        #expect(parseErrors(minimalConfig + "idle_timeout 1s;\n\nidle_timeout 2s;\n") == [
            #"test.conf:6:1: duplicate directive "idle_timeout", first at line 4"#,
        ])
        #expect(parseErrors(minimalConfig + "route /x { upstream api; sse_retry off; sse_retry 1s; upstream api; }\n") == [
            #"test.conf:4:41: duplicate directive "sse_retry", first at line 4"#,
            #"test.conf:4:55: duplicate directive "upstream", first at line 4"#,
        ])
    }

    @Test func missingListen_andMissingRoute_areReportedAtTheStart() {
        #expect(parseErrors("upstream api { server a:1; }\nroute / { upstream api; }\n") == [
            #"test.conf:1:1: no "listen" directive: add one at top level, e.g. "listen 8080;""#,
        ])
        #expect(parseErrors("listen 8080;\nupstream api { server a:1; }\n") == [
            #"test.conf:1:1: no "route" block: add one at top level, e.g. "route / { upstream NAME; }""#,
        ])
        #expect(parseErrors("  # nothing but a comment\n") == [
            #"test.conf:1:1: no "listen" directive: add one at top level, e.g. "listen 8080;""#,
            #"test.conf:1:1: no "route" block: add one at top level, e.g. "route / { upstream NAME; }""#,
        ])
    }

    @Test func emptyBlocks_andBadNames_areReported() {
        #expect(parseErrors(minimalConfig + "upstream empty { }\nroute /e { }\n") == [
            #"test.conf:4:10: upstream "empty" has no "server": add one, e.g. "server 127.0.0.1:9000;""#,
            #"test.conf:5:7: route "/e" has no "upstream" directive: add one, e.g. "upstream NAME;""#,
        ])
        #expect(parseErrors(minimalConfig + "upstream \"a b\" { server a:1; }\n") == [
            #"test.conf:4:10: invalid upstream name "a b" (use letters, digits, "_", "-" and ".")"#,
        ])
        #expect(parseErrors(minimalConfig + "route events { upstream api; }\nroute \"/a?b\" { upstream api; }\n") == [
            #"test.conf:4:7: route prefix must start with "/", got "events""#,
            #"test.conf:5:7: route prefix "/a?b" must not contain "?""#,
        ])
    }

    @Test(arguments: [
        ("listen 99999;", #"4:8: port must be between 1 and 65535, got 99999"#),
        ("listen 0;", #"4:8: port must be between 1 and 65535, got 0"#),
        ("listen *:http;", #"4:8: invalid port "http" in "*:http" (use a number from 1 to 65535)"#),
        ("listen ::1:80;", #"4:8: IPv6 address must be in brackets, e.g. "[::1]:8080", got "::1:80""#),
        ("listen localhost;", #"4:8: missing port in "localhost" (use HOST:PORT or PORT)"#),
        ("listen [::1];", #"4:8: missing port in "[::1]" (use HOST:PORT or PORT)"#),
        ("listen [::1:80;", #"4:8: missing "]" in IPv6 address "[::1:80""#),
        ("listen [1:2:3]:80;", #"4:8: invalid IPv6 address "1:2:3" in "[1:2:3]:80""#),
        ("listen 10.0.0.256:80;", #"4:8: invalid IPv4 address "10.0.0.256" in "10.0.0.256:80""#),
        ("listen :80;", #"4:8: missing host in ":80""#),
        ("listen 127.0.0.1:;", #"4:8: missing port in "127.0.0.1:""#),
        ("upstream b { server backend; }", #"4:21: missing port in "backend" (use HOST:PORT)"#),
        ("upstream b { server *:80; }",
         #"4:21: invalid host "*" in "*:80" (use an IPv4 address, [IPv6] or a host name of letters, digits, "-" and ".")"#),
        ("upstream b { server -bad.host:80; }",
         #"4:21: invalid host "-bad.host" in "-bad.host:80" (use an IPv4 address, [IPv6] or a host name of letters, digits, "-" and ".")"#),
    ])
    func badAddresses_areReportedAtTheAddress(line: String, expected: String) {
        #expect(parseErrors(minimalConfig + line + "\n") == ["test.conf:" + expected])
    }

    @Test func severalErrors_areAllReported_inFileOrder() {
        let text = """
            listen 8080
            idle_timout 5s;
            route /x {
                upstream nope;
                heartbeat_fraction 2;
                listen 9090;
            }
            upstream api { server 127.0.0.1; }
            max_buffer_size 1g;
            heartbeat_comment "unterminated;
            route / { upstream api; }
            }
            """
        #expect(parseErrors(text) == [
            #"test.conf:2:1: expected ";" after "listen 8080""#,
            #"test.conf:2:1: unknown directive "idle_timout"; did you mean "idle_timeout"?"#,
            #"test.conf:4:14: route "/x" names unknown upstream "nope""#,
            #"test.conf:5:24: heartbeat_fraction must be between 0 and 1 (exclusive), got 2"#,
            #"test.conf:6:5: "listen" is not allowed in a route block; it belongs at top level"#,
            #"test.conf:8:23: missing port in "127.0.0.1" (use HOST:PORT)"#,
            #"test.conf:9:17: invalid size "1g" (use 512, 16k, 1m)"#,
            #"test.conf:10:19: unterminated string: a quoted string must end on the line where it starts"#,
            #"test.conf:12:1: unexpected "}" (no block is open)"#,
        ])
    }

    @Test func tooLargeFile_isOneError_andNoCrash() {
        let huge = String(repeating: "listen 8080; # padding padding padding\n", count: 2 * 1024 * 1024 / 39 + 1)
        #expect(parseErrors(huge) == [
            "test.conf:1:1: config file is too large: \(huge.utf8.count) bytes, the limit is 1048576 bytes",
        ])
    }

    @Test func deeplyNestedBraces_areReported_withoutOverflowingTheStack() {
        let errors = parseErrors(String(repeating: "a {", count: 200_000))
        #expect(errors.contains("test.conf:1:27: blocks nested more than 8 deep"))
        #expect(errors.count < 30)
    }

    @Test func damagedStatements_causeNoFollowOnErrors() {
        // The unterminated string swallows the ";" but not the next line; "listen" still counts as present.
        #expect(parseErrors("listen \"8080;\nupstream api { server a:1; }\nroute / { upstream \"api; }\n}\n") == [
            #"test.conf:1:8: unterminated string: a quoted string must end on the line where it starts"#,
            #"test.conf:3:20: unterminated string: a quoted string must end on the line where it starts"#,
        ])
    }
}

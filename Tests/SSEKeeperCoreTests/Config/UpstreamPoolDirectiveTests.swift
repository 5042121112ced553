import Testing
@testable import SSEKeeperCore

/// `server` options (`weight=`, `max_fails=`, `fail_timeout=`, `backup`) and the keep-alive pool directives.
struct UpstreamPoolDirectiveTests {
    static func upstream(_ block: String) throws -> Upstream {
        let config = try ConfigParser.parse("listen 8080;\nupstream a {\n\(block)\n}\nroute / { upstream a; }\n", fileName: "t")
        return config.upstreams[0]
    }

    /// The errors of an upstream block written on line 3 (line 2 is `upstream a {`).
    static func errors(_ block: String) -> [String] {
        do {
            _ = try ConfigParser.parse("listen 8080;\nupstream a {\n\(block)\n}\nroute / { upstream a; }\n", fileName: "t")
            Issue.record("accepted \(block)")
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func defaults_weight1_maxFails3_failTimeout10s_noBackup_noKeepalive() throws {
        let upstream = try Self.upstream("server 127.0.0.1:9000;")
        #expect(upstream.servers == [UpstreamServer(address: ServerAddress(host: "127.0.0.1", port: 9000))])
        #expect(upstream.servers[0].weight == 1)
        #expect(upstream.servers[0].maxFails == 3)
        #expect(upstream.servers[0].failTimeout == .seconds(10))
        #expect(!upstream.servers[0].isBackup)
        #expect(upstream.keepalive == 0)
        #expect(upstream.keepaliveTimeout == .seconds(60))
    }

    @Test func options_followTheAddress_inAnyOrder() throws {
        let upstream = try Self.upstream("""
            server 10.0.0.1:9000 weight=5 max_fails=2 fail_timeout=30s;
            server [::1]:9001 backup fail_timeout=500ms weight=2;
            server b.internal:9002 max_fails=0;
            upstream_keepalive 16;
            upstream_keepalive_timeout 5s;
            """)
        #expect(upstream.servers == [
            UpstreamServer(address: ServerAddress(host: "10.0.0.1", port: 9000), weight: 5, maxFails: 2, failTimeout: .seconds(30)),
            UpstreamServer(address: ServerAddress(host: "::1", port: 9001), weight: 2, isBackup: true, failTimeout: .milliseconds(500)),
            UpstreamServer(address: ServerAddress(host: "b.internal", port: 9002), maxFails: 0),
        ])
        #expect(upstream.keepalive == 16)
        #expect(upstream.keepaliveTimeout == .seconds(5))
    }

    @Test func badOptions_areReportedAtTheOption() {
        let cases: [(String, String)] = [
            ("server h:1 weight=0;", "t:3:12: weight must be between 1 and 1000, got 0"),
            ("server h:1 weight=abc;", #"t:3:12: invalid weight "abc" (use a whole number from 1 to 1000, e.g. weight=5)"#),
            ("server h:1 weight=1001;", "t:3:12: weight must be between 1 and 1000, got 1001"),
            ("server h:1 weight=;", #"t:3:12: server option "weight" needs a value, e.g. weight=5"#),
            ("server h:1 weight;", #"t:3:12: server option "weight" needs a value, e.g. weight=5"#),
            ("server h:1 max_fails=-1;", #"t:3:12: invalid max_fails "-1" (use a whole number from 0 to 1000, e.g. max_fails=3)"#),
            ("server h:1 fail_timeout=soon;", #"t:3:12: invalid fail_timeout "soon" (use 250ms, 15s, 2m, 1h)"#),
            ("server h:1 fail_timeout=0s;", "t:3:12: fail_timeout must be between 1ms and 24h, got 0s"),
            ("server h:1 wieght=5;", #"t:3:12: unknown server option "wieght=5"; did you mean "weight"?"#),
            ("server h:1 down;", #"t:3:12: unknown server option "down" (use weight=N, max_fails=N, fail_timeout=DURATION or backup)"#),
            ("server h:1 weight=2 weight=3;", #"t:3:21: duplicate server option "weight""#),
            ("server h:1 backup=yes;\nserver h:2;", #"t:3:12: server option "backup" takes no value"#),
            ("upstream_keepalive many;\nserver h:1;", #"t:3:20: invalid number "many" (use digits only, e.g. 10000)"#),
            ("upstream_keepalive 10001;\nserver h:1;", "t:3:20: upstream_keepalive must be between 0 and 10000, got 10001"),
            ("upstream_keepalive_timeout 0;\nserver h:1;", "t:3:28: upstream_keepalive_timeout must be between 1ms and 24h, got 0"),
        ]
        for (block, expected) in cases {
            #expect(Self.errors(block) == [expected], "\(block)")
        }
    }

    @Test func everyBadOptionOfALine_isReported() {
        #expect(Self.errors("server h:1 weight=0 max_fails=x;") == [
            "t:3:12: weight must be between 1 and 1000, got 0",
            #"t:3:21: invalid max_fails "x" (use a whole number from 0 to 1000, e.g. max_fails=3)"#,
        ])
    }

    @Test func aPoolOfOnlyBackups_isAnError_atItsFirstBackup() {
        #expect(Self.errors("server h:1 backup;\nserver h:2 weight=2 backup;") == [
            #"t:3:12: upstream "a" has only backup servers: at least one server must not be "backup""#,
        ])
    }

    @Test func optionsAreForServerOnly_otherDirectivesStillTakeOneArgument() {
        #expect(Self.errors("server h:1;\nupstream_keepalive 4 8;") == [
            #"t:4:22: "upstream_keepalive" takes one argument, got 2: upstream_keepalive COUNT;"#,
        ])
        #expect(Self.errors("server h:1;\nupstream_keepalive 4;\nupstream_keepalive 8;") == [
            #"t:5:1: duplicate directive "upstream_keepalive", first at line 4"#,
        ])
    }

    @Test func keepaliveDirectives_belongInAnUpstreamBlock() {
        do {
            _ = try ConfigParser.parse("listen 8080;\nupstream_keepalive 4;\nupstream a { server h:1; }\nroute / { upstream a; }\n", fileName: "t")
            Issue.record("accepted upstream_keepalive at top level")
        } catch {
            #expect(error.errors.map(\.description) == [#"t:2:1: "upstream_keepalive" is not allowed at top level; it belongs in an upstream block"#])
        }
    }
}

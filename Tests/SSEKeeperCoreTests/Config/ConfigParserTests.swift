import Testing
@testable import SSEKeeperCore

/// Parses `text` as `test.conf`, expecting success.
func parseValid(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Config {
    do {
        return try ConfigParser.parse(text, fileName: "test.conf")
    } catch {
        Issue.record("unexpected errors:\n\(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// Parses `text` as `test.conf`, expecting failure; returns every error as `test.conf:LINE:COLUMN: message`.
func parseErrors(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
    do {
        let config = try ConfigParser.parse(text, fileName: "test.conf")
        Issue.record("expected errors, got \(config)", sourceLocation: sourceLocation)
        return []
    } catch {
        #expect(!error.errors.isEmpty, sourceLocation: sourceLocation)
        return error.errors.map(\.description)
    }
}

/// The smallest valid file, to which error tests add one bad line.
let minimalConfig = """
    listen 8080;
    upstream api { server 127.0.0.1:9000; }
    route / { upstream api; }

    """

@Suite struct ConfigParserTests {
    static let fullConfig = """
        # ssekeeper: every directive once
        listen 127.0.0.1:8080;
        listen [::1]:8081;
        listen 9090;
        listen *:9091;

        client_header_timeout 15s;
        upstream_connect_timeout 2s;
        upstream_header_timeout 30;
        keepalive_timeout 2m;
        max_connections 5000;
        max_header_size 32k;
        max_buffer_size 1m;

        idle_timeout 30s;
        heartbeat_fraction 0.5;
        heartbeat_comment "keep alive";
        sse_retry 3s;

        upstream events {
            server 10.0.0.5:9000;
            server backend.internal:9001;
            server [2001:db8::1]:9002;
        }

        route /events {
            upstream events;
            idle_timeout 250ms;   # tighter than the default
            heartbeat_fraction 0.25;
            heartbeat_comment "ping \\"quoted\\" \\\\ done";
            sse_retry off;
        }

        route "/feeds/" {
            upstream feeds;   # declared below
        }

        upstream feeds { server 127.0.0.1:7000; }

        """

    @Test func fullFile_parsesEveryDirective() throws {
        let config = try parseValid(Self.fullConfig)
        #expect(config.listens == [
            ListenAddress(host: "127.0.0.1", port: 8080),
            ListenAddress(host: "::1", port: 8081),
            ListenAddress(host: nil, port: 9090),
            ListenAddress(host: nil, port: 9091),
        ])
        #expect(config.limits.clientHeaderTimeout == .seconds(15))
        #expect(config.limits.upstreamConnectTimeout == .seconds(2))
        #expect(config.limits.upstreamHeaderTimeout == .seconds(30))
        #expect(config.limits.keepaliveTimeout == .seconds(120))
        #expect(config.limits.maxConnections == 5000)
        #expect(config.limits.maxHeaderBytes == 32 * 1024)
        #expect(config.limits.maxBufferedBytes == 1024 * 1024)
        #expect(config.defaults == StreamSettings(
            idleTimeout: .seconds(30), heartbeatFraction: 0.5, heartbeatComment: "keep alive", sseRetry: .seconds(3)))
        #expect(config.upstreams == [
            Upstream(name: "events", servers: [
                ServerAddress(host: "10.0.0.5", port: 9000),
                ServerAddress(host: "backend.internal", port: 9001),
                ServerAddress(host: "2001:db8::1", port: 9002),
            ]),
            Upstream(name: "feeds", servers: [ServerAddress(host: "127.0.0.1", port: 7000)]),
        ])
        #expect(config.routes == [
            Route(prefix: "/events", upstreamName: "events", settings: StreamSettings(
                idleTimeout: .milliseconds(250), heartbeatFraction: 0.25,
                heartbeatComment: "ping \"quoted\" \\ done", sseRetry: nil)),
            Route(prefix: "/feeds/", upstreamName: "feeds", settings: config.defaults),
        ])
    }

    @Test func minimalFile_getsEveryDefault() throws {
        let config = try parseValid(minimalConfig)
        #expect(config.listens == [ListenAddress(host: nil, port: 8080)])
        #expect(config.upstreams == [Upstream(name: "api", servers: [ServerAddress(host: "127.0.0.1", port: 9000)])])
        #expect(config.defaults.idleTimeout == .seconds(60))
        #expect(config.defaults.heartbeatFraction == 0.33)
        #expect(config.defaults.heartbeatComment == "heartbeat")
        #expect(config.defaults.sseRetry == nil)
        #expect(config.routes == [Route(prefix: "/", upstreamName: "api", settings: StreamSettings())])
        #expect(config.limits.clientHeaderTimeout == .seconds(10))
        #expect(config.limits.upstreamConnectTimeout == .seconds(5))
        #expect(config.limits.upstreamHeaderTimeout == .seconds(60))
        #expect(config.limits.keepaliveTimeout == .seconds(75))
        #expect(config.limits.maxConnections == 10_000)
        #expect(config.limits.maxHeaderBytes == 16 * 1024)
        #expect(config.limits.maxBufferedBytes == 256 * 1024)
        #expect(config.limits == Limits())
    }

    @Test func topLevelSettings_applyToRoutes_evenWhenWrittenAfterThem() throws {
        let config = try parseValid("""
            listen 8080;
            route /a { upstream api; heartbeat_fraction 0.9; }
            route /b { upstream api; sse_retry 5s; }
            upstream api { server localhost:9000; }
            idle_timeout 10s;
            heartbeat_fraction 0.5;
            sse_retry 1500ms;
            """)
        #expect(config.routes.map(\.settings) == [
            StreamSettings(idleTimeout: .seconds(10), heartbeatFraction: 0.9, sseRetry: .milliseconds(1500)),
            StreamSettings(idleTimeout: .seconds(10), heartbeatFraction: 0.5, sseRetry: .seconds(5)),
        ])
        #expect(config.defaults.heartbeatInterval == .seconds(5))
    }

    @Test func routes_andUpstreams_keepDeclarationOrder() throws {
        let config = try parseValid("""
            listen 8080;
            upstream b { server b:1; }
            upstream a { server a:1; server a:2; server a:1; }
            route /z { upstream a; }
            route / { upstream b; }
            route /z/y { upstream a; }
            """)
        #expect(config.upstreams.map(\.name) == ["b", "a"])
        #expect(config.upstream(named: "a")?.servers.count == 3)
        #expect(config.routes.map(\.prefix) == ["/z", "/", "/z/y"])
    }

    @Test func layout_isFree_acrossLinesAndAllmanBraces() throws {
        let config = try parseValid("""
            listen
                127.0.0.1:8080;
            upstream api
            {
                server 127.0.0.1:9000;
            }
            route /
            {
                upstream api;
            }
            """)
        #expect(config.listens == [ListenAddress(host: "127.0.0.1", port: 8080)])
        #expect(config.routes.count == 1)
    }

    @Test func listen_acceptsHostNames_andZeroAddress() throws {
        let config = try parseValid(minimalConfig + "listen localhost:8081;\nlisten 0.0.0.0:8082;\nlisten [::]:8083;\n")
        #expect(config.listens.dropFirst() == [
            ListenAddress(host: "localhost", port: 8081),
            ListenAddress(host: "0.0.0.0", port: 8082),
            ListenAddress(host: "::", port: 8083),
        ])
    }

    @Test func heartbeatComment_acceptsUnicode_andExactly200Bytes() throws {
        let long = String(repeating: "x", count: 200)
        let config = try parseValid(minimalConfig + "heartbeat_comment \(long);\n")
        #expect(config.defaults.heartbeatComment == long)
        let unicode = try parseValid(minimalConfig + "heartbeat_comment \"ça va ✓\";\n")
        #expect(unicode.defaults.heartbeatComment == "ça va ✓")
    }

    @Test func rangeBounds_areInclusive() throws {
        let config = try parseValid(minimalConfig + """
            idle_timeout 24h;
            sse_retry 1ms;
            max_connections 1000000;
            max_header_size 1k;
            max_buffer_size 64m;
            keepalive_timeout 1ms;
            """)
        #expect(config.defaults.idleTimeout == .seconds(86_400))
        #expect(config.defaults.sseRetry == .milliseconds(1))
        #expect(config.limits.maxConnections == 1_000_000)
        #expect(config.limits.maxHeaderBytes == 1024)
        #expect(config.limits.maxBufferedBytes == 64 * 1024 * 1024)
        #expect(config.limits.keepaliveTimeout == .milliseconds(1))
    }

    @Test func crlfLineEndings_parseLikeLineFeeds() throws {
        let config = try parseValid("listen 8080;\r\nupstream api {\r\n server a:1;\r\n}\r\nroute / { upstream api; }\r\n")
        #expect(config.routes.count == 1)
    }

    @Test func errorDescriptions_readLikeCompilerOutput() {
        let error = ConfigError(fileName: "/etc/ssekeeper.conf", line: 3, column: 14, message: "bad")
        #expect(error.description == "/etc/ssekeeper.conf:3:14: bad")
        let errors = ConfigErrors(errors: [error, ConfigError(fileName: "f", line: 4, column: 1, message: "worse")])
        #expect(errors.description == "/etc/ssekeeper.conf:3:14: bad\nf:4:1: worse")
    }
}

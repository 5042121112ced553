import Testing
@testable import SSEKeeperCore

/// `cors_allow_origin` and `cors_allow_credentials`: defaults, top level and per route, the origin syntax with
/// its serialization (what a browser sends in `Origin`), and the refusals with their FILE:LINE:COLUMN.
struct CORSDirectiveTests {
    /// Lines 1-3; a line added after it is line 4.
    static let base = "listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; }\n"

    /// The stored origins of `cors_allow_origin <arguments>;` at top level.
    static func origins(_ arguments: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> CORSAllowedOrigins {
        try parseValid(base + "cors_allow_origin \(arguments);\n", sourceLocation: sourceLocation).routes[0].settings.corsAllowOrigin
    }

    @Test func theDefault_isOff_withoutCredentials() throws {
        let settings = try parseValid(Self.base).routes[0].settings
        #expect(settings.corsAllowOrigin == .off)
        #expect(settings.corsAllowCredentials == false)
    }

    @Test func topLevelValues_applyToRoutes_andARouteReplacesThem() throws {
        let config = try parseValid("""
            listen 8080;
            cors_allow_origin https://app.example;
            cors_allow_credentials on;
            upstream a { server 127.0.0.1:9000; }
            route /open/ { upstream a; cors_allow_origin *; cors_allow_credentials off; }
            route /closed/ { upstream a; cors_allow_origin off; }
            route /two/ { upstream a; cors_allow_origin http://127.0.0.1:8080 https://b.example; }
            route / { upstream a; }
            """)
        let settings = Dictionary(uniqueKeysWithValues: config.routes.map { ($0.prefix, $0.settings) })
        #expect(settings["/"]?.corsAllowOrigin == .list(["https://app.example"]))
        #expect(settings["/"]?.corsAllowCredentials == true)
        #expect(settings["/open/"]?.corsAllowOrigin == .any)
        #expect(settings["/open/"]?.corsAllowCredentials == false)
        #expect(settings["/closed/"]?.corsAllowOrigin == .off)
        #expect(settings["/two/"]?.corsAllowOrigin == .list(["http://127.0.0.1:8080", "https://b.example"]))
        #expect(settings["/two/"]?.corsAllowCredentials == true, "inherited")
    }

    @Test func origins_areStoredAsBrowsersSerializeThem() throws {
        let cases: [(written: String, stored: String)] = [
            ("https://app.example", "https://app.example"),
            ("HTTPS://App.EXAMPLE", "https://app.example"),
            ("https://app.example:443", "https://app.example"),
            ("http://app.example:80", "http://app.example"),
            ("http://app.example:443", "http://app.example:443"),
            ("https://app.example:8443", "https://app.example:8443"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            ("http://[0:0:0:0:0:0:0:1]", "http://[::1]"),
            ("http://[2001:DB8:0:0:1:0:0:1]", "http://[2001:db8::1:0:0:1]"),
            ("http://[::ffff:192.0.2.1]", "http://[::ffff:c000:201]"),
            ("http://[1:0:1:0:1:0:1:0]", "http://[1:0:1:0:1:0:1:0]"),
            ("\"https://xn--bcher-kva.example\"", "https://xn--bcher-kva.example"),
        ]
        for (written, stored) in cases {
            #expect(try Self.origins(written) == .list([stored]), "\(written)")
        }
    }

    @Test func starAndOff_standAlone() throws {
        #expect(try Self.origins("*") == .any)
        #expect(try Self.origins("off") == .off)
        #expect(parseErrors(Self.base + "cors_allow_origin https://a.example *;\n")
            == ["test.conf:4:37: cors_allow_origin * stands alone: write it without origins"])
        #expect(parseErrors(Self.base + "cors_allow_origin off https://a.example;\n")
            == ["test.conf:4:19: cors_allow_origin off stands alone: write it without origins"])
    }

    @Test func badOrigins_areReportedEachAtItsOwnColumn() {
        let errors = parseErrors(Self.base + "cors_allow_origin https://ok.example https://a.example/ null ftp://b.example;\n")
        #expect(errors == [
            "test.conf:4:38: origin \"https://a.example/\" must not have a path, query or fragment: drop the trailing \"/\"",
            "test.conf:4:57: the \"null\" origin cannot be allowed: sandboxed documents and file: pages send it, so any page can",
            "test.conf:4:62: origin \"ftp://b.example\" must use http or https",
        ])
    }

    @Test func everyMalformedOrigin_isRefused() {
        let refused = [
            "app.example", "https//app.example", "https://", "https://app.example/path", "https://app.example?q",
            "https://app.example#f", "https://user@app.example", "https://bücher.example", "https://app.example:0",
            "https://app.example:65536", "https://app.example:x", "https://app.example:", "http://127.000.0.1",
            "http://010.0.0.1", "http://1.2.3", "http://[::1", "http://[::g]", "http://[::1]x", "http://a..b",
            "http://-a.example", "http://a_b.example", "https://app.example:80:80", "*.example", "https://*.example",
        ]
        for origin in refused {
            let errors = parseErrors(Self.base + "cors_allow_origin \"\(origin)\";\n")
            #expect(errors.count == 1 && errors[0].hasPrefix("test.conf:4:19: "), "\(origin): \(errors)")
        }
    }

    @Test func anOriginListedTwice_orMoreThanTheLimit_isRefused() {
        #expect(parseErrors(Self.base + "cors_allow_origin https://a.example HTTPS://A.example:443;\n")
            == ["test.conf:4:37: origin https://a.example is listed twice"])
        let many = (0...CORSAllowedOrigins.maxOrigins).map { "https://o\($0).example" }.joined(separator: " ")
        let errors = parseErrors(Self.base + "cors_allow_origin \(many);\n")
        #expect(errors.count == 1 && errors[0].contains("lists 101 origins, more than 100"), "\(errors)")
    }

    @Test func starWithCredentials_isRefused_whereTheRouteOrTheTopLevelWroteIt() {
        #expect(parseErrors(Self.base + "cors_allow_origin *;\ncors_allow_credentials on;\n")
            == ["test.conf:5:24: cors_allow_origin * cannot go with cors_allow_credentials on (any web site could "
                + "read a signed-in user's responses): list the origins that may send credentials"])
        let inRoute = parseErrors("""
            listen 8080;
            cors_allow_credentials on;
            upstream a { server 127.0.0.1:9000; }
            route /x/ { upstream a; cors_allow_origin *; }
            route /y/ { upstream a; cors_allow_origin *; }
            route / { upstream a; cors_allow_origin https://a.example; }
            """)
        #expect(inRoute.count == 2)
        #expect(inRoute.first?.hasPrefix("test.conf:4:43: route \"/x/\": cors_allow_origin * cannot go with") == true, "\(inRoute)")
        #expect(inRoute.last?.hasPrefix("test.conf:5:43: route \"/y/\":") == true, "\(inRoute)")
    }

    @Test func starWithCredentials_atTopLevel_isReportedOnce_andNotWhenEveryRouteOverridesIt() throws {
        let twoRoutes = parseErrors("""
            listen 8080;
            cors_allow_origin *;
            cors_allow_credentials on;
            upstream a { server 127.0.0.1:9000; }
            route /x/ { upstream a; }
            route / { upstream a; }
            """)
        #expect(twoRoutes.count == 1 && twoRoutes[0].hasPrefix("test.conf:3:24: "), "\(twoRoutes)")
        _ = try parseValid("""
            listen 8080;
            cors_allow_origin *;
            cors_allow_credentials on;
            upstream a { server 127.0.0.1:9000; }
            route / { upstream a; cors_allow_credentials off; }
            """)
    }

    @Test func theDirectives_takeTheirArgumentsInTheirContextsOnly() {
        #expect(parseErrors(Self.base + "cors_allow_origin;\n") == [
            "test.conf:4:1: \"cors_allow_origin\" needs an argument: cors_allow_origin ORIGIN ...|*|off;"])
        #expect(parseErrors(Self.base + "cors_allow_credentials yes;\n").count == 1)
        #expect(parseErrors("listen 8080;\nupstream a { server 127.0.0.1:9000; cors_allow_origin *; }\nroute / { upstream a; }\n").count == 1)
        #expect(parseErrors(Self.base + "cors_allow_origin *;\ncors_allow_origin off;\n")
            == ["test.conf:5:1: duplicate directive \"cors_allow_origin\", first at line 4"])
    }
}

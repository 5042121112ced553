import Testing
@testable import SSEKeeperCore

/// The HTTP/2 directives (issue 17): `http2`, `http2_max_concurrent_streams` and the `h2c` option of `listen`:
/// defaults, values, ranges, contexts, and `tls` with `h2c` refused.
struct HTTP2DirectiveTests {
    /// Lines 1-3; a line added to it is line 4.
    static let base = "listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; }\n"

    static func errors(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        DeadPeerDirectiveTests.errors(text, sourceLocation: sourceLocation)
    }

    // MARK: - http2 and http2_max_concurrent_streams

    @Test func defaults_areHTTP2On_and128Streams() throws {
        let config = try ConfigParser.parse(Self.base, fileName: "t")
        #expect(config.limits.http2 == true)
        #expect(config.limits.http2MaxConcurrentStreams == 128)
        #expect(config.listens.map(\.transport) == [.plain])
    }

    @Test func http2_takesOnAndOff_andTheStreamLimitItsRangeBounds() throws {
        let off = try ConfigParser.parse(Self.base + "http2 off;\nhttp2_max_concurrent_streams 1;\n", fileName: "t")
        #expect(off.limits.http2 == false)
        #expect(off.limits.http2MaxConcurrentStreams == 1)
        let on = try ConfigParser.parse(Self.base + "http2 on;\nhttp2_max_concurrent_streams 10000;\n", fileName: "t")
        #expect(on.limits.http2 == true)
        #expect(on.limits.http2MaxConcurrentStreams == 10_000)
    }

    @Test func badValues_areReportedAtTheirArgument_withTheRangeOrChoices() {
        #expect(Self.errors(Self.base + "http2 yes;\n") == [#"t:4:7: http2 must be on or off, got "yes""#])
        #expect(Self.errors(Self.base + "http2_max_concurrent_streams 0;\n")
                == ["t:4:30: http2_max_concurrent_streams must be between 1 and 10000, got 0"])
        #expect(Self.errors(Self.base + "http2_max_concurrent_streams 10001;\n")
                == ["t:4:30: http2_max_concurrent_streams must be between 1 and 10000, got 10001"])
        #expect(Self.errors(Self.base + "http2_max_concurrent_streams many;\n")
                == [#"t:4:30: invalid number "many" (use digits only, e.g. 10000)"#])
        #expect(Self.errors(Self.base + "http2 on;\nhttp2 off;\n") == [#"t:5:1: duplicate directive "http2", first at line 4"#])
    }

    @Test func theHTTP2Directives_belongAtTopLevel_notInARoute() {
        #expect(Self.errors("listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; http2 off; }\n")
                == [#"t:3:23: "http2" is not allowed in a route block; it belongs at top level"#])
        #expect(Self.errors("listen 8080;\nupstream a { server 127.0.0.1:9000; http2_max_concurrent_streams 5; }\nroute / { upstream a; }\n")
                == [#"t:2:37: "http2_max_concurrent_streams" is not allowed in an upstream block; it belongs at top level"#])
    }

    // MARK: - listen ... h2c

    @Test func listenH2c_isPlainTCPWithPriorKnowledge_andNeedsNoCertificate() throws {
        let config = try ConfigParser.parse(Self.base + "listen 127.0.0.1:8081 h2c;\n", fileName: "t")
        #expect(config.listens == [ListenAddress(host: nil, port: 8080),
                                   ListenAddress(host: "127.0.0.1", port: 8081, transport: .h2c)])
        #expect(!config.hasTLSListener)
        #expect(config.acceptsPriorKnowledgeHTTP2(on: .h2c))
        #expect(!config.acceptsPriorKnowledgeHTTP2(on: .plain))
        #expect(!config.acceptsPriorKnowledgeHTTP2(on: .tls), "over TLS, ALPN decides")
    }

    @Test func withHTTP2Off_anH2cListener_isServedLikeAPlainOne() throws {
        let config = try ConfigParser.parse(Self.base + "listen 8081 h2c;\nhttp2 off;\n", fileName: "t")
        #expect(config.listens[1].transport == .h2c, "the listen itself is kept")
        #expect(!config.acceptsPriorKnowledgeHTTP2(on: .h2c))
    }

    @Test func tlsAndH2cTogether_areRefused_atTheSecondOption_inEitherOrder() {
        let files = "tls_certificate /c.pem;\ntls_certificate_key /k.pem;\n"
        let refusal = "listen options tls and h2c cannot be combined: over TLS, clients choose HTTP/2 by ALPN (see http2), "
        #expect(Self.errors(Self.base + files + "listen 8443 tls h2c;\n")
                == ["t:6:17: \(refusal)so write \"listen 8443 tls;\""])
        #expect(Self.errors(Self.base + files + "listen 127.0.0.1:8443 h2c tls;\n")
                == ["t:6:27: \(refusal)so write \"listen 127.0.0.1:8443 tls;\""])
    }

    @Test func aRepeatedOrMistypedListenOption_isReportedWithAHint() {
        #expect(Self.errors(Self.base + "listen 8081 h2c h2c;\n") == [#"t:4:17: duplicate listen option "h2c""#])
        #expect(Self.errors(Self.base + "listen 8081 h2;\n") == [#"t:4:13: unknown listen option "h2"; did you mean "h2c"?"#])
        #expect(Self.errors(Self.base + "listen 8081 http2;\n") == [
            #"t:4:13: unknown listen option "http2": HTTP/2 is on by default for tls listeners (see http2); "#
                + "for cleartext HTTP/2 with prior knowledge write h2c",
        ])
        #expect(Self.errors(Self.base + "listen 8081 quic;\n")
                == [#"t:4:13: "listen" takes an address and the option tls or h2c, got "quic": listen HOST:PORT [tls|h2c];"#])
    }

    @Test func anH2cAddress_isStillOneAddress_soThePlainOneTwiceIsADuplicate() {
        #expect(Self.errors(Self.base + "listen *:8080 h2c;\n") == ["t:4:8: duplicate listen *:8080, first at line 1"])
    }
}

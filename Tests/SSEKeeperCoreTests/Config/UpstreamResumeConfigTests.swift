import Testing
@testable import SSEKeeperCore

/// `upstream_resume`, `resume_window` and `resume_backoff`: defaults, top level and per route, positioned errors.
struct UpstreamResumeConfigTests {
    static let base = "listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; }\n"

    @Test func defaults_areOff_30s_and100msTo5s() throws {
        let settings = try ConfigParser.parse(Self.base, fileName: "t").routes[0].settings
        #expect(settings.upstreamResume == .off)
        #expect(settings.resumeWindow == .seconds(30))
        #expect(settings.resumeBackoffMin == .milliseconds(100))
        #expect(settings.resumeBackoffMax == .seconds(5))
    }

    @Test func topLevelValues_applyToRoutes_andARouteOverridesThem() throws {
        let config = try ConfigParser.parse("""
            listen 8080;
            upstream_resume on;
            resume_window 10s;
            resume_backoff 50ms..2s;
            upstream a { server 127.0.0.1:9000; }
            route /feed { upstream a; upstream_resume always; resume_window 1m; resume_backoff 1s..1s; }
            route / { upstream a; }
            """, fileName: "t")
        let feed = config.routes[0].settings
        #expect(feed.upstreamResume == .always)
        #expect(feed.resumeWindow == .seconds(60))
        #expect(feed.resumeBackoffMin == .seconds(1) && feed.resumeBackoffMax == .seconds(1))
        let root = config.routes[1].settings
        #expect(root.upstreamResume == .on)
        #expect(root.resumeWindow == .seconds(10))
        #expect(root.resumeBackoffMin == .milliseconds(50) && root.resumeBackoffMax == .seconds(2))
    }

    @Test func badValues_areReportedWithTheirPosition() {
        let cases: [(String, String)] = [
            ("upstream_resume yes;", #"t:4:17: upstream_resume must be off, on or always, got "yes""#),
            ("resume_window 0s;", "t:4:15: resume_window must be between 1ms and 24h, got 0s"),
            ("resume_backoff 5s;", #"t:4:16: invalid resume_backoff "5s" (use MIN..MAX, e.g. 100ms..5s)"#),
            ("resume_backoff 1s..x;", #"t:4:16: invalid resume_backoff "1s..x" (use MIN..MAX, e.g. 100ms..5s)"#),
            ("resume_backoff 5s..1s;", "t:4:16: resume_backoff minimum 5s is larger than its maximum 1s"),
            ("resume_backoff 0ms..1s;", "t:4:16: resume_backoff bounds must be between 1ms and 24h, got 0ms..1s"),
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

    @Test func resumeDirectives_areNotAllowedInAnUpstreamBlock() {
        #expect(throws: ConfigErrors.self) {
            try ConfigParser.parse("listen 8080;\nupstream a { server 127.0.0.1:9000; upstream_resume on; }\nroute / { upstream a; }\n", fileName: "t")
        }
    }
}

import Testing
@testable import SSEKeeperCore

struct ProbeReportTests {
    static let fin = ProbeOutcome(cutBy: .fin, idleTimeout: .milliseconds(60_120), bracketLow: .milliseconds(60_120),
                                  bracketHigh: .milliseconds(60_120))
    static let drop = ProbeOutcome(cutBy: .silentDrop, idleTimeout: .milliseconds(56_250), bracketLow: .milliseconds(56_250),
                                   bracketHigh: .seconds(60))
    static let none = ProbeOutcome(cutBy: .none, idleTimeout: nil, bracketLow: .seconds(900), bracketHigh: nil)

    @Test func anExplicitCut_givesTheMeasuredTime_andTheLinesToPaste() {
        #expect(ProbeReport.lines(for: Self.fin, maxSilence: .seconds(900), tlsVerified: true) == [
            "idle timeout: 60.1s",
            "cut by: fin (the connection was closed after 60.1s without data)",
            "recommended (paste into your config):",
            "    idle_timeout 60s;",
            "    heartbeat_fraction 0.33;",
            "(a heartbeat after 19.8s of silence, a third of the timeout: even if one is skipped or late, the next arrives before the cut)",
        ])
    }

    @Test func aSilentDrop_givesTheBracket_andRecommendsItsLowEnd() {
        let lines = ProbeReport.lines(for: Self.drop, maxSilence: .seconds(900), tlsVerified: nil)
        #expect(lines[0] == "idle timeout: between 56.3s and 60.0s")
        #expect(lines[1].hasPrefix("cut by: silent_drop (no FIN, no RST"))
        #expect(lines[3] == "    idle_timeout 56s;")
    }

    @Test func noTimeout_keepsTheDefault_andSaysWhy() {
        let lines = ProbeReport.lines(for: Self.none, maxSilence: .seconds(900), tlsVerified: false)
        #expect(lines[0] == "no idle timeout up to 15m")
        #expect(lines[2] == "recommended (keep the default):")
        #expect(lines[3] == "    idle_timeout 60s;")
        #expect(lines[5].contains("nothing on this path cut a silent stream within 15m"))
        #expect(!lines[5].contains("run again"))
        #expect(lines.last == "warning: the TLS certificate was not verified (--insecure)")
        let short = ProbeOutcome(cutBy: .none, idleTimeout: nil, bracketLow: .seconds(10), bracketHigh: nil)
        #expect(ProbeReport.lines(for: short, maxSilence: .seconds(10), tlsVerified: nil)[5].contains("run again with --max 15m"))
    }

    @Test func anHTTPErrorCut_namesTheStatus() {
        let outcome = ProbeOutcome(cutBy: .httpError, idleTimeout: .milliseconds(2520), bracketLow: .milliseconds(2520),
                                   bracketHigh: .milliseconds(2520), httpStatus: 504)
        let lines = ProbeReport.lines(for: outcome, maxSilence: .seconds(10), tlsVerified: nil)
        #expect(lines[1] == "cut by: http_error (an intermediary answered HTTP 504 instead of the stream after 2.5s without data)")
        #expect(lines[3] == "    idle_timeout 2500ms;")
    }

    @Test func theJSON_hasEveryDocumentedField() {
        #expect(ProbeReport.json(for: Self.fin, url: "https://h/p", maxSilence: .seconds(900), tlsVerified: true)
            == "{\"url\": \"https://h/p\", \"idle_timeout_s\": 60.12, \"bracket_s\": [60.12, 60.12], \"cut_by\": \"fin\", "
            + "\"http_status\": null, \"max_s\": 900, \"server_cap_s\": null, \"tls_verified\": true, "
            + "\"limit\": \"idle\", \"lifetime_s\": null, "
            + "\"recommended\": {\"idle_timeout\": \"60s\", \"heartbeat_fraction\": 0.33, "
            + "\"stream_max_duration\": null, \"client_resume_window\": null, "
            + "\"config\": \"idle_timeout 60s;\\nheartbeat_fraction 0.33;\"}}")
        let none = ProbeReport.json(for: Self.none, url: "http://h/p", maxSilence: .seconds(900), tlsVerified: nil)
        #expect(none.contains("\"idle_timeout_s\": null, \"bracket_s\": [900, null], \"cut_by\": \"none\""))
        #expect(none.contains("\"limit\": \"none\", \"lifetime_s\": null"))
        let drop = ProbeReport.json(for: Self.drop, url: "http://h/p", maxSilence: .seconds(900), tlsVerified: nil)
        #expect(drop.contains("\"idle_timeout_s\": 56.25, \"bracket_s\": [56.25, 60], \"cut_by\": \"silent_drop\""))
    }

    static let lifetime = ProbeOutcome(cutBy: .fin, idleTimeout: nil, bracketLow: .seconds(15), bracketHigh: nil,
                                       lifetimeLimit: .milliseconds(30_040))

    @Test func aLifetimeLimit_isReportedAsSuch_andRecommendsStreamMaxDuration_notHeartbeats() {
        #expect(ProbeReport.lines(for: Self.lifetime, maxSilence: .seconds(900), tlsVerified: nil) == [
            "lifetime limit: about 30.0s (the path cuts requests at a total age, whatever their silence; heartbeats cannot help)",
            "cut by: fin (the connection was closed 30.0s after the request, whether the stream had been silent or busy)",
            "recommended (paste into your config):",
            "    stream_max_duration 24s;",
            "    client_resume_window 30s;",
            "(set stream_max_duration below it and client_resume_window so clients ride through: ssekeeper ends each "
                + "client connection at an event boundary after 24s with a short retry:, and the client reconnects "
                + "onto the same stream before the path cuts it)",
        ])
        let short = ProbeOutcome(cutBy: .httpError, idleTimeout: nil, bracketLow: .seconds(2), bracketHigh: nil,
                                 httpStatus: 504, lifetimeLimit: .milliseconds(3010))
        let lines = ProbeReport.lines(for: short, maxSilence: .seconds(10), tlsVerified: nil)
        #expect(lines[1] == "cut by: http_error (an intermediary answered HTTP 504 instead of the stream 3.0s after the request, "
            + "whether the stream had been silent or busy)")
        #expect(lines[3] == "    stream_max_duration 2400ms;")
    }

    @Test func aLifetimeLimit_inJSON_extendsTheFields() {
        #expect(ProbeReport.json(for: Self.lifetime, url: "http://h/p", maxSilence: .seconds(900), tlsVerified: nil)
            == "{\"url\": \"http://h/p\", \"idle_timeout_s\": null, \"bracket_s\": [15, null], \"cut_by\": \"fin\", "
            + "\"http_status\": null, \"max_s\": 900, \"server_cap_s\": null, \"tls_verified\": null, "
            + "\"limit\": \"lifetime\", \"lifetime_s\": 30.04, "
            + "\"recommended\": {\"idle_timeout\": \"60s\", \"heartbeat_fraction\": 0.33, "
            + "\"stream_max_duration\": \"24s\", \"client_resume_window\": \"30s\", "
            + "\"config\": \"stream_max_duration 24s;\\nclient_resume_window 30s;\"}}")
    }

    @Test func theLifetimeCheck_hasProgressLines() {
        #expect(ProbeReport.line(for: .cut(busy: .zero, silence: .seconds(4), quiet: .milliseconds(2980), age: .seconds(3)))
            == "  4s of silence: cut after 3.0s without data, 3.0s after the request")
        #expect(ProbeReport.line(for: .cut(busy: .milliseconds(1490), silence: .milliseconds(5960), quiet: .milliseconds(1510), age: .seconds(3)))
            == "  1.49s busy, then 5.96s of silence: cut after 1.5s without data, 3.0s after the request")
        #expect(ProbeReport.line(for: .checkingLifetime(busy: .milliseconds(1490), silence: .milliseconds(5960)))
            == "checking for a lifetime limit: a stream busy for 1.49s, then 5.96s of silence")
        #expect(ProbeReport.line(for: .lifetimeCheckUnsupported).hasPrefix("the server ignores busy"))
    }

    @Test func theJSONErrorObject_escapesTheMessage() {
        let failure = ProbeFailure(.tls, "bad \"cert\"\n\u{1}")
        #expect(ProbeReport.json(for: failure, url: "https://h/p")
            == "{\"url\": \"https://h/p\", \"error\": \"bad \\\"cert\\\"\\n\\u0001\", \"error_kind\": \"tls\"}")
    }

    @Test func theRecommendedTimeout_isRoundedDown() {
        #expect(ProbeRecommendation.roundedDown(.milliseconds(59_999)) == .seconds(59))
        #expect(ProbeRecommendation.roundedDown(.milliseconds(10_000)) == .seconds(10))
        #expect(ProbeRecommendation.roundedDown(.milliseconds(9_999)) == .milliseconds(9_900))
        #expect(ProbeRecommendation.roundedDown(.milliseconds(30)) == .milliseconds(100))
    }

    @Test func theRecommendedLines_areAValidConfig() throws {
        for outcome in [Self.fin, Self.drop, Self.none] {
            let recommendation = ProbeRecommendation(for: outcome, probedUpTo: .seconds(900))
            let text = "listen 8080;\nupstream a { server 127.0.0.1:1; }\nroute / { upstream a; }\n"
                + recommendation.configLines.joined(separator: "\n")
            let config = try ConfigParser.parse(text, fileName: "t")
            #expect(config.defaults.idleTimeout == recommendation.idleTimeout)
            #expect(config.defaults.heartbeatFraction == 0.33)
        }
    }

    @Test func theRecommendedLinesForALifetimeLimit_areAValidConfig() throws {
        let recommendation = ProbeRecommendation(for: Self.lifetime, probedUpTo: .seconds(900))
        let text = "listen 8080;\nupstream a { server 127.0.0.1:1; }\nroute / { upstream a; }\n"
            + recommendation.configLines.joined(separator: "\n")
        let config = try ConfigParser.parse(text, fileName: "t")
        #expect(config.defaults.streamMaxDuration == recommendation.streamMaxDuration)
        #expect(config.defaults.streamMaxDuration != nil)
        #expect(config.defaults.clientResumeWindow == recommendation.clientResumeWindow)
        #expect(config.defaults.clientResumeWindow != nil)
    }

    @Test func progressLines_sayWhatHappened() {
        #expect(ProbeReport.line(for: .opened(round: 0, silences: [.seconds(1)])) == "opened 1 stream with silences: 1s")
        #expect(ProbeReport.line(for: .opened(round: 2, silences: [.milliseconds(2250), .milliseconds(2667)]))
            == "bisection round 2: silences 2.25s 2.667s")
        #expect(ProbeReport.line(for: .survived(.seconds(4))) == "  4s of silence: survived")
        #expect(ProbeReport.line(for: .dropped(.seconds(8))).hasPrefix("  8s of silence: no final event"))
        #expect(ProbeReport.statusLine(elapsed: .milliseconds(12_340), openStreams: 3, longestSurvived: .seconds(4),
                                       shortestDropped: .seconds(8))
            == "[12.3s] 3 streams open, survived up to 4s, dropped from 8s")
    }
}

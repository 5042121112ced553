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
            + "\"recommended\": {\"idle_timeout\": \"60s\", \"heartbeat_fraction\": 0.33, "
            + "\"config\": \"idle_timeout 60s;\\nheartbeat_fraction 0.33;\"}}")
        let none = ProbeReport.json(for: Self.none, url: "http://h/p", maxSilence: .seconds(900), tlsVerified: nil)
        #expect(none.contains("\"idle_timeout_s\": null, \"bracket_s\": [900, null], \"cut_by\": \"none\""))
        let drop = ProbeReport.json(for: Self.drop, url: "http://h/p", maxSilence: .seconds(900), tlsVerified: nil)
        #expect(drop.contains("\"idle_timeout_s\": 56.25, \"bracket_s\": [56.25, 60], \"cut_by\": \"silent_drop\""))
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

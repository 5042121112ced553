import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// `ssekeeper probe` over real sockets: a real ssekeeper serving `probe_path`, behind a test intermediary that
/// cuts idle connections after a known time by FIN, by RST, by forgetting them, or by answering 504.
@Suite(.serialized)
struct ProbeCommandTests {
    static let probePath = "/.ssekeeper/probe"
    /// The intermediaries' idle timeout: short so the suite stays fast, long enough for ±10 % to be 250 ms.
    static let idleTimeout = 2.5

    /// ssekeeper with the probe endpoint, in front of an upstream that answers `/html` with a page, `/sse` with
    /// an event stream that is not a probe, and anything else with 404.
    static func proxy() throws -> (ProxyHarness, TestUpstream) {
        let upstream = try TestUpstream { connection, head, _ in
            if head.hasPrefix("GET /html") {
                try connection.send("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\n\r\n<html>")
            } else if head.hasPrefix("GET /sse") {
                try connection.send(sseResponseHead(chunked: false) + "data: hello\n\n")
            } else {
                try connection.send("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            }
        }
        let proxy = try ProxyHarness(routes: [(prefix: "/", ports: [upstream.port], settings: StreamSettings())],
                                     probe: ProbeSettings(path: probePath))
        return (proxy, upstream)
    }

    static func probe(port: UInt16, path: String = probePath, max: Duration) throws -> Result<ProbeOutcome, ProbeFailure> {
        let options = ProbeOptions(url: try ProbeURL.parse("http://127.0.0.1:\(port)\(path)"), maxSilence: max)
        return ProbeRunner(options: options).run()
    }

    static func expectWithin10Percent(_ measured: Duration?, of expected: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let measured else {
            Issue.record("no idle timeout measured", sourceLocation: sourceLocation)
            return
        }
        let seconds = Double(TimeAmount(measured).milliseconds) / 1000
        #expect(abs(seconds - expected) <= expected * 0.1, "measured \(seconds) s, expected \(expected) s ± 10 %",
                sourceLocation: sourceLocation)
    }

    // MARK: measurements

    @Test func aFINAfterTheIdleTimeout_isMeasuredWithin10Percent() throws {
        let (proxy, upstream) = try Self.proxy()
        defer { withExtendedLifetime((proxy, upstream)) {} }
        let relay = try IdleCuttingRelay(targetPort: proxy.port, idleTimeout: Self.idleTimeout, mode: .fin)
        defer { withExtendedLifetime(relay) {} }
        let started = Date()
        let outcome = try Self.probe(port: relay.port, max: .seconds(10)).get()
        #expect(outcome.cutBy == .fin)
        Self.expectWithin10Percent(outcome.idleTimeout, of: Self.idleTimeout)
        #expect(outcome.bracketLow == outcome.idleTimeout && outcome.bracketHigh == outcome.idleTimeout)
        #expect(outcome.lifetimeLimit == nil, "a busy check stream was cut after the same quiet time")
        #expect(Date().timeIntervalSince(started) < Self.idleTimeout * 2.5 + 2, "one check stream after the cut, then the end")
    }

    @Test func aCutAtAFixedTotalAge_isALifetimeLimit_notAnIdleTimeout() throws {
        let (proxy, upstream) = try Self.proxy()
        defer { withExtendedLifetime((proxy, upstream)) {} }
        let relay = try IdleCuttingRelay(targetPort: proxy.port, idleTimeout: 3, mode: .finAtAge)
        defer { withExtendedLifetime(relay) {} }
        var notes: [ProbeNote] = []
        let options = ProbeOptions(url: try ProbeURL.parse("http://127.0.0.1:\(relay.port)\(Self.probePath)"), maxSilence: .seconds(10))
        let started = Date()
        let outcome = try ProbeRunner(options: options).run(progress: ProbeProgress(onNote: { notes.append($0) })).get()
        let elapsed = Date().timeIntervalSince(started)
        #expect(outcome.cutBy == .fin && outcome.idleTimeout == nil)
        Self.expectWithin10Percent(outcome.lifetimeLimit, of: 3)
        #expect(notes.contains(.survived(.seconds(2))), "a stream younger than the limit survives its silence")
        #expect(notes.contains { if case .checkingLifetime = $0 { true } else { false } })
        let lines = ProbeReport.lines(for: outcome, maxSilence: .seconds(10), tlsVerified: nil)
        #expect(lines.first?.hasPrefix("lifetime limit: about 3.0s") == true || lines.first?.hasPrefix("lifetime limit: about 2.9s") == true,
                "\(lines)")
        #expect(lines.contains { $0.hasPrefix("    stream_max_duration 2") }, "\(lines)")
        #expect(elapsed < 8, "the first cut at 3 s, the check cut at 3 s too: took \(elapsed) s")
    }

    @Test func anRSTAfterTheIdleTimeout_isMeasuredWithin10Percent() throws {
        let (proxy, upstream) = try Self.proxy()
        defer { withExtendedLifetime((proxy, upstream)) {} }
        let relay = try IdleCuttingRelay(targetPort: proxy.port, idleTimeout: Self.idleTimeout, mode: .rst)
        defer { withExtendedLifetime(relay) {} }
        let outcome = try Self.probe(port: relay.port, max: .seconds(10)).get()
        #expect(outcome.cutBy == .rst)
        Self.expectWithin10Percent(outcome.idleTimeout, of: Self.idleTimeout)
    }

    @Test func aBufferingProxysGatewayTimeout_isAnHTTPErrorCut() throws {
        let (proxy, upstream) = try Self.proxy()
        defer { withExtendedLifetime((proxy, upstream)) {} }
        let relay = try IdleCuttingRelay(targetPort: proxy.port, idleTimeout: Self.idleTimeout, mode: .bufferedError(status: 504))
        defer { withExtendedLifetime(relay) {} }
        let outcome = try Self.probe(port: relay.port, max: .seconds(10)).get()
        #expect(outcome.cutBy == .httpError)
        #expect(outcome.httpStatus == 504)
        Self.expectWithin10Percent(outcome.idleTimeout, of: Self.idleTimeout)
    }

    @Test func aSilentDrop_isBracketed() throws {
        let (proxy, upstream) = try Self.proxy()
        defer { withExtendedLifetime((proxy, upstream)) {} }
        let relay = try IdleCuttingRelay(targetPort: proxy.port, idleTimeout: Self.idleTimeout, mode: .silentDrop)
        defer { withExtendedLifetime(relay) {} }
        let started = Date()
        let outcome = try Self.probe(port: relay.port, max: .seconds(10)).get()
        let elapsed = Date().timeIntervalSince(started)
        #expect(outcome.cutBy == .silentDrop)
        let low = Double(TimeAmount(outcome.bracketLow).milliseconds) / 1000
        let high = Double(TimeAmount(outcome.bracketHigh ?? .zero).milliseconds) / 1000
        #expect(low <= Self.idleTimeout * 1.1 && Self.idleTimeout * 0.9 <= high,
                "the bracket \(low)...\(high) s misses \(Self.idleTimeout) s")
        #expect(high - low <= max(0.25, high * 0.1) + 0.001, "the bracket \(low)...\(high) s is wider than 10 %")
        #expect(elapsed < 25, "took \(elapsed) s")
    }

    @Test func aDirectPath_hasNoIdleTimeout_upToMax() throws {
        let (proxy, upstream) = try Self.proxy()
        defer { withExtendedLifetime((proxy, upstream)) {} }
        let started = Date()
        let outcome = try Self.probe(port: proxy.port, max: .seconds(3)).get()
        let elapsed = Date().timeIntervalSince(started)
        #expect(outcome == ProbeOutcome(cutBy: .none, idleTimeout: nil, bracketLow: .seconds(3), bracketHigh: nil))
        #expect(elapsed >= 3 && elapsed < 5, "took \(elapsed) s")
    }

    @Test func theServersProbeMaxSilence_capsTheSilences_andIsReported() throws {
        let upstream = try TestUpstream { connection, _, _ in try connection.send("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") }
        let proxy = try ProxyHarness(routes: [(prefix: "/", ports: [upstream.port], settings: StreamSettings())],
                                     probe: ProbeSettings(path: Self.probePath, maxSilence: .seconds(2)))
        defer { withExtendedLifetime((proxy, upstream)) {} }
        let outcome = try Self.probe(port: proxy.port, max: .seconds(10)).get()
        #expect(outcome.cutBy == .none && outcome.serverCap == .seconds(2) && outcome.bracketLow == .seconds(2))
    }

    // MARK: errors

    @Test func aWrongPath_isNotAProbeEndpoint() throws {
        let (proxy, upstream) = try Self.proxy()
        defer { withExtendedLifetime((proxy, upstream)) {} }
        guard case .failure(let failure) = try Self.probe(port: proxy.port, path: "/elsewhere", max: .seconds(10)) else {
            Issue.record("a 404 was measured")
            return
        }
        #expect(failure == ProbeFailure(.notProbeEndpoint,
            "HTTP 404 Not Found from http://127.0.0.1:\(proxy.port)/elsewhere: is probe_path set to this path?"))
    }

    @Test func aPage_isNotAnEventStream_andAnotherStream_isNotAProbe() throws {
        let (proxy, upstream) = try Self.proxy()
        defer { withExtendedLifetime((proxy, upstream)) {} }
        guard case .failure(let page) = try Self.probe(port: proxy.port, path: "/html", max: .seconds(10)),
              case .failure(let stream) = try Self.probe(port: proxy.port, path: "/sse", max: .seconds(10)) else {
            Issue.record("a page or a plain event stream was measured")
            return
        }
        #expect(page.kind == .notEventStream && page.message.contains("(Content-Type: text/html)"))
        #expect(stream.kind == .notProbeEndpoint && stream.message.contains("its first event is \"message\", not probe-start"))
    }

    @Test func aClosedPort_isUnreachable() throws {
        let port = closedPort()
        guard case .failure(let failure) = try Self.probe(port: port, max: .seconds(10)) else {
            Issue.record("a closed port was measured")
            return
        }
        #expect(failure == ProbeFailure(.unreachable,
            "cannot connect to 127.0.0.1:\(port) (http://127.0.0.1:\(port)\(Self.probePath)): Connection refused"))
    }

    @Test func aServerThatClosesAtOnce_isUnreachable_notAnIdleTimeout() throws {
        let upstream = try TestUpstream { _, _, _ in }
        defer { withExtendedLifetime(upstream) {} }
        guard case .failure(let failure) = try Self.probe(port: upstream.port, max: .seconds(10)) else {
            Issue.record("an immediate close was measured as an idle timeout")
            return
        }
        #expect(failure.kind == .unreachable && failure.message.hasSuffix("closed the connection before any response"))
    }

    // MARK: the real binary

    @Test func theBinary_printsExactlyOneJSONObject_forACut() throws {
        let (proxy, upstream) = try Self.proxy()
        defer { withExtendedLifetime((proxy, upstream)) {} }
        let relay = try IdleCuttingRelay(targetPort: proxy.port, idleTimeout: Self.idleTimeout, mode: .fin)
        defer { withExtendedLifetime(relay) {} }
        let url = "http://127.0.0.1:\(relay.port)\(Self.probePath)"
        let result = try CommandLineTests.run(["probe", url, "--max", "10s", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(result.stdout.split(separator: "\n").count == 1, "nothing but the object on stdout: \(result.stdout)")
        #expect(object["url"] as? String == url)
        #expect(object["cut_by"] as? String == "fin")
        let seconds = try #require(object["idle_timeout_s"] as? Double)
        #expect(abs(seconds - Self.idleTimeout) <= Self.idleTimeout * 0.1)
        #expect((object["bracket_s"] as? [Double]) == [seconds, seconds])
        let recommended = try #require(object["recommended"] as? [String: Any])
        #expect(recommended["heartbeat_fraction"] as? Double == 0.33)
        #expect((recommended["config"] as? String)?.hasPrefix("idle_timeout 2") == true)
    }

    @Test func theBinary_printsProgressLines_andTheSummary_inText() throws {
        let (proxy, upstream) = try Self.proxy()
        defer { withExtendedLifetime((proxy, upstream)) {} }
        let relay = try IdleCuttingRelay(targetPort: proxy.port, idleTimeout: Self.idleTimeout, mode: .rst)
        defer { withExtendedLifetime(relay) {} }
        let result = try CommandLineTests.run(["probe", "http://127.0.0.1:\(relay.port)\(Self.probePath)", "--max", "10s"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "probing http://127.0.0.1:\(relay.port)\(Self.probePath) with silences up to 10s (Ctrl-C to stop)")
        #expect(lines.contains("opened 1 stream with silences: 1s"))
        #expect(lines.contains("  1s of silence: survived"))
        #expect(lines.contains { $0.hasPrefix("idle timeout: 2.") })
        #expect(lines.contains { $0.hasPrefix("cut by: rst (the connection was reset after 2.") })
        #expect(lines.contains("    heartbeat_fraction 0.33;"))
        #expect(!result.stdout.contains("\u{1B}["), "no terminal escapes when stdout is not a terminal")
    }

    @Test func theBinary_exits1_withAMessageAndAJSONError_whenUnreachable() throws {
        let port = closedPort()
        let result = try CommandLineTests.run(["probe", "http://127.0.0.1:\(port)/p", "--json"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("ssekeeper probe: cannot connect to 127.0.0.1:\(port)"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["error_kind"] as? String == "unreachable")
        #expect((object["error"] as? String)?.contains("Connection refused") == true)
    }

    @Test func theBinary_exits1_forA404_askingAboutProbePath() throws {
        let (proxy, upstream) = try Self.proxy()
        defer { withExtendedLifetime((proxy, upstream)) {} }
        let result = try CommandLineTests.run(["probe", "http://127.0.0.1:\(proxy.port)/nope"])
        #expect(result.status == 1)
        #expect(result.stderr == "ssekeeper probe: HTTP 404 Not Found from http://127.0.0.1:\(proxy.port)/nope: is probe_path set to this path?\n")
    }

    @Test func theBinary_exits2_withUsage_forBadArguments() throws {
        for arguments in [["probe"], ["probe", "ftp://h/"], ["probe", "http://h/", "--max", "forever"]] {
            let result = try CommandLineTests.run(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains("usage:") && result.stderr.contains("ssekeeper probe URL"))
        }
    }
}

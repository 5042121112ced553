import Foundation
import Testing
@testable import SSEKeeperCore
import SSEKeeperTestSupport

struct PrometheusTextWriterTests {
    @Test func aCounterFamily_isHelpTypeThenSamples() throws {
        var writer = PrometheusTextWriter()
        writer.family("x_requests_total", type: .counter, help: "Requests.")
        writer.sample(3, labels: [("route", "/a"), ("code", "2xx")])
        writer.sample(0, labels: [("route", "/b"), ("code", "2xx")])
        #expect(writer.text == """
            # HELP x_requests_total Requests.
            # TYPE x_requests_total counter
            x_requests_total{route="/a",code="2xx"} 3
            x_requests_total{route="/b",code="2xx"} 0

            """)
        let parsed = try ExpositionChecker(writer.text)
        #expect(parsed.value("x_requests_total", ["route": "/a", "code": "2xx"]) == 3)
    }

    @Test func labelValues_escapeBackslashQuoteAndLineFeed_andReadBackUnchanged() throws {
        let hostile = "/a\\b\"c\nd}e,f=g"
        var writer = PrometheusTextWriter()
        writer.family("x_open", type: .gauge, help: "Help with \\ and\nnewline.")
        writer.sample(-1, labels: [("route", hostile)])
        #expect(writer.text.contains(#"x_open{route="/a\\b\"c\nd}e,f=g"} -1"#))
        #expect(writer.text.contains(#"# HELP x_open Help with \\ and\nnewline."#))
        let parsed = try ExpositionChecker(writer.text)
        #expect(parsed.value("x_open", ["route": hostile]) == -1)
        #expect(parsed.families["x_open"]?.help == #"Help with \\ and\nnewline."#)
    }

    @Test func aHistogram_hasCumulativeBuckets_plusInf_sumAndCount_inSeconds() throws {
        var histogram = Histogram(boundsSeconds: [0.5, 1])
        histogram.observe(nanos: 250_000_000)
        histogram.observe(nanos: 750_000_000)
        histogram.observe(nanos: 3_000_000_000)
        var writer = PrometheusTextWriter()
        writer.family("x_gap_seconds", type: .histogram, help: "Gaps.")
        writer.histogram([("route", "/")], histogram)
        #expect(writer.text == """
            # HELP x_gap_seconds Gaps.
            # TYPE x_gap_seconds histogram
            x_gap_seconds_bucket{route="/",le="0.5"} 1
            x_gap_seconds_bucket{route="/",le="1"} 2
            x_gap_seconds_bucket{route="/",le="+Inf"} 3
            x_gap_seconds_sum{route="/"} 4
            x_gap_seconds_count{route="/"} 3

            """)
        _ = try ExpositionChecker(writer.text)
    }

    @Test func names_areCheckedAgainstTheFormatsGrammar() {
        #expect(PrometheusTextWriter.isValidMetricName("ssekeeper_open_streams"))
        #expect(PrometheusTextWriter.isValidMetricName("a:b_c9"))
        #expect(!PrometheusTextWriter.isValidMetricName("9lives"))
        #expect(!PrometheusTextWriter.isValidMetricName("a-b"))
        #expect(!PrometheusTextWriter.isValidMetricName(""))
        #expect(PrometheusTextWriter.isValidLabelName("route"))
        #expect(!PrometheusTextWriter.isValidLabelName("a:b"))
        #expect(!PrometheusTextWriter.isValidLabelName("__name"))
    }
}

/// The checker must itself be strict, or the tests that lean on it prove nothing.
struct ExpositionCheckerTests {
    static let valid = """
        # HELP a_total A.
        # TYPE a_total counter
        a_total{x="1"} 1
        # TYPE h_seconds histogram
        h_seconds_bucket{le="1"} 1
        h_seconds_bucket{le="+Inf"} 2
        h_seconds_sum 3.5
        h_seconds_count 2

        """

    @Test func theValidSample_passes() throws {
        let parsed = try ExpositionChecker(Self.valid)
        #expect(parsed.value("h_seconds_count") == 2)
    }

    @Test(arguments: [
        ("a_total{x=\"1\"} 1", "a_total{x=\"1\"} 1\na_total{x=\"1\"} 2"),           // duplicate series
        ("h_seconds_bucket{le=\"+Inf\"} 2", "h_seconds_bucket{le=\"+Inf\"} 3"),     // +Inf differs from _count
        ("h_seconds_bucket{le=\"1\"} 1", "h_seconds_bucket{le=\"1\"} 5"),           // not cumulative
        ("h_seconds_bucket{le=\"+Inf\"} 2\n", "h_seconds_bucket{le=\"0.5\"} 2\n"),  // no +Inf bucket
        ("# TYPE a_total counter\n", ""),                                            // no TYPE before samples
        ("# TYPE a_total counter", "# TYPE a_total summary"),                         // unknown type
        ("a_total{x=\"1\"} 1", "a_total{x=\"1\"} 1 1700000000"),                    // timestamp
        ("a_total{x=\"1\"} 1", "a_total{x=\"1\",} 1"),                                // trailing comma
        ("a_total{x=\"1\"} 1", "a_total{x=\"\\t\"} 1"),                             // bad escape
        ("a_total{x=\"1\"} 1", "a_total{x=\"1\"}  1"),                                // two spaces
        ("a_total{x=\"1\"} 1", "a_total{x=\"1\"} -1"),                                // negative counter
        ("a_total{x=\"1\"} 1", "a_total{x=\"1\"} one"),                               // not a float
        ("a_total{x=\"1\"} 1", "a_total{9x=\"1\"} 1"),                                // label name
        ("a_total{x=\"1\"} 1", "a_total{x=\"1\",x=\"2\"} 1"),                       // label twice
        ("# HELP a_total A.", "# a comment"),                                          // other comment
        ("a_total{x=\"1\"} 1\n", "a_total{x=\"1\"} 1\n\n"),                          // empty line
        ("h_seconds_count 2\n", "h_seconds_count 2\na_total{x=\"2\"} 1\n"),          // family comes back
        ("# TYPE a_total counter", "# TYPE a counter"),                                // counter not *_total
    ])
    func aViolation_isReported(original: String, replacement: String) {
        let text = Self.valid.replacingFirst(original, with: replacement)
        #expect(text != Self.valid, "the mutation did not apply")
        #expect(throws: ExpositionChecker.Failure.self) { try ExpositionChecker(text) }
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}

import Testing
@testable import SSEKeeperCore

@Suite struct ConfigValueTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)),
        ("15s", .seconds(15)),
        ("2m", .seconds(120)),
        ("1h", .seconds(3600)),
        ("30", .seconds(30)),
        ("0", .zero),
        ("0s", .zero),
        ("007s", .seconds(7)),
        ("9223372036854775807ms", .milliseconds(Int64.max)),
    ])
    func duration_parsesEveryUnit(text: String, expected: Duration) {
        #expect(ConfigValue.parseDuration(text) == expected)
    }

    @Test(arguments: [
        "", "s", "ms", "5x", "5 s", " 5s", "5s ", "-5s", "+5s", "1.5s", "1e3", "5S", "5MS", "5d", "5sec", "1m30s",
        "٣s", "0x10", "5ss",
    ])
    func duration_rejectsMalformedText(text: String) {
        #expect(ConfigValue.parseDuration(text) == nil)
    }

    @Test(arguments: ["9223372036854775808ms", "9223372036854776s", "153722867280913m", "2562047788016h",
                      "99999999999999999999999999"])
    func duration_rejectsOverflow(text: String) {
        #expect(ConfigValue.parseDuration(text) == nil)
    }

    @Test func duration_justBelowOverflow_isAccepted() {
        #expect(ConfigValue.parseDuration("9223372036854775s") == .seconds(9_223_372_036_854_775))
        #expect(ConfigValue.parseDuration("2562047788015h") == .seconds(Int64(2_562_047_788_015) * 3600))
    }

    static let validSizes: [(String, Int)] = [
        ("512", 512), ("0", 0), ("16k", 16_384), ("16K", 16_384), ("1m", 1_048_576), ("64M", 67_108_864),
        ("9223372036854775807", Int.max), ("8796093022207m", 9_223_372_036_853_727_232),
    ]

    @Test(arguments: validSizes)
    func size_parsesEveryUnit(text: String, expected: Int) {
        #expect(ConfigValue.parseSize(text) == expected)
    }

    @Test(arguments: ["", "k", "12q", "1g", "1G", "1.5k", "-1", "+1", "1 k", "1kb", "1mm", "16ki",
                      "9223372036854775808", "9007199254740992k", "8796093022208m"])
    func size_rejectsMalformedTextAndOverflow(text: String) {
        #expect(ConfigValue.parseSize(text) == nil)
    }

    @Test(arguments: [
        (Duration.milliseconds(250), "250ms"),
        (.seconds(15), "15s"),
        (.seconds(90), "90s"),
        (.seconds(120), "2m"),
        (.seconds(3600), "1h"),
        (.seconds(5400), "90m"),
        (.seconds(86_400), "24h"),
        (.milliseconds(1500), "1500ms"),
        (.zero, "0s"),
        (.seconds(-2), "-2s"),
        (.milliseconds(-250), "-250ms"),
        (.microseconds(1500), "1500us"),
        (.nanoseconds(7), "7ns"),
        (.seconds(60) * 0.33, "19800ms"),
    ])
    func formatDuration_picksTheShortestExactForm(duration: Duration, expected: String) {
        #expect(ConfigValue.formatDuration(duration) == expected)
    }

    @Test func formatDuration_writesWhatATimeAmountCannotHold_withDurationsOwnText() {
        let finer = Duration(secondsComponent: 1, attosecondsComponent: 1)
        #expect(ConfigValue.formatDuration(finer) == "\(finer)")
        let huge = Duration.seconds(Int64.max)
        #expect(ConfigValue.formatDuration(huge) == "\(huge)")
        #expect(ConfigValue.formatDuration(.zero - huge) == "-\(huge)")
    }

    @Test(arguments: ["250ms", "15s", "2m", "1h", "1500ms", "90s", "0s", "36h"])
    func formatDuration_roundTripsThroughParseDuration(text: String) throws {
        let duration = try #require(ConfigValue.parseDuration(text))
        #expect(ConfigValue.formatDuration(duration) == text)
    }

    @Test func formatSize_picksTheShortestExactForm() {
        #expect(ConfigValue.formatSize(1024) == "1k")
        #expect(ConfigValue.formatSize(64 * 1024 * 1024) == "64m")
        #expect(ConfigValue.formatSize(1536) == "1536")
        #expect(ConfigValue.formatSize(0) == "0")
    }

    @Test func decimal_acceptsPlainDecimalsOnly() {
        #expect(ConfigValue.parseDecimal("0.33") == 0.33)
        #expect(ConfigValue.parseDecimal("1") == 1)
        for bad in ["", ".5", "5.", "1e-1", "nan", "inf", "-0.5", "0,5", "1.2.3", String(repeating: "1", count: 33)] {
            #expect(ConfigValue.parseDecimal(bad) == nil, "\(bad)")
        }
    }

    @Test func ipv6_acceptsRFC4291Forms_andRejectsTheRest() {
        for good in ["::", "::1", "1::", "2001:db8::1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::ffff:10.0.0.1",
                     "FE80::abcd"] {
            #expect(ConfigValue.isIPv6(Substring(good)), "\(good)")
        }
        for bad in ["", ":", ":::", "1:2:3", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "12345::",
                    "g::1", "::1%eth0", ":1::2", "::10.0.0.256"] {
            #expect(!ConfigValue.isIPv6(Substring(bad)), "\(bad)")
        }
    }
}

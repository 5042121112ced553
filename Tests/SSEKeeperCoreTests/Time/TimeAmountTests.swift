import Testing
@testable import SSEKeeperCore

struct TimeAmountTests {
    // MARK: Conversions

    @Test func aDuration_becomesWholeNanoseconds_droppingAnyFinerPart() {
        #expect(TimeAmount(.seconds(2) + .milliseconds(5)).nanoseconds == 2_005_000_000)
        #expect(TimeAmount(.nanoseconds(7)).nanoseconds == 7)
        #expect(TimeAmount(Duration(secondsComponent: 1, attosecondsComponent: 999_999_999)).nanoseconds == 1_000_000_000)
        #expect(TimeAmount(.seconds(60) * 0.33).nanoseconds == 19_800_000_000)
    }

    @Test func aNegativeDuration_isZero() {
        #expect(TimeAmount(.seconds(-2)) == .zero)
        #expect(TimeAmount(.nanoseconds(-1)) == .zero)
        #expect(TimeAmount(.zero) == .zero)
    }

    @Test(arguments: [
        Duration.seconds(Int64.max),
        .seconds(18_446_744_074),
        .seconds(18_446_744_073) + .nanoseconds(709_551_616),
        .seconds(Int64.max) + .seconds(Int64.max),
    ])
    func aHugeDuration_saturatesAtUInt64Max_neverTraps(duration: Duration) {
        let amount = TimeAmount(duration)
        #expect(amount.nanoseconds == .max)
        #expect(amount.milliseconds == UInt64.max / 1_000_000)
        #expect(amount.millisecondsRoundedUp == UInt64.max / 1_000_000 + 1)
        #expect(amount.secondsRoundedUp == 18_446_744_074)
        #expect(amount.deadline(after: 1) == .max)
        #expect(amount.formatted(.secondsToTenths) == "18446744073.7s")
    }

    @Test func theLargestExactDuration_isKeptToTheNanosecond() {
        let largest = Duration.seconds(18_446_744_073) + .nanoseconds(709_551_615)
        #expect(TimeAmount(largest).nanoseconds == .max)
        #expect(TimeAmount(nanoseconds: .max).duration == largest)
    }

    @Test func wholeUnits_saturate() {
        #expect(TimeAmount.milliseconds(1500).nanoseconds == 1_500_000_000)
        #expect(TimeAmount.seconds(3).nanoseconds == 3_000_000_000)
        #expect(TimeAmount.milliseconds(.max).nanoseconds == .max)
        #expect(TimeAmount.seconds(UInt64.max / 1_000_000_000 + 1).nanoseconds == .max)
    }

    @Test func roundingUp_isNeverEarly_andExactValuesStay() {
        #expect(TimeAmount.zero.millisecondsRoundedUp == 0)
        #expect(TimeAmount(nanoseconds: 1).millisecondsRoundedUp == 1)
        #expect(TimeAmount(nanoseconds: 1_000_000).millisecondsRoundedUp == 1)
        #expect(TimeAmount(nanoseconds: 1_000_001).millisecondsRoundedUp == 2)
        #expect(TimeAmount(nanoseconds: 1_000_001).milliseconds == 1)
        #expect(TimeAmount.milliseconds(1500).secondsRoundedUp == 2)
        #expect(TimeAmount.milliseconds(1500).seconds == 1)
        #expect(TimeAmount.seconds(1).secondsRoundedUp == 1)
    }

    @Test func roundingDown_toAUnit_dropsTheRemainder() {
        let amount = TimeAmount(nanoseconds: 12_345_678_901)
        #expect(amount.rounded(downTo: .milliseconds(1)).nanoseconds == 12_345_000_000)
        #expect(amount.rounded(downTo: .milliseconds(100)).nanoseconds == 12_300_000_000)
        #expect(amount.rounded(downTo: .seconds(1)).nanoseconds == 12_000_000_000)
        #expect(amount.rounded(downTo: .zero) == amount)
    }

    @Test func aDeadline_isNowPlusTheAmount_saturating() {
        #expect(TimeAmount.milliseconds(5).deadline(after: 1_000) == 5_001_000)
        #expect(TimeAmount(nanoseconds: 2).deadline(after: .max - 1) == .max)
        #expect(TimeAmount.zero.deadline(after: .max) == .max)
    }

    // MARK: Formats (outputs pinned: logs, JSON, metrics and the probe report print them)

    /// The everyday units are pinned through `ConfigValue.formatDuration` (ConfigValueTests); these are the ends.
    @Test func theConfigStyle_fallsBackToFinerUnits_upToTheLargestAmount() {
        #expect(TimeAmount.zero.formatted(.config) == "0s")
        #expect(TimeAmount(nanoseconds: 1_500_000).formatted(.config) == "1500us")
        #expect(TimeAmount(nanoseconds: 7).formatted(.config) == "7ns")
        #expect(TimeAmount(nanoseconds: .max).formatted(.config) == "18446744073709551615ns")
        #expect(TimeAmount.seconds(UInt64.max / 1_000_000_000).formatted(.config) == "18446744073s")
    }

    @Test func theDecimalStyle_isExact_truncated_andTrimmed() {
        #expect(TimeAmount(nanoseconds: 0).formatted(.decimal(fractionDigits: 9)) == "0")
        #expect(TimeAmount(nanoseconds: 2_000_000_000).formatted(.decimal(fractionDigits: 9)) == "2")
        #expect(TimeAmount(nanoseconds: 1_500_000_000).formatted(.decimal(fractionDigits: 9)) == "1.5")
        #expect(TimeAmount(nanoseconds: 10_000).formatted(.decimal(fractionDigits: 9)) == "0.00001")
        #expect(TimeAmount(nanoseconds: 12_004_999_999).formatted(.decimal(fractionDigits: 3)) == "12.004")
        #expect(TimeAmount(nanoseconds: 999_999).formatted(.decimal(fractionDigits: 3)) == "0")
        #expect(TimeAmount(nanoseconds: 1).formatted(.decimal(fractionDigits: 9)) == "0.000000001")
        #expect(TimeAmount(nanoseconds: .max).formatted(.decimal(fractionDigits: 9)) == "18446744073.709551615")
        #expect(TimeAmount(nanoseconds: 1_999_999_999).formatted(.decimal(fractionDigits: 0)) == "1")
        #expect(TimeAmount(nanoseconds: 1_500_000_000).formatted(.decimal(fractionDigits: 12)) == "1.5")
    }

    @Test func theSecondsStyle_keepsUpToThreeDecimals() {
        #expect(TimeAmount.seconds(4).formatted(.seconds) == "4s")
        #expect(TimeAmount.milliseconds(2500).formatted(.seconds) == "2.5s")
        #expect(TimeAmount(nanoseconds: 2_667_900_000).formatted(.seconds) == "2.667s")
        #expect(TimeAmount(nanoseconds: 999_999).formatted(.seconds) == "0s")
    }

    @Test func theLogStyle_keepsExactlyThreeDecimals_withLeadingZeros() {
        #expect(TimeAmount(nanoseconds: 5_000_000).formatted(.secondsToMilliseconds) == "0.005s")
        #expect(TimeAmount(nanoseconds: 61_250_000_000).formatted(.secondsToMilliseconds) == "61.250s")
        #expect(TimeAmount(nanoseconds: 12_004_999_999).formatted(.secondsToMilliseconds) == "12.004s")
        #expect(TimeAmount.zero.formatted(.secondsToMilliseconds) == "0.000s")
    }

    @Test func theTenthsStyle_roundsToTheNearestTenth() {
        #expect(TimeAmount(nanoseconds: 60_149_999_999).formatted(.secondsToTenths) == "60.1s")
        #expect(TimeAmount.milliseconds(60_150).formatted(.secondsToTenths) == "60.2s")
        #expect(TimeAmount.milliseconds(1950).formatted(.secondsToTenths) == "2.0s")
        #expect(TimeAmount.milliseconds(49).formatted(.secondsToTenths) == "0.0s")
        #expect(TimeAmount.milliseconds(50).formatted(.secondsToTenths) == "0.1s")
    }
}

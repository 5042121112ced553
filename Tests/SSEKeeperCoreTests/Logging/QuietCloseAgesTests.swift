import Testing
@testable import SSEKeeperCore

/// Which quiet client closes are worth the "an intermediary may be cutting streams" warning: those at about the age
/// of a recent one.
struct QuietCloseAgesTests {
    static let second: UInt64 = 1_000_000_000

    /// Records each age in order and returns whether each matched.
    static func record(_ seconds: [Double], into ages: inout QuietCloseAges) -> [Bool] {
        seconds.map { ages.record(ageNanos: UInt64($0 * Double(second))) }
    }

    @Test func aLoneClose_isNoPattern() {
        var ages = QuietCloseAges()
        #expect(Self.record([12], into: &ages) == [false])
    }

    @Test func aCloseWithinTenPercentOfAnEarlierOne_matches_andOneFurtherAway_doesNot() {
        var near = QuietCloseAges()
        #expect(Self.record([60, 55], into: &near) == [false, true], "55 s is within 6 s of 60 s")
        var apart = QuietCloseAges()
        #expect(Self.record([60, 53, 30], into: &apart) == [false, false, false], "53 s is 7 s from 60 s: more than a tenth")
    }

    @Test func onlyTheLastEightAreRemembered() {
        var ages = QuietCloseAges()
        // 100 s, then eight ages 1.5 s apart (none within a tenth of another), then 100 s twice.
        let others = (1...QuietCloseAges.remembered).map { 1 + 1.5 * Double($0) }
        let matched = Self.record([100] + others + [100, 100], into: &ages)
        #expect(matched == [Bool](repeating: false, count: 1 + others.count + 1) + [true],
                "the close at 100 s was pushed out by eight others, then remembered again")
    }
}

import Testing
@testable import SSEKeeperCore

@Suite struct WarningBudgetTests {
    @Test func theFirstLimitWarnings_ofAWindow_areLogged_thenOneSaysSo_thenTheRestAreQuiet() {
        var budget = WarningBudget(limit: 3, windowNanos: 1_000)
        let decisions = (0..<6).map { budget.take(now: 100 + UInt64($0)) }
        #expect(decisions == [.log(suppressedBefore: 0), .log(suppressedBefore: 0), .log(suppressedBefore: 0),
                              .suppressFirst(until: 1_100), .suppress, .suppress])
    }

    @Test func theFirstWarningOfTheNextWindow_countsWhatWasLeftOut() {
        var budget = WarningBudget(limit: 1, windowNanos: 1_000)
        #expect(budget.take(now: 0) == .log(suppressedBefore: 0))
        #expect(budget.take(now: 10) == .suppressFirst(until: 1_000))
        #expect(budget.take(now: 20) == .suppress)
        #expect(budget.take(now: 1_000) == .log(suppressedBefore: 2))
        #expect(budget.take(now: 1_001) == .suppressFirst(until: 2_000))
        // A quiet stretch longer than a window: the count carries over to the next warning logged.
        #expect(budget.take(now: 50_000) == .log(suppressedBefore: 1))
        #expect(budget.take(now: 50_001) == .suppressFirst(until: 51_000))
    }

    @Test func aWindowStarts_atTheFirstWarning_notAtZero() {
        var budget = WarningBudget(limit: 2, windowNanos: 1_000)
        #expect(budget.take(now: 5_000) == .log(suppressedBefore: 0))
        #expect(budget.take(now: 5_999) == .log(suppressedBefore: 0))
        #expect(budget.take(now: 5_999) == .suppressFirst(until: 6_000))
        #expect(budget.take(now: 6_000) == .log(suppressedBefore: 1))
    }
}

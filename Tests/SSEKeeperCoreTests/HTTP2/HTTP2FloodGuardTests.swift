import Testing
@testable import SSEKeeperCore

/// `HTTP2FloodGuard`: budgets per event kind within a sliding window, driven by a manual clock.
@Suite struct HTTP2FloodGuardTests {
    static let second: UInt64 = 1_000_000_000

    @Test func defaults_areTheDocumentedBudgets() {
        let budgets = HTTP2FloodGuard.Budgets()
        #expect(budgets.window == 10 * Self.second)
        #expect([budgets.ping, budgets.settings, budgets.resetStream, budgets.emptyData] == [100, 100, 500, 100])
    }

    @Test(arguments: HTTP2FloodGuard.Event.allCases)
    func eventsUpToTheBudget_areOK_andOneMoreIsEnhanceYourCalm(_ event: HTTP2FloodGuard.Event) {
        var guardian = HTTP2FloodGuard()
        let budget = guardian.budgets.budget(event)
        for index in 0..<budget {
            #expect(guardian.record(event, at: 5 * Self.second + UInt64(index)) == .ok)
        }
        #expect(guardian.record(event, at: 6 * Self.second) == .enhanceYourCalm(event))
    }

    @Test func kinds_areCountedSeparately() {
        var guardian = HTTP2FloodGuard(budgets: HTTP2FloodGuard.Budgets(ping: 2, settings: 2, resetStream: 2, emptyData: 2))
        for event in HTTP2FloodGuard.Event.allCases {
            #expect(guardian.record(event, at: 0) == .ok)
            #expect(guardian.record(event, at: 1) == .ok)
        }
        #expect(guardian.record(.resetStream, at: 2) == .enhanceYourCalm(.resetStream))
        #expect(guardian.count(.ping, at: 2) == 2)
    }

    @Test func events_leaveTheWindow_betweenNineTenthsAndOneWindowLater() {
        var guardian = HTTP2FloodGuard(budgets: HTTP2FloodGuard.Budgets(ping: 3))
        _ = guardian.record(.ping, at: 0)                       // slot 0
        _ = guardian.record(.ping, at: Self.second - 1)         // slot 0 too
        _ = guardian.record(.ping, at: 5 * Self.second)         // slot 5
        #expect(guardian.count(.ping, at: 9 * Self.second + Self.second / 2) == 3)
        #expect(guardian.count(.ping, at: 10 * Self.second) == 1)  // slot 0 left: 9.0 to 10.0 s after its events
        #expect(guardian.record(.ping, at: 10 * Self.second) == .ok)
        #expect(guardian.count(.ping, at: 15 * Self.second) == 1)
        #expect(guardian.count(.ping, at: 30 * Self.second) == 0)
    }

    @Test func steadyRateUnderTheBudget_isNeverFlagged() {
        var guardian = HTTP2FloodGuard()
        // 9 PINGs a second for a minute: at most 90 in any 10 s window.
        for tick in 0..<540 {
            #expect(guardian.record(.ping, at: UInt64(tick) * Self.second / 9) == .ok, "tick \(tick)")
        }
    }

    @Test func burstOverTheBudget_isFlagged_evenSpreadAcrossSlots() {
        var guardian = HTTP2FloodGuard(budgets: HTTP2FloodGuard.Budgets(resetStream: 50))
        var verdicts: [HTTP2FloodGuard.Verdict] = []
        for tick in 0..<60 { verdicts.append(guardian.record(.resetStream, at: UInt64(tick) * Self.second / 8)) }
        #expect(verdicts.firstIndex(of: .enhanceYourCalm(.resetStream)) == 50)
    }

    @Test func clockGoingBack_doesNotForgetEvents() {
        var guardian = HTTP2FloodGuard(budgets: HTTP2FloodGuard.Budgets(settings: 1))
        #expect(guardian.record(.settings, at: 100 * Self.second) == .ok)
        #expect(guardian.record(.settings, at: 3 * Self.second) == .enhanceYourCalm(.settings))
    }
}

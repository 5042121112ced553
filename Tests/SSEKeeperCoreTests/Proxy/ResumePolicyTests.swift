import Testing
@testable import SSEKeeperCore

/// Back-off with equal jitter, and the request a resume re-sends.
struct ResumePolicyTests {
    static let min: UInt64 = 100_000_000
    static let max: UInt64 = 5_000_000_000

    @Test func firstAttempt_isImmediate_thenDelaysDouble_withinHalfToAllOfTheBase() {
        #expect(ResumePolicy.delayNanos(attempt: 0, minNanos: Self.min, maxNanos: Self.max, jitter: 0.9) == 0)
        for (attempt, base) in [(1, Self.min), (2, 2 * Self.min), (3, 4 * Self.min), (10, Self.max), (500, Self.max)] {
            let low = ResumePolicy.delayNanos(attempt: attempt, minNanos: Self.min, maxNanos: Self.max, jitter: 0)
            let high = ResumePolicy.delayNanos(attempt: attempt, minNanos: Self.min, maxNanos: Self.max, jitter: 0.999_999)
            #expect(low == base / 2, "attempt \(attempt)")
            #expect(high <= base && high > base * 99 / 100, "attempt \(attempt)")
        }
    }

    @Test func delay_staysWithinTheBase_forBoundsNearUInt64Max() {
        for jitter in [0, 0.999_999_999, 1] {
            let delay = ResumePolicy.delayNanos(attempt: 3, minNanos: .max / 2, maxNanos: .max, jitter: jitter)
            #expect(delay >= UInt64.max / 2 && delay <= .max, "jitter \(jitter)")
        }
    }

    static let head = RequestHead(method: "GET", target: "/events", headers: ["Host": "t", "Last-Event-ID": "client-1"])

    @Test func request_keepsTheClientsLastEventID_untilTheUpstreamSentAnId() throws {
        let request = try #require(ResumePolicy.request(Self.head, lastEventID: .unset))
        #expect(request.headers.values("Last-Event-ID") == ["client-1"])
    }

    @Test func request_replacesLastEventID_withTheLastCompleteId_orDropsItWhenReset() throws {
        let resumed = try #require(ResumePolicy.request(Self.head, lastEventID: .value(Array("42".utf8))))
        #expect(resumed.headers.values("Last-Event-ID") == ["42"])
        #expect(resumed.headers.first("Host") == "t")
        let reset = try #require(ResumePolicy.request(Self.head, lastEventID: .value([])))
        #expect(!reset.headers.contains("Last-Event-ID"))
    }

    @Test func request_isNil_whenTheIdCannotBeAHeaderValue() {
        #expect(ResumePolicy.request(Self.head, lastEventID: .unreadable) == nil)
        #expect(ResumePolicy.request(Self.head, lastEventID: .value([0x61, 0x01])) == nil)
        #expect(ResumePolicy.request(Self.head, lastEventID: .value([UInt8](repeating: 0x61, count: 1025))) == nil)
        #expect(ResumePolicy.request(Self.head, lastEventID: .value(Array("a\tb é".utf8))) != nil)
    }
}

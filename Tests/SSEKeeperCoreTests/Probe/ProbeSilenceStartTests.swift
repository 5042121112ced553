import Testing
@testable import SSEKeeperCore

/// The silence starts when the server sent `probe-start`, if the clocks agree; else when it arrived.
struct ProbeSilenceStartTests {
    @Test func aServerTimeBetweenSendingAndArrival_backdatesTheSilence() {
        #expect(ProbeSilenceStart.backdateMillis(requestSentAt: 1_000, arrivedAt: 1_250, serverTime: 1_010) == 240)
        #expect(ProbeSilenceStart.backdateMillis(requestSentAt: 1_000, arrivedAt: 1_000, serverTime: 1_000) == 0)
    }

    @Test func aServerClockOutsideTheWindow_orNoServerTime_countsFromTheArrival() {
        #expect(ProbeSilenceStart.backdateMillis(requestSentAt: 1_000, arrivedAt: 1_250, serverTime: 990) == 0, "server clock behind")
        #expect(ProbeSilenceStart.backdateMillis(requestSentAt: 1_000, arrivedAt: 1_250, serverTime: 1_300) == 0, "server clock ahead")
        #expect(ProbeSilenceStart.backdateMillis(requestSentAt: 1_000, arrivedAt: 1_250, serverTime: nil) == 0)
    }
}

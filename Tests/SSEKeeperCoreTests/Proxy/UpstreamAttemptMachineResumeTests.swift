import Testing
@testable import SSEKeeperCore

/// The `upstream_resume` schedule of the attempt machine, driven by a manual clock (plain monotonic nanoseconds):
/// the immediate first attempt, attempt timeouts, back-off between attempts (bounded as `ResumePolicy` says for
/// jitter 0 and 1), the window's end, and the quick-resume streak after a recent splice.
struct UpstreamAttemptMachineResumeTests {
    typealias Machine = UpstreamAttemptMachine

    static let window: UInt64 = 10_000
    static let backoffMin: UInt64 = 100
    static let backoffMax: UInt64 = 1_000
    static let connectTimeout: UInt64 = 50
    static let headerTimeout: UInt64 = 200

    /// A machine relaying a response (not yet resumed) from server 0.
    static func relaying() -> Machine {
        var machine = Machine(isRetryable: true)
        _ = machine.start(order: [0])
        machine.connectStarted(reused: false)
        machine.requestSent()
        machine.headArrived(now: 10)
        return machine
    }

    static func begin(_ machine: inout Machine, now: UInt64, jitter: Double = 0) {
        machine.beginResume(now: now, windowNanos: window, backoffMinNanos: backoffMin, backoffMaxNanos: backoffMax,
                            jitter: jitter)
    }

    static func fail(_ machine: inout Machine, _ detail: String = "refused", now: UInt64, jitter: Double = 0) {
        machine.resumeAttemptFailed(
            detail, now: now, backoffMinNanos: backoffMin, backoffMaxNanos: backoffMax, jitter: jitter)
    }

    static func startAttempt(_ machine: inout Machine, now: UInt64, order: [Int] = [0, 1]) -> Machine.Action {
        machine.startResumeAttempt(now: now, connectTimeoutNanos: connectTimeout, order: order)
    }

    /// `ResumePolicy`'s delay before attempt `attempt` with this suite's back-off bounds.
    static func backoff(attempt: Int, jitter: Double) -> UInt64 {
        ResumePolicy.delayNanos(attempt: attempt, minNanos: backoffMin, maxNanos: backoffMax, jitter: jitter)
    }

    /// A machine resuming since 1_000 whose first attempt (started then) sent its request on a pooled (`reused`)
    /// or fresh connection.
    static func attemptSent(reused: Bool) -> Machine {
        var machine = relaying()
        begin(&machine, now: 1_000)
        _ = startAttempt(&machine, now: 1_000)
        machine.connectStarted(reused: reused)
        machine.requestSent()
        return machine
    }

    /// Resumes a relaying machine at `brokeAt`, connects on the first attempt and splices at `splicedAt`.
    static func resumeAndSplice(_ machine: inout Machine, brokeAt: UInt64, splicedAt: UInt64) {
        begin(&machine, now: brokeAt)
        _ = startAttempt(&machine, now: machine.resume!.nextAt)
        machine.connectStarted(reused: false)
        machine.requestSent()
        machine.resumeRequestSent(now: splicedAt, headerTimeoutNanos: headerTimeout)
        machine.headArrived(now: splicedAt)
    }

    // MARK: Beginning and attempts

    @Test func aFirstResume_startsItsFirstAttemptAtOnce() {
        var machine = Self.relaying()
        Self.begin(&machine, now: 1_000)
        #expect(machine.state == .resumeWaiting(.init(brokeAt: 1_000, windowEnd: 11_000, attempts: 0, nextAt: 1_000)))
        #expect(machine.isResuming && machine.attempt == nil)
        #expect(machine.resumeDeadline == 1_000)
        #expect(machine.resumeTick(now: 1_000) == .startAttempt)
    }

    @Test func anAttempt_walksTheOrder_andTimesOutAfterTheConnectTimeout() throws {
        var machine = Self.relaying()
        Self.begin(&machine, now: 1_000)
        let action = Self.startAttempt(&machine, now: 1_000, order: [1, 0])
        #expect(action == .connect(server: 1, mayReuse: true))
        let resume = try #require(machine.resume)
        #expect(resume.attempts == 1 && resume.nextAt == 1_050 && resume.stage == .connecting)
        #expect(machine.attempt?.server == 1)
        machine.connectStarted(reused: false)
        let action2 = machine.connectFailed(reason: "refused")
        #expect(action2 == .connect(server: 0, mayReuse: true))
        #expect(machine.resume?.nextAt == 1_050, "one timeout for the whole attempt, not one per server")
        #expect(machine.resumeDeadline == 1_050)
        #expect(machine.resumeTick(now: 1_049) == .wait(until: 1_050))
        #expect(machine.resumeTick(now: 1_050) == .attemptTimedOut)
        #expect(machine.resumeTick(now: 1_051) == .attemptTimedOut)
    }

    @Test func anAttemptWhoseRequestWentOut_timesOutAfterTheHeaderTimeout() {
        var machine = Self.attemptSent(reused: false)
        machine.resumeRequestSent(now: 1_030, headerTimeoutNanos: Self.headerTimeout)
        #expect(machine.resume?.stage == .awaitingHead)
        #expect(machine.resumeDeadline == 1_230)
        #expect(machine.resumeTick(now: 1_229) == .wait(until: 1_230))
        #expect(machine.resumeTick(now: 1_230) == .attemptTimedOut)
    }

    @Test func everyServerFailingAtOnce_givesUpTheAttempt_butKeepsTheResume() {
        var machine = Self.relaying()
        Self.begin(&machine, now: 1_000)
        _ = Self.startAttempt(&machine, now: 1_000, order: [0])
        let action = machine.connectFailed(reason: "refused")
        #expect(action == .giveUp(timedOut: false, lastFailure: "refused"))
        #expect(machine.isResuming && machine.attempt == nil)
        #expect(machine.resume?.attempts == 1)
        var empty = Self.relaying()
        Self.begin(&empty, now: 1_000)
        let action2 = Self.startAttempt(&empty, now: 1_000, order: [])
        #expect(action2 == .giveUp(timedOut: false, lastFailure: nil))
        #expect(empty.isResuming)
    }

    @Test func aFailureBeforeTheHead_isNeverRetriedWithinAResumeAttempt() {
        var machine = Self.attemptSent(reused: true)
        let before = machine.state
        let decision = machine.failedBeforeHead(reason: "reset")
        #expect(decision == .answer(countsAgainstServer: false))
        #expect(machine.state == before)
    }

    // MARK: Back-off

    @Test func aFailedAttempt_schedulesTheNextWithBackOff_halfToAllOfTheDoublingBase() {
        // Attempt n waits min × 2^(n-1), capped at max, of which jitter 0 takes half and jitter 1 all.
        let bases: [UInt64] = [100, 200, 400, 800, 1_000, 1_000]
        for jitter in [0, 0.25, 0.999, 1] {
            var machine = Self.relaying()
            Self.begin(&machine, now: 1_000)
            var now: UInt64 = 1_000
            for (index, base) in bases.enumerated() {
                #expect(machine.resumeTick(now: now) == .startAttempt)
                _ = Self.startAttempt(&machine, now: now)
                now += 5
                Self.fail(&machine, "refused \(index)", now: now, jitter: jitter)
                let attempts = index + 1
                let delay = machine.resume!.nextAt - now
                let low = Self.backoff(attempt: attempts, jitter: 0)
                let high = Self.backoff(attempt: attempts, jitter: 1)
                #expect(low == base / 2 && high == base)
                #expect(delay >= low && delay <= high, "attempt \(attempts), jitter \(jitter)")
                if jitter == 0 { #expect(delay == base / 2) }
                if jitter == 1 { #expect(delay == base) }
                #expect(machine.resume?.lastFailure == "refused \(index)")
                #expect(machine.resume?.attempts == attempts)
                #expect(machine.attempt == nil)
                #expect(machine.resumeTick(now: machine.resume!.nextAt - 1) == .wait(until: machine.resume!.nextAt))
                now = machine.resume!.nextAt
            }
        }
    }

    // MARK: The window

    @Test func theWindowsEnd_givesUp_withTheAttemptsAndTheLastFailure_evenMidAttempt() {
        var machine = Self.relaying()
        Self.begin(&machine, now: 1_000)
        _ = Self.startAttempt(&machine, now: 1_000)
        Self.fail(&machine, "refused", now: 1_010)
        _ = Self.startAttempt(&machine, now: machine.resume!.nextAt)
        #expect(machine.resumeTick(now: 10_999) != .giveUp(attempts: 2, lastFailure: "refused"))
        #expect(machine.resumeTick(now: 11_000) == .giveUp(attempts: 2, lastFailure: "refused"))
        #expect(machine.resumeTick(now: 20_000) == .giveUp(attempts: 2, lastFailure: "refused"))
    }

    @Test func aNextAttemptPastTheWindow_waitsOnlyForTheWindowsEnd() {
        var machine = Self.relaying()
        Self.begin(&machine, now: 1_000)
        _ = Self.startAttempt(&machine, now: 1_000)
        Self.fail(&machine, now: 10_990, jitter: 1)
        #expect(machine.resume?.nextAt == 11_090)
        #expect(machine.resumeDeadline == 11_000)
        #expect(machine.resumeTick(now: 10_995) == .wait(until: 11_000))
        #expect(machine.resumeTick(now: 11_000) == .giveUp(attempts: 1, lastFailure: "refused"))
    }

    @Test func aHugeWindow_saturatesAtUInt64Max() {
        var machine = Self.relaying()
        machine.beginResume(now: 1_000, windowNanos: .max, backoffMinNanos: 1, backoffMaxNanos: 1, jitter: 0)
        #expect(machine.resume?.windowEnd == .max)
    }

    @Test func hugeAttemptTimeoutsAndBackOff_saturateAtUInt64Max() {
        let now = UInt64.max - 10
        var machine = Self.relaying()
        machine.beginResume(now: now, windowNanos: .max, backoffMinNanos: 1, backoffMaxNanos: .max, jitter: 0)
        _ = machine.startResumeAttempt(now: now, connectTimeoutNanos: .max, order: [0])
        #expect(machine.resume?.nextAt == .max)
        machine.resumeRequestSent(now: now, headerTimeoutNanos: 100)
        #expect(machine.resume?.nextAt == .max)
        machine.resumeAttemptFailed("x", now: now, backoffMinNanos: .max, backoffMaxNanos: .max, jitter: 1)
        #expect(machine.resume?.nextAt == .max)
        #expect(machine.resumeTick(now: .max - 1) == .wait(until: .max))
    }

    // MARK: Splice, streak, end

    @Test func aSplicedHead_endsTheResume_andRelays() {
        var machine = Self.relaying()
        Self.resumeAndSplice(&machine, brokeAt: 1_000, splicedAt: 1_100)
        #expect(machine.state == .relaying(.init(server: 0, reused: false, receivedResponseBytes: false)))
        #expect(!machine.isResuming && machine.resumeDeadline == nil)
        #expect(machine.resumeTick(now: 50_000) == .wait(until: .max))
    }

    @Test func aResumeWithinBackoffMaxOfTheLastSplice_startsWithADelay_growingWithTheStreak() {
        var machine = Self.relaying()
        Self.resumeAndSplice(&machine, brokeAt: 1_000, splicedAt: 1_100)
        Self.begin(&machine, now: 1_500)
        #expect(machine.resume?.attempts == 1)
        #expect(machine.resume?.nextAt == 1_550, "attempt 1's back-off, half of min with jitter 0")
        #expect(machine.resumeTick(now: 1_500) == .wait(until: 1_550))
        #expect(machine.resumeTick(now: 1_550) == .startAttempt)
        _ = Self.startAttempt(&machine, now: 1_550)
        #expect(machine.resume?.attempts == 2)
        machine.connectStarted(reused: false)
        machine.requestSent()
        machine.headArrived(now: 1_600)
        Self.begin(&machine, now: 1_700, jitter: 1)
        #expect(machine.resume?.attempts == 2)
        #expect(machine.resume?.nextAt == 1_900, "the second quick resume in a row waits attempt 2's back-off")
    }

    @Test func aResumeBackoffMaxOrLongerAfterTheLastSplice_startsAtOnce_andResetsTheStreak() {
        var machine = Self.relaying()
        Self.resumeAndSplice(&machine, brokeAt: 1_000, splicedAt: 1_100)
        Self.begin(&machine, now: 2_100)
        #expect(machine.resume?.attempts == 0)
        #expect(machine.resumeTick(now: 2_100) == .startAttempt)
        // Splice again, then a quick resume: the streak starts over at 1.
        _ = Self.startAttempt(&machine, now: 2_100)
        machine.connectStarted(reused: false)
        machine.headArrived(now: 2_200)
        Self.begin(&machine, now: 2_300)
        #expect(machine.resume?.attempts == 1)
    }

    @Test func aSpliceAtTimeZero_stillCountsForTheStreak() {
        var machine = Self.relaying()
        Self.resumeAndSplice(&machine, brokeAt: 0, splicedAt: 0)
        Self.begin(&machine, now: 10)
        #expect(machine.resume?.attempts == 1)
    }

    @Test func theFirstResponsesHead_isNotASplice_soTheFirstResumeIsNeverQuick() {
        var machine = Machine(isRetryable: true)
        _ = machine.start(order: [0])
        machine.headArrived(now: 1_000)
        Self.begin(&machine, now: 1_001)
        #expect(machine.resume?.attempts == 0)
        #expect(machine.resumeTick(now: 1_001) == .startAttempt)
    }

    @Test func endResume_stopsEverything() {
        var machine = Self.relaying()
        Self.begin(&machine, now: 1_000)
        _ = Self.startAttempt(&machine, now: 1_000)
        machine.endResume()
        #expect(machine.state == .done)
        #expect(!machine.isResuming && machine.resumeDeadline == nil && machine.attempt == nil)
        #expect(machine.resumeTick(now: 99_999) == .wait(until: .max))
    }

    @Test func resumeCalls_withoutAResume_changeNothing() {
        var machine = Self.relaying()
        let before = machine.state
        let action = machine.startResumeAttempt(now: 1, connectTimeoutNanos: 1, order: [0])
        #expect(action == .giveUp(timedOut: false, lastFailure: nil))
        machine.resumeRequestSent(now: 1, headerTimeoutNanos: 1)
        Self.fail(&machine, now: 1)
        #expect(machine.state == before)
        #expect(machine.resumeTick(now: 1) == .wait(until: .max))
        var waiting = Self.relaying()
        Self.begin(&waiting, now: 1_000)
        let resume = waiting.resume
        waiting.resumeRequestSent(now: 1_001, headerTimeoutNanos: 5)
        #expect(waiting.resume == resume, "no attempt in flight: nothing to time out")
    }
}

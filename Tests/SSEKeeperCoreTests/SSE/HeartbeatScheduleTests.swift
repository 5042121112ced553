import Testing

@testable import SSEKeeperCore

/// Heartbeat timing driven by a manual clock (monotonic nanoseconds passed in).
@Suite struct HeartbeatScheduleTests {
    static let second: UInt64 = 1_000_000_000

    @Test func firstHeartbeat_isDueOneIntervalAfterStart() {
        var schedule = HeartbeatSchedule(intervalNanos: 15 * Self.second, startedAt: 100)
        #expect(schedule.nextDeadline == 100 + 15 * Self.second)
        #expect(schedule.poll(now: 100, canInject: true) == .notYet(until: 100 + 15 * Self.second))
        #expect(schedule.poll(now: 100 + 15 * Self.second - 1, canInject: true) == .notYet(until: 100 + 15 * Self.second))
        #expect(schedule.poll(now: 100 + 15 * Self.second, canInject: true) == .send)
        #expect(schedule.sent == 1)
        #expect(schedule.skipped == 0)
    }

    @Test func writes_resetTheSilence() {
        var schedule = HeartbeatSchedule(intervalNanos: 10 * Self.second, startedAt: 0)
        schedule.noteWrite(at: 8 * Self.second)
        #expect(schedule.poll(now: 10 * Self.second, canInject: true) == .notYet(until: 18 * Self.second))
        schedule.noteWrite(at: 17 * Self.second)
        #expect(schedule.nextDeadline == 27 * Self.second)
        #expect(schedule.poll(now: 27 * Self.second, canInject: true) == .send)
    }

    @Test func steadySilence_sendsOneHeartbeatPerInterval() {
        var schedule = HeartbeatSchedule(intervalNanos: 5 * Self.second, startedAt: 0)
        var now: UInt64 = 0
        var sent = 0
        while now <= 60 * Self.second {
            if schedule.poll(now: now, canInject: true) == .send {
                sent += 1
                schedule.noteWrite(at: now)
            }
            now += Self.second / 10
        }
        #expect(sent == 12)
        #expect(schedule.sent == 12)
    }

    @Test func latePoll_givesOneHeartbeat_notABurst() {
        var schedule = HeartbeatSchedule(intervalNanos: 10 * Self.second, startedAt: 0)
        // The timer fires 55 s late: five intervals were missed; one heartbeat, then a full interval.
        #expect(schedule.poll(now: 65 * Self.second, canInject: true) == .send)
        #expect(schedule.poll(now: 65 * Self.second, canInject: true) == .notYet(until: 75 * Self.second))
        schedule.noteWrite(at: 65 * Self.second)
        #expect(schedule.poll(now: 70 * Self.second, canInject: true) == .notYet(until: 75 * Self.second))
        #expect(schedule.poll(now: 75 * Self.second, canInject: true) == .send)
        #expect(schedule.sent == 2)
    }

    @Test func dueWhileMidLine_skipsCountsAndReschedules() {
        var schedule = HeartbeatSchedule(intervalNanos: 10 * Self.second, startedAt: 0)
        #expect(schedule.poll(now: 12 * Self.second, canInject: false) == .skip)
        #expect(schedule.skipped == 1)
        #expect(schedule.sent == 0)
        #expect(schedule.nextDeadline == 22 * Self.second)
        #expect(schedule.poll(now: 21 * Self.second, canInject: true) == .notYet(until: 22 * Self.second))
        #expect(schedule.poll(now: 22 * Self.second, canInject: true) == .send)
        #expect(schedule.skipped == 1)
        #expect(schedule.sent == 1)
    }

    @Test func schedule_followsTheTrackersSafePoints() {
        var tracker = SSEStreamTracker()
        var schedule = HeartbeatSchedule(intervalNanos: Self.second, startedAt: 0)
        Array("data: partial".utf8).withUnsafeBytes { tracker.forward($0) { _ in } }
        schedule.noteWrite(at: 0)
        #expect(schedule.poll(now: Self.second, canInject: tracker.isAtSafePoint) == .skip)
        Array(" line\n".utf8).withUnsafeBytes { tracker.forward($0) { _ in } }
        schedule.noteWrite(at: Self.second + 1)
        #expect(schedule.poll(now: 2 * Self.second + 1, canInject: tracker.isAtSafePoint) == .send)
        #expect(tracker.heartbeat(comment: "hb") != nil)
    }

    @Test func deadlines_saturateInsteadOfOverflowing() {
        var schedule = HeartbeatSchedule(intervalNanos: UInt64.max - 5, startedAt: 10)
        #expect(schedule.nextDeadline == UInt64.max)
        schedule.noteWrite(at: UInt64.max - 1)
        #expect(schedule.nextDeadline == UInt64.max)
        #expect(schedule.poll(now: 20, canInject: true) == .notYet(until: UInt64.max))
    }

    @Test func zeroInterval_isDueAtEveryPoll() {
        var schedule = HeartbeatSchedule(intervalNanos: 0, startedAt: 5)
        #expect(schedule.poll(now: 5, canInject: true) == .send)
        #expect(schedule.poll(now: 5, canInject: true) == .send)
    }
}

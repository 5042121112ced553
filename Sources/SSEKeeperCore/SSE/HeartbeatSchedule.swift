/// When a quiet event stream is due for a heartbeat comment. Pure timing: the caller passes in
/// monotonic time as UInt64 nanoseconds; the core never reads the clock.
///
/// A heartbeat is an SSE comment line, which clients ignore (WHATWG HTML §9.2.6 "Interpreting an
/// event stream": lines starting with `:` are ignored); it only keeps intermediaries and clients
/// from timing out a silent connection. Any byte written to the client resets the silence, so a
/// heartbeat is due `intervalNanos` after the last write.
///
/// Late polls (the timer fired late, the loop was busy) yield one heartbeat, never a burst: the
/// missed intervals are not caught up, and the next deadline is a full interval after the poll.
public struct HeartbeatSchedule: Sendable {
    /// The outcome of `poll(now:canInject:)`.
    public enum Decision: Sendable, Equatable {
        /// Nothing to do before `until` (the current deadline, in monotonic nanoseconds).
        case notYet(until: UInt64)
        /// Due: write the heartbeat now, then call `noteWrite(at:)` with the same `now`.
        case send
        /// Due, but the client's parser is mid-line (`SSEStreamTracker.isAtSafePoint` is false):
        /// counted in `skipped`, and rescheduled a full interval after `now`.
        case skip
    }

    /// The shortest heartbeat interval ssekeeper runs with: the configuration rejects a route whose
    /// `idle_timeout × heartbeat_fraction` is shorter (found by fuzzing: a tiny fraction rounded the interval to
    /// zero, a heartbeat on every poll), and the shell never schedules heartbeats closer together, whatever
    /// settings it was handed.
    public static let minimumInterval = TimeAmount.milliseconds(10)

    /// The silence, in nanoseconds, after which a heartbeat is due.
    public let intervalNanos: UInt64
    /// When a heartbeat is next due if nothing is written (monotonic nanoseconds).
    public private(set) var nextDeadline: UInt64
    /// Heartbeats decided as `send`.
    public private(set) var sent = 0
    /// Heartbeats decided as `skip` (due while the client's parser was mid-line).
    public private(set) var skipped = 0

    /// Starts a schedule whose first heartbeat is due `intervalNanos` after `startedAt`.
    /// An interval of 0 makes every poll due. Deadlines saturate at `UInt64.max`.
    public init(intervalNanos: UInt64, startedAt: UInt64) {
        self.intervalNanos = intervalNanos
        self.nextDeadline = TimeAmount(nanoseconds: intervalNanos).deadline(after: startedAt)
    }

    /// Records that bytes were written to the client at `now` (forwarded upstream bytes or a
    /// heartbeat): the next heartbeat is due a full interval later.
    public mutating func noteWrite(at now: UInt64) {
        nextDeadline = TimeAmount(nanoseconds: intervalNanos).deadline(after: now)
    }

    /// Decides at `now` whether a heartbeat is due, and whether it can be sent.
    ///
    /// Before the deadline: `.notYet(until:)` with the deadline, and nothing changes. At or after it:
    /// `.send` when `canInject` (counted in `sent`; the next deadline moves to `now + interval`,
    /// so a poll repeated before `noteWrite(at:)` does not send twice), otherwise `.skip` (counted
    /// in `skipped`; the next deadline moves to `now + interval`). However late the poll, it yields
    /// at most one heartbeat.
    public mutating func poll(now: UInt64, canInject: Bool) -> Decision {
        guard now >= nextDeadline else { return .notYet(until: nextDeadline) }
        nextDeadline = TimeAmount(nanoseconds: intervalNanos).deadline(after: now)
        if canInject {
            sent += 1
            return .send
        }
        skipped += 1
        return .skip
    }
}

import Testing
@testable import SSEKeeperCore

/// One request's upstream attempts: the attempt order walked in order, the retries before a response head (a reused
/// connection once more on a fresh one, a fresh failure on the next server), what counts against a server, and the
/// 502/504 give-up. The `upstream_resume` schedule is in `UpstreamAttemptMachineResumeTests`.
struct UpstreamAttemptMachineTests {
    typealias Machine = UpstreamAttemptMachine
    typealias Attempt = UpstreamAttemptMachine.Attempt

    static let order = [2, 0, 1]

    /// A machine whose request went out on `server` (the first of `order`) over a pooled (`reused`) or fresh
    /// connection.
    static func sent(retryable: Bool = true, reused: Bool, order: [Int] = order) -> Machine {
        var machine = Machine(isRetryable: retryable)
        _ = machine.start(order: order)
        machine.connectStarted(reused: reused)
        machine.requestSent()
        return machine
    }

    // MARK: The attempt order

    @Test func start_triesTheFirstServer_andEveryConnectFailure_theNextOne_inOrder_then502() {
        var machine = Machine(isRetryable: false)
        #expect(machine.state == .idle && machine.attempt == nil)
        let action = machine.start(order: Self.order)
        #expect(action == .connect(server: 2, mayReuse: true))
        #expect(machine.attemptOrder == Self.order)
        #expect(machine.state == .connecting(Attempt(server: 2, reused: false, receivedResponseBytes: false)))
        machine.connectStarted(reused: false)
        let action2 = machine.connectFailed(reason: "refused by 2")
        #expect(action2 == .connect(server: 0, mayReuse: true))
        #expect(machine.attempt?.server == 0)
        let action3 = machine.connectFailed(reason: "refused by 0")
        #expect(action3 == .connect(server: 1, mayReuse: true))
        let action4 = machine.connectFailed(reason: "refused by 1")
        #expect(action4 == .giveUp(timedOut: false, lastFailure: "refused by 1"))
        #expect(machine.state == .done && machine.attempt == nil)
        #expect(machine.lastFailure == "refused by 1")
    }

    @Test func anEmptyOrder_givesUpAtOnce_withNoFailureToReport() {
        var machine = Machine(isRetryable: true)
        let action = machine.start(order: [])
        #expect(action == .giveUp(timedOut: false, lastFailure: nil))
        #expect(machine.state == .done)
    }

    @Test func aConnectTimeout_makesTheGiveUpA504_evenWhenALaterServerFailedOtherwise() {
        var machine = Machine(isRetryable: true)
        _ = machine.start(order: [0, 1])
        let action = machine.connectFailed(reason: "connect timed out", timedOut: true)
        #expect(action == .connect(server: 1, mayReuse: true))
        let action2 = machine.connectFailed(reason: "refused")
        #expect(action2 == .giveUp(timedOut: true, lastFailure: "refused"))
    }

    @Test func aNewRound_forgetsTheLastRoundsTimeoutAndFailure() {
        var machine = Machine(isRetryable: true)
        _ = machine.start(order: [0])
        _ = machine.connectFailed(reason: "connect timed out", timedOut: true)
        let action = machine.start(order: [1])
        #expect(action == .connect(server: 1, mayReuse: true))
        #expect(machine.lastFailure == nil)
        let action2 = machine.connectFailed(reason: "refused")
        #expect(action2 == .giveUp(timedOut: false, lastFailure: "refused"))
    }

    @Test func aRequest_goesFromConnecting_toAwaitingItsHead_toRelaying_toDone() {
        var machine = Machine(isRetryable: false)
        _ = machine.start(order: Self.order)
        machine.connectStarted(reused: true)
        #expect(machine.state == .connecting(Attempt(server: 2, reused: true, receivedResponseBytes: false)))
        machine.requestSent()
        #expect(machine.state == .awaitingHead(Attempt(server: 2, reused: true, receivedResponseBytes: false)))
        machine.responseBytesArrived()
        #expect(machine.state == .awaitingHead(Attempt(server: 2, reused: true, receivedResponseBytes: true)))
        machine.headArrived(now: 50)
        #expect(machine.state == .relaying(Attempt(server: 2, reused: true, receivedResponseBytes: true)))
        #expect(!machine.isResuming && machine.resume == nil)
        machine.finish()
        #expect(machine.state == .done && machine.attempt == nil)
    }

    @Test func responseBytes_areNotedOnce_andMoveAConnectingAttemptToAwaitingItsHead() {
        var machine = Machine(isRetryable: true)
        _ = machine.start(order: [4])
        machine.responseBytesArrived()
        machine.responseBytesArrived()
        #expect(machine.state == .awaitingHead(Attempt(server: 4, reused: false, receivedResponseBytes: true)))
        var idle = Machine(isRetryable: true)
        idle.responseBytesArrived()
        #expect(idle.state == .idle)
    }

    // MARK: A reused connection that fails

    @Test func aReusedConnectionFailing_retriesTheSameServerOnce_onAFreshConnection_notCounted() {
        var machine = Self.sent(reused: true)
        let decision = machine.failedBeforeHead(reason: "reset by peer")
        #expect(decision == .retry(.connect(server: 2, mayReuse: false), countsAgainstServer: false))
        #expect(machine.lastFailure == "reset by peer")
        #expect(machine.state == .connecting(Attempt(server: 2, reused: false, receivedResponseBytes: false)))
        // mayReuse is false for that one connect only: the next server may take a pooled connection again.
        machine.connectStarted(reused: false)
        let action = machine.connectFailed(reason: "refused")
        #expect(action == .connect(server: 0, mayReuse: true))
    }

    @Test func theFreshRetryOfAReusedConnection_countsWhenItFailsToo_andMovesOn() {
        var machine = Self.sent(reused: true)
        _ = machine.failedBeforeHead(reason: "reset by peer")
        machine.connectStarted(reused: false)
        machine.requestSent()
        let decision = machine.failedBeforeHead(reason: "closed early")
        #expect(decision == .retry(.connect(server: 0, mayReuse: true), countsAgainstServer: true))
        #expect(machine.lastFailure == "closed early")
    }

    @Test func aReusedConnectionFailing_onTheLastServer_stillGetsItsFreshRetry() {
        var machine = Self.sent(reused: true, order: [3])
        let decision = machine.failedBeforeHead(reason: "reset")
        #expect(decision == .retry(.connect(server: 3, mayReuse: false), countsAgainstServer: false))
    }

    @Test func aReusedConnectionFailing_afterResponseBytes_isAnswered_notCounted() {
        var machine = Self.sent(reused: true)
        machine.responseBytesArrived()
        let decision = machine.failedBeforeHead(reason: "reset")
        #expect(decision == .answer(countsAgainstServer: false))
    }

    @Test func aReusedConnectionFailing_forANonRetryableRequest_isAnswered_notCounted() {
        var machine = Self.sent(retryable: false, reused: true)
        #expect(!machine.isRetryable)
        let decision = machine.failedBeforeHead(reason: "reset")
        #expect(decision == .answer(countsAgainstServer: false))
    }

    // MARK: A fresh connection that fails

    @Test func aFreshConnectionFailing_movesToTheNextServer_andCounts() {
        var machine = Self.sent(reused: false)
        let decision = machine.failedBeforeHead(reason: "closed before a head")
        #expect(decision == .retry(.connect(server: 0, mayReuse: true), countsAgainstServer: true))
        #expect(machine.lastFailure == "closed before a head")
    }

    @Test func aFreshConnectionFailing_withNoServerLeft_isAnswered_andCounts() {
        var machine = Self.sent(reused: false, order: [1])
        let decision = machine.failedBeforeHead(reason: "closed")
        #expect(decision == .answer(countsAgainstServer: true))
    }

    @Test func aFreshConnectionFailing_afterResponseBytes_orForANonRetryableRequest_isAnswered_andCounts() {
        var withBytes = Self.sent(reused: false)
        withBytes.responseBytesArrived()
        let decision = withBytes.failedBeforeHead(reason: "garbage")
        #expect(decision == .answer(countsAgainstServer: true))
        var post = Self.sent(retryable: false, reused: false)
        let decision2 = post.failedBeforeHead(reason: "closed")
        #expect(decision2 == .answer(countsAgainstServer: true))
    }

    @Test func theLastFailure_isCarriedIntoTheGiveUp_whenTheNextConnectsFailAtOnce() {
        var machine = Self.sent(reused: false, order: [0, 1])
        _ = machine.failedBeforeHead(reason: "closed before a head")
        let action = machine.connectFailed(reason: "no route to host")
        #expect(action == .giveUp(timedOut: false, lastFailure: "no route to host"))
        var timedOut = Self.sent(reused: false, order: [0, 1])
        _ = timedOut.failedBeforeHead(reason: "closed before a head")
        let action2 = timedOut.connectFailed(reason: "connect timed out", timedOut: true)
        #expect(action2 == .giveUp(timedOut: true, lastFailure: "connect timed out"))
    }

    @Test func aFailureWithoutAnAttempt_isAnswered_notCounted() {
        var idle = Machine(isRetryable: true)
        let decision = idle.failedBeforeHead(reason: "x")
        #expect(decision == .answer(countsAgainstServer: false))
        var done = Self.sent(reused: false)
        done.finish()
        let decision2 = done.failedBeforeHead(reason: "x")
        #expect(decision2 == .answer(countsAgainstServer: false))
        #expect(done.state == .done)
    }
}

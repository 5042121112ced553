import Testing
@testable import SSEKeeperCore

/// One client connection's machine, driven by a manual clock (plain monotonic nanoseconds): every state, its
/// deadline (not yet, at, after, saturated), what arriving bytes mean in it, and the ways out of it.
struct HTTP1ConnectionMachineTests {
    typealias Machine = HTTP1ConnectionMachine

    /// Four different timeouts, so a deadline taken from the wrong one shows.
    static let timeouts = Machine.Timeouts(
        headerNanos: 10, keepaliveNanos: 75, closingFlushNanos: 30, closingLingerNanos: 5)
    static let start: UInt64 = 1_000

    static func machine() -> Machine { Machine(now: start, timeouts: timeouts) }

    /// A machine whose first request head arrived at `start + 1` and was parsed (not routed yet).
    static func headParsed() -> Machine {
        var machine = machine()
        _ = machine.bytesArrived(now: start + 1)
        machine.headParsed()
        return machine
    }

    /// A machine with a request's stream attached (a head arrived at `start + 1` and was routed).
    static func responding() -> Machine {
        var machine = headParsed()
        machine.streamAttached()
        return machine
    }

    /// Expects nothing before `until`, and `due` at `until` and after.
    static func expectDeadline(_ machine: Machine, at until: UInt64, then due: Machine.DeadlineAction,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(machine.deadline == until, sourceLocation: sourceLocation)
        #expect(machine.deadlineReached(now: until - 1) == .wait(until: until), sourceLocation: sourceLocation)
        #expect(machine.deadlineReached(now: until) == due, sourceLocation: sourceLocation)
        #expect(machine.deadlineReached(now: until + 1_000_000) == due, sourceLocation: sourceLocation)
    }

    // MARK: Idle, head, body

    @Test func aNewConnection_isIdle_andClosesSilently_whenNoByteArrivesWithinTheHeaderTimeout() {
        let machine = Self.machine()
        #expect(machine.state == .idle(until: 1_010))
        #expect(machine.isIdle && machine.parsesHeads && !machine.isClosing && !machine.isFinished)
        #expect(machine.requestCount == 0)
        Self.expectDeadline(machine, at: 1_010, then: .close)
    }

    @Test func theFirstBytes_startANewRequest_whoseHeadMustArriveWithinTheHeaderTimeoutFromThem() {
        var machine = Self.machine()
        let action = machine.bytesArrived(now: 1_006)
        #expect(action == .parseHead(newRequest: true))
        #expect(machine.state == .readingHead(until: 1_016))
        #expect(!machine.isIdle && machine.parsesHeads)
        Self.expectDeadline(machine, at: 1_016, then: .requestTimeout(body: false))
    }

    @Test func moreBytesOfTheSameHead_continueIt_withoutMovingItsDeadline() {
        var machine = Self.machine()
        _ = machine.bytesArrived(now: 1_006)
        let action = machine.bytesArrived(now: 1_015)
        #expect(action == .parseHead(newRequest: false))
        let action2 = machine.bytesArrived(now: 1_015)
        #expect(action2 == .parseHead(newRequest: false))
        #expect(machine.state == .readingHead(until: 1_016))
    }

    @Test func aChunkedBodyCheck_feedsBytesToTheCheck_andAnswers408ForTheBody_atTheHeaderTimeout() {
        var machine = Self.headParsed()
        machine.checkingBody(now: 1_004)
        #expect(machine.state == .receivingBody(until: 1_014))
        #expect(!machine.parsesHeads && !machine.isIdle && !machine.isClosing)
        let action = machine.bytesArrived(now: 1_013)
        #expect(action == .checkBody)
        #expect(machine.state == .receivingBody(until: 1_014), "body bytes do not extend the check")
        Self.expectDeadline(machine, at: 1_014, then: .requestTimeout(body: true))
        machine.streamAttached()
        #expect(machine.state == .responding)
    }

    @Test func pipelinedBytesPending_startAHeadFromIdle_only() {
        var machine = Self.machine()
        machine.pipelinedBytesPending(now: 1_003)
        #expect(machine.state == .readingHead(until: 1_013))
        machine.pipelinedBytesPending(now: 1_009)
        #expect(machine.state == .readingHead(until: 1_013), "a head in progress keeps its deadline")
        var responding = Self.responding()
        responding.pipelinedBytesPending(now: 1_009)
        #expect(responding.state == .responding)
    }

    // MARK: Responding and probing

    @Test func aStreamAttached_getsTheClientBytes_andTheConnectionHasNoDeadlineOfItsOwn() {
        var machine = Self.responding()
        #expect(machine.state == .responding)
        #expect(machine.deadline == nil)
        #expect(machine.deadlineReached(now: .max) == .none)
        let action = machine.bytesArrived(now: 5_000)
        #expect(action == .toStream)
        #expect(!machine.parsesHeads && !machine.isIdle && !machine.isClosing)
    }

    @Test func theProbe_keepsPipelinedBytes_andEndsItsSilenceAtItsDeadline() {
        var machine = Self.headParsed()
        machine.probing(until: 4_000)
        #expect(machine.state == .probing(until: 4_000))
        let action = machine.bytesArrived(now: 3_999)
        #expect(action == .keep)
        #expect(!machine.parsesHeads && !machine.isClosing)
        Self.expectDeadline(machine, at: 4_000, then: .finishProbe)
    }

    // MARK: After a response

    @Test func aKeptAliveResponse_makesTheConnectionIdle_untilTheKeepaliveTimeout() {
        var machine = Self.responding()
        let kept = machine.responseComplete(now: 2_000, keepAlive: true, pendingBytes: 300)
        #expect(kept)
        // The keep-alive timeout, not the header timeout; bytes still unsent do not matter.
        #expect(machine.state == .idle(until: 2_075))
        #expect(machine.isIdle && machine.parsesHeads)
        Self.expectDeadline(machine, at: 2_075, then: .close)
        let action = machine.bytesArrived(now: 2_050)
        #expect(action == .parseHead(newRequest: true))
        #expect(machine.state == .readingHead(until: 2_060))
    }

    @Test func aResponseThatClosesWithNothingUnsent_lingersAtOnce() {
        var machine = Self.responding()
        let kept = machine.responseComplete(now: 2_000, keepAlive: false, pendingBytes: 0)
        #expect(!kept)
        #expect(machine.state == .lingering(until: 2_005))
        #expect(machine.isClosing && !machine.isFinished && !machine.parsesHeads)
        Self.expectDeadline(machine, at: 2_005, then: .close)
    }

    @Test func aResponseThatClosesWithBytesUnsent_flushesFirst_thenLingersOnceFlushed() {
        var machine = Self.responding()
        let kept = machine.responseComplete(now: 2_000, keepAlive: false, pendingBytes: 1)
        #expect(!kept)
        #expect(machine.state == .flushing(until: 2_030))
        #expect(machine.isClosing)
        Self.expectDeadline(machine, at: 2_030, then: .close)
        machine.flushed(now: 2_012)
        #expect(machine.state == .lingering(until: 2_017))
        machine.flushed(now: 2_016)
        #expect(machine.state == .lingering(until: 2_017), "a second flush does not extend the linger")
    }

    @Test func whileDraining_aFlushedConnection_closesAtOnce_insteadOfLingering() {
        var machine = Self.responding()
        machine.stopLingering(now: 1_500)
        #expect(machine.linger == .skipped)
        #expect(machine.state == .responding, "a response in flight goes on")
        machine.responseComplete(now: 2_000, keepAlive: false, pendingBytes: 1)
        #expect(machine.state == .flushing(until: 2_030), "the last bytes still get their flush time")
        machine.flushed(now: 2_012)
        #expect(machine.state == .lingering(until: 2_012))
        Self.expectDeadline(machine, at: 2_012, then: .close)
        var unsent = Self.responding()
        unsent.stopLingering(now: 1_500)
        unsent.close(now: 2_000, pendingBytes: 0)
        #expect(unsent.deadlineReached(now: 2_000) == .close)
    }

    @Test func stopLingering_closesAConnectionAlreadyLingering_now_andLeavesOtherStatesAlone() {
        var lingering = Self.responding()
        lingering.close(now: 2_000, pendingBytes: 0)
        lingering.stopLingering(now: 2_001)
        #expect(lingering.state == .lingering(until: 2_001))
        #expect(lingering.deadlineReached(now: 2_001) == .close)
        var idle = Self.machine()
        idle.stopLingering(now: 1_001)
        #expect(idle.state == .idle(until: 1_010))
        var flushing = Self.responding()
        flushing.close(now: 2_000, pendingBytes: 5)
        flushing.stopLingering(now: 2_001)
        #expect(flushing.state == .flushing(until: 2_030))
        var finished = Self.responding()
        finished.finish()
        finished.stopLingering(now: 2_001)
        #expect(finished.state == .finished)
    }

    @Test func flushed_changesNothing_outsideFlushing() {
        var idle = Self.machine()
        idle.flushed(now: 1_005)
        #expect(idle.state == .idle(until: 1_010))
        var responding = Self.responding()
        responding.flushed(now: 1_005)
        #expect(responding.state == .responding)
    }

    @Test func bytesWhileClosingOrClosed_areDiscarded() {
        var flushing = Self.responding()
        flushing.close(now: 2_000, pendingBytes: 10)
        let action = flushing.bytesArrived(now: 2_001)
        #expect(action == .discard)
        #expect(flushing.state == .flushing(until: 2_030))
        var lingering = Self.responding()
        lingering.close(now: 2_000, pendingBytes: 0)
        let action2 = lingering.bytesArrived(now: 2_001)
        #expect(action2 == .discard)
        #expect(lingering.state == .lingering(until: 2_005))
        var finished = Self.responding()
        finished.finish()
        let action3 = finished.bytesArrived(now: 2_001)
        #expect(action3 == .discard)
        #expect(finished.state == .finished)
    }

    @Test func close_isIdempotent_theFirstCloseKeepsItsDeadline() {
        var machine = Self.machine()
        machine.close(now: 1_002, pendingBytes: 8)
        #expect(machine.state == .flushing(until: 1_032))
        machine.close(now: 1_020, pendingBytes: 0)
        #expect(machine.state == .flushing(until: 1_032))
        machine.flushed(now: 1_021)
        machine.close(now: 1_022, pendingBytes: 8)
        #expect(machine.state == .lingering(until: 1_026), "a lingering connection does not go back to flushing")
        machine.finish()
        machine.close(now: 1_030, pendingBytes: 0)
        #expect(machine.state == .finished)
    }

    @Test func close_startsFromEveryOpenState() {
        var readingHead = Self.machine()
        _ = readingHead.bytesArrived(now: 1_001)
        var probing = Self.machine()
        probing.probing(until: 9_000)
        var receivingBody = Self.machine()
        receivingBody.checkingBody(now: 1_001)
        for var machine in [Self.machine(), readingHead, receivingBody, Self.responding(), probing] {
            let before = machine.state
            machine.close(now: 3_000, pendingBytes: 0)
            #expect(machine.state == .lingering(until: 3_005), "from \(before)")
        }
    }

    @Test func aResponseCompletingAfterTheCloseBegan_neitherReopensNorMovesTheClose() {
        var closing = Self.responding()
        closing.close(now: 2_000, pendingBytes: 10)
        let kept = closing.responseComplete(now: 2_001, keepAlive: true, pendingBytes: 0)
        #expect(!kept)
        #expect(closing.state == .flushing(until: 2_030))
        var finished = Self.responding()
        finished.finish()
        let kept2 = finished.responseComplete(now: 2_001, keepAlive: true, pendingBytes: 0)
        #expect(!kept2)
        #expect(finished.state == .finished)
    }

    @Test func finish_closesFromAnyState_andLeavesNoDeadline() {
        var machine = Self.machine()
        machine.finish()
        #expect(machine.state == .finished)
        #expect(machine.isFinished && machine.isClosing && !machine.isIdle && !machine.parsesHeads)
        #expect(machine.deadline == nil)
        #expect(machine.deadlineReached(now: .max) == .none)
    }

    // MARK: Requests and timeouts

    @Test func requestCount_countsEveryParsedHead_acrossKeptAliveRequests() {
        var machine = Self.machine()
        for expected in 1...3 {
            let now = UInt64(expected) * 1_000
            let action = machine.bytesArrived(now: now)
            #expect(action == .parseHead(newRequest: true))
            machine.headParsed()
            machine.streamAttached()
            machine.responseComplete(now: now + 500, keepAlive: true, pendingBytes: 0)
            #expect(machine.requestCount == expected)
        }
        machine.close(now: 9_000, pendingBytes: 0)
        #expect(machine.requestCount == 3)
    }

    @Test func changedTimeouts_applyFromTheNextDeadlineOn() {
        var machine = Self.machine()
        machine.timeouts = Machine.Timeouts(
            headerNanos: 400, keepaliveNanos: 900, closingFlushNanos: 1, closingLingerNanos: 2)
        #expect(machine.state == .idle(until: 1_010), "the running deadline stays")
        _ = machine.bytesArrived(now: 1_001)
        #expect(machine.state == .readingHead(until: 1_401))
        machine.headParsed()
        machine.streamAttached()
        machine.responseComplete(now: 2_000, keepAlive: true, pendingBytes: 0)
        #expect(machine.state == .idle(until: 2_900))
    }

    @Test func defaultClosingTimeouts_are30sToFlush_and5sToLinger() {
        let timeouts = Machine.Timeouts(headerNanos: 1, keepaliveNanos: 2)
        #expect(timeouts.closingFlushNanos == 30_000_000_000)
        #expect(timeouts.closingLingerNanos == 5_000_000_000)
    }

    @Test func everyDeadline_saturatesAtUInt64Max_forHugeTimeouts() {
        let huge = Machine.Timeouts(
            headerNanos: .max, keepaliveNanos: .max, closingFlushNanos: .max, closingLingerNanos: .max)
        var machine = Machine(now: 7, timeouts: huge)
        #expect(machine.state == .idle(until: .max))
        #expect(machine.deadlineReached(now: .max - 1) == .wait(until: .max))
        #expect(machine.deadlineReached(now: .max) == .close)
        _ = machine.bytesArrived(now: 8)
        #expect(machine.state == .readingHead(until: .max))
        machine.checkingBody(now: 9)
        #expect(machine.state == .receivingBody(until: .max))
        machine.streamAttached()
        machine.responseComplete(now: 10, keepAlive: true, pendingBytes: 0)
        #expect(machine.state == .idle(until: .max))
        machine.close(now: 11, pendingBytes: 1)
        #expect(machine.state == .flushing(until: .max))
        machine.flushed(now: 12)
        #expect(machine.state == .lingering(until: .max))
    }

    @Test func deadlinesNearTheEndOfTheClock_saturateInsteadOfWrapping() {
        var machine = Machine(now: .max - 3, timeouts: Self.timeouts)
        #expect(machine.state == .idle(until: .max))
        machine.close(now: .max - 2, pendingBytes: 0)
        #expect(machine.state == .lingering(until: .max))
    }
}

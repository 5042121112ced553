import Testing

@testable import SSEKeeperCore

/// `ResponseRelay` on event streams, one rule at a time (WHATWG HTML §9.2.6): heartbeats on a manual clock, events
/// and `retry:` of ssekeeper's own, and resuming a broken upstream (`upstream_resume`), each read back through the
/// WHATWG client behind the proxy (`RelayDriver`).
@Suite struct ResponseRelaySSETests {
    typealias Event = SpecEventStreamParser.Event

    static let interval: UInt64 = 50_000_000
    static let start: UInt64 = 1_000

    /// A chunked SSE relay started at `start`, head sent.
    static func driver(assemblesEvents: Bool = false, comment: String = "hb", maxHeldBytes: Int = 64 * 1024,
                       upstream: BodyFraming = .closeDelimited) -> RelayDriver {
        var driver = RelayDriver(
            upstream: upstream, client: .chunked,
            sse: RelayDriver.sse(intervalNanos: interval, comment: comment, assemblesEvents: assemblesEvents,
                                 maxHeldBytes: maxHeldBytes),
            now: start)
        driver.begin()
        return driver
    }

    static func chunk(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        Array(text.utf8).withUnsafeBytes { ChunkedEncoder.appendChunk($0, to: &out) }
        return out
    }

    // MARK: Heartbeats

    @Test func heartbeat_isNotDue_beforeTheInterval() {
        var driver = Self.driver()
        #expect(driver.relay.nextHeartbeatDeadline == Self.start + Self.interval)
        driver.now = Self.start + Self.interval - 1
        #expect(driver.heartbeat() == .notYet(until: Self.start + Self.interval))
        #expect(driver.writes.count == 1 && driver.relay.heartbeatsSent == 0 && driver.relay.heartbeatsSkipped == 0)
    }

    @Test func heartbeat_isSentAsAComment_onceTheIntervalHasPassed() {
        var driver = Self.driver(comment: "keep-alive")
        driver.now = Self.start + Self.interval
        #expect(driver.heartbeat() == .sent(next: Self.start + 2 * Self.interval))
        #expect(driver.bodyWrites == [Self.chunk(": keep-alive\n")])
        #expect(driver.relay.heartbeatsSent == 1 && driver.relay.heartbeatsSkipped == 0)
        #expect(driver.client.observation == SpecEventStreamParser().observation, "a comment changes nothing")
    }

    @Test func heartbeatComment_losesItsLineEnds_andMayBeEmpty() {
        for (comment, expected) in [("a\r\nb", ": a  b\n"), ("", ":\n")] {
            var driver = Self.driver(comment: comment)
            driver.now = Self.start + Self.interval
            #expect(driver.heartbeat() == .sent(next: driver.now + Self.interval))
            #expect(driver.bodyWrites == [Self.chunk(expected)])
        }
    }

    @Test func heartbeat_isSkipped_whileTheClientIsMidLine() {
        var driver = Self.driver()
        driver.relay("data: par".utf8)
        driver.now = Self.start + Self.interval
        #expect(driver.heartbeat() == .skipped(next: Self.start + 2 * Self.interval))
        #expect(driver.writes.count == 2)
        #expect(driver.relay.heartbeatsSkipped == 1 && driver.relay.heartbeatsSent == 0)
        driver.relay("t\n\n".utf8)
        #expect(driver.client.events == [Event(type: "message", data: "part", lastEventId: "")])
    }

    @Test func heartbeat_isSent_whileTheAssemblerHoldsAPartialEvent() {
        var driver = Self.driver(assemblesEvents: true)
        driver.relay("data: par".utf8)
        driver.now = Self.start + Self.interval
        #expect(driver.heartbeat() == .sent(next: Self.start + 2 * Self.interval))
        driver.relay("t\n\n".utf8)
        #expect(driver.bodyText == ": hb\ndata: part\n\n")
        #expect(driver.client.events == [Event(type: "message", data: "part", lastEventId: "")])
    }

    @Test func heartbeat_afterALoneCarriageReturn_startsWithTheLineFeedItsWaitingFor() {
        var driver = Self.driver()
        driver.relay("data: a\r".utf8)
        driver.now = Self.start + Self.interval
        #expect(driver.heartbeat() == .sent(next: driver.now + Self.interval))
        #expect(driver.bodyWrites.last == Self.chunk("\n: hb\r"))
        driver.relay("\n\n".utf8)
        #expect(driver.client.events == [Event(type: "message", data: "a", lastEventId: "")])
        #expect(driver.client.blankLines == 1)
    }

    @Test func aBackloggedClient_postponesTheHeartbeat_byAFullInterval() {
        var driver = Self.driver()
        driver.now = Self.start + Self.interval
        #expect(driver.heartbeat(clientBacklogged: true) == .notYet(until: driver.now + Self.interval))
        #expect(driver.writes.count == 1 && driver.relay.heartbeatsSent == 0 && driver.relay.heartbeatsSkipped == 0)
        #expect(driver.relay.nextHeartbeatDeadline == driver.now + Self.interval)
        driver.now += Self.interval - 1
        #expect(driver.heartbeat() == .notYet(until: driver.now + 1))
        driver.now += 1
        #expect(driver.heartbeat() == .sent(next: driver.now + Self.interval))
    }

    @Test func aLatePoll_sendsOneHeartbeat_notOnePerMissedInterval() {
        var driver = Self.driver()
        driver.now = Self.start + 10 * Self.interval + 3
        #expect(driver.heartbeat() == .sent(next: driver.now + Self.interval))
        #expect(driver.heartbeat() == .notYet(until: driver.now + Self.interval))
        #expect(driver.relay.heartbeatsSent == 1)
        #expect(driver.bodyWrites.count == 1)
    }

    @Test func aClientWrite_restartsTheSilence() {
        var driver = Self.driver()
        driver.now = Self.start + Self.interval / 2
        driver.relay("data: a\n\n".utf8)
        #expect(driver.relay.nextHeartbeatDeadline == driver.now + Self.interval)
        let wrote = driver.now
        driver.now = Self.start + Self.interval
        #expect(driver.heartbeat() == .notYet(until: wrote + Self.interval))
        driver.relay.noteClientWrite(at: Self.start + 3 * Self.interval)
        driver.now = wrote + Self.interval
        #expect(driver.heartbeat() == .notYet(until: Self.start + 4 * Self.interval))
    }

    @Test func aRelayWithoutSSE_takesNoHeartbeats_andNoEventsOfItsOwn() {
        var driver = RelayDriver(upstream: .closeDelimited, client: .chunked, sse: nil, now: Self.start)
        driver.begin()
        #expect(!driver.relay.takesHeartbeats && driver.relay.nextHeartbeatDeadline == nil)
        driver.now = .max
        #expect(driver.heartbeat() == .notYet(until: .max))
        let event = driver.appendEvent(["data: x"])
        let retry = driver.appendRetry(milliseconds: 1)
        #expect(!event && !retry)
        #expect(!driver.relay.isResumable && !driver.relay.isAtEventBoundary)
        #expect(driver.writes.count == 1)
    }

    @Test func theHeartbeatInterval_hasTheFloorOfHeartbeatSchedule() {
        let relay = ResponseRelay(upstreamFraming: .chunked, clientFraming: .chunked,
                                  sse: RelayDriver.sse(intervalNanos: 0), now: 10)
        #expect(relay.nextHeartbeatDeadline == 10 + HeartbeatSchedule.minimumInterval.nanoseconds)
    }

    // MARK: Events and retry of ssekeeper's own

    @Test func anEventOfItsOwn_goesOnlyBetweenEvents_andWhole() {
        var driver = Self.driver()
        driver.relay("data: a\n".utf8)
        #expect(!driver.relay.isAtEventBoundary)
        let eventMidEvent = driver.appendEvent(["event: error", "data: x"])
        let retryMidEvent = driver.appendRetry(milliseconds: 9)
        #expect(!eventMidEvent && !retryMidEvent)
        #expect(driver.writes.count == 2, "nothing appended")
        driver.relay("\n".utf8)
        let event = driver.appendEvent(["event: error", "data: x\ry"])
        #expect(event)
        #expect(driver.bodyWrites.last == Self.chunk("event: error\ndata: x y\n\n"))
        let retry = driver.appendRetry(milliseconds: 9000)
        #expect(retry)
        #expect(driver.bodyWrites.last == Self.chunk("retry: 9000\n"))
        #expect(driver.client.events == [Event(type: "message", data: "a", lastEventId: ""),
                                         Event(type: "error", data: "x y", lastEventId: "")])
        #expect(driver.client.reconnectionTimes == ["9000"])
    }

    @Test func anEventOfItsOwn_goesBeforeAPartialEventTheAssemblerHolds_whichStaysIntact() {
        var driver = Self.driver(assemblesEvents: true)
        driver.relay("data: a\n\nid: 2\ndata: b".utf8)
        #expect(driver.relay.isAtEventBoundary)
        let event = driver.appendEvent(["event: error", "data: x"])
        #expect(event)
        driver.relay("\n\n".utf8)
        #expect(driver.client.events == [Event(type: "message", data: "a", lastEventId: ""),
                                         Event(type: "error", data: "x", lastEventId: ""),
                                         Event(type: "message", data: "b", lastEventId: "2")])
    }

    // MARK: Resuming

    @Test func aBreakMidEvent_thenASplicedResponse_deliversTheCompleteEventsOfBoth_andNeverTheHalfEvent() {
        for split in ReadSplit.all() {
            var driver = Self.driver(assemblesEvents: true, upstream: .chunked)
            let first = Self.chunk("id: 1\ndata: a\n") + Self.chunk("\nid: 2\ndata: hal")
            for read in split.reads(of: first) { #expect(driver.relay(read) == .more) }
            #expect(driver.relay.isResumable, "\(split)")
            #expect(driver.relay.lastEventID == .value(Array("1".utf8)), "\(split)")
            let writesBeforeBreak = driver.writes.count
            driver.breakForResume()
            #expect(driver.writes.count == writesBeforeBreak, "\(split): nothing to realign after an LF")
            driver.now += Self.interval
            #expect(driver.heartbeat() == .sent(next: driver.now + Self.interval), "\(split): heartbeats go on meanwhile")
            let second = Array("data: b\r\n\r\nid: 3\ndata: c\n\n".utf8)
            driver.relay.spliceResumed(upstreamFraming: .contentLength(UInt64(second.count)))
            var outcomes: [ResponseRelay.Outcome] = []
            for read in split.reads(of: second) { outcomes.append(driver.relay(read)) }
            #expect(outcomes.last == .complete && outcomes.dropLast().allSatisfy { $0 == .more }, "\(split)")
            driver.finish()
            driver.client.finish()
            #expect(driver.clientFramingProblem == nil && driver.clientSawLastChunk, "\(split)")
            #expect(driver.client.events == [Event(type: "message", data: "a", lastEventId: "1"),
                                             Event(type: "message", data: "b", lastEventId: "1"),
                                             Event(type: "message", data: "c", lastEventId: "3")], "\(split)")
            #expect(driver.relay.lastEventID == .value(Array("3".utf8)), "\(split)")
        }
    }

    @Test func aBreakAfterALoneCarriageReturn_isRealignedWithALineFeed() {
        var driver = Self.driver(assemblesEvents: true)
        driver.relay("data: a\r\rdata: half".utf8)
        #expect(driver.bodyText == "data: a\r\r")
        driver.breakForResume()
        #expect(driver.bodyWrites.last == Self.chunk("\n"))
        #expect(driver.relay.tracker?.linePosition == .lineStart)
        // The second stream's leading LF is a blank line of its own, as it would be for a client reading it alone.
        driver.relay.spliceResumed(upstreamFraming: .closeDelimited)
        driver.relay("\ndata: b\n\n".utf8)
        #expect(driver.client.blankLines == 1 + 2)
        #expect(driver.client.events.map(\.data) == ["a", "b"])
    }

    @Test func isResumable_andLastEventID_followTheLastCompleteEvent() {
        var driver = Self.driver(assemblesEvents: true)
        #expect(driver.relay.isResumable && driver.relay.lastEventID == .unset)
        driver.relay("id: 7\ndata: x\n\nid: 8\n".utf8)
        #expect(driver.relay.lastEventID == .value(Array("7".utf8)))
        driver.relay("data: y\n\nid\n\n".utf8)
        #expect(driver.relay.lastEventID == .value([]))
        driver.relay("id: a\u{0}b\n\n".utf8)
        #expect(driver.relay.lastEventID == .value([]), "an id with NUL is ignored (§9.2.6)")
        #expect(driver.relay.isResumable)
    }

    @Test func withoutTheAssembler_aStreamIsNotResumable() {
        var driver = Self.driver()
        driver.relay("id: 7\ndata: x\n\n".utf8)
        #expect(!driver.relay.isResumable && driver.relay.lastEventID == .unset)
    }

    @Test func anOversizedEvent_passesThrough_andIsNotResumableUntilItEnds() {
        var driver = Self.driver(assemblesEvents: true, maxHeldBytes: 16)
        let big = "data: " + String(repeating: "x", count: 40)
        driver.relay(big.utf8)
        #expect(driver.bodyText == big, "an event over maxHeldBytes is forwarded as it comes")
        #expect(!driver.relay.isResumable && driver.relay.assemblerOverflowed)
        driver.relay("\n\n".utf8)
        #expect(driver.relay.isResumable, "the client stands between events again")
        #expect(driver.relay.assemblerOverflowed)
    }

    @Test func spliceResumed_forgetsTheBrokenResponsesTrailingBytes() {
        var driver = Self.driver(assemblesEvents: true, upstream: .contentLength(3))
        #expect(driver.relay(":\n\nextra".utf8) == .complete)
        #expect(driver.relay.trailingBytes)
        driver.breakForResume()
        driver.relay.spliceResumed(upstreamFraming: .chunked)
        #expect(!driver.relay.trailingBytes && !driver.relay.hasNoBody && !driver.relay.endsAtUpstreamClose)
        #expect(driver.relay("5\r\n:ab\n\n\r\n0\r\n\r\n".utf8) == .complete)
        #expect(!driver.relay.trailingBytes)
    }
}

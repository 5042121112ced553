import Testing

@testable import SSEKeeperCore

/// `SSEStreamTracker.heartbeatEvent(type:data:)` (`heartbeat_event`, issue 14): between events a heartbeat is a whole
/// event the client's `EventSource` dispatches, inside an event it stays a comment, mid-line it is skipped; and its
/// blank line never changes the client's last event ID string (WHATWG HTML §9.2.6 "dispatch the event"). Each case
/// is checked against the reference client reading the upstream directly.
@Suite struct SSEStreamTrackerHeartbeatEventTests {
    typealias Event = SpecEventStreamParser.Event

    /// `SSEStreamTrackerTests.Harness` with a tracker that knows the client's carried ID, and heartbeat events.
    struct Harness {
        var inner: SSEStreamTrackerTests.Harness
        /// Where the heartbeat events are in the proxied client's events (each added one blank line too).
        var heartbeatEventIndices: [Int] = []

        init(carriedLastEventID: String = "") {
            inner = SSEStreamTrackerTests.Harness(lastEventIdString: carriedLastEventID)
            inner.tracker = SSEStreamTracker(carriedLastEventID: carriedLastEventID)
        }

        var tracker: SSEStreamTracker { inner.tracker }
        var proxied: SpecEventStreamParser { inner.proxied }
        var direct: SpecEventStreamParser { inner.direct }

        mutating func upstream(_ text: String) { inner.upstream(text) }

        /// Tries a heartbeat event; the bytes as text, nil when refused. Checks that the client dispatched exactly
        /// one event for it and kept its last event ID string.
        @discardableResult
        mutating func heartbeatEvent(type: String = "ping", data: String = "1700000000000") -> String? {
            guard let bytes = inner.tracker.heartbeatEvent(type: type, data: data) else { return nil }
            let (events, idString) = (proxied.events.count, proxied.lastEventIdString)
            inner.wire += bytes
            inner.proxied.feed(bytes)
            heartbeatEventIndices.append(events)
            #expect(proxied.events.count == events + 1)
            #expect(proxied.lastEventIdString == idString)
            return String(decoding: bytes, as: UTF8.self)
        }

        mutating func heartbeat() -> String? { inner.heartbeat() }

        mutating func finish() { inner.finish() }

        /// The proxied client's observation with the heartbeat events taken out equals the direct client's.
        func isTransparent() -> Bool {
            var seen = proxied.observation
            for index in heartbeatEventIndices.reversed() { seen.events.remove(at: index) }
            seen.blankLines -= heartbeatEventIndices.count
            return seen == direct.observation
        }
    }

    @Test func betweenEvents_theHeartbeatIsAWholeEvent_withNoIdLine_andKeepsTheLastEventId() {
        var harness = Harness()
        harness.upstream("id: 7\ndata: a\n\n")
        #expect(harness.heartbeatEvent() == "event: ping\ndata: 1700000000000\n\n")
        #expect(harness.proxied.events.last == Event(type: "ping", data: "1700000000000", lastEventId: "7"))
        harness.upstream("data: b\n\n")
        harness.finish()
        #expect(harness.proxied.events.map(\.data) == ["a", "1700000000000", "b"])
        #expect(harness.proxied.lastEventIdString == "7")
        #expect(harness.isTransparent())
    }

    @Test func insideAnEvent_theHeartbeatEventIsRefused_andTheCommentStillGoes() {
        var harness = Harness()
        harness.upstream("event: update\ndata: a\n")
        #expect(harness.tracker.takesHeartbeatEvent == false)
        #expect(harness.heartbeatEvent() == nil)
        #expect(harness.heartbeat() == ": hb\n")
        harness.upstream("data: b\n\n")
        harness.finish()
        #expect(harness.proxied.events == [Event(type: "update", data: "a\nb", lastEventId: "")])
        #expect(harness.isTransparent())
    }

    @Test func midLine_neitherTheEventNorTheCommentGoes() {
        var harness = Harness()
        harness.upstream("data: 1\n\ndata: hal")
        #expect(harness.heartbeatEvent() == nil)
        #expect(harness.heartbeat() == nil)
        harness.upstream("f\n\n")
        harness.finish()
        #expect(harness.proxied.events.map(\.data) == ["1", "half"])
    }

    @Test func aNewStreamWithoutACarriedId_takesTheEventBeforeTheUpstreamsFirstByte() {
        var harness = Harness()
        #expect(harness.tracker.boundaryDispatch == .keepsLastEventID)
        #expect(harness.heartbeatEvent(type: "message", data: "tick") == "event: message\ndata: tick\n\n")
        #expect(harness.proxied.events == [Event(type: "message", data: "tick", lastEventId: "")])
        harness.upstream("id: 1\ndata: a\n\n")
        harness.finish()
        #expect(harness.isTransparent())
    }

    @Test func aCarriedId_keepsHeartbeatsComments_untilTheUpstreamsFirstBlankLine() {
        // A blank line now would set the client's last event ID string to the new stream's empty buffer: the
        // carried "41" would be lost, and the next reconnect would replay from the start.
        var harness = Harness(carriedLastEventID: "41")
        #expect(harness.tracker.boundaryDispatch == .clearsCarriedLastEventID)
        #expect(harness.heartbeatEvent() == nil)
        #expect(harness.heartbeat() == ": hb\n")
        harness.upstream(": upstream comment\n")
        #expect(harness.tracker.isAtEventBoundary)
        #expect(harness.heartbeatEvent() == nil)
        harness.upstream("retry: 100\n\n")
        #expect(harness.tracker.boundaryDispatch == .keepsLastEventID)
        #expect(harness.heartbeatEvent() != nil)
        #expect(harness.proxied.lastEventIdString == harness.direct.lastEventIdString)
        harness.finish()
        #expect(harness.isTransparent())
    }

    @Test func aCarriedId_thenTheUpstreamsFirstEvent_letsHeartbeatEventsCarryItsId() {
        var harness = Harness(carriedLastEventID: "41")
        harness.upstream("id: 42\ndata: a\n\n")
        #expect(harness.heartbeatEvent() != nil)
        #expect(harness.proxied.events.last == Event(type: "ping", data: "1700000000000", lastEventId: "42"))
        harness.finish()
        #expect(harness.isTransparent())
    }

    @Test func anEventOfItsOwnWithTheCarriedId_isABlankLine_afterWhichHeartbeatEventsGo() {
        var harness = Harness(carriedLastEventID: "41")
        let own = harness.inner.tracker.event(fields: ["id: 41", "event: error", "data: x"])!
        harness.inner.proxied.feed(own)
        #expect(harness.proxied.lastEventIdString == "41")
        #expect(harness.heartbeatEvent() != nil)
        #expect(harness.proxied.events.last?.lastEventId == "41")
    }

    @Test func afterALoneCarriageReturn_theEventSwallowsItsLineFeed_andEndsOnACarriageReturn() {
        var harness = Harness()
        harness.upstream("data: a\r\r")
        #expect(harness.heartbeatEvent(data: "1") == "\nevent: ping\r\ndata: 1\r\n\r")
        harness.upstream("\ndata: b\r\n\r\n")
        harness.finish()
        #expect(harness.proxied.events.map(\.data) == ["a", "1", "b"])
        #expect(harness.isTransparent())
    }

    @Test func lineEndsInTypeAndData_becomeSpaces_andEmptyOnesStillDispatch() {
        var harness = Harness()
        #expect(harness.heartbeatEvent(type: "pi\rng", data: "a\r\nb") == "event: pi ng\ndata: a  b\n\n")
        #expect(harness.heartbeatEvent(type: "", data: "") == "event: \ndata: \n\n")
        #expect(harness.proxied.events == [
            Event(type: "pi ng", data: "a  b", lastEventId: ""), Event(type: "message", data: "", lastEventId: ""),
        ])
    }

    @Test func aHeartbeatEventBeforeALeadingBom_dropsTheBom_likeAComment() {
        var harness = Harness()
        #expect(harness.heartbeatEvent() != nil)
        harness.inner.upstream(SSEStreamTrackerTests.bom + Array("data: a\n\n".utf8))
        harness.finish()
        #expect(harness.tracker.droppedByteOrderMark)
        #expect(harness.proxied.events.map(\.data) == ["1700000000000", "a"])
        #expect(harness.isTransparent())
    }
}

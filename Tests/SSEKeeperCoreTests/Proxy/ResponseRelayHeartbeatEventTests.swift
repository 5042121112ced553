import Testing

@testable import SSEKeeperCore

/// `ResponseRelay` with `heartbeat_event` set (issue 14): a due heartbeat is the whole event between events, the
/// comment inside one, nothing mid-line; its data is `heartbeat_data` or the wall clock the caller passes in; and the
/// client's last event ID is never touched. Read back through the WHATWG client behind the proxy (`RelayDriver`).
@Suite struct ResponseRelayHeartbeatEventTests {
    typealias Event = SpecEventStreamParser.Event

    static let interval: UInt64 = 50_000_000
    static let start: UInt64 = 1_000

    /// A chunked SSE relay with heartbeat events, started at `start`, head sent.
    static func driver(event: String? = "ping", data: String? = nil, carriedLastEventID: String = "",
                       assemblesEvents: Bool = false) -> RelayDriver {
        let sse = RelayDriver.sse(intervalNanos: interval, comment: "hb", assemblesEvents: assemblesEvents,
                                  heartbeatEvent: event, heartbeatData: data, carriedLastEventID: carriedLastEventID)
        var driver = RelayDriver(upstream: .closeDelimited, client: .chunked, sse: sse, now: start,
                                 lastEventIdString: carriedLastEventID)
        driver.begin()
        return driver
    }

    /// Lets one interval pass and polls; the body bytes of the heartbeat's write as text ("" when none).
    static func nextHeartbeat(_ driver: inout RelayDriver) -> String {
        driver.now += interval
        let writes = driver.writes.count
        _ = driver.heartbeat()
        guard driver.writes.count > writes, let last = driver.writes.last else { return "" }
        var decoder = ChunkedDecoder()
        var body: [UInt8] = []
        _ = try? last.withUnsafeBytes { try decoder.decode($0) { body.append(contentsOf: $0) } }
        return String(decoding: body, as: UTF8.self)
    }

    @Test func betweenEvents_theHeartbeatIsTheEvent_withTheWallClockAsData() {
        var driver = Self.driver()
        driver.relay("id: 3\ndata: a\n\n".utf8)
        driver.wallClockMilliseconds = 1_700_000_000_123
        #expect(Self.nextHeartbeat(&driver) == "event: ping\ndata: 1700000000123\n\n")
        #expect(driver.relay.heartbeatsSent == 1)
        #expect(driver.client.events == [Event(type: "message", data: "a", lastEventId: "3"),
                                         Event(type: "ping", data: "1700000000123", lastEventId: "3")])
        #expect(driver.client.lastEventIdString == "3")
    }

    @Test func heartbeatData_replacesTheWallClock() {
        var driver = Self.driver(data: "still here")
        #expect(Self.nextHeartbeat(&driver) == "event: ping\ndata: still here\n\n")
    }

    @Test func heartbeatEventMessage_reachesTheDefaultEventType() {
        var driver = Self.driver(event: "message", data: "tick")
        #expect(Self.nextHeartbeat(&driver) == "event: message\ndata: tick\n\n")
        #expect(driver.client.events == [Event(type: "message", data: "tick", lastEventId: "")])
    }

    @Test func insideAnEvent_theHeartbeatStaysTheComment_andMidLineItIsSkipped() {
        var driver = Self.driver()
        driver.relay("data: a\n".utf8)
        #expect(Self.nextHeartbeat(&driver) == ": hb\n")
        driver.relay("data: b".utf8)
        #expect(Self.nextHeartbeat(&driver) == "")
        #expect(driver.relay.heartbeatsSkipped == 1)
        driver.relay("\n\n".utf8)
        #expect(Self.nextHeartbeat(&driver).hasPrefix("event: ping\n"))
        #expect(driver.client.events.map(\.data) == ["a\nb", "1700000000000"])
    }

    @Test func withoutHeartbeatEvent_theHeartbeatIsTheCommentEvenBetweenEvents() {
        var driver = Self.driver(event: nil, data: "ignored")
        driver.relay("data: a\n\n".utf8)
        #expect(Self.nextHeartbeat(&driver) == ": hb\n")
    }

    @Test func aCarriedLastEventId_keepsHeartbeatsComments_untilTheUpstreamsFirstBlankLine() {
        var driver = Self.driver(carriedLastEventID: "41")
        #expect(Self.nextHeartbeat(&driver) == ": hb\n")
        driver.relay(": upstream comment\n".utf8)
        #expect(Self.nextHeartbeat(&driver) == ": hb\n")
        #expect(driver.client.lastEventIdString == "41", "an event's blank line would have cleared it")
        driver.relay("id: 42\ndata: a\n\n".utf8)
        #expect(Self.nextHeartbeat(&driver).hasPrefix("event: ping\n"))
        #expect(driver.client.events.last == Event(type: "ping", data: "1700000000000", lastEventId: "42"))
        #expect(driver.client.lastEventIdString == "42")
    }

    @Test func anEmptyCarriedLastEventId_isNone_soTheEventGoesAtOnce() {
        var driver = Self.driver(carriedLastEventID: "")
        #expect(Self.nextHeartbeat(&driver).hasPrefix("event: ping\n"))
    }

    @Test func theEvent_goesBeforeAPartialEventTheAssemblerHolds_whichStaysIntact() {
        var driver = Self.driver(assemblesEvents: true)
        driver.relay("id: 1\ndata: a\n\nid: 2\ndata: b".utf8)
        #expect(Self.nextHeartbeat(&driver).hasPrefix("event: ping\n"))
        driver.relay("\n\n".utf8)
        #expect(driver.client.events == [Event(type: "message", data: "a", lastEventId: "1"),
                                         Event(type: "ping", data: "1700000000000", lastEventId: "1"),
                                         Event(type: "message", data: "b", lastEventId: "2")])
    }

    @Test func whileAResumeWaits_theEventKeepsTheLastEventIdTheClientHas() {
        var driver = Self.driver(assemblesEvents: true)
        driver.relay("id: 5\ndata: a\n\nid: 6\ndata: half".utf8)
        driver.breakForResume()
        #expect(Self.nextHeartbeat(&driver).hasPrefix("event: ping\n"))
        #expect(driver.client.lastEventIdString == "5")
        #expect(driver.relay.lastEventID == .value(Array("5".utf8)), "the resume asks for what the client has")
    }
}

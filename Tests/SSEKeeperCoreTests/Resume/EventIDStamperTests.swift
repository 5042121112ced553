import Testing

@testable import SSEKeeperCore

/// Examples of each stamping rule; every input is fed whole, one byte at a time, and at seeded random splits, and
/// must give the same output every way (the property tests cover random streams).
@Suite struct EventIDStamperTests {
    static let token = Array("Tk_-0123456789abcdefgh".utf8)
    static let tokenText = "Tk_-0123456789abcdefgh"

    /// What one run of the stamper gave.
    struct Run {
        var output: [UInt8]
        /// Per dispatched event: its seq and, when held, its bytes.
        var events: [(seq: UInt64, bytes: [UInt8]?)]
        var stamper: EventIDStamper
        var text: String { String(decoding: output, as: UTF8.self) }
    }

    /// Feeds `input` whole (style 0), byte by byte (1), or at random splits (2 and up, seeded by the style).
    static func stamp(_ input: [UInt8], style: Int, maxEventBytes: Int = 1024,
                      carried: [UInt8]? = nil) -> Run {
        var stamper = EventIDStamper(token: token, maxEventBytes: maxEventBytes, carriedLastEventID: carried)
        var output: [UInt8] = []
        var events: [(seq: UInt64, bytes: [UInt8]?)] = []
        var rng = SplitMix64(seed: UInt64(style))
        let lengths: [Int]
        switch style {
        case 0: lengths = [input.count]
        case 1: lengths = Array(repeating: 1, count: input.count)
        default: lengths = SSEStreamGenerator.chunkLengths(count: input.count, bytes: input, using: &rng)
        }
        var offset = 0
        for length in lengths {
            let piece = Array(input[offset..<offset + length])
            offset += length
            piece.withUnsafeBytes { raw in
                stamper.stamp(raw, into: &output) { event in
                    switch event {
                    case .held(let seq, let bytes): events.append((seq, Array(bytes)))
                    case .passedThrough(let seq): events.append((seq, nil))
                    }
                }
            }
        }
        return Run(output: output, events: events, stamper: stamper)
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The stamped id of event `seq` with the backend part `backend` (nil: none).
    static func id(_ seq: Int, _ backend: String? = nil) -> String {
        "sk1.\(tokenText).\(seq)" + (backend.map { ".\($0)" } ?? "")
    }

    /// What a spec client dispatches from `output`.
    static func dispatched(_ output: [UInt8], carried: String = "") -> SpecEventStreamParser {
        var client = SpecEventStreamParser(lastEventIdString: carried)
        client.feed(output)
        return client
    }

    static let styles = Array(0...6)

    @Test(arguments: styles) func dispatchedEvent_getsOneStampedID_beforeItsBlankLine(style: Int) {
        let run = Self.stamp(Self.bytes("event: tick\ndata: a\ndata: b\n\n"), style: style)
        #expect(run.text == "event: tick\ndata: a\ndata: b\nid: \(Self.id(1))\n\n")
        #expect(run.events.map(\.seq) == [1])
        #expect(run.events.first?.bytes == run.output)
        #expect(run.stamper.lastSeq == 1)
        #expect(run.stamper.lastStampedID == Self.bytes(Self.id(1)))
    }

    @Test(arguments: styles) func backendID_isCarriedInTheStamp_persists_andAnEmptyIDResetsIt(style: Int) {
        let input = "id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 8\ndata: d\nid:\n\nid: x.y\ndata: e\n\n"
        let run = Self.stamp(Self.bytes(input), style: style)
        #expect(run.text == "data: a\nid: \(Self.id(1, "7"))\n\ndata: b\nid: \(Self.id(2, "7"))\n\n"
            + "data: c\nid: \(Self.id(3))\n\ndata: d\nid: \(Self.id(4))\n\ndata: e\nid: \(Self.id(5, "x.y"))\n\n")
        #expect(run.stamper.backendLastEventID == .value(Self.bytes("x.y")))
        let client = Self.dispatched(run.output)
        #expect(client.events.map(\.lastEventId) == [Self.id(1, "7"), Self.id(2, "7"), Self.id(3), Self.id(4), Self.id(5, "x.y")])
    }

    @Test(arguments: styles) func idWithNUL_isIgnored_likeASpecClientDoes(style: Int) {
        let run = Self.stamp(Self.bytes("id: 1\ndata: a\n\nid: 2\u{0}\ndata: b\n\n"), style: style)
        #expect(run.text == "data: a\nid: \(Self.id(1, "1"))\n\ndata: b\nid: \(Self.id(2, "1"))\n\n")
    }

    @Test(arguments: styles) func lineEnds_becomeLF_andALeadingBOMIsDropped(style: Int) {
        let run = Self.stamp([0xEF, 0xBB, 0xBF] + Self.bytes("data: a\r\n\r\ndata: b\r\rdata: c\n\n: x\r"), style: style)
        #expect(run.text == "data: a\nid: \(Self.id(1))\n\ndata: b\nid: \(Self.id(2))\n\ndata: c\nid: \(Self.id(3))\n\n: x\n")
    }

    @Test(arguments: styles) func eventsWithoutData_areNotForwarded_butTheirIDsAreTracked(style: Int) {
        let run = Self.stamp(Self.bytes("event: x\n\nid: 9\n\n\n\nfoo: bar\n: in\n\ndata: a\n\n"), style: style)
        #expect(run.text == "data: a\nid: \(Self.id(1, "9"))\n\n")
        let client = Self.dispatched(run.output, carried: "carried")
        #expect(client.events == [.init(type: "message", data: "a", lastEventId: Self.id(1, "9"))])
        #expect(client.blankLines == 1)
    }

    @Test(arguments: styles) func commentsBetweenEvents_goOutAtOnce_andCommentsInsideAnEventStayInPlace(style: Int) {
        let run = Self.stamp(Self.bytes(": hi\ndata: a\n: c\ndata: b\n\n: partial"), style: style)
        #expect(run.text == ": hi\ndata: a\n: c\ndata: b\nid: \(Self.id(1))\n\n")
    }

    @Test(arguments: styles) func longCommentBetweenEvents_isCutToTheLimit_andStillEndsItsLine(style: Int) {
        let run = Self.stamp(Self.bytes(": 0123456789abcdef\ndata: a\n\n"), style: style, maxEventBytes: 8)
        #expect(run.text == ": 012345\ndata: a\nid: \(Self.id(1))\n\n")
    }

    @Test(arguments: styles) func otherFields_goWithTheirEvent_byteForByte_butALineStartingWithABOMIsDropped(style: Int) {
        let input = "Data: x\ndata\nidx: 5\nid \n\u{FEFF}data: y\nretry: 10\ndata:  z\n\n"
        let run = Self.stamp(Self.bytes(input), style: style)
        #expect(run.text == "Data: x\ndata\nidx: 5\nid \nretry: 10\ndata:  z\nid: \(Self.id(1))\n\n")
        #expect(Self.dispatched(run.output).events == [.init(type: "message", data: "\n z", lastEventId: Self.id(1))])
    }

    @Test(arguments: styles) func lineStartingWithABOM_isDropped_soThatNoOutputUnitStartsWithOne(style: Int) {
        let bom = "\u{FEFF}"
        let run = Self.stamp(Self.bytes(bom + bom + "data: a\n\n\(bom)\n\(bom):x\ndata: b\n\n"), style: style)
        #expect(run.text == "data: b\nid: \(Self.id(1))\n\n")
        var fresh = SpecEventStreamParser()
        fresh.feed(run.events.first?.bytes ?? [])
        #expect(fresh.events.map(\.data) == ["b"])
    }

    @Test(arguments: styles) func retryOfAnEventWithoutData_goesOut_closedWithTheClientsCurrentID(style: Int) {
        let input = "retry: 1000\n\ndata: a\n\nretry: 5\nevent: x\n: c\n\n"
        let fresh = Self.stamp(Self.bytes(input), style: style)
        #expect(fresh.text == "retry: 1000\n\ndata: a\nid: \(Self.id(1))\n\nretry: 5\nid: \(Self.id(1))\n\n")
        let carried = Self.stamp(Self.bytes(input), style: style, carried: Self.bytes("old-7"))
        #expect(carried.text == "retry: 1000\nid: old-7\n\ndata: a\nid: \(Self.id(1))\n\nretry: 5\nid: \(Self.id(1))\n\n")
        var client = Self.dispatched(carried.output, carried: "old-7")
        #expect(client.reconnectionTimes == ["1000", "5"])
        #expect(client.lastEventIdString == Self.id(1))
        client = Self.dispatched(Array(carried.output.prefix(20)), carried: "old-7")
        #expect(client.lastEventIdString == "old-7")
    }

    @Test func carriedIDThatNoIDLineCanHold_isIgnored() {
        let run = Self.stamp(Self.bytes("retry: 1\n\n"), style: 0, carried: [0x61, 0x0A, 0x62])
        #expect(run.text == "retry: 1\n\n")
        #expect(run.stamper.currentClientID.isEmpty)
    }

    @Test(arguments: styles) func eventOverTheLimit_passesThrough_stampedButNotHeld(style: Int) {
        let input = "data: a\n\ndata: 0123456789\nid: 4\ndata: x\n\nevent: 0123456789abc\n\ndata: b\n\n"
        let run = Self.stamp(Self.bytes(input), style: style, maxEventBytes: 12)
        #expect(run.text == "data: a\nid: \(Self.id(1))\n\ndata: 0123456789\ndata: x\nid: \(Self.id(2, "4"))\n\n"
            + "event: 0123456789abc\nid: \(Self.id(2, "4"))\n\ndata: b\nid: \(Self.id(3, "4"))\n\n")
        #expect(run.events.map(\.seq) == [1, 2, 3])
        #expect(run.events.map { $0.bytes == nil } == [false, true, false])
        #expect(run.stamper.passThroughCount == 2)
        let client = Self.dispatched(run.output)
        #expect(client.events.map(\.type) == ["message", "message", "message"])
    }

    @Test(arguments: styles) func backendIDOverTheLimit_isUnreadable_andStampsCarryNoBackendPart(style: Int) {
        let long = String(repeating: "x", count: EventIDStamper.maxBackendIDBytes + 1)
        let run = Self.stamp(Self.bytes("id: 1\ndata: a\n\nid: \(long)\ndata: b\n\nid: 2\ndata: c\n\n"), style: style,
                             maxEventBytes: 4096)
        #expect(run.text == "data: a\nid: \(Self.id(1, "1"))\n\ndata: b\nid: \(Self.id(2))\n\ndata: c\nid: \(Self.id(3, "2"))\n\n")
        let fits = String(repeating: "y", count: EventIDStamper.maxBackendIDBytes)
        let edge = Self.stamp(Self.bytes("id: \(fits)\ndata: a\n\n"), style: style, maxEventBytes: 4096)
        #expect(edge.stamper.backendLastEventID == .value(Self.bytes(fits)))
        let nulLate = Self.stamp(Self.bytes("id: 1\ndata: a\n\nid: \(long)\u{0}\ndata: b\n\n"), style: style, maxEventBytes: 4096)
        #expect(nulLate.stamper.backendLastEventID == .value(Self.bytes("1")))
    }

    @Test func backendIDState_isUnreadable_afterATooLongID() {
        let long = String(repeating: "x", count: EventIDStamper.maxBackendIDBytes + 1)
        let run = Self.stamp(Self.bytes("id: \(long)\n"), style: 1)
        #expect(run.stamper.backendLastEventID == .unreadable)
        #expect(Self.stamp(Self.bytes("data: a\n\n"), style: 0).stamper.backendLastEventID == .unset)
    }

    @Test func decimal_isWrittenForEveryWidth() {
        for value: UInt64 in [0, 7, 10, 99, 100, 12345, UInt64.max] {
            var out: [UInt8] = [0x2E]
            EventIDStamper.appendDecimal(value, to: &out)
            #expect(out == [0x2E] + Array(String(value).utf8))
        }
    }

    @Test func everyEventsHeldBytes_areItsSliceOfTheOutput() {
        let run = Self.stamp(Self.bytes(": a\ndata: 1\n\n: b\nretry: 3\n\ndata: 2\n\n"), style: 0)
        let pieces = run.events.compactMap(\.bytes).map { String(decoding: $0, as: UTF8.self) }
        #expect(pieces == ["data: 1\nid: \(Self.id(1))\n\n", "data: 2\nid: \(Self.id(2))\n\n"])
        #expect(run.text == ": a\n" + pieces[0] + ": b\nretry: 3\nid: \(Self.id(1))\n\n" + pieces[1])
    }
}

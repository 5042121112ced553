import Testing

@testable import SSEKeeperCore

/// One test per tracker rule (WHATWG HTML §9.2.5/§9.2.6), each checked against the reference client.
@Suite struct SSEStreamTrackerTests {
    typealias Event = SpecEventStreamParser.Event

    /// A tracker plus the client behind the proxy, and the client that reads the upstream directly.
    struct Harness {
        var tracker = SSEStreamTracker()
        var proxied: SpecEventStreamParser
        var direct: SpecEventStreamParser
        var wire: [UInt8] = []

        init(lastEventIdString: String = "") {
            proxied = SpecEventStreamParser(lastEventIdString: lastEventIdString)
            direct = SpecEventStreamParser(lastEventIdString: lastEventIdString)
        }

        mutating func upstream(_ bytes: [UInt8]) {
            direct.feed(bytes)
            bytes.withUnsafeBytes { raw in
                tracker.forward(raw) { slice in
                    wire.append(contentsOf: slice)
                    proxied.feed(slice)
                }
            }
        }

        mutating func upstream(_ text: String) { upstream(Array(text.utf8)) }

        @discardableResult
        mutating func heartbeat(_ comment: String = "hb") -> String? {
            guard let bytes = tracker.heartbeat(comment: comment) else { return nil }
            wire += bytes
            proxied.feed(bytes)
            return String(decoding: bytes, as: UTF8.self)
        }

        mutating func finish() {
            let flushed = tracker.finish()
            wire += flushed
            proxied.feed(flushed)
            direct.finish()
            proxied.finish()
        }

        var isTransparent: Bool { direct.observation == proxied.observation }
    }

    static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    @Test func freshStream_injectsCommentWithoutBlankLine_soACarriedLastEventIdSurvives() {
        var harness = Harness(lastEventIdString: "41")
        #expect(harness.heartbeat() == ": hb\n")
        #expect(harness.proxied.lastEventIdString == "41")
        harness.upstream(": upstream comment\n")
        #expect(harness.heartbeat() == ": hb\n")
        #expect(harness.proxied.lastEventIdString == "41")
        #expect(harness.isTransparent)
    }

    @Test func afterABlankLine_injectsACommentLineWithoutABlankLine_soLaxClientsSeeNoEmptyEvent() {
        // httpx-sse 0.4.3 and r3labs/sse dispatch an (empty) event on every blank line once an id was seen;
        // the interop suite saw one empty `message` per heartbeat when heartbeats came as `: hb\n\n` blocks.
        var harness = Harness()
        harness.upstream("id: 1\ndata: 1\n\n")
        #expect(harness.heartbeat("keep-alive") == ": keep-alive\n")
        #expect(harness.heartbeat("keep-alive") == ": keep-alive\n")
        harness.upstream("data: 2\n\n")
        harness.finish()
        #expect(harness.proxied.events.map(\.data) == ["1", "2"])
        #expect(harness.proxied.blankLines == 2)
        #expect(harness.isTransparent)
    }

    @Test func withFieldsPending_injectsOnlyACommentLine() {
        var harness = Harness()
        harness.upstream("data: 1\n")
        #expect(harness.heartbeat() == ": hb\n")
        harness.upstream("data: 2\n\n")
        harness.finish()
        #expect(harness.proxied.events == [Event(type: "message", data: "1\n2", lastEventId: "")])
        #expect(harness.isTransparent)
    }

    @Test func eventLineThenPause_keepsTheEventType() {
        var harness = Harness()
        harness.upstream("event: add\n")
        harness.heartbeat()
        harness.heartbeat()
        harness.upstream("data: 7\n\n")
        harness.finish()
        #expect(harness.proxied.events == [Event(type: "add", data: "7", lastEventId: "")])
        #expect(harness.isTransparent)
    }

    @Test func idLineThenPause_doesNotPublishTheIdEarly() {
        var harness = Harness()
        harness.upstream("data: a\nid: 1\n\n")
        harness.upstream("id: 2\n")
        harness.heartbeat()
        #expect(harness.proxied.lastEventIdString == "1")
        harness.upstream("data: b\n\n")
        harness.finish()
        #expect(harness.proxied.events.map(\.lastEventId) == ["1", "2"])
        #expect(harness.isTransparent)
    }

    @Test func midLine_refusesToInject() {
        var harness = Harness()
        harness.upstream("data: par")
        #expect(!harness.tracker.isAtSafePoint)
        #expect(harness.heartbeat() == nil)
        harness.upstream("tial\n")
        #expect(harness.tracker.isAtSafePoint)
        #expect(harness.heartbeat() == ": hb\n")
        #expect(harness.tracker.injectionCount == 1)
    }

    @Test func loneCrThenLfInTheNextRead_isSwallowedAfterTheInjection() {
        var harness = Harness()
        harness.upstream("data: 1\r")
        #expect(harness.tracker.linePosition == .afterCarriageReturn)
        #expect(harness.heartbeat() == "\n: hb\r")
        harness.upstream("\n")
        #expect(harness.proxied.observation == harness.direct.observation)
        harness.upstream("\r\n")
        harness.finish()
        #expect(harness.proxied.events.map(\.data) == ["1"])
        #expect(harness.isTransparent)
    }

    @Test func loneCrThenAnotherLine_startsTheLineNormally() {
        var harness = Harness()
        harness.upstream("data: 1\r")
        harness.heartbeat()
        harness.heartbeat()
        harness.upstream("data: 2\r\r")
        harness.finish()
        #expect(harness.proxied.events.map(\.data) == ["1\n2"])
        #expect(harness.isTransparent)
    }

    @Test func blankLineEndedByCr_injectsACrEndedCommentLine_andTheUpstreamLfIsSwallowed() {
        var harness = Harness()
        harness.upstream("id: 1\r\ndata: 1\r\n\r")
        #expect(harness.heartbeat() == "\n: hb\r")
        harness.upstream("\ndata: 2\r\n\r\n")
        harness.finish()
        #expect(harness.proxied.events.map(\.data) == ["1", "2"])
        #expect(harness.proxied.blankLines == 2)
        #expect(harness.isTransparent)
        #expect(String(decoding: harness.wire, as: UTF8.self) == "id: 1\r\ndata: 1\r\n\r\n: hb\r\ndata: 2\r\n\r\n")
    }

    @Test func completeBomBeforeAnyInjection_isForwarded() {
        var harness = Harness()
        harness.upstream(Self.bom + Array("data: 1\n\n".utf8))
        #expect(harness.wire == Self.bom + Array("data: 1\n\n".utf8))
        #expect(!harness.tracker.droppedByteOrderMark)
        #expect(harness.isTransparent)
    }

    @Test func bomSplitAcrossReads_withAnInjectionBeforeIt_isDropped() {
        var harness = Harness()
        harness.upstream([0xEF])
        #expect(harness.wire.isEmpty)
        #expect(harness.tracker.heldByteCount == 1)
        #expect(harness.heartbeat() == ": hb\n")
        harness.upstream([0xBB])
        #expect(harness.tracker.heldByteCount == 2)
        harness.upstream([0xBF] + Array("data: 1\n\n".utf8))
        harness.finish()
        #expect(harness.tracker.droppedByteOrderMark)
        #expect(String(decoding: harness.wire, as: UTF8.self) == ": hb\ndata: 1\n\n")
        #expect(harness.proxied.events.map(\.data) == ["1"])
        #expect(harness.isTransparent)
    }

    @Test func bomSplitAcrossReads_withoutInjection_isForwardedWhole() {
        var harness = Harness()
        harness.upstream([0xEF, 0xBB])
        harness.upstream([0xBF])
        harness.upstream("data: 1\n\n")
        #expect(harness.wire == Self.bom + Array("data: 1\n\n".utf8))
        #expect(harness.isTransparent)
    }

    @Test func retryPreamble_dropsALaterBom_andSetsTheReconnectionTime() {
        var harness = Harness()
        let preamble = harness.tracker.retryPreamble(milliseconds: 3000)
        #expect(String(decoding: preamble, as: UTF8.self) == "retry: 3000\n")
        harness.proxied.feed(preamble)
        harness.upstream(Self.bom + Array("data: 1\n\n".utf8))
        harness.finish()
        #expect(harness.tracker.droppedByteOrderMark)
        #expect(harness.tracker.injectionCount == 1)
        #expect(harness.proxied.reconnectionTimes == ["3000"])
        #expect(harness.proxied.events == harness.direct.events)
    }

    @Test func bomLikePrefix_isReleasedWithTheNextRead() {
        var harness = Harness()
        harness.upstream([0xEF, 0xBB])
        harness.heartbeat()
        harness.upstream("data: x\n\ndata: 2\n\n")
        harness.finish()
        #expect(harness.wire == Array(": hb\n".utf8) + [0xEF, 0xBB] + Array("data: x\n\ndata: 2\n\n".utf8))
        #expect(harness.proxied.events.map(\.data) == ["2"])
        #expect(harness.isTransparent)
    }

    @Test func finish_flushesAHeldPartialBom() {
        var harness = Harness()
        harness.upstream([0xEF, 0xBB])
        #expect(harness.wire.isEmpty)
        harness.finish()
        #expect(harness.wire == [0xEF, 0xBB])
        #expect(harness.tracker.finish().isEmpty)
        #expect(harness.isTransparent)
    }

    @Test func heartbeats_neverSurfaceAsEvents() {
        var harness = Harness()
        for _ in 0..<5 { harness.heartbeat("data: not an event") }
        harness.upstream("data: 1\n\n")
        for _ in 0..<5 { harness.heartbeat("data: not an event") }
        harness.finish()
        #expect(harness.proxied.events == [Event(type: "message", data: "1", lastEventId: "")])
        #expect(harness.isTransparent)
    }

    @Test func commentWithLineEnds_isFlattenedToOneLine() {
        var harness = Harness()
        #expect(harness.heartbeat("a\r\ndata: x\n") == ": a  data: x \n")
        #expect(harness.heartbeat("") == ":\n")
    }

    /// The route's shared line (`HeartbeatText`, built once) is exactly what `heartbeat(comment:)` builds, at every
    /// position of a stream that passes through line start, a lone CR, CRLF, mid-line and a BOM, and it counts as
    /// an injection the same way (the BOM after it is dropped the same way too).
    @Test func sharedHeartbeatLine_equalsTheBuiltOne_atEveryPosition() {
        let stream = Self.bom + Array("data: 1\r\rid: 7\n: c\r\n\r\nevent: x\rdata: é\n\ntail".utf8)
        for comment in ["hb", "", "a\r\ndata: x\n", "ça va ✓", "\r"] {
            let text = HeartbeatText(comment: comment)
            var built = SSEStreamTracker()
            var shared = SSEStreamTracker()
            var positions = Set<String>()
            for end in 0...stream.count {
                var probeBuilt = built
                var probeShared = shared
                let expected = probeBuilt.heartbeat(comment: comment)
                #expect(probeShared.heartbeat(text) == expected, "comment \(comment.debugDescription), \(end) bytes")
                #expect(probeShared.injectionCount == probeBuilt.injectionCount)
                positions.insert("\(built.linePosition)")
                guard end < stream.count else { break }
                // Heartbeats before the BOM's last byte, so both drop it alike.
                if end == 1 { _ = built.heartbeat(comment: comment); _ = shared.heartbeat(text) }
                stream[end...end].withUnsafeBytes { raw in
                    built.forward(raw) { _ in }
                    shared.forward(raw) { _ in }
                }
                #expect(built.linePosition == shared.linePosition)
            }
            #expect(positions.count == 3, "every position visited: \(positions)")
        }
    }

    @Test func forward_emitsZeroCopySlicesOfTheRead() {
        var tracker = SSEStreamTracker()
        let bytes = Array("data: 1\n\n".utf8)
        bytes.withUnsafeBytes { raw in
            var slices = 0
            tracker.forward(raw) { slice in
                slices += 1
                #expect(slice.baseAddress == raw.baseAddress)
                #expect(slice.count == raw.count)
            }
            #expect(slices == 1)
        }
    }

    @Test func feedingWholeByteByByteAndInRandomSplits_endsInTheSameState() {
        let stream = Self.bom + Array("event: a\r\ndata: 1\r\rid: 7\n: c\ndata: é\r\n\r\ndata: tail".utf8)
        func run(_ lengths: [Int]) -> (SSEStreamTracker, [UInt8]) {
            var tracker = SSEStreamTracker()
            var out: [UInt8] = []
            var offset = 0
            for length in lengths {
                Array(stream[offset..<offset + length]).withUnsafeBytes { raw in
                    tracker.forward(raw) { out.append(contentsOf: $0) }
                }
                offset += length
            }
            out += tracker.finish()
            return (tracker, out)
        }
        let (whole, wholeOut) = run([stream.count])
        #expect(wholeOut == stream)
        #expect(whole.linePosition == .midLine)
        let (byByte, byByteOut) = run(Array(repeating: 1, count: stream.count))
        #expect(byByteOut == stream)
        #expect(byByte.linePosition == whole.linePosition)
        var rng = SplitMix64(seed: 0xB0B)
        for _ in 0..<200 {
            let lengths = SSEStreamGenerator.chunkLengths(count: stream.count, bytes: stream, using: &rng)
            let (split, splitOut) = run(lengths)
            #expect(splitOut == stream)
            #expect(split.linePosition == whole.linePosition)
        }
    }
}

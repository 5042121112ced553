import Testing

@testable import SSEKeeperCore

/// `ResponseRelay` one rule at a time: upstream and client framing, one chunk per read, heartbeats, ssekeeper's own
/// events, resuming, and the end of the body. Every input is fed whole, one byte per read and split at random
/// (`ReadSplit`), and the client's bytes are read back through a real `ChunkedDecoder` and the WHATWG client
/// (`RelayDriver`). The random-stream properties are in `ResponseRelayPropertyTests`.
@Suite struct ResponseRelayTests {
    typealias Event = SpecEventStreamParser.Event

    /// How the relay sends the body on in a framing case.
    enum Treatment: String, CaseIterable, Sendable {
        /// Not an event stream: bytes pass through.
        case plain
        /// An event stream with the tracker (heartbeats), no assembler.
        case tracked
        /// An event stream with the tracker and the event assembler (`upstream_resume`).
        case assembled

        var sse: ResponseRelay.SSEOptions? {
            switch self {
            case .plain: return nil
            case .tracked: return RelayDriver.sse()
            case .assembled: return RelayDriver.sse(assemblesEvents: true)
            }
        }
    }

    /// One upstream framing with one client framing (`nil` client: Content-Length passed through).
    struct FramingCase: CustomStringConvertible, Sendable {
        var upstream: UpstreamBodyEncoding
        var client: ClientFraming?

        var description: String { "\(upstream.rawValue) → \(client.map { "\($0)" } ?? "contentLength passed through")" }

        static let all: [FramingCase] = [
            FramingCase(upstream: .contentLength, client: nil),
            FramingCase(upstream: .contentLength, client: .chunked),
            FramingCase(upstream: .contentLength, client: .closeDelimited),
            FramingCase(upstream: .chunked, client: .chunked),
            FramingCase(upstream: .chunked, client: .closeDelimited),
            FramingCase(upstream: .closeDelimited, client: .chunked),
            FramingCase(upstream: .closeDelimited, client: .closeDelimited),
        ]
    }

    /// Bodies that look like framing, like events, like a BOM, or like nothing in particular.
    static let bodies: [[UInt8]] = [
        Array("hello".utf8),
        Array("0\r\n\r\n5\r\nhello\r\n".utf8),
        [0xEF, 0xBB, 0xBF] + Array("id: 1\r\ndata: a\r\rdata: b\n\n: c\ndata: half".utf8),
        (0..<700).map { UInt8(truncatingIfNeeded: $0 &* 37) },
    ]

    @Test(arguments: FramingCase.all, Treatment.allCases)
    func clientBytes_decodeToTheUpstreamBody_andCompleteExactlyAtItsEnd_howeverTheReadsAreSplit(
        framing: FramingCase, treatment: Treatment
    ) {
        for (index, body) in Self.bodies.enumerated() {
            var rng = SplitMix64(seed: UInt64(index))
            let (upstreamFraming, wire) = framing.upstream.encode(body, using: &rng)
            let client = framing.client ?? .contentLength(UInt64(body.count))
            for split in ReadSplit.all() {
                let context = "body \(index), \(split)"
                var driver = RelayDriver(upstream: upstreamFraming, client: client, sse: treatment.sse)
                #expect(!driver.relay.hasNoBody, "\(context)")
                #expect(driver.relay.endsAtUpstreamClose == (framing.upstream == .closeDelimited), "\(context)")
                driver.begin()
                let reads = split.reads(of: wire)
                var outcomes: [ResponseRelay.Outcome] = []
                for read in reads { outcomes.append(driver.relay(read)) }
                let last: ResponseRelay.Outcome = framing.upstream == .closeDelimited ? .more : .complete
                #expect(outcomes == Array(repeating: .more, count: reads.count - 1) + [last], "\(context)")
                driver.finish()
                #expect(driver.body == body, "\(context): \(driver.bodyText.debugDescription)")
                #expect(driver.clientFramingProblem == nil, "\(context)")
                #expect(driver.clientSawLastChunk == (client == .chunked), "\(context)")
                #expect(!driver.relay.trailingBytes, "\(context)")
                if client == .contentLength(UInt64(body.count)) {
                    #expect(driver.bodyWrites.flatMap { $0 } == body, "\(context): Content-Length bodies pass unframed")
                }
            }
        }
    }

    @Test(arguments: [
        (BodyFraming.contentLength(5), "hello"),
        (BodyFraming.chunked, "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"),
        (BodyFraming.none, ""),
    ])
    func bytesAfterTheEndOfTheBody_setTrailingBytes_andAreNotForwarded(framing: BodyFraming, wireText: String) {
        let wire = Array(wireText.utf8)
        let extra = Array("HTTP/1.1 200 OK\r\n\r\n".utf8)
        for split in ReadSplit.all() {
            var driver = RelayDriver(upstream: framing, client: .chunked, sse: nil)
            driver.begin()
            let reads = split.reads(of: wire + extra)
            let outcomes = reads.map { driver.relay($0) }
            let readThatEndsTheBody = reads.firstIndex { $0.endIndex >= wire.count }
            #expect(outcomes.firstIndex(of: .complete) == readThatEndsTheBody, "\(split): \(outcomes)")
            #expect(outcomes.drop { $0 != .complete }.allSatisfy { $0 == .complete }, "\(split)")
            #expect(driver.relay.trailingBytes, "\(split)")
            driver.finish()
            #expect(driver.bodyText == (framing == .none ? "" : "hello"), "\(split)")
        }
    }

    @Test func bytesAfterTheEndOfTheBody_inTheReadThatEndsIt_areCutOff_exactlyAtTheEnd() {
        var driver = RelayDriver(upstream: .contentLength(5), client: .closeDelimited, sse: nil)
        driver.begin()
        #expect(driver.relay("hel".utf8) == .more)
        #expect(!driver.relay.trailingBytes)
        #expect(driver.relay("loHTTP".utf8) == .complete)
        #expect(driver.relay.trailingBytes)
        #expect(driver.bodyText == "hello")
    }

    @Test(arguments: [
        ("5\r\nhello\r\nzz\r\n", ChunkedDecodingError.invalidChunkSize(offset: 10), "hello"),
        ("5\r\nhelloXX", ChunkedDecodingError.missingCRLFAfterChunkData(offset: 8), "hello"),
        ("3\nabc\r\n", ChunkedDecodingError.missingCRLFAfterChunkSize(offset: 1), ""),
    ])
    func invalidUpstreamChunkedInput_breaksTheResponse_afterTheDataBeforeIt(
        wireText: String, error: ChunkedDecodingError, forwarded: String
    ) {
        for split in ReadSplit.all() {
            for treatment in Treatment.allCases {
                var driver = RelayDriver(upstream: .chunked, client: .chunked, sse: treatment.sse)
                driver.begin()
                var outcome = ResponseRelay.Outcome.more
                for read in split.reads(of: Array(wireText.utf8)) where outcome == .more {
                    outcome = driver.relay(read)
                }
                #expect(outcome == .broken(error), "\(split), \(treatment)")
                #expect(driver.clientFramingProblem == nil && !driver.clientSawLastChunk, "\(split), \(treatment)")
                if treatment != .assembled {
                    #expect(driver.bodyText == forwarded, "\(split), \(treatment): the data before the error goes out")
                }
            }
        }
    }

    @Test func aResponseWithoutBody_hasNoBody_andCompletesAtOnce() {
        for framing in [BodyFraming.none, .contentLength(0)] {
            var driver = RelayDriver(upstream: framing, client: .chunked, sse: RelayDriver.sse())
            #expect(driver.relay.hasNoBody)
            #expect(!driver.relay.endsAtUpstreamClose)
            driver.begin()
            driver.finish()
            #expect(driver.clientSawLastChunk && driver.body.isEmpty)
            #expect(!driver.relay.trailingBytes)
        }
        for framing in [BodyFraming.contentLength(1), .chunked, .closeDelimited] {
            let relay = ResponseRelay(upstreamFraming: framing, clientFraming: .chunked, sse: nil, now: 0)
            #expect(!relay.hasNoBody, "\(framing)")
            #expect(relay.endsAtUpstreamClose == (framing == .closeDelimited), "\(framing)")
        }
    }

    @Test func aContentLengthBody_hasNoBodyLeft_onceComplete() {
        var driver = RelayDriver(upstream: .contentLength(3), client: .contentLength(3), sse: nil)
        driver.begin()
        #expect(driver.relay("ab".utf8) == .more)
        #expect(!driver.relay.hasNoBody)
        #expect(driver.relay("c".utf8) == .complete)
        #expect(driver.relay.hasNoBody)
    }

    // MARK: One chunk per read

    /// The data of each chunk in `bytes`, which must be nothing but whole chunks (lowercase hex, no leading zeros,
    /// no extensions) and, when `allowingEnd`, the last chunk; nil otherwise.
    static func chunkData(_ bytes: ArraySlice<UInt8>, allowingEnd: Bool = false) -> [[UInt8]]? {
        var rest = bytes
        var chunks: [[UInt8]] = []
        while !rest.isEmpty {
            if allowingEnd, rest.elementsEqual(ChunkedEncoder.lastChunk) { return chunks }
            guard let lineEnd = rest.firstIndex(of: 0x0D), lineEnd + 1 < rest.endIndex,
                  let size = Int(String(decoding: rest[..<lineEnd], as: UTF8.self), radix: 16), size > 0,
                  ChunkedEncoder.header(forChunkOf: size).elementsEqual(rest[...(lineEnd + 1)]),
                  rest.endIndex >= lineEnd + 2 + size + 2
            else { return nil }
            let dataStart = lineEnd + 2
            chunks.append(Array(rest[dataStart..<dataStart + size]))
            guard rest[(dataStart + size)..<(dataStart + size + 2)].elementsEqual(ChunkedEncoder.chunkTrailer) else { return nil }
            rest = rest[(dataStart + size + 2)...]
        }
        return chunks
    }

    @Test(arguments: Treatment.allCases)
    func everyReadThatCarriesData_isOneChunk_withTheHeadInFrontInTheSameWrite(treatment: Treatment) {
        // Many small upstream chunks, a BOM, several events per read: the relay emits in many pieces per read.
        let events = "\u{FEFF}" + (0..<30).map { "id: \($0)\r\ndata: event \($0)\r\n\r\n" }.joined() + "data: tail"
        var rng = SplitMix64(seed: 7)
        let (framing, wire) = UpstreamBodyEncoding.chunked.encode(Array(events.utf8), using: &rng)
        for split in ReadSplit.all() {
            for head in [Array("H\r\n".utf8), Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n".utf8)] {
                var sse = treatment.sse
                sse?.retryMilliseconds = 1500
                var driver = RelayDriver(upstream: framing, client: .chunked, sse: sse, head: head)
                let reads = split.reads(of: wire)
                driver.beginAndRelay(reads[0])
                for read in reads.dropFirst() { driver.relay(read) }
                let first = driver.writes[0]
                #expect(first.starts(with: head), "\(split): the head leads the first write")
                let firstChunks = Self.chunkData(first.dropFirst(head.count))
                let preamble = treatment == .plain ? 0 : 1
                #expect(firstChunks.map { (preamble...preamble + 1).contains($0.count) } == true, "\(split): \(firstChunks.map { "\($0)" } ?? "not chunks")")
                if preamble == 1 { #expect(firstChunks?.first == Array("retry: 1500\n".utf8)) }
                for (index, write) in driver.writes.enumerated().dropFirst() {
                    #expect(Self.chunkData(write[...])?.count == 1, "\(split): write \(index) is one chunk")
                }
                driver.finish()
                #expect(driver.clientFramingProblem == nil, "\(split)")
                let expected = treatment == .plain ? events : "retry: 1500\n" + String(events.dropFirst())
                #expect(driver.bodyText == expected, "\(split)")
            }
        }
    }

    @Test func twoReadsIntoOneOutput_becomeTwoContiguousChunks_behindTheHead() {
        var relay = ResponseRelay(upstreamFraming: .closeDelimited, clientFraming: .chunked, sse: nil, now: 0)
        var output = RelayOutput()
        relay.begin(head: Array("HEAD\r\n\r\n".utf8), into: &output)
        #expect(relay.relay(UnsafeRawBufferPointer(start: nil, count: 0), into: &output) == .more)
        for text in ["first", "second read"] {
            _ = Array(text.utf8).withUnsafeBytes { relay.relay($0, into: &output) }
        }
        relay.endBody(into: &output)
        let bytes = output.withUnsafeBytes { Array($0) }
        #expect(String(decoding: bytes, as: UTF8.self) == "HEAD\r\n\r\n5\r\nfirst\r\nb\r\nsecond read\r\n0\r\n\r\n")
        #expect(output.count == bytes.count)
    }

    @Test func aReadThatCarriesNoData_writesNothing() {
        var driver = RelayDriver(upstream: .chunked, client: .chunked, sse: nil)
        driver.begin()
        for read in ["5", ";ext", "\r\n"] { #expect(driver.relay(read.utf8) == .more) }
        #expect(driver.writes.count == 1, "only the head")
        #expect(driver.relay("he".utf8) == .more)
        #expect(driver.bodyWrites == [Array("2\r\nhe\r\n".utf8)])
    }

    // MARK: begin, finish and endBody

    @Test func begin_withSSERetry_sendsRetryFirst_andTheUpstreamsLeadingBOMIsThenDropped() {
        var driver = RelayDriver(upstream: .closeDelimited, client: .chunked, sse: RelayDriver.sse(retryMilliseconds: 1500))
        driver.begin()
        #expect(driver.bodyWrites == [Array("c\r\nretry: 1500\n\r\n".utf8)])
        driver.relay([0xEF, 0xBB, 0xBF] + Array("data: a\n\n".utf8))
        #expect(driver.bodyText == "retry: 1500\ndata: a\n\n")
        #expect(driver.client.events == [Event(type: "message", data: "a", lastEventId: "")])
        #expect(driver.client.reconnectionTimes == ["1500"])
    }

    @Test func finish_appendsTheHeldPartialEvent_thenTheLastChunk() {
        var driver = RelayDriver(upstream: .closeDelimited, client: .chunked, sse: RelayDriver.sse(assemblesEvents: true))
        driver.begin()
        driver.relay("data: a\n\ndata: half".utf8)
        #expect(driver.bodyWrites.last == Array("9\r\ndata: a\n\n\r\n".utf8))
        driver.finish()
        #expect(driver.bodyWrites.last == Array("a\r\ndata: half\r\n0\r\n\r\n".utf8))
    }

    @Test func finish_flushesAHeldBOMPrefix_thatWasNotABOM() {
        var driver = RelayDriver(upstream: .closeDelimited, client: .chunked, sse: RelayDriver.sse())
        driver.begin()
        driver.relay([0xEF, 0xBB])
        #expect(driver.writes.count == 1, "the possible BOM is held")
        driver.finish()
        #expect(driver.bodyWrites.last == [0x32, 0x0D, 0x0A, 0xEF, 0xBB, 0x0D, 0x0A] + ChunkedEncoder.lastChunk)
    }

    @Test func finish_withNothingHeld_isTheLastChunk_andNothingWhenCloseDelimited() {
        var chunked = RelayDriver(upstream: .contentLength(2), client: .chunked, sse: RelayDriver.sse(assemblesEvents: true))
        chunked.begin()
        chunked.relay(":\n".utf8)
        chunked.finish()
        #expect(chunked.bodyWrites.last == ChunkedEncoder.lastChunk)
        var closing = RelayDriver(upstream: .closeDelimited, client: .closeDelimited, sse: RelayDriver.sse(assemblesEvents: true))
        closing.begin()
        closing.relay("data: a\n\ndata: half".utf8)
        closing.finish()
        #expect(closing.bodyWrites == [Array("data: a\n\n".utf8), Array("data: half".utf8)])
        let writes = closing.writes.count
        closing.finish()
        #expect(closing.writes.count == writes)
    }

    @Test func endBody_appendsOnlyTheLastChunk_droppingWhatIsHeld() {
        var driver = RelayDriver(upstream: .closeDelimited, client: .chunked, sse: RelayDriver.sse(assemblesEvents: true))
        driver.begin()
        driver.relay("data: a\n\ndata: half".utf8)
        driver.endBody()
        #expect(driver.bodyWrites.last == ChunkedEncoder.lastChunk)
        #expect(driver.bodyText == "data: a\n\n")
        var closing = RelayDriver(upstream: .closeDelimited, client: .closeDelimited, sse: nil)
        closing.begin()
        closing.endBody()
        #expect(closing.writes.count == 1)
    }
}

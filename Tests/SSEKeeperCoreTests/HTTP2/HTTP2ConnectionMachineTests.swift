import Testing
@testable import SSEKeeperCore

/// `HTTP2ConnectionMachine`: the server side of RFC 9113 driven by a client built from `HTTP2FrameWriter` and
/// `HPACKEncoder`, its input fed whole, byte by byte and in random pieces.
@Suite struct HTTP2ConnectionMachineTests {
    typealias Feeding = HTTP2ConnectionFeeding

    @Test func prefaceAndSettings_areAnsweredWithOurSettings_aConnectionWindowUpdate_andAnAck() {
        var client = HTTP2TestClient()
        client.preface([HTTP2Setting(.initialWindowSize, 1000), HTTP2Setting(.maxFrameSize, 20_000)])
        let (machine, outcome) = Feeding.run(HTTP2ConnectionMachine(), client.take())
        let configuration = HTTP2ConnectionConfiguration()
        #expect(outcome.frames == [
            .settings(configuration.settings),
            .windowUpdate(stream: 0, increment: UInt32(configuration.connectionWindowSize - 65_535)),
            .settingsAck,
        ])
        #expect(configuration.settings.contains(HTTP2Setting(.maxConcurrentStreams, 128)))
        #expect(configuration.settings.contains(HTTP2Setting(.initialWindowSize, 1 << 20)))
        #expect(outcome.events.isEmpty)
        #expect(machine.peerSettings.initialWindowSize == 1000 && machine.peerSettings.maxFrameSize == 20_000)
    }

    @Test func start_sendsOurSettingsFirst_andOnlyOnce() {
        var machine = HTTP2ConnectionMachine()
        let first = HTTP2ConnectionOutcome(machine.start())
        #expect(first.frames.first == .settings(HTTP2ConnectionConfiguration().settings))
        var client = HTTP2TestClient()
        client.preface()
        #expect(HTTP2ConnectionOutcome(machine.receive(client.take(), now: 0)).frames == [.settingsAck])
    }

    @Test func bytesThatAreNotThePreface_closeAsNotHTTP2_withTheBytesReadSoFar() {
        // Not fed three ways: the verdict comes with the first byte that differs, carrying what was read by then
        // (later bytes arrive at the HTTP/1.1 parser the shell hands over to).
        let request = Array("GET / HTTP/1.1\r\n\r\n".utf8)
        var whole = HTTP2ConnectionMachine()
        #expect(whole.receive(request, now: 0) == [.closeConnection(.notHTTP2(received: request))])
        #expect(whole.isClosed && whole.receive(request, now: 0).isEmpty)
        var split = HTTP2ConnectionMachine()
        #expect(split.receive(Array("PRI * HTTP/2".utf8), now: 0).isEmpty)
        #expect(split.receive(Array(".1\r\n".utf8), now: 0) == [.closeConnection(.notHTTP2(received: Array("PRI * HTTP/2.1\r\n".utf8)))])
    }

    @Test func get_opensAStream_withItsFields_inOrder() {
        var client = HTTP2TestClient()
        client.preface()
        let fields = HTTP2TestClient.request("GET", "/events?topic=a") + [("accept", "text/event-stream"), ("cookie", "a=1")]
        client.headers(1, fields, endStream: true)
        let (machine, outcome) = Feeding.run(HTTP2ConnectionMachine(), client.take())
        #expect(outcome.events == [.openStream(1, requestHead: fields.map { HPACKHeaderField($0.0, $0.1) }, endStream: true)])
        #expect(machine.liveStreamCount == 1 && machine.highestStreamID == 1)
    }

    @Test func headersSplitIntoContinuations_openOneStream() {
        var client = HTTP2TestClient()
        client.preface()
        let long = (0..<4).map { ("x-long-\($0)", String(repeating: "x", count: 4_000)) }
        client.headers(1, HTTP2TestClient.request("GET", "/") + long, endStream: true, maxFrameSize: 1_000)
        let bytes = client.take()
        #expect(bytes.count > 10 * 1_000)
        let (_, outcome) = Feeding.run(HTTP2ConnectionMachine(), bytes)
        #expect(outcome.opened == [1])
    }

    @Test func post_deliversItsBody_thenEndsTheRequest() {
        var client = HTTP2TestClient()
        client.preface()
        client.headers(1, HTTP2TestClient.request("POST", "/submit") + [("content-length", "11")], endStream: false)
        client.data(1, Array("hello ".utf8), endStream: false)
        client.data(1, Array("world".utf8), endStream: true)
        let (_, outcome) = Feeding.run(HTTP2ConnectionMachine(), client.take())
        #expect(outcome.events.dropFirst() == [
            .requestData(1, Array("hello ".utf8), endStream: false), .requestData(1, Array("world".utf8), endStream: true),
        ])
        #expect(outcome.resets.isEmpty)
    }

    @Test func receivedData_isAnsweredWithWindowUpdates_onceHalfTheWindowIsUsed_theStreamsOnceConsumed() {
        let small = HTTP2ConnectionConfiguration(initialWindowSize: 65_535, connectionWindowSize: 65_535)
        var client = HTTP2TestClient()
        client.preface()
        client.headers(1, HTTP2TestClient.request("POST", "/upload"), endStream: false)
        client.data(1, [UInt8](repeating: 7, count: 30_000), endStream: false)
        client.data(1, [UInt8](repeating: 7, count: 30_000), endStream: false)
        var (machine, outcome) = Feeding.run(HTTP2ConnectionMachine(configuration: small), client.take())
        // DATA frames of 16,384, 13,616, 16,384: past half of 65,535 after the third, the connection window is
        // refilled; the stream's waits for the proxy to pass the body on.
        let updates = outcome.frames.filter { if case .windowUpdate = $0 { return true } else { return false } }
        #expect(updates == [.windowUpdate(stream: 0, increment: 46_384)])
        let consumed = HTTP2ConnectionOutcome(machine.bodyConsumed(stream: 1, count: 60_000))
        #expect(consumed.frames == [.windowUpdate(stream: 1, increment: 60_000)])
    }

    @Test func dataBeyondTheStreamWindow_resetsTheStream_withFlowControlError() {
        let small = HTTP2ConnectionConfiguration(initialWindowSize: 1000)
        var client = HTTP2TestClient()
        client.preface()
        client.headers(1, HTTP2TestClient.request("POST", "/upload"), endStream: false)
        client.data(1, [UInt8](repeating: 7, count: 1001), endStream: false)
        let (_, outcome) = Feeding.run(HTTP2ConnectionMachine(configuration: small), client.take())
        #expect(outcome.resets == [1: .flowControlError])
        #expect(outcome.events.last == .streamReset(1, .flowControlError))
    }

    @Test func responseHeadAndData_goOutWithinTheWindow_waitWhenItCloses_andResumeOnWindowUpdate() throws {
        var machine = Feeding.started(clientSettings: [HTTP2Setting(.initialWindowSize, 100)])
        var client = HTTP2TestClient()
        client.get(1)
        _ = machine.receive(client.take(), now: 0)
        let head = HTTP2ConnectionOutcome(machine.sendHeaders(
            stream: 1, status: 200, fields: [HPACKHeaderField("Content-Type", "text/event-stream"),
                                             HPACKHeaderField("Connection", "keep-alive")], endStream: false))
        guard case .headers(1, let block, false, true, _, _)? = head.frames.first else {
            Issue.record("no HEADERS: \(head.frames)")
            return
        }
        var decoder = HPACKDecoder()
        #expect(try decoder.decode(block) == [HPACKHeaderField(":status", "200"), HPACKHeaderField("content-type", "text/event-stream")])

        let first = machine.sendData(stream: 1, bytes: [UInt8](repeating: 0x61, count: 250), endStream: true)
        #expect(first.accepted == 100)
        #expect(HTTP2ConnectionOutcome(first.actions).frames
                == [.data(stream: 1, payload: [UInt8](repeating: 0x61, count: 100), endStream: false, paddingLength: nil)])
        #expect(machine.sendData(stream: 1, bytes: [UInt8](repeating: 0x61, count: 150), endStream: true).accepted == 0)

        client.frame(.windowUpdate(stream: 1, increment: 200))
        #expect(machine.receive(client.take(), now: 0) == [.windowOpened(1)])
        let rest = machine.sendData(stream: 1, bytes: [UInt8](repeating: 0x61, count: 150), endStream: true)
        #expect(rest.accepted == 150)
        #expect(HTTP2ConnectionOutcome(rest.actions).frames
                == [.data(stream: 1, payload: [UInt8](repeating: 0x61, count: 150), endStream: true, paddingLength: nil)])
        #expect(machine.liveStreamCount == 0)  // both sides ended: closed
    }

    @Test func initialWindowSizeChanges_applyToOpenStreams() {
        var machine = Feeding.started(clientSettings: [HTTP2Setting(.initialWindowSize, 10)])
        var client = HTTP2TestClient()
        client.get(1)
        _ = machine.receive(client.take(), now: 0)
        #expect(machine.sendData(stream: 1, bytes: [UInt8](repeating: 1, count: 30), endStream: false).accepted == 10)
        client.frame(.settings([HTTP2Setting(.initialWindowSize, 25)]))
        let actions = machine.receive(client.take(), now: 0)
        #expect(actions.contains(.windowOpened(1)))
        #expect(HTTP2ConnectionOutcome(actions).frames == [.settingsAck])
        #expect(machine.sendableBytes(stream: 1) == 15)
    }

    @Test func fiftyStreams_withTheDefault65535Window_allProgress_andAllFinish() {
        var machine = Feeding.started()
        var client = HTTP2TestClient()
        let streams = (0..<50).map { UInt32(2 * $0 + 1) }
        for stream in streams { client.get(stream) }
        #expect(HTTP2ConnectionOutcome(machine.receive(client.take(), now: 0)).opened == streams)
        var remaining = Dictionary(uniqueKeysWithValues: streams.map { ($0, 4_000) })
        var sentPerRound: [[UInt32: Int]] = []
        var ready = streams
        for _ in 0..<20 where !remaining.isEmpty {
            var sent: [UInt32: Int] = [:]
            var written = 0
            for stream in ready {
                guard let left = remaining[stream] else { continue }
                let result = machine.sendData(stream: stream, bytes: [UInt8](repeating: 0x2E, count: left), endStream: true)
                sent[stream] = result.accepted
                written += result.accepted
                remaining[stream] = left == result.accepted ? nil : left - result.accepted
            }
            sentPerRound.append(sent)
            // The client reads everything and returns it to the connection window (streams still have room).
            client.frame(.windowUpdate(stream: 0, increment: UInt32(max(1, written))))
            ready = machine.receive(client.take(), now: 0).compactMap {
                if case .windowOpened(let stream) = $0 { return stream } else { return nil }
            }
        }
        #expect(remaining.isEmpty, "unfinished: \(remaining.keys.sorted())")
        #expect(machine.liveStreamCount == 0)
        // Within two rounds every stream has sent something: none waits behind the others.
        let early = Set(sentPerRound.prefix(2).flatMap { $0.filter { $0.value > 0 }.keys })
        #expect(early == Set(streams))
    }

    @Test func rstStreamFromTheClient_yieldsStreamReset_andOtherStreamsGoOn() {
        var client = HTTP2TestClient()
        client.preface()
        client.get(1)
        client.get(3)
        client.frame(.rstStream(stream: 1, errorCode: .cancel))
        let (machine, outcome) = Feeding.run(HTTP2ConnectionMachine(), client.take())
        #expect(outcome.events.last == .streamReset(1, .cancel))
        #expect(machine.liveStreamCount == 1 && machine.sendableBytes(stream: 3) == 65_535)
        #expect(outcome.goaway == nil)
    }

    @Test func streamsBeyondMaxConcurrentStreams_areRefused() {
        var client = HTTP2TestClient()
        client.preface()
        for stream: UInt32 in [1, 3, 5] { client.get(stream) }
        let (_, outcome) = Feeding.run(HTTP2ConnectionMachine(configuration: HTTP2ConnectionConfiguration(maxConcurrentStreams: 2)),
                                       client.take())
        #expect(outcome.opened == [1, 3])
        #expect(outcome.resets == [5: .refusedStream])
    }

    @Test func headersOnAClosedStream_areStreamClosed_andAnEvenStreamIsAConnectionError() {
        var client = HTTP2TestClient()
        client.preface()
        client.get(3)
        client.get(1)  // lower than 3: closed by §5.1.1
        let (_, closed) = Feeding.run(HTTP2ConnectionMachine(), client.take())
        #expect(closed.resets == [1: .streamClosed])
        client.preface()
        client.get(2)
        let (machine, even) = Feeding.run(HTTP2ConnectionMachine(), client.take())
        #expect(even.goaway?.code == .protocolError && machine.isClosed)
    }

    @Test func dataAfterEndStream_isStreamClosed() {
        var client = HTTP2TestClient()
        client.preface()
        client.get(1)
        client.data(1, [1], endStream: false)
        let (_, outcome) = Feeding.run(HTTP2ConnectionMachine(), client.take())
        #expect(outcome.resets == [1: .streamClosed])
        #expect(outcome.events.last == .streamReset(1, .streamClosed))
    }

    @Test func ping_isAnswered_andOurPingsAckIsNoted() {
        var client = HTTP2TestClient()
        client.preface()
        client.frame(.ping(opaqueData: 0x0102_0304_0506_0708))
        let (started, outcome) = Feeding.run(HTTP2ConnectionMachine(), client.take())
        #expect(outcome.frames.last == .pingAck(opaqueData: 0x0102_0304_0506_0708))
        var machine = started
        #expect(HTTP2ConnectionOutcome(machine.ping(now: 5_000)).frames == [.ping(opaqueData: 5_000)])
        #expect(machine.ping(now: 6_000).isEmpty && machine.isPingOutstanding)
        client.frame(.pingAck(opaqueData: 5_000))
        #expect(machine.receive(client.take(), now: 9_000) == [.pingAcknowledged(roundTripNanoseconds: 4_000)])
        #expect(!machine.isPingOutstanding)
    }

    @Test func gracefulGoAway_ignoresNewStreams_letsLiveOnesFinish_thenCloses() {
        var machine = Feeding.started()
        var client = HTTP2TestClient()
        client.get(1)
        client.get(3)
        _ = machine.receive(client.take(), now: 0)
        let goaway = HTTP2ConnectionOutcome(machine.goAway(code: .noError))
        #expect(goaway.frames == [.goaway(lastStreamID: 3, errorCode: .noError, debugData: [])])
        client.headers(5, HTTP2TestClient.request("POST", "/"), endStream: false)
        client.data(5, [1], endStream: true)
        let ignored = HTTP2ConnectionOutcome(machine.receive(client.take(), now: 0))
        #expect(ignored.events.isEmpty && ignored.resets.isEmpty)
        #expect(HTTP2ConnectionOutcome(machine.sendHeaders(stream: 1, status: 204, fields: [], endStream: true)).events.isEmpty)
        let last = HTTP2ConnectionOutcome(machine.sendHeaders(stream: 3, status: 204, fields: [], endStream: true))
        #expect(last.events == [.closeConnection(.drained)])
        #expect(machine.isClosed)
    }

    @Test func goawayFromTheClient_isReported_andTheConnectionClosesWhenItsStreamsEnd() {
        var machine = Feeding.started()
        var client = HTTP2TestClient()
        client.get(1)
        client.frame(.goaway(lastStreamID: 0, errorCode: .noError, debugData: []))
        let outcome = HTTP2ConnectionOutcome(machine.receive(client.take(), now: 0))
        #expect(outcome.events.last == .goawayReceived(lastStreamID: 0, .noError))
        #expect(HTTP2ConnectionOutcome(machine.sendHeaders(stream: 1, status: 200, fields: [], endStream: true)).events
                == [.closeConnection(.drained)])
    }

    @Test func anHPACKDecodingError_isGoawayCompressionError() {
        var client = HTTP2TestClient()
        client.preface()
        client.frame(.headers(stream: 1, fragment: [0x80], endStream: true, endHeaders: true, priority: nil, paddingLength: nil))
        let (machine, outcome) = Feeding.run(HTTP2ConnectionMachine(), client.take())
        #expect(outcome.goaway?.code == .compressionError)
        #expect(machine.isClosed)
    }

    @Test func aHeaderListOverOurLimit_isAnswered431_andTheConnectionGoesOn() throws {
        let limits = HPACKDecoder.Limits(maxHeaderListSize: 200)
        var client = HTTP2TestClient()
        client.preface()
        client.headers(1, HTTP2TestClient.request("GET", "/") + [("x-big", String(repeating: "b", count: 300))], endStream: true)
        client.get(3)
        let (_, outcome) = Feeding.run(HTTP2ConnectionMachine(configuration: HTTP2ConnectionConfiguration(headerLimits: limits)),
                                       client.take())
        guard let block = outcome.frames.compactMap({ frame -> [UInt8]? in
            if case .headers(1, let block, true, true, _, _) = frame { return block } else { return nil }
        }).first else {
            Issue.record("no 431: \(outcome.frames)")
            return
        }
        var decoder = HPACKDecoder()
        #expect(try decoder.decode(block) == [HPACKHeaderField(":status", "431")])
        #expect(outcome.opened == [3])
    }

    @Test func resetStream_fromTheProxy_writesRstStream_andForgetsTheStream() {
        var machine = Feeding.started()
        var client = HTTP2TestClient()
        client.get(1)
        _ = machine.receive(client.take(), now: 0)
        #expect(HTTP2ConnectionOutcome(machine.resetStream(stream: 1, code: .internalError)).frames
                == [.rstStream(stream: 1, errorCode: .internalError)])
        #expect(machine.sendData(stream: 1, bytes: [1, 2], endStream: false) == .init(accepted: 0, actions: []))
        client.frame(.windowUpdate(stream: 1, increment: 10))  // a closed stream: ignored
        #expect(machine.receive(client.take(), now: 0).isEmpty)
    }

    @Test func dataOnAStreamWeReset_isIgnored_butDataOnAStreamThatEnded_isStreamClosed() {
        var machine = Feeding.started()
        var client = HTTP2TestClient()
        client.headers(1, HTTP2TestClient.request("POST", "/"), endStream: false)
        client.get(3)
        _ = machine.receive(client.take(), now: 0)
        _ = machine.resetStream(stream: 1, code: .cancel)
        _ = machine.sendHeaders(stream: 3, status: 204, fields: [], endStream: true)  // stream 3 closed normally
        client.data(1, [1, 2, 3], endStream: true)
        client.data(3, [1], endStream: true)
        let outcome = HTTP2ConnectionOutcome(machine.receive(client.take(), now: 0))
        #expect(outcome.resets == [3: .streamClosed])
        #expect(outcome.events.isEmpty && !machine.isClosed)
    }

    @Test func trailers_endTheRequest_andTrailersWithPseudoHeaders_areMalformed() {
        var client = HTTP2TestClient()
        client.preface()
        client.headers(1, HTTP2TestClient.request("POST", "/"), endStream: false)
        client.data(1, [1], endStream: false)
        client.headers(1, [("x-checksum", "abc")], endStream: true)
        client.headers(3, HTTP2TestClient.request("POST", "/"), endStream: false)
        client.headers(3, [(":path", "/again")], endStream: true)
        let (_, outcome) = Feeding.run(HTTP2ConnectionMachine(), client.take())
        #expect(outcome.events.contains(.requestData(1, [], endStream: true)))
        #expect(outcome.resets == [3: .protocolError])
        #expect(outcome.events.last == .streamReset(3, .protocolError))
    }

    @Test func windowOverflows_areFlowControlErrors_forTheStreamOrTheConnection() {
        var machine = Feeding.started()
        var client = HTTP2TestClient()
        client.get(1)
        client.frame(.windowUpdate(stream: 1, increment: 0x7FFF_FFFF))
        #expect(HTTP2ConnectionOutcome(machine.receive(client.take(), now: 0)).resets == [1: .flowControlError])
        client.frame(.windowUpdate(stream: 0, increment: 0x7FFF_FFFF))
        let outcome = HTTP2ConnectionOutcome(machine.receive(client.take(), now: 0))
        #expect(outcome.goaway?.code == .flowControlError && machine.isClosed)
    }

    @Test func framingErrors_fromTheParser_areGoawayWithTheirCode_andNothingIsReadAfter() {
        var client = HTTP2TestClient()
        client.preface()
        client.bytes += HTTP2FrameFeeding.frame(type: 0x6, payload: [UInt8](repeating: 0, count: 7))  // PING of 7 bytes
        let (started, outcome) = Feeding.run(HTTP2ConnectionMachine(), client.take())
        #expect(outcome.goaway?.code == .frameSizeError)
        var machine = started
        client.get(1)
        #expect(machine.receive(client.take(), now: 0).isEmpty)
    }

    @Test func frameOnAnIdleStream_isAConnectionProtocolError() {
        var client = HTTP2TestClient()
        client.preface()
        client.data(5, [1], endStream: false)
        let (_, outcome) = Feeding.run(HTTP2ConnectionMachine(), client.take())
        #expect(outcome.goaway?.code == .protocolError && outcome.goaway?.lastStreamID == 0)
    }

    @Test func aLargeResponseHead_isSplitAtTheClientsFrameSize_intoContinuations() {
        var machine = Feeding.started()
        var client = HTTP2TestClient()
        client.get(1)
        _ = machine.receive(client.take(), now: 0)
        let big = (0..<3).map { HPACKHeaderField("x-field-\($0)", String(repeating: "v", count: 9_000)) }
        let frames = HTTP2ConnectionOutcome(machine.sendHeaders(stream: 1, status: 200, fields: big, endStream: false)).frames
        #expect(frames.count > 1)
        for case .continuation(let stream, let fragment, _) in frames { #expect(stream == 1 && fragment.count <= 16_384) }
    }

    @Test func aStreamStoppedByItsOwnWindow_doesNotShrinkTheOthersShare() {
        var machine = Feeding.started(clientSettings: [HTTP2Setting(.initialWindowSize, 10)])
        var client = HTTP2TestClient()
        client.get(1)
        client.get(3)
        _ = machine.receive(client.take(), now: 0)
        #expect(machine.sendData(stream: 1, bytes: [UInt8](repeating: 1, count: 20), endStream: false).accepted == 10)
        client.frame(.windowUpdate(stream: 3, increment: 60_000))
        _ = machine.receive(client.take(), now: 0)
        #expect(machine.sendData(stream: 3, bytes: [UInt8](repeating: 3, count: 60_000), endStream: false).accepted == 60_000)
    }

    @Test func streamsWaitingForTheConnectionWindow_shareIt() {
        var machine = Feeding.started()
        var client = HTTP2TestClient()
        client.get(1)
        client.get(3)
        _ = machine.receive(client.take(), now: 0)
        #expect(machine.sendData(stream: 1, bytes: [UInt8](repeating: 1, count: 70_000), endStream: false).accepted == 65_535)
        #expect(machine.sendData(stream: 3, bytes: [UInt8](repeating: 3, count: 10), endStream: false).accepted == 0)
        client.frame(.windowUpdate(stream: 0, increment: 1_000))
        #expect(machine.receive(client.take(), now: 0) == [.windowOpened(3)])  // stream 1's own window is empty
        client.frame(.windowUpdate(stream: 1, increment: 1_000))
        #expect(machine.receive(client.take(), now: 0) == [.windowOpened(1), .windowOpened(3)])  // oldest first
        // Stream 1 takes half of the 1,000 (stream 3 waits too), then stream 3 what it needs.
        #expect(machine.sendData(stream: 1, bytes: [UInt8](repeating: 1, count: 4_465), endStream: false).accepted == 500)
        #expect(machine.sendData(stream: 3, bytes: [UInt8](repeating: 3, count: 10), endStream: false).accepted == 10)
        #expect(machine.connectionSendWindow == 490)
    }
}

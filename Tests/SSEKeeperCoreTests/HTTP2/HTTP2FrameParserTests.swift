import Testing
@testable import SSEKeeperCore

/// Every frame type of RFC 9113 §6 parsed from literal bytes, fed whole, byte by byte, in random pieces and with
/// trailing bytes (`HTTP2FrameFeeding`).
@Suite struct HTTP2FrameParserTests {
    typealias F = HTTP2FrameFeeding

    @Test func clientPreface_thenSettings_isReadAsPrefaceThenFrame() {
        let bytes = F.prefaceAndSettings
        let run = F.run(bytes, parser: HTTP2FrameParser())
        #expect(run.results == [.preface(consumed: 24), .frame(.settings([]), consumed: 9)])
        #expect(run.error == nil && run.leftover == 0)
    }

    @Test func http11Request_isNotHTTP2_andNothingIsConsumed() {
        let bytes = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        let run = F.run(bytes, parser: HTTP2FrameParser())
        #expect(run.results == [.notHTTP2])
        // Nothing consumed: the listener hands the same bytes to the HTTP/1.1 parser.
        #expect(HeadFeeding.request(String(decoding: bytes, as: UTF8.self)).head?.method == "GET")
    }

    @Test func http11RequestStartingLikeThePreface_isNotHTTP2_atTheFirstDifferentByte() {
        var parser = HTTP2FrameParser()
        #expect(F.parse(&parser, Array("PRI * HTTP/1.1\r\n".utf8)) == .success(.notHTTP2))
        var fresh = HTTP2FrameParser()
        #expect(F.parse(&fresh, Array("PRI * HTTP/2".utf8)) == .success(.needMore))
    }

    @Test func data_isParsed_withPayloadAndEndStream() {
        let frame = F.single(F.frame(type: 0, flags: 0x1, stream: 1, payload: Array("data: hi\n\n".utf8)))
        #expect(frame == .data(stream: 1, payload: Array("data: hi\n\n".utf8), endStream: true, paddingLength: nil))
        #expect(frame?.flowControlledLength == 10)
    }

    @Test func paddedData_dropsThePadding_butCountsItForFlowControl() {
        let frame = F.single(F.frame(type: 0, flags: 0x8, stream: 3, payload: [2, 0x61, 0x62, 0, 0]))
        #expect(frame == .data(stream: 3, payload: [0x61, 0x62], endStream: false, paddingLength: 2))
        #expect(frame?.flowControlledLength == 5)
    }

    @Test func paddedData_mayBeAllPadding() {
        #expect(F.single(F.frame(type: 0, flags: 0x8, stream: 3, payload: [3, 0, 0, 0]))
                == .data(stream: 3, payload: [], endStream: false, paddingLength: 3))
    }

    @Test func headers_isParsed_withFlagsPriorityAndPadding() {
        let payload: [UInt8] = [1, 0x80, 0, 0, 1, 15, 0x82, 0x86, 0]  // pad 1, exclusive on stream 1, weight 15
        let frame = F.single(F.frame(type: 1, flags: 0x1 | 0x4 | 0x8 | 0x20, stream: 5, payload: payload))
        #expect(frame == .headers(stream: 5, fragment: [0x82, 0x86], endStream: true, endHeaders: true,
                                  priority: HTTP2Priority(exclusive: true, dependency: 1, weight: 15), paddingLength: 1))
    }

    @Test func headersThenContinuations_formOneFieldBlock() {
        let bytes = F.frame(type: 1, stream: 1, payload: [0x82]) + F.frame(type: 9, stream: 1, payload: [0x86])
            + F.frame(type: 9, flags: 0x4, stream: 1, payload: [0x84]) + F.frame(type: 0, stream: 1, payload: [1])
        let run = F.run(bytes)
        #expect(run.frames == [
            .headers(stream: 1, fragment: [0x82], endStream: false, endHeaders: false, priority: nil, paddingLength: nil),
            .continuation(stream: 1, fragment: [0x86], endHeaders: false),
            .continuation(stream: 1, fragment: [0x84], endHeaders: true),
            .data(stream: 1, payload: [1], endStream: false, paddingLength: nil),
        ])
        #expect(run.error == nil)
    }

    @Test func priority_isParsed() {
        #expect(F.single(F.frame(type: 2, stream: 3, payload: [0, 0, 0, 1, 255]))
                == .priority(stream: 3, HTTP2Priority(exclusive: false, dependency: 1, weight: 255)))
    }

    @Test func rstStream_isParsed_withAnyErrorCode() {
        #expect(F.single(F.frame(type: 3, stream: 1, payload: [0, 0, 0, 8])) == .rstStream(stream: 1, errorCode: .cancel))
        #expect(F.single(F.frame(type: 3, stream: 1, payload: [0xde, 0xad, 0, 0]))
                == .rstStream(stream: 1, errorCode: HTTP2ErrorCode(rawValue: 0xdead_0000)))
    }

    @Test func settings_keepsPairsInOrder_includingUnknownIdentifiers() {
        let payload: [UInt8] = [0, 3, 0, 0, 0, 100, 0, 4, 0, 1, 0, 0, 0xff, 0xff, 0, 0, 0, 7, 0, 3, 0, 0, 0, 1]
        #expect(F.single(F.frame(type: 4, payload: payload)) == .settings([
            HTTP2Setting(.maxConcurrentStreams, 100), HTTP2Setting(.initialWindowSize, 65_536),
            HTTP2Setting(HTTP2SettingIdentifier(rawValue: 0xffff), 7), HTTP2Setting(.maxConcurrentStreams, 1),
        ]))
    }

    @Test func settingsAck_isParsed() {
        #expect(F.single(F.frame(type: 4, flags: 0x1)) == .settingsAck)
    }

    @Test func ping_andPingAck_carryTheirEightBytes() {
        let opaque: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        #expect(F.single(F.frame(type: 6, payload: opaque)) == .ping(opaqueData: 0x0102_0304_0506_0708))
        #expect(F.single(F.frame(type: 6, flags: 0x1, payload: opaque)) == .pingAck(opaqueData: 0x0102_0304_0506_0708))
    }

    @Test func goaway_isParsed_withDebugData_andTheReservedBitDropped() {
        let payload: [UInt8] = [0x80, 0, 0, 7, 0, 0, 0, 0xb] + Array("calm".utf8)
        #expect(F.single(F.frame(type: 7, payload: payload))
                == .goaway(lastStreamID: 7, errorCode: .enhanceYourCalm, debugData: Array("calm".utf8)))
    }

    @Test func windowUpdate_isParsed_onTheConnectionAndOnAStream() {
        #expect(F.single(F.frame(type: 8, payload: [0x80, 0, 0x10, 0])) == .windowUpdate(stream: 0, increment: 4096))
        #expect(F.single(F.frame(type: 8, stream: 9, payload: [0x7f, 0xff, 0xff, 0xff]))
                == .windowUpdate(stream: 9, increment: 0x7FFF_FFFF))
    }

    @Test func unknownFrameType_isReported_toBeIgnored() {
        #expect(F.single(F.frame(type: 0x42, flags: 0xff, stream: 0, payload: [1, 2, 3]))
                == .unknown(type: 0x42, flags: 0xff, stream: 0, length: 3))
    }

    @Test func reservedStreamBit_andUndefinedFlags_areIgnored() {
        #expect(F.single(F.frame(type: 0, flags: 0xf6, stream: 0x8000_0001, payload: []))
                == .data(stream: 1, payload: [], endStream: false, paddingLength: nil))
    }

    @Test func frameOfExactlyMaxFrameSize_isAccepted() {
        let payload = [UInt8](repeating: 0x61, count: HTTP2FrameLimits.defaultMaxFrameSize)
        let run = F.run(F.frame(type: 0, stream: 1, payload: payload))
        #expect(run.frames == [.data(stream: 1, payload: payload, endStream: false, paddingLength: nil)])
    }

    @Test func raisedMaxFrameSize_acceptsLargerFrames() {
        var parser = HTTP2FrameFeeding.framesOnly
        parser.limits.maxFrameSize = 20_000
        let payload = [UInt8](repeating: 1, count: 20_000)
        #expect(F.run(F.frame(type: 0, stream: 1, payload: payload), parser: parser).frames.count == 1)
    }

    @Test func manyFramesBackToBack_areAllParsed_inOrder() {
        var bytes = F.prefaceAndSettings
        bytes += F.frame(type: 4, flags: 1)
        bytes += F.frame(type: 1, flags: 0x4, stream: 1, payload: [0x82])
        bytes += F.frame(type: 8, stream: 1, payload: [0, 0, 1, 0])
        bytes += F.frame(type: 3, stream: 1, payload: [0, 0, 0, 8])
        bytes += F.frame(type: 7, payload: [0, 0, 0, 1, 0, 0, 0, 0])
        let run = F.run(bytes, parser: HTTP2FrameParser(), seed: 7)
        #expect(run.results.count == 7)
        #expect(run.frames.last == .goaway(lastStreamID: 1, errorCode: .noError, debugData: []))
    }
}

import Testing
@testable import SSEKeeperCore

/// Every framing rule of RFC 9113 §3.4, §4.2, §5.4, §6 and §6.10 broken once: the error code, its scope
/// (connection or stream) and the rule, fed three ways by `HTTP2FrameFeeding`.
@Suite struct HTTP2FrameRuleTests {
    typealias F = HTTP2FrameFeeding

    private func expectConnectionError(
        _ bytes: [UInt8],
        _ code: HTTP2ErrorCode,
        _ rule: HTTP2FrameError.Rule,
        parser: HTTP2FrameParser = F.framesOnly,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let error = F.connectionError(bytes, parser: parser, sourceLocation: sourceLocation)
        #expect(error == HTTP2FrameError(.connection, code, rule), sourceLocation: sourceLocation)
    }

    @Test func frameOverMaxFrameSize_isAConnectionFrameSizeError_assoonAsItsHeaderArrives() {
        // Only the 9-byte header: the caller never has to buffer the oversized payload.
        expectConnectionError(F.frame(type: 0, stream: 1, length: 16_385), .frameSizeError,
                              .frameTooLarge(type: 0, length: 16_385, maxFrameSize: 16_384))
        expectConnectionError(F.frame(type: 0x42, length: 0xFF_FFFF), .frameSizeError,
                              .frameTooLarge(type: 0x42, length: 0xFF_FFFF, maxFrameSize: 16_384))
    }

    @Test(arguments: [HTTP2FrameType.data, .headers, .priority, .rstStream])
    func streamFrameOnStreamZero_isAConnectionProtocolError(_ type: HTTP2FrameType) {
        let payload: [UInt8] = type == .priority ? [0, 0, 0, 1, 0] : type == .rstStream ? [0, 0, 0, 0] : []
        expectConnectionError(F.frame(type: type.rawValue, stream: 0, payload: payload), .protocolError,
                              .streamMustNotBeZero(type))
    }

    @Test(arguments: [HTTP2FrameType.settings, .ping, .goaway])
    func connectionFrameOnAStream_isAConnectionProtocolError(_ type: HTTP2FrameType) {
        let payload = [UInt8](repeating: 0, count: type == .settings ? 0 : 8)
        expectConnectionError(F.frame(type: type.rawValue, stream: 1, payload: payload), .protocolError,
                              .streamMustBeZero(type, stream: 1))
    }

    @Test func continuationOnStreamZero_isAProtocolError() {
        let error = F.connectionError(F.frame(type: 9, flags: 4, stream: 0))
        #expect(error?.code == .protocolError)
    }

    @Test(arguments: [
        (HTTP2FrameType.ping, UInt8(0), UInt32(0), 7), (.ping, 0, 0, 9), (.ping, 1, 0, 0),
        (.settings, 0, 0, 5), (.settings, 0, 0, 13), (.settings, 1, 0, 6),
        (.rstStream, 0, 1, 3), (.rstStream, 0, 1, 5), (.windowUpdate, 0, 0, 3), (.windowUpdate, 0, 1, 5),
        (.goaway, 0, 0, 7), (.goaway, 0, 0, 0), (.data, 0x8, 1, 0), (.headers, 0x8, 1, 0), (.headers, 0x20, 1, 4),
        (.headers, 0x28, 1, 5),
    ])
    func wrongLength_isAConnectionFrameSizeError(_ type: HTTP2FrameType, _ flags: UInt8, _ stream: UInt32, _ length: Int) {
        expectConnectionError(F.frame(type: type.rawValue, flags: flags, stream: stream,
                                      payload: [UInt8](repeating: 0, count: length)),
                              .frameSizeError, .invalidLength(type, length: length))
    }

    @Test func dataPaddingAsLongAsThePayload_isAConnectionProtocolError() {
        expectConnectionError(F.frame(type: 0, flags: 0x8, stream: 1, payload: [4, 0, 0, 0]), .protocolError,
                              .paddingTooLong(.data, padLength: 4, payloadLength: 4))
        expectConnectionError(F.frame(type: 0, flags: 0x8, stream: 1, payload: [1]), .protocolError,
                              .paddingTooLong(.data, padLength: 1, payloadLength: 1))
    }

    @Test func headersPaddingThatEatsThePriorityFields_isAConnectionProtocolError() {
        expectConnectionError(F.frame(type: 1, flags: 0x2c, stream: 1, payload: [2, 0, 0, 0, 0, 16, 0]), .protocolError,
                              .paddingTooLong(.headers, padLength: 2, payloadLength: 7))
    }

    @Test func windowUpdateOfZero_onTheConnection_isAConnectionProtocolError() {
        expectConnectionError(F.frame(type: 8, payload: [0x80, 0, 0, 0]), .protocolError, .zeroWindowIncrement(stream: 0))
    }

    @Test func windowUpdateOfZero_onAStream_isAStreamError_andParsingGoesOn() {
        let bytes = F.frame(type: 8, stream: 5, payload: [0, 0, 0, 0]) + F.frame(type: 6, payload: [UInt8](repeating: 1, count: 8))
        let run = F.run(bytes)
        #expect(run.results == [
            .streamError(HTTP2FrameError(.stream(5), .protocolError, .zeroWindowIncrement(stream: 5)), consumed: 13),
            .frame(.ping(opaqueData: 0x0101_0101_0101_0101), consumed: 17),
        ])
        #expect(run.error == nil)
    }

    @Test func priorityOfWrongLength_isAStreamFrameSizeError_andParsingGoesOn() {
        let bytes = F.frame(type: 2, stream: 3, payload: [0, 0, 0, 1]) + F.frame(type: 4, flags: 1)
        let run = F.run(bytes)
        #expect(run.streamErrors == [HTTP2FrameError(.stream(3), .frameSizeError, .invalidLength(.priority, length: 4))])
        #expect(run.frames == [.settingsAck])
    }

    @Test func priorityOnItself_isAStreamProtocolError() {
        let run = F.run(F.frame(type: 2, stream: 3, payload: [0x80, 0, 0, 3, 9]))
        #expect(run.streamErrors == [HTTP2FrameError(.stream(3), .protocolError, .selfDependency(stream: 3))])
    }

    @Test func headersDependingOnItself_isAConnectionProtocolError_soHPACKNeverSkipsABlock() {
        expectConnectionError(F.frame(type: 1, flags: 0x24, stream: 7, payload: [0, 0, 0, 7, 16, 0x82]), .protocolError,
                              .selfDependency(stream: 7))
    }

    @Test(arguments: [
        (HTTP2Setting(.enablePush, 2), HTTP2ErrorCode.protocolError),
        (HTTP2Setting(.initialWindowSize, 0x8000_0000), .flowControlError),
        (HTTP2Setting(.initialWindowSize, 0xFFFF_FFFF), .flowControlError),
        (HTTP2Setting(.maxFrameSize, 16_383), .protocolError),
        (HTTP2Setting(.maxFrameSize, 16_777_216), .protocolError),
        (HTTP2Setting(.maxFrameSize, 0), .protocolError),
    ])
    func settingOutOfRange_isAConnectionError(_ setting: HTTP2Setting, _ code: HTTP2ErrorCode) {
        var payload: [UInt8] = []
        HTTP2FrameWriter.appendSettings([HTTP2Setting(.maxConcurrentStreams, 10), setting], to: &payload)
        expectConnectionError(Array(payload), code, .invalidSetting(setting))
    }

    @Test func settingsAtTheEdgesOfTheirRanges_areAccepted() {
        let settings = [HTTP2Setting(.enablePush, 0), HTTP2Setting(.enablePush, 1),
                        HTTP2Setting(.initialWindowSize, 0x7FFF_FFFF), HTTP2Setting(.maxFrameSize, 16_384),
                        HTTP2Setting(.maxFrameSize, 16_777_215), HTTP2Setting(.headerTableSize, 0xFFFF_FFFF),
                        HTTP2Setting(HTTP2SettingIdentifier(rawValue: 0x5), 16_384), HTTP2Setting(.maxHeaderListSize, 0)]
        var bytes: [UInt8] = []
        HTTP2FrameWriter.appendSettings(settings, to: &bytes)
        #expect(F.single(bytes) == .settings(settings))
    }

    @Test func settingsWithMorePairsThanTheLimit_isEnhanceYourCalm() {
        expectConnectionError(F.frame(type: 4, payload: [UInt8](repeating: 0, count: 6 * 33)), .enhanceYourCalm,
                              .tooManySettings(count: 33, limit: 32))
    }

    @Test func pushPromiseFromAClient_isAConnectionProtocolError() {
        expectConnectionError(F.frame(type: 5, flags: 4, stream: 1, payload: [0, 0, 0, 2, 0x82]), .protocolError,
                              .pushPromiseReceived(stream: 1))
    }

    @Test func prefaceFollowedByAnythingButSettings_isAConnectionProtocolError() {
        for first in [F.frame(type: 6, payload: [UInt8](repeating: 0, count: 8)), F.frame(type: 4, flags: 1),
                      F.frame(type: 0x42)] {
            let run = F.run(HTTP2FrameParser.clientPreface + first, parser: HTTP2FrameParser())
            #expect(run.results == [.preface(consumed: 24)])
            #expect(run.error == HTTP2FrameError(.connection, .protocolError, .firstFrameNotSettings(type: first[3])))
        }
    }

    @Test func openFieldBlock_acceptsOnlyAContinuationOfItsStream() {
        let open = F.frame(type: 1, stream: 3, payload: [0x82])
        for next in [F.frame(type: 0, stream: 3), F.frame(type: 9, flags: 4, stream: 5), F.frame(type: 0x42, stream: 3),
                     F.frame(type: 1, flags: 4, stream: 3), F.frame(type: 4, flags: 1)] {
            let run = F.run(open + next)
            #expect(run.frames.count == 1)
            #expect(run.error == HTTP2FrameError(.connection, .protocolError, .expectedContinuation(
                stream: 3, receivedType: next[3], receivedStream: UInt32(next[8]))))
        }
    }

    @Test func continuationWithoutAnOpenFieldBlock_isAConnectionProtocolError() {
        expectConnectionError(F.frame(type: 9, flags: 4, stream: 1, payload: [0x82]), .protocolError,
                              .unexpectedContinuation(stream: 1))
        let closed = F.frame(type: 1, flags: 4, stream: 1, payload: [0x82]) + F.frame(type: 9, flags: 4, stream: 1)
        #expect(F.run(closed).error?.rule == .unexpectedContinuation(stream: 1))
    }

    @Test func emptyContinuationFlood_isEnhanceYourCalm_afterTheLimit() {
        var bytes = F.frame(type: 1, stream: 1, payload: [0x82])
        for _ in 0..<HTTP2FrameLimits.defaultMaxContinuationFrames { bytes += F.frame(type: 9, stream: 1) }
        let accepted = F.run(bytes)
        #expect(accepted.error == nil && accepted.frames.count == 1 + HTTP2FrameLimits.defaultMaxContinuationFrames)
        expectConnectionError(bytes + F.frame(type: 9, stream: 1), .enhanceYourCalm,
                              .tooManyContinuations(count: 17, limit: 16))
    }

    @Test func fieldBlockOverTheLimit_isEnhanceYourCalm_beforeTheContinuationPayloadArrives() {
        let full = [UInt8](repeating: 0x82, count: 16_384)
        let bytes = F.frame(type: 1, stream: 1, payload: full) + F.frame(type: 9, stream: 1, payload: full)
        #expect(F.run(bytes).error == nil)  // 32,768 bytes: exactly the default limit
        expectConnectionError(bytes + F.frame(type: 9, flags: 4, stream: 1, length: 1), .enhanceYourCalm,
                              .headerBlockTooLarge(bytes: 32_769, limit: 32_768))
    }

    @Test func singleHeadersFrameOverTheBlockLimit_isEnhanceYourCalm() {
        let parser = HTTP2FrameParser(limits: HTTP2FrameLimits(maxFrameSize: 65_536, maxHeaderBlockBytes: 100), start: .frames)
        expectConnectionError(F.frame(type: 1, flags: 4, stream: 1, payload: [UInt8](repeating: 0x82, count: 101)),
                              .enhanceYourCalm, .headerBlockTooLarge(bytes: 101, limit: 100), parser: parser)
    }

    @Test func errorCodes_haveTheirRFCValuesAndNames() {
        #expect(HTTP2ErrorCode.allDefined.map(\.rawValue) == Array(0...13))
        #expect(HTTP2ErrorCode.enhanceYourCalm.description == "ENHANCE_YOUR_CALM")
        #expect(HTTP2ErrorCode.http11Required.rawValue == 0xd)
        #expect(HTTP2ErrorCode(rawValue: 0x42).description == "0x42")
    }

    @Test func settingsApply_inOrder_ignoringUnknownIdentifiers() throws {
        var settings = HTTP2Settings()
        #expect(settings.initialWindowSize == 65_535 && settings.maxFrameSize == 16_384 && settings.enablePush)
        try settings.apply([HTTP2Setting(.initialWindowSize, 1), HTTP2Setting(HTTP2SettingIdentifier(rawValue: 99), 5),
                            HTTP2Setting(.enablePush, 0), HTTP2Setting(.initialWindowSize, 2),
                            HTTP2Setting(.maxConcurrentStreams, 100)])
        #expect(settings.initialWindowSize == 2 && !settings.enablePush && settings.maxConcurrentStreams == 100)
    }

    @Test func settingsApply_withAnInvalidValue_changesNothing() {
        var settings = HTTP2Settings()
        #expect(throws: HTTP2FrameError(.connection, .flowControlError, .invalidSetting(HTTP2Setting(.initialWindowSize, 1 << 31)))) {
            try settings.apply([HTTP2Setting(.maxConcurrentStreams, 1), HTTP2Setting(.initialWindowSize, 1 << 31)])
        }
        #expect(settings == HTTP2Settings())
    }
}

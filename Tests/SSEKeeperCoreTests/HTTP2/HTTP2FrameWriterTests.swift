import Testing
@testable import SSEKeeperCore

/// `HTTP2FrameWriter`: exact bytes of the frames the server sends, splitting at the peer's frame size, and a
/// writer → parser round trip over random frames.
@Suite struct HTTP2FrameWriterTests {
    typealias F = HTTP2FrameFeeding

    @Test func controlFrames_haveTheirExactBytes() {
        var out: [UInt8] = [0xAA]  // the caller's bytes stay in front
        HTTP2FrameWriter.appendSettings([HTTP2Setting(.maxConcurrentStreams, 128), HTTP2Setting(.initialWindowSize, 1 << 20)],
                                        to: &out)
        HTTP2FrameWriter.appendSettingsAck(to: &out)
        HTTP2FrameWriter.appendPingAck(opaqueData: 0x0102_0304_0506_0708, to: &out)
        HTTP2FrameWriter.appendRSTStream(stream: 3, errorCode: .cancel, to: &out)
        HTTP2FrameWriter.appendWindowUpdate(stream: 0, increment: 0x7FFF_FFFF, to: &out)
        let expected: [UInt8] = [0xAA,
            0, 0, 12, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 128, 0, 4, 0, 0x10, 0, 0,
            0, 0, 0, 4, 1, 0, 0, 0, 0,
            0, 0, 8, 6, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
            0, 0, 4, 3, 0, 0, 0, 0, 3, 0, 0, 0, 8,
            0, 0, 4, 8, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]
        #expect(out == expected)
    }

    @Test func goaway_carriesLastStreamCodeAndDebugData() {
        var out: [UInt8] = []
        Array("flood".utf8).withUnsafeBytes {
            HTTP2FrameWriter.appendGoaway(lastStreamID: 9, errorCode: .enhanceYourCalm, debugData: $0, to: &out)
        }
        #expect(out == [0, 0, 13, 7, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0xb] + Array("flood".utf8))
        #expect(F.single(out) == .goaway(lastStreamID: 9, errorCode: .enhanceYourCalm, debugData: Array("flood".utf8)))
    }

    @Test func largeFieldBlock_isSplitIntoHeadersAndContinuations_atMaxFrameSize() {
        let block = (0..<40_000).map { UInt8(truncatingIfNeeded: $0) }
        var out: [UInt8] = []
        block.withUnsafeBytes {
            HTTP2FrameWriter.appendHeaders(stream: 5, fieldBlock: $0, endStream: true, maxFrameSize: 16_384, to: &out)
        }
        #expect(out.count == 40_000 + 27)
        let parser = HTTP2FrameParser(limits: HTTP2FrameLimits(maxHeaderBlockBytes: 40_000), start: .frames)
        let run = F.run(out, parser: parser)
        #expect(run.frames == [
            .headers(stream: 5, fragment: Array(block[0..<16_384]), endStream: true, endHeaders: false, priority: nil,
                     paddingLength: nil),
            .continuation(stream: 5, fragment: Array(block[16_384..<32_768]), endHeaders: false),
            .continuation(stream: 5, fragment: Array(block[32_768...]), endHeaders: true),
        ])
    }

    @Test func emptyFieldBlock_isOneHeadersFrameWithEndHeaders() {
        var out: [UInt8] = []
        HTTP2FrameWriter.appendHeaders(stream: 1, fieldBlock: UnsafeRawBufferPointer(start: nil, count: 0),
                                       endStream: false, maxFrameSize: 16_384, to: &out)
        #expect(out == [0, 0, 0, 1, 4, 0, 0, 0, 1])
    }

    @Test func largeData_isSplitAtMaxFrameSize_withEndStreamOnlyOnTheLast() {
        let payload = [UInt8](repeating: 0x64, count: 20_000)
        var out: [UInt8] = []
        payload.withUnsafeBytes {
            HTTP2FrameWriter.appendData(stream: 7, payload: $0, endStream: true, maxFrameSize: 16_384, to: &out)
        }
        #expect(F.run(out).frames == [
            .data(stream: 7, payload: Array(payload[0..<16_384]), endStream: false, paddingLength: nil),
            .data(stream: 7, payload: Array(payload[16_384...]), endStream: true, paddingLength: nil),
        ])
    }

    @Test func emptyDataWithEndStream_isOneEmptyFrame() {
        var out: [UInt8] = []
        HTTP2FrameWriter.appendData(stream: 7, payload: UnsafeRawBufferPointer(start: nil, count: 0), endStream: true,
                                    maxFrameSize: 16_384, to: &out)
        #expect(out == [0, 0, 0, 0, 1, 0, 0, 0, 7])
    }

    @Test func randomFrames_roundTripThroughWriterAndParser() {
        for seed in UInt64(1)...200 {
            var generator = SplitMix64(seed: seed)
            let frames = Self.randomFrames(using: &generator)
            var bytes: [UInt8] = []
            for frame in frames { HTTP2FrameWriter.append(frame, to: &bytes) }
            let run = F.run(bytes, seed: seed)
            #expect(run.frames == frames && run.error == nil && run.leftover == 0, "seed \(seed)")
            if run.frames != frames { return }
        }
    }

    /// A valid sequence of up to 12 frames of every type, field blocks completed by CONTINUATIONs.
    static func randomFrames(using generator: inout SplitMix64) -> [HTTP2Frame] {
        func bytes(_ range: ClosedRange<Int>) -> [UInt8] {
            (0..<generator.int(range)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
        func stream() -> UInt32 { UInt32(generator.int(1...0x7FFF_FFFF)) }
        func padding() -> Int? { generator.chance(0.3) ? generator.int(0...255) : nil }
        func priority(not stream: UInt32) -> HTTP2Priority {
            var dependency = UInt32(generator.int(0...0x7FFF_FFFF))
            if dependency == stream { dependency ^= 1 }
            return HTTP2Priority(exclusive: generator.chance(0.5), dependency: dependency,
                                 weight: UInt8(generator.int(0...255)))
        }
        var frames: [HTTP2Frame] = []
        for _ in 0..<generator.int(0...12) {
            let id = stream()
            switch generator.int(0...10) {
            case 0: frames.append(.data(stream: id, payload: bytes(0...300), endStream: generator.chance(0.5),
                                        paddingLength: padding()))
            case 1:
                let endHeaders = generator.chance(0.5)
                frames.append(.headers(stream: id, fragment: bytes(0...200), endStream: generator.chance(0.5),
                                       endHeaders: endHeaders, priority: generator.chance(0.5) ? priority(not: id) : nil,
                                       paddingLength: padding()))
                if !endHeaders {
                    let count = generator.int(1...3)
                    for index in 1...count {
                        frames.append(.continuation(stream: id, fragment: bytes(0...100), endHeaders: index == count))
                    }
                }
            case 2: frames.append(.priority(stream: id, priority(not: id)))
            case 3: frames.append(.rstStream(stream: id, errorCode: HTTP2ErrorCode(rawValue: UInt32(generator.int(0...20)))))
            case 4:
                let valid: [HTTP2Setting] = [HTTP2Setting(.headerTableSize, UInt32(generator.int(0...65_536))),
                                             HTTP2Setting(.enablePush, UInt32(generator.int(0...1))),
                                             HTTP2Setting(.maxConcurrentStreams, UInt32(generator.int(0...1000))),
                                             HTTP2Setting(.initialWindowSize, UInt32(generator.int(0...0x7FFF_FFFF))),
                                             HTTP2Setting(.maxFrameSize, UInt32(generator.int(16_384...16_777_215))),
                                             HTTP2Setting(HTTP2SettingIdentifier(rawValue: UInt16(generator.int(7...0xFFFF))), 1)]
                frames.append(.settings((0..<generator.int(0...8)).map { _ in valid[generator.int(0...5)] }))
            case 5: frames.append(.settingsAck)
            case 6: frames.append(generator.chance(0.5) ? .ping(opaqueData: generator.next()) : .pingAck(opaqueData: generator.next()))
            case 7: frames.append(.goaway(lastStreamID: UInt32(generator.int(0...0x7FFF_FFFF)),
                                          errorCode: HTTP2ErrorCode(rawValue: UInt32(truncatingIfNeeded: generator.next())),
                                          debugData: bytes(0...40)))
            case 8: frames.append(.windowUpdate(stream: generator.chance(0.5) ? 0 : id,
                                                increment: UInt32(generator.int(1...0x7FFF_FFFF))))
            case 9: frames.append(.unknown(type: UInt8(generator.int(10...255)), flags: UInt8(generator.int(0...255)),
                                           stream: UInt32(generator.int(0...0x7FFF_FFFF)), length: generator.int(0...50)))
            default: frames.append(.data(stream: id, payload: [], endStream: false, paddingLength: nil))
            }
        }
        return frames
    }
}

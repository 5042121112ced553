import Testing
@testable import SSEKeeperCore

@Suite struct RequestBodyForwarderTests {
    typealias Feeding = RequestBodyFeeding

    // MARK: - Body-less requests

    @Test(arguments: [BodyFraming.none, .closeDelimited, .contentLength(0)])
    func bodylessRequest_isCompleteAtOnce_andForwardsNothing(_ framing: BodyFraming) throws {
        let forwarder = try RequestBodyForwarder(framing: framing, maxBodyBytes: 0)
        #expect(forwarder.isComplete && !forwarder.hasBody && forwarder.bodyBytes == 0)
        let result = Feeding.forward(Feeding.nextRequest, framing: framing, maxBodyBytes: 0)
        #expect(result.outcome == .complete(consumed: 0))
        #expect(result.upstream.isEmpty)
    }

    @Test(arguments: [BodyFraming.contentLength(1), .chunked])
    func requestWithABody_saysSo_andIsNotCompleteBeforeItsBytes(_ framing: BodyFraming) throws {
        let forwarder = try RequestBodyForwarder(framing: framing, maxBodyBytes: nil)
        #expect(forwarder.hasBody && !forwarder.isComplete && forwarder.bodyBytes == 0)
    }

    // MARK: - Content-Length

    @Test func contentLengthBody_passesThroughUnchanged() {
        let result = Feeding.forward("hello\r\n0\r\n\r\n", framing: .contentLength(12))
        #expect(result.outcome == .complete(consumed: 12))
        #expect(result.upstreamText == "hello\r\n0\r\n\r\n")
        #expect(result.bodyBytes == 12 && result.isComplete && result.upstreamSawTheEnd)
    }

    @Test func shortContentLengthBody_needsMore_andForwardsWhatCame() {
        let result = Feeding.forward("hel", framing: .contentLength(5))
        #expect(result.outcome == .needMore)
        #expect(result.upstreamText == "hel" && result.bodyBytes == 3 && !result.isComplete)
    }

    @Test func contentLengthBody_stopsAtTheDeclaredLength_leavingPipelinedBytes() {
        let result = Feeding.forward("hello" + Feeding.nextRequest, framing: .contentLength(5))
        #expect(result.outcome == .complete(consumed: 5))
        #expect(result.upstreamText == "hello")
    }

    @Test func contentLengthBody_isNotChunkDecoded_evenWhenItLooksChunked() {
        // The upstream reads exactly Content-Length bytes, so they go as they are: no smuggled request.
        let body = "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n"
        let result = Feeding.forward(body, framing: .contentLength(UInt64(body.utf8.count)))
        #expect(result.upstreamText == body && result.outcome == .complete(consumed: body.utf8.count))
    }

    @Test func contentLength_atTheLimit_isAccepted_andOneOver_isRefusedUpFront() throws {
        let atLimit = try RequestBodyForwarder(framing: .contentLength(100), maxBodyBytes: 100)
        #expect(atLimit.hasBody)
        #expect(throws: RequestBodyError.tooLarge(limit: 100)) {
            try RequestBodyForwarder(framing: .contentLength(101), maxBodyBytes: 100)
        }
        #expect(throws: RequestBodyError.tooLarge(limit: 0)) {
            try RequestBodyForwarder(framing: .contentLength(1), maxBodyBytes: 0)
        }
        let unlimited = try RequestBodyForwarder(framing: .contentLength(.max), maxBodyBytes: nil)
        #expect(unlimited.hasBody)
    }

    // MARK: - Chunked

    @Test func chunkedBody_isDecoded_andReencodedAsCleanChunks() {
        let result = Feeding.forward("5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n", framing: .chunked)
        #expect(result.outcome == .complete(consumed: 27))
        #expect(result.upstreamText == "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n")
        #expect(result.dataText == "hello, world" && result.bodyBytes == 12 && result.upstreamSawTheEnd)
    }

    @Test func chunkExtensionsAndTrailers_areDropped() {
        let input = "5;name=\"v;x\" ; flag\r\nhello\r\n0;last=1\r\nX-Checksum: 12\r\nExpires: never\r\n\r\n"
        let result = Feeding.forward(input, framing: .chunked)
        #expect(result.outcome == .complete(consumed: input.utf8.count))
        #expect(result.upstreamText == "5\r\nhello\r\n0\r\n\r\n")
    }

    @Test func chunkSizes_areRewrittenWithoutLeadingZeros_inLowercaseHex() {
        let data = String(repeating: "x", count: 26)
        let result = Feeding.forward("001A\r\n\(data)\r\n0000\r\n\r\n", framing: .chunked)
        #expect(result.upstreamText == "1a\r\n\(data)\r\n0\r\n\r\n")
    }

    @Test func emptyChunkedBody_isJustTheLastChunk() {
        for input in ["0\r\n\r\n", "000\r\n\r\n", "0;e\r\nT: v\r\n\r\n"] {
            let result = Feeding.forward(input, framing: .chunked, maxBodyBytes: 0)
            #expect(result.outcome == .complete(consumed: input.utf8.count), "\(input.debugDescription)")
            #expect(result.upstreamText == "0\r\n\r\n" && result.bodyBytes == 0)
        }
    }

    @Test func bytesAfterTheLastChunk_arePipelined_notForwarded() {
        let body = "3\r\nabc\r\n0\r\n\r\n"
        let result = Feeding.forward(body + Feeding.nextRequest, framing: .chunked)
        #expect(result.outcome == .complete(consumed: body.utf8.count))
        #expect(result.upstreamText == "3\r\nabc\r\n0\r\n\r\n")
    }

    @Test func unfinishedChunkedBody_needsMore_andForwardsNoLastChunk() {
        let result = Feeding.forward("a\r\n01234", framing: .chunked)
        #expect(result.outcome == .needMore)
        #expect(result.dataText == "01234" && !result.upstreamSawTheEnd && !result.isComplete)
    }

    @Test func chunkedBody_isCountedOnDecodedData_exactlyAtTheLimit() {
        // 5 data bytes, far more framing bytes: only the data counts.
        let input = "5;an-extension-longer-than-the-limit\r\nhello\r\n0\r\nTrailer: also-not-counted\r\n\r\n"
        let result = Feeding.forward(input, framing: .chunked, maxBodyBytes: 5)
        #expect(result.outcome == .complete(consumed: input.utf8.count))
        #expect(result.bodyBytes == 5 && result.dataText == "hello")
    }

    @Test func chunkedBody_oneByteOverTheLimit_isTooLarge_andNeverEndsAtTheUpstream() {
        let result = Feeding.forward("5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n", framing: .chunked, maxBodyBytes: 5)
        #expect(result.outcome == .rejected(.tooLarge(limit: 5)))
        #expect(result.upstream.isEmpty, "the rejecting call takes back what it appended")
        #expect(result.bodyBytes == 0)
    }

    @Test func dataPastTheLimit_isRejectedAsTooLarge_beforeALaterFramingError() {
        let result = Feeding.forward("6\r\nhello!X\r\n", framing: .chunked, maxBodyBytes: 5)
        #expect(result.outcome == .rejected(.tooLarge(limit: 5)))
    }

    @Test func framingErrorBeforeTheLimit_isRejectedAsInvalid() {
        let result = Feeding.forward("3\r\nabcX\r\n9\r\n123456789\r\n", framing: .chunked, maxBodyBytes: 5)
        #expect(result.outcome == .rejected(.invalidChunked(.missingCRLFAfterChunkData(offset: 6))))
    }

    @Test(arguments: ChunkedDecoderTests.malformed)
    func malformedChunkedBody_isRejected_byTheDecodersRules(_ name: String, _ input: String, _ error: ChunkedDecodingError) {
        let result = Feeding.forward(input, framing: .chunked)
        #expect(result.outcome == .rejected(.invalidChunked(error)), "\(name)")
        #expect(!result.upstreamSawTheEnd)
    }

    @Test func trailersLongerThanTheDecodersLimit_areRejected() {
        let trailer = "X: " + String(repeating: "t", count: ChunkedDecoder.defaultMaxTrailerBytes) + "\r\n"
        let result = Feeding.forward("1\r\na\r\n0\r\n" + trailer + "\r\n", framing: .chunked)
        #expect(result.outcome == .rejected(.invalidChunked(.trailersTooLong(offset: 9 + ChunkedDecoder.defaultMaxTrailerBytes))))
    }

    // MARK: - Call contract

    @Test func rejectingCall_takesBackOnlyWhatItAppended_andLaterCallsRepeatTheRejection() throws {
        var forwarder = try RequestBodyForwarder(framing: .chunked, maxBodyBytes: 8)
        var upstream = Array("pending".utf8)
        let first = Array("4\r\nabcd\r\n".utf8).withUnsafeBytes { forwarder.feed($0, into: &upstream) }
        #expect(first == .needMore && String(decoding: upstream, as: UTF8.self) == "pending4\r\nabcd\r\n")
        let second = Array("2\r\nef\r\n3\r\nghi\r\n".utf8).withUnsafeBytes { forwarder.feed($0, into: &upstream) }
        #expect(second == .rejected(.tooLarge(limit: 8)))
        #expect(String(decoding: upstream, as: UTF8.self) == "pending4\r\nabcd\r\n")
        #expect(forwarder.bodyBytes == 4 && !forwarder.isComplete)
        let third = Array("0\r\n\r\n".utf8).withUnsafeBytes { forwarder.feed($0, into: &upstream) }
        #expect(third == .rejected(.tooLarge(limit: 8)))
        #expect(String(decoding: upstream, as: UTF8.self) == "pending4\r\nabcd\r\n")
    }

    @Test func bytesAlreadyInTheUpstreamBuffer_areKept() throws {
        var forwarder = try RequestBodyForwarder(framing: .contentLength(2), maxBodyBytes: nil)
        var upstream = Array("head".utf8)
        let outcome = Array("okGET".utf8).withUnsafeBytes { forwarder.feed($0, into: &upstream) }
        #expect(outcome == .complete(consumed: 2) && String(decoding: upstream, as: UTF8.self) == "headok")
    }

    @Test func emptyFeed_needsMore_andChangesNothing() throws {
        for framing in [BodyFraming.contentLength(3), .chunked] {
            var forwarder = try RequestBodyForwarder(framing: framing, maxBodyBytes: nil)
            var upstream: [UInt8] = []
            let outcome = [UInt8]().withUnsafeBytes { forwarder.feed($0, into: &upstream) }
            #expect(outcome == .needMore && upstream.isEmpty && forwarder.bodyBytes == 0)
        }
    }

    // MARK: - Errors

    @Test func errors_carryTheirStatusAndSayWhatWentWrong() {
        #expect(RequestBodyError.tooLarge(limit: 1024).status == 413)
        #expect(RequestBodyError.tooLarge(limit: 1024).description == "request body is larger than max_body_size 1024")
        let invalid = RequestBodyError.invalidChunked(.invalidChunkSize(offset: 3))
        #expect(invalid.status == 400)
        #expect(invalid.description == "invalid chunked request body: chunked body error: invalidChunkSize(offset: 3)")
    }

    // MARK: - Smuggling guard upstream of the forwarder

    @Test func contentLengthWithTransferEncoding_neverReachesTheForwarder() {
        let head = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        guard let request = HeadFeeding.request(head).head else {
            Issue.record("head did not parse")
            return
        }
        #expect(throws: HTTPParseError(.contentLengthWithTransferEncoding)) { try request.bodyFraming() }
    }
}

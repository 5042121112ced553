import Testing
@testable import SSEKeeperCore

/// What a `ChunkedDecoder` made of some input.
struct ChunkedOutcome: Equatable {
    var body: [UInt8] = []
    var consumed = 0
    var finished = false
    var error: ChunkedDecodingError?

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Feeds chunked bodies whole, one byte at a time, in uneven pieces, and followed by a pipelined request; the
/// outcome must be the same each way (the trailing bytes must not be consumed).
enum ChunkedFeeding {
    static let trailingBytes = Array("GET /next HTTP/1.1\r\nHost: a\r\n\r\n".utf8)

    static func decode(
        _ text: String,
        decoder: ChunkedDecoder = ChunkedDecoder(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> ChunkedOutcome {
        let bytes = Array(text.utf8)
        let whole = feed(bytes, pieceSize: bytes.count, decoder: decoder)
        for pieceSize in [1, 2, 7] {
            let pieces = feed(bytes, pieceSize: pieceSize, decoder: decoder)
            #expect(pieces == whole, "pieces of \(pieceSize) differ from whole", sourceLocation: sourceLocation)
        }
        // Two reads, cut at every position: a read may end anywhere in a size line, its CRLF, the data or the CRLF
        // after it (the whole-chunk path looks past the size line into the same read).
        for cut in 1..<max(bytes.count, 1) {
            let split = feed(bytes, ends: [cut, bytes.count], decoder: decoder)
            #expect(split == whole, "two reads cut at \(cut) differ from whole", sourceLocation: sourceLocation)
        }
        if whole.finished || whole.error != nil {
            let trailing = feed(bytes + trailingBytes, pieceSize: bytes.count + trailingBytes.count, decoder: decoder)
            #expect(trailing == whole, "with trailing bytes differs from whole", sourceLocation: sourceLocation)
        }
        return whole
    }

    static func feed(_ bytes: [UInt8], pieceSize: Int, decoder: ChunkedDecoder) -> ChunkedOutcome {
        let step = max(pieceSize, 1)
        return feed(bytes, ends: Array(stride(from: step, to: bytes.count, by: step)) + [bytes.count], decoder: decoder)
    }

    /// Feeds `bytes` in reads that end at `ends` (increasing, the last `bytes.count`).
    static func feed(_ bytes: [UInt8], ends: [Int], decoder: ChunkedDecoder) -> ChunkedOutcome {
        var decoder = decoder
        var outcome = ChunkedOutcome()
        var start = 0
        var nextEnd = ends.makeIterator()
        repeat {
            let end = min(nextEnd.next() ?? bytes.count, bytes.count)
            do {
                let (consumed, finished) = try bytes[start..<end].withUnsafeBytes { piece in
                    try decoder.decode(piece) { outcome.body += $0 }
                }
                outcome.consumed += consumed
                outcome.finished = finished
                if finished { return outcome }
                if consumed != end - start { Issue.record("unfinished decoder left \(end - start - consumed) bytes") }
            } catch let error as ChunkedDecodingError {
                // A failed call reports no count, so what earlier calls consumed depends on the split: drop it.
                outcome.error = error
                outcome.consumed = 0
                return outcome
            } catch {
                Issue.record("unexpected error \(error)")
                return outcome
            }
            start = end
        } while start < bytes.count
        return outcome
    }
}

@Suite struct ChunkedDecoderTests {
    @Test func chunks_areDecoded_andTheBodyEndsAtTheLastChunk() {
        let input = "5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n"
        let outcome = ChunkedFeeding.decode(input)
        #expect(outcome == ChunkedOutcome(body: Array("hello world!".utf8), consumed: input.utf8.count, finished: true))
    }

    @Test func hexSizes_acceptBothCases_andLeadingZeros() {
        let data = String(repeating: "x", count: 26)
        for size in ["1a", "1A", "001a"] {
            #expect(ChunkedFeeding.decode("\(size)\r\n\(data)\r\n0\r\n\r\n").bodyText == data)
        }
    }

    @Test func emptyBody_isJustTheLastChunk() {
        #expect(ChunkedFeeding.decode("0\r\n\r\n") == ChunkedOutcome(consumed: 5, finished: true))
        #expect(ChunkedFeeding.decode("000\r\n\r\n").finished)
    }

    @Test func extensions_areSkipped_includingQuotedValuesAndWhitespace() {
        let input = "5;name=value\r\nhello\r\n5 ; a = \"q;uoted\" ;b\r\nworld\r\n0;last\r\n\r\n"
        let outcome = ChunkedFeeding.decode(input)
        #expect(outcome.bodyText == "helloworld")
        #expect(outcome.finished && outcome.consumed == input.utf8.count)
    }

    @Test func trailers_areSkipped() {
        let input = "3\r\nabc\r\n0\r\nExpires: never\r\nX-Checksum: 12\r\n\r\n"
        let outcome = ChunkedFeeding.decode(input)
        #expect(outcome == ChunkedOutcome(body: Array("abc".utf8), consumed: input.utf8.count, finished: true))
    }

    @Test func bytesAfterTheLastChunk_areNotConsumed_andLaterCallsConsumeNothing() throws {
        var decoder = ChunkedDecoder()
        let bytes = Array("2\r\nok\r\n0\r\n\r\nGET / HTTP/1.1\r\n".utf8)
        let first = try bytes.withUnsafeBytes { try decoder.decode($0) { _ in } }
        #expect(first.consumed == 12 && first.finished)
        #expect(decoder.isFinished)
        let again = try bytes[12...].withUnsafeBytes { try decoder.decode($0) { _ in Issue.record("no more data") } }
        #expect(again.consumed == 0 && again.finished)
    }

    @Test func bodyBytes_areHandedOutAsSlicesOfTheInput() throws {
        var decoder = ChunkedDecoder()
        let bytes = Array("4\r\nabcd\r\n".utf8)
        try bytes.withUnsafeBytes { input in
            _ = try decoder.decode(input) { run in
                #expect(run.baseAddress == input.baseAddress! + 3)
                #expect(run.count == 4)
            }
        }
    }

    @Test func partialBody_isNotFinished_andConsumesEverything() {
        let outcome = ChunkedFeeding.decode("a\r\n01234")
        #expect(outcome == ChunkedOutcome(body: Array("01234".utf8), consumed: 8, finished: false))
    }

    @Test func sixteenHexDigits_areAccepted() {
        let outcome = ChunkedFeeding.decode("ffffffffffffffff\r\nabc")
        #expect(outcome.error == nil && outcome.bodyText == "abc")
    }

    static let malformed: [(String, String, ChunkedDecodingError)] = [
        ("17 digits", "00000000000000001\r\nx\r\n0\r\n\r\n", .chunkSizeTooLong(offset: 16)),
        ("empty size", "\r\nabc\r\n", .invalidChunkSize(offset: 0)),
        ("non-hex size", "g\r\n", .invalidChunkSize(offset: 0)),
        ("negative size", "-1\r\n", .invalidChunkSize(offset: 0)),
        ("hex prefix", "0x5\r\nhello\r\n", .invalidChunkSize(offset: 1)),
        ("digit after space", "5 5\r\n", .invalidChunkSize(offset: 2)),
        ("bare LF after size", "5\nhello\r\n", .missingCRLFAfterChunkSize(offset: 1)),
        ("CR without LF after size", "5\rhello\r\n", .missingCRLFAfterChunkSize(offset: 2)),
        ("bare LF after extension", "5;a=b\nhello\r\n", .missingCRLFAfterChunkSize(offset: 5)),
        ("bare LF after data", "5\r\nhello\n0\r\n\r\n", .missingCRLFAfterChunkData(offset: 8)),
        ("data longer than its size", "5\r\nhello!\r\n0\r\n\r\n", .missingCRLFAfterChunkData(offset: 8)),
        ("CR without LF after data", "5\r\nhello\r0\r\n\r\n", .missingCRLFAfterChunkData(offset: 9)),
        ("NUL in extension", "5;a=\0\r\nhello\r\n", .invalidChunkExtension(offset: 4)),
        ("bare LF in trailer", "0\r\nX: y\n\r\n", .invalidTrailer(offset: 7)),
        ("control byte in trailer", "0\r\nX: \u{1}\r\n\r\n", .invalidTrailer(offset: 6)),
        ("CR without LF ending the body", "0\r\n\rX", .invalidTrailer(offset: 4)),
    ]

    @Test(arguments: malformed)
    func malformedChunkedBody_isRejected_atTheOffendingByte(_ name: String, _ input: String, _ error: ChunkedDecodingError) {
        #expect(ChunkedFeeding.decode(input).error == error, "\(name)")
    }

    @Test func extensionsLongerThanTheLimit_areRejected() {
        let decoder = ChunkedDecoder(maxExtensionBytes: 8)
        #expect(ChunkedFeeding.decode("5;abcdefg\r\nhello\r\n0\r\n\r\n", decoder: decoder).error == nil)
        #expect(ChunkedFeeding.decode("5;abcdefgh\r\nhello\r\n", decoder: decoder).error == .chunkExtensionTooLong(offset: 9))
        #expect(ChunkedFeeding.decode("5" + String(repeating: " ", count: 20), decoder: decoder).error == .chunkExtensionTooLong(offset: 9))
    }

    @Test func trailersLongerThanTheLimit_areRejected() {
        let decoder = ChunkedDecoder(maxTrailerBytes: 12)
        #expect(ChunkedFeeding.decode("0\r\nX: 12345\r\n\r\n", decoder: decoder).finished)
        #expect(ChunkedFeeding.decode("0\r\nX: 123456\r\n\r\n", decoder: decoder).error == .trailersTooLong(offset: 15))
    }

    @Test func chunkSizeDigitLimit_isConfigurable() {
        let decoder = ChunkedDecoder(maxChunkSizeDigits: 4)
        #expect(ChunkedFeeding.decode("ffff\r\n", decoder: decoder).error == nil)
        #expect(ChunkedFeeding.decode("10000\r\n", decoder: decoder).error == .chunkSizeTooLong(offset: 4))
    }

    @Test func chunkSizeOverflow_isRejected_evenWithAGenerousDigitLimit() {
        let decoder = ChunkedDecoder(maxChunkSizeDigits: 40)
        #expect(ChunkedFeeding.decode("10000000000000000\r\n", decoder: decoder).error == .chunkSizeTooLong(offset: 16))
    }

    @Test func decodingErrors_areSticky() throws {
        var decoder = ChunkedDecoder()
        let bad = Array("z\r\n".utf8)
        #expect(throws: ChunkedDecodingError.invalidChunkSize(offset: 0)) {
            try bad.withUnsafeBytes { try decoder.decode($0) { _ in } }
        }
        let good = Array("0\r\n\r\n".utf8)
        #expect(throws: ChunkedDecodingError.invalidChunkSize(offset: 0)) {
            try good.withUnsafeBytes { try decoder.decode($0) { _ in } }
        }
    }

    @Test func errorOffsets_countFromTheStartOfTheBody_acrossCalls() throws {
        var decoder = ChunkedDecoder()
        let first = Array("3\r\nabc\r\n".utf8)
        _ = try first.withUnsafeBytes { try decoder.decode($0) { _ in } }
        let second = Array("q".utf8)
        #expect(throws: ChunkedDecodingError.invalidChunkSize(offset: 8)) {
            try second.withUnsafeBytes { try decoder.decode($0) { _ in } }
        }
    }

    @Test func errorsFromOnData_propagate() {
        struct Stop: Error {}
        var decoder = ChunkedDecoder()
        let bytes = Array("3\r\nabc\r\n".utf8)
        #expect(throws: Stop.self) {
            try bytes.withUnsafeBytes { try decoder.decode($0) { _ in throw Stop() } }
        }
    }

    @Test func errorDescription_namesTheCaseAndOffset() {
        #expect(ChunkedDecodingError.invalidTrailer(offset: 7).description == "chunked body error: invalidTrailer(offset: 7)")
        #expect(ChunkedDecodingError.trailersTooLong(offset: 3).offset == 3)
    }
}

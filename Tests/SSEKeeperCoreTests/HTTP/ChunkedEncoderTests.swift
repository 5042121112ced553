import Testing
@testable import SSEKeeperCore

@Suite struct ChunkedEncoderTests {
    @Test(arguments: [(1, "1\r\n"), (15, "f\r\n"), (26, "1a\r\n"), (4096, "1000\r\n"), (Int.max, "7fffffffffffffff\r\n")])
    func header_isTheSizeInLowercaseHex_andCRLF(_ count: Int, _ expected: String) {
        #expect(HeadFeeding.text(ChunkedEncoder.header(forChunkOf: count)) == expected)
    }

    @Test func writeHeader_fillsACallerBuffer_andReturnsTheLength() {
        var buffer = [UInt8](repeating: 0, count: ChunkedEncoder.maxHeaderBytes)
        let written = buffer.withUnsafeMutableBytes { ChunkedEncoder.writeHeader(forChunkOf: 0xbeef, into: $0) }
        #expect(written == 6)
        #expect(HeadFeeding.text(Array(buffer[..<written])) == "beef\r\n")
    }

    @Test func constants_areTheChunkTerminatorAndTheLastChunk() {
        #expect(HeadFeeding.text(ChunkedEncoder.chunkTrailer) == "\r\n")
        #expect(HeadFeeding.text(ChunkedEncoder.lastChunk) == "0\r\n\r\n")
    }

    @Test func appendChunk_writesHeaderDataAndCRLF_andNothingForEmptyData() {
        var output: [UInt8] = []
        Array("data: hi\n\n".utf8).withUnsafeBytes { ChunkedEncoder.appendChunk($0, to: &output) }
        [UInt8]().withUnsafeBytes { ChunkedEncoder.appendChunk($0, to: &output) }
        #expect(HeadFeeding.text(output) == "a\r\ndata: hi\n\n\r\n")
    }

    @Test func encodedBody_decodesBackToTheSameBytes() {
        let pieces = ["event: a\ndata: 1\n\n", String(repeating: "z", count: 300), ":\n"]
        var body: [UInt8] = []
        for piece in pieces {
            Array(piece.utf8).withUnsafeBytes { ChunkedEncoder.appendChunk($0, to: &body) }
        }
        body += ChunkedEncoder.lastChunk
        let outcome = ChunkedFeeding.decode(HeadFeeding.text(body))
        #expect(outcome.bodyText == pieces.joined())
        #expect(outcome.finished && outcome.consumed == body.count)
    }
}

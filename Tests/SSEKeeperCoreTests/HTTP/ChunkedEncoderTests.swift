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

    @Test func openAndCloseChunk_makeOneChunkOfEveryPieceAppended_startingAtTheReturnedOffset() {
        var output: [UInt8] = []
        let slot = ChunkedEncoder.openChunk(in: &output)
        for piece in ["data: 1\n\n", "data: 2\n", "\n"] { output += Array(piece.utf8) }
        let start = ChunkedEncoder.closeChunk(openedAt: slot, in: &output)
        #expect(HeadFeeding.text(Array(output[start...])) == "12\r\ndata: 1\n\ndata: 2\n\n\r\n")
        #expect(start == ChunkedEncoder.maxHeaderBytes - 4)
    }

    @Test func closeChunk_movesWhatCameBeforeTheSlot_upAgainstTheSizeLine() {
        var output = Array("HTTP/1.1 200 OK\r\n\r\n".utf8)
        let slot = ChunkedEncoder.openChunk(in: &output)
        output += Array(String(repeating: "x", count: 300).utf8)
        let start = ChunkedEncoder.closeChunk(openedAt: slot, in: &output)
        #expect(HeadFeeding.text(Array(output[start...])) == "HTTP/1.1 200 OK\r\n\r\n12c\r\n" + String(repeating: "x", count: 300) + "\r\n")
    }

    @Test func closeChunk_withNoData_removesTheSlot_andWritesNoEmptyChunk() {
        var output = Array("before".utf8)
        let slot = ChunkedEncoder.openChunk(in: &output)
        #expect(ChunkedEncoder.closeChunk(openedAt: slot, in: &output) == 0)
        #expect(HeadFeeding.text(output) == "before")
    }

    @Test func closedChunks_decodeBackToTheSameBytes_forSizesAcrossHexDigitCounts() {
        for size in [1, 15, 16, 255, 256, 4095, 4096, 65_536, 70_000] {
            var body: [UInt8] = []
            let slot = ChunkedEncoder.openChunk(in: &body)
            body += (0..<size).map { UInt8(0x61 + $0 % 26) }
            let start = ChunkedEncoder.closeChunk(openedAt: slot, in: &body)
            let wire = Array(body[start...]) + ChunkedEncoder.lastChunk
            let outcome = ChunkedFeeding.decode(HeadFeeding.text(wire))
            #expect(outcome.bodyText.utf8.count == size, "size \(size)")
            #expect(outcome.finished && outcome.consumed == wire.count, "size \(size)")
        }
    }
}

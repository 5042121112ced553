import Testing

@testable import SSEKeeperCore

/// Examples of what the assembler forwards and holds; each input is fed whole, one byte at a time, and in two
/// halves (the property tests cover random streams).
@Suite struct SSEEventAssemblerTests {
    /// Feeds `text` in the given style and returns what was forwarded, and the assembler.
    static func assemble(_ bytes: [UInt8], style: Int, limit: Int = 1024) -> ([UInt8], SSEEventAssembler) {
        var assembler = SSEEventAssembler(maxHeldBytes: limit)
        var out: [UInt8] = []
        let pieces: [[UInt8]]
        switch style {
        case 0: pieces = [bytes]
        case 1: pieces = bytes.map { [$0] }
        default: pieces = [Array(bytes[..<(bytes.count / 2)]), Array(bytes[(bytes.count / 2)...])]
        }
        for piece in pieces {
            piece.withUnsafeBytes { assembler.feed($0) { out += $0 } }
        }
        return (out, assembler)
    }

    @Test(arguments: 0...2) func completeEvent_isForwarded_andPartialOneHeld(style: Int) {
        let (out, assembler) = Self.assemble(Array("id: 7\ndata: a\n\ndata: b".utf8), style: style)
        #expect(out == Array("id: 7\ndata: a\n\n".utf8))
        #expect(assembler.heldByteCount == 7)
        #expect(assembler.lastEventID == .value(Array("7".utf8)))
    }

    @Test(arguments: 0...2) func crlfEvent_isForwarded_withItsWholeLineEnd(style: Int) {
        let (out, assembler) = Self.assemble(Array("data: a\r\n\r\n: c\r\n".utf8), style: style)
        #expect(out == Array("data: a\r\n\r\n: c\r\n".utf8))
        #expect(assembler.heldByteCount == 0)
        #expect(assembler.clientPosition == .lineStart)
    }

    @Test(arguments: 0...2) func crOnlyEvent_isForwarded_atItsSecondCR(style: Int) {
        let (out, assembler) = Self.assemble(Array("id: 3\rdata: a\r\r".utf8), style: style)
        #expect(out == Array("id: 3\rdata: a\r\r".utf8))
        #expect(assembler.clientPosition == .afterCarriageReturn)
        #expect(assembler.lastEventID == .value(Array("3".utf8)))
    }

    @Test(arguments: 0...2) func commentBetweenEvents_isForwarded_whenItsLineEnds(style: Int) {
        let (out, _) = Self.assemble(Array(": ping\n: pi".utf8), style: style)
        #expect(out == Array(": ping\n".utf8))
    }

    @Test func idWithNul_isIgnored_andEmptyIdResets() {
        let (_, withNul) = Self.assemble(Array("id: 1\n\nid: 2\u{0}\n\n".utf8), style: 0)
        #expect(withNul.lastEventID == .value(Array("1".utf8)))
        let (_, reset) = Self.assemble(Array("id: 1\n\nid\n\n".utf8), style: 0)
        #expect(reset.lastEventID == .value([]))
    }

    @Test func idOfAnUnfinishedEvent_isNotTheLastEventID() {
        let (_, assembler) = Self.assemble(Array("id: 1\ndata: a\n\nid: 2\ndata: b\n".utf8), style: 0)
        #expect(assembler.lastEventID == .value(Array("1".utf8)))
    }

    @Test func eventLargerThanTheLimit_passesThrough_andIsNotResumable_untilItsEnd() {
        var assembler = SSEEventAssembler(maxHeldBytes: 8)
        var out: [UInt8] = []
        Array("data: 0123456789".utf8).withUnsafeBytes { assembler.feed($0) { out += $0 } }
        #expect(out == Array("data: 0123456789".utf8))
        #expect(!assembler.isResumable)
        Array("\n\ndata: x".utf8).withUnsafeBytes { assembler.feed($0) { out += $0 } }
        #expect(out == Array("data: 0123456789\n\n".utf8))
        #expect(assembler.isResumable)
        #expect(assembler.overflowCount == 1)
    }

    @Test func resumedStream_dropsThePartialEvent_stripsItsBOM_andRealignsAfterCR() {
        var assembler = SSEEventAssembler(maxHeldBytes: 1024)
        var out: [UInt8] = []
        ([0xEF, 0xBB, 0xBF] + Array("data: a\r\rdata: cut".utf8)).withUnsafeBytes { assembler.feed($0) { out += $0 } }
        #expect(out == [0xEF, 0xBB, 0xBF] + Array("data: a\r\r".utf8))
        #expect(assembler.beginResumedStream() == [0x0A])
        out = []
        ([0xEF, 0xBB, 0xBF] + Array("\ndata: b\n\n".utf8)).withUnsafeBytes { assembler.feed($0) { out += $0 } }
        #expect(out == Array("\ndata: b\n\n".utf8))
    }

    @Test func longIdLine_makesTheStreamNotResumable() {
        let line = "id: " + String(repeating: "x", count: SSEEventAssembler.maxInspectedLineBytes) + "\n\n"
        let (_, assembler) = Self.assemble(Array(line.utf8), style: 0, limit: 4096)
        #expect(assembler.lastEventID == .unreadable)
        #expect(!assembler.isResumable)
    }
}

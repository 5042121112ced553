import Testing
@testable import SSEKeeperCore

/// `RelayOutput` copies into a sized buffer it keeps itself (an end index, room past it). These compare it, for random
/// sequences of its operations, with the same operations done by `ChunkedEncoder`'s array forms on a plain array.
@Suite struct RelayOutputTests {
    /// The array the operations should leave, built the simple way: `bytes[start...]` is what goes out.
    private struct Model {
        var bytes: [UInt8] = []
        var start = 0
        var slot: Int?
        var framing: ClientFraming = .none

        var sent: [UInt8] { Array(bytes[start...]) }

        mutating func removeAll() { bytes = []; start = 0; slot = nil }
        mutating func appendRaw(_ data: [UInt8]) { bytes += data }
        mutating func appendBody(_ data: [UInt8]) {
            guard !data.isEmpty else { return }
            if framing == .chunked && slot == nil {
                data.withUnsafeBytes { ChunkedEncoder.appendChunk($0, to: &bytes) }
            } else {
                bytes += data
            }
        }
        mutating func openChunk() {
            guard framing == .chunked, slot == nil else { return }
            if start > 0 { bytes.removeFirst(start); start = 0 }
            slot = ChunkedEncoder.openChunk(in: &bytes)
        }
        mutating func closeChunk() {
            guard let open = slot else { return }
            slot = nil
            start = ChunkedEncoder.closeChunk(openedAt: open, in: &bytes)
        }
        mutating func appendEndOfBody() { if framing == .chunked { bytes += ChunkedEncoder.lastChunk } }
    }

    private static func output(_ output: RelayOutput) -> [UInt8] {
        output.withUnsafeBytes { Array($0) }
    }

    @Test(arguments: [0, 1, 64])
    func randomOperations_leaveTheBytesTheArrayFormsDo(capacity: Int) {
        var random = SplitMix64(seed: UInt64(capacity) &+ 0x5eed)
        for _ in 0..<300 {
            var output = RelayOutput(capacity: capacity)
            var model = Model()
            let framing: ClientFraming = random.next() % 2 == 0 ? .chunked : .none
            output.framing = framing
            model.framing = framing
            for _ in 0..<(1 + Int(random.next() % 24)) {
                // Sizes around the growth steps (64, doubling) and the chunk header slot (18).
                let size = [0, 1, 2, 17, 18, 19, 63, 64, 65, 200, 1_000][Int(random.next() % 11)]
                let data = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                switch random.next() % 7 {
                case 0: output.appendRaw(data); model.appendRaw(data)
                case 1, 2: data.withUnsafeBytes { output.appendBody($0) }; model.appendBody(data)
                case 3: output.openChunk(); model.openChunk()
                case 4: output.closeChunk(); model.closeChunk()
                case 5: output.appendEndOfBody(); model.appendEndOfBody()
                default:
                    if random.next() % 4 == 0 { output.removeAll(); model.removeAll() }
                }
                #expect(output.count == model.bytes.count - model.start)
            }
            output.closeChunk()
            model.closeChunk()
            #expect(Self.output(output) == model.sent)
            #expect(output.isEmpty == model.sent.isEmpty)
        }
    }

    @Test func aChunkAfterAClosedOne_movesOnlyTheBytesSent_andKeepsThemWhole() {
        var output = RelayOutput(capacity: 8)
        output.framing = .chunked
        output.appendRaw(Array("HEAD\r\n\r\n".utf8))
        output.openChunk()
        Array("data: 1\n\n".utf8).withUnsafeBytes { output.appendBody($0) }
        output.closeChunk()
        output.openChunk()
        Array("data: 2\n\n".utf8).withUnsafeBytes { output.appendBody($0) }
        output.closeChunk()
        output.openChunk()
        output.closeChunk()  // nothing in it: removed
        #expect(HeadFeeding.text(Self.output(output)) == "HEAD\r\n\r\n9\r\ndata: 1\n\n\r\n9\r\ndata: 2\n\n\r\n")
    }

    @Test func removeAll_keepsTheRoom_andForgetsAnOpenChunk() {
        var output = RelayOutput(capacity: 0)
        output.framing = .chunked
        output.openChunk()
        Array(repeating: UInt8(ascii: "x"), count: 5_000).withUnsafeBytes { output.appendBody($0) }
        let room = output.storage.count
        #expect(room >= 5_000 + ChunkedEncoder.maxHeaderBytes)
        output.removeAll()
        #expect(output.isEmpty && output.count == 0)
        #expect(output.storage.count == room)
        Array("a".utf8).withUnsafeBytes { output.appendBody($0) }  // no chunk open: a chunk of its own
        #expect(HeadFeeding.text(Self.output(output)) == "1\r\na\r\n")
    }
}

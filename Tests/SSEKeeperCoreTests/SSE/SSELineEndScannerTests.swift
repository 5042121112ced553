import Testing

@testable import SSEKeeperCore

/// The word-at-a-time line-end search must agree with a byte loop at every offset and length.
@Suite struct SSELineEndScannerTests {
    static func naive(_ bytes: [UInt8], from start: Int, to end: Int) -> Int {
        bytes[start..<end].firstIndex { $0 == 0x0A || $0 == 0x0D } ?? end
    }

    @Test func firstLineEnd_matchesAByteLoop_atEveryPositionAndLength() {
        var rng = SplitMix64(seed: 42)
        let alphabet: [UInt8] = [0x0A, 0x0D, 0x00, 0x09, 0x0B, 0x0C, 0x0E, 0x1A, 0x1D, 0x8A, 0x8D, 0xFF, 0x41, 0x3A]
        for _ in 0..<2_000 {
            let count = rng.int(0...40)
            let bytes = (0..<count).map { _ in rng.chance(0.08) ? rng.pick([0x0A, 0x0D]) : rng.pick(alphabet) }
            bytes.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                for start in 0...count {
                    let end = rng.int(start...count)
                    #expect(SSELineEndScanner.firstLineEnd(in: base, from: start, to: end) == Self.naive(bytes, from: start, to: end))
                }
            }
        }
    }

    @Test func firstLineEnd_findsEachPositionInALongLine() {
        for position in 0..<64 {
            var bytes = [UInt8](repeating: 0x61, count: 64)
            bytes[position] = position % 2 == 0 ? 0x0A : 0x0D
            bytes.withUnsafeBytes { raw in
                #expect(SSELineEndScanner.firstLineEnd(in: raw.baseAddress!, from: 0, to: 64) == position)
            }
        }
    }
}

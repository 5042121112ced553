/// The three ways every relay test feeds its upstream bytes: whole, one byte per read, and cut at random.
enum ReadSplit: CustomStringConvertible, Sendable {
    case whole
    case byteByByte
    case random(seed: UInt64)

    /// The standard set: whole, byte by byte, and `count` random splits.
    static func all(randomCount: Int = 8) -> [ReadSplit] {
        [.whole, .byteByByte] + (0..<UInt64(randomCount)).map { .random(seed: 0x5E1A_7000 + $0) }
    }

    var description: String {
        switch self {
        case .whole: return "whole"
        case .byteByByte: return "byte by byte"
        case .random(let seed): return "random split \(seed)"
        }
    }

    /// `bytes` cut into reads (empty reads only for empty input).
    func reads(of bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        switch self {
        case .whole:
            return [bytes[...]]
        case .byteByByte:
            return bytes.indices.map { bytes[$0...$0] }
        case .random(let seed):
            var rng = SplitMix64(seed: seed)
            var reads: [ArraySlice<UInt8>] = []
            var offset = 0
            for length in SSEStreamGenerator.chunkLengths(count: bytes.count, bytes: bytes, using: &rng) where length > 0 {
                reads.append(bytes[offset..<offset + length])
                offset += length
            }
            return reads.isEmpty ? [bytes[...]] : reads
        }
    }
}

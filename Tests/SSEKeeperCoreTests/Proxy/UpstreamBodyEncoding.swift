@testable import SSEKeeperCore

/// Upstream body encodings for the relay tests: the same body as a Content-Length body, a chunked body (random chunk
/// sizes, sometimes with extensions and a trailer section) or a close-delimited one.
enum UpstreamBodyEncoding: String, CaseIterable, Sendable {
    case contentLength, chunked, closeDelimited

    /// The framing the relay is told, and the bytes on the upstream's wire.
    func encode(_ body: [UInt8], using rng: inout SplitMix64) -> (framing: BodyFraming, wire: [UInt8]) {
        switch self {
        case .contentLength:
            return (.contentLength(UInt64(body.count)), body)
        case .closeDelimited:
            return (.closeDelimited, body)
        case .chunked:
            var wire: [UInt8] = []
            var offset = 0
            for length in SSEStreamGenerator.chunkLengths(count: body.count, bytes: body, using: &rng) where length > 0 {
                let data = body[offset..<offset + length]
                offset += length
                if rng.chance(0.2) {
                    wire += Array(String(length, radix: 16, uppercase: rng.chance(0.5)).utf8) + Array(";x=\"a;b\"\r\n".utf8)
                    wire += data + ChunkedEncoder.chunkTrailer
                } else {
                    data.withUnsafeBytes { ChunkedEncoder.appendChunk($0, to: &wire) }
                }
            }
            wire += Array((rng.chance(0.2) ? "0\r\nX-Trailer: t\r\n\r\n" : "0\r\n\r\n").utf8)
            return (.chunked, wire)
        }
    }
}

import Testing
@testable import SSEKeeperCore

/// Random bodies, randomly chunked by a client (leading zeros, either hex case, extensions, trailers), fed in
/// random pieces: the upstream must read back exactly the original data, whatever the split.
@Suite struct RequestBodyForwarderPropertyTests {
    /// A client's chunked encoding of `body`: random chunk sizes, sometimes extensions, leading zeros, uppercase
    /// hex, and a trailer section.
    static func clientChunked(_ body: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        func sizeLine(_ size: Int) -> [UInt8] {
            var digits = String(size, radix: 16, uppercase: rng.chance(0.3))
            if rng.chance(0.2) { digits = String(repeating: "0", count: rng.int(1...3)) + digits }
            if rng.chance(0.2) { digits += rng.pick([";ext", " ; a=b", ";q=\"x;y\"", "\t;n"]) }
            return Array((digits + "\r\n").utf8)
        }
        while offset < body.count {
            let size = min(body.count - offset, rng.int(1...40))
            out += sizeLine(size) + body[offset..<offset + size] + Array("\r\n".utf8)
            offset += size
        }
        out += sizeLine(0)
        if rng.chance(0.3) { out += Array("X-Trailer: v\r\nChecksum: 1\r\n".utf8) }
        out += Array("\r\n".utf8)
        return out
    }

    /// Any byte, CR and LF included: data is opaque to the framing.
    static func randomBody(using rng: inout SplitMix64) -> [UInt8] {
        (0..<rng.int(0...300)).map { _ in
            let any = UInt8.random(in: 0...255, using: &rng)
            return rng.pick([UInt8(ascii: "a"), 0x0D, 0x0A, 0x30, any])
        }
    }

    @Test(arguments: 1...40 as ClosedRange<UInt64>)
    func reencodedChunkedBody_decodesToExactlyTheOriginal(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let body = Self.randomBody(using: &rng)
        let encoded = Self.clientChunked(body, using: &rng)
        let stream = encoded + Array(RequestBodyFeeding.nextRequest.utf8)
        let result = RequestBodyFeeding.forward(stream, framing: .chunked)
        #expect(result.outcome == .complete(consumed: encoded.count), "seed \(seed)")
        #expect(result.data == body && result.upstreamSawTheEnd, "seed \(seed)")
        #expect(result.bodyBytes == UInt64(body.count), "seed \(seed)")
    }

    @Test(arguments: 1...20 as ClosedRange<UInt64>)
    func chunkedBody_isRejectedAsTooLarge_exactlyWhenItsDataPassesTheLimit(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let body = Self.randomBody(using: &rng)
        let encoded = Self.clientChunked(body, using: &rng)
        let limit = UInt64(max(0, body.count + rng.int(-3...3)))
        let result = RequestBodyFeeding.forward(encoded, framing: .chunked, maxBodyBytes: limit)
        if UInt64(body.count) > limit {
            #expect(result.outcome == .rejected(.tooLarge(limit: limit)), "seed \(seed)")
        } else {
            #expect(result.outcome == .complete(consumed: encoded.count) && result.data == body, "seed \(seed)")
        }
    }

    @Test(arguments: 1...20 as ClosedRange<UInt64>)
    func contentLengthBody_forwardsExactlyTheDeclaredPrefix(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let stream = Self.randomBody(using: &rng)
        let length = rng.int(0...stream.count + 5)
        let result = RequestBodyFeeding.forward(stream, framing: .contentLength(UInt64(length)))
        let expected = Array(stream.prefix(length))
        #expect(result.upstream == expected, "seed \(seed)")
        #expect(result.outcome == (length <= stream.count ? .complete(consumed: length) : .needMore), "seed \(seed)")
    }
}

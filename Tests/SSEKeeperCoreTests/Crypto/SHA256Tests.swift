import Testing
@testable import SSEKeeperCore

/// SHA-256 against FIPS 180-4's examples and digests computed by OpenSSL, fed whole, byte by byte and in random
/// pieces.
struct SHA256Tests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }.joined()
    }

    static func digest(_ text: String) -> String { hex(SHA256.hash(Array(text.utf8))) }

    /// `bytes` hashed through `update` in pieces of random lengths (0 to 150 bytes, so pieces end inside, at and
    /// across block boundaries), alternating the two `update` overloads.
    static func digestInPieces(_ bytes: [UInt8], seed: UInt64) -> String {
        var rng = SplitMix64(seed: seed)
        var hasher = SHA256()
        var offset = 0
        var useRawBuffer = false
        while offset < bytes.count {
            let length = min(rng.int(0...150), bytes.count - offset)
            let piece = Array(bytes[offset..<offset + length])
            if useRawBuffer { piece.withUnsafeBytes { hasher.update($0) } } else { hasher.update(piece) }
            useRawBuffer.toggle()
            offset += length
        }
        return hex(hasher.finalize())
    }

    @Test func hash_matchesTheFIPS180_4Examples() {
        // FIPS 180-4 examples (NIST CSRC "Example Algorithms", SHA256.pdf, and SHA256ShortMsg's empty message).
        #expect(Self.digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Self.digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(Self.digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.digest("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")
                == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    @Test func hash_ofOneMillionA_matchesFIPS180_4_wholeAndInPieces() {
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(Self.hex(SHA256.hash(million)) == expected)
        #expect(Self.digestInPieces(million, seed: 1) == expected)
    }

    @Test func hash_matchesOpenSSL_forEveryLengthUpTo200_wholeByteByByteAndInPieces() {
        for (count, expected) in SHA256Vectors.patternDigests.enumerated() {
            let message = SHA256Vectors.message(count: count)
            #expect(Self.hex(SHA256.hash(message)) == expected, "\(count) bytes whole")
            var hasher = SHA256()
            for byte in message { hasher.update([byte]) }
            #expect(Self.hex(hasher.finalize()) == expected, "\(count) bytes byte by byte")
            for seed in 0..<UInt64(4) {
                #expect(Self.digestInPieces(message, seed: seed) == expected, "\(count) bytes, pieces seed \(seed)")
            }
        }
    }

    @Test func hash_matchesOpenSSL_forLongMessages_wholeAndInPieces() {
        for (count, expected) in SHA256Vectors.longDigests {
            let message = SHA256Vectors.message(count: count)
            #expect(Self.hex(SHA256.hash(message)) == expected, "\(count) bytes whole")
            #expect(Self.digestInPieces(message, seed: UInt64(count)) == expected, "\(count) bytes in pieces")
        }
    }

    @Test func update_readsWholeBlocksFromUnalignedMemory_andIgnoresEmptyPieces() {
        let message = SHA256Vectors.message(count: 200)
        let expected = SHA256Vectors.patternDigests[200]
        for shift in 0..<8 {
            let padded = [UInt8](repeating: 0xEE, count: shift) + message
            padded.withUnsafeBytes { all in
                var whole = SHA256()
                whole.update(UnsafeRawBufferPointer(start: nil, count: 0))
                whole.update(UnsafeRawBufferPointer(rebasing: all[shift...]))
                #expect(Self.hex(whole.finalize()) == expected, "shift \(shift)")
                // A partial block first: the whole blocks after it start 3 bytes further on.
                var split = SHA256()
                split.update(UnsafeRawBufferPointer(rebasing: all[shift..<shift + 3]))
                split.update([])
                split.update(UnsafeRawBufferPointer(rebasing: all[(shift + 3)...]))
                #expect(Self.hex(split.finalize()) == expected, "shift \(shift), split")
            }
        }
    }

    @Test func copiedHasher_goesOnIndependently() {
        var first = SHA256()
        first.update(Array("ab".utf8))
        var second = first
        first.update(Array("c".utf8))
        second.update(Array("d".utf8))
        #expect(Self.hex(first.finalize()) == Self.digest("abc"))
        #expect(Self.hex(second.finalize()) == Self.digest("abd"))
    }

    @Test func digest_isAlways32Bytes() {
        #expect(SHA256.hash([]).count == SHA256.digestByteCount)
        #expect(SHA256.hash(SHA256Vectors.message(count: 1000)).count == 32)
    }
}

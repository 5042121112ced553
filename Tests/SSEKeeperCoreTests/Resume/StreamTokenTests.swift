import Testing
@testable import SSEKeeperCore

/// The 128-bit stream token: drawn from the caller's generator, 22 base64url characters, strictly parsed.
struct StreamTokenTests {
    /// Hands out fixed words, so the token's bits are known.
    struct FixedGenerator: RandomNumberGenerator {
        var words: [UInt64]
        mutating func next() -> UInt64 { words.removeFirst() }
    }

    @Test func randomToken_takesTwoWordsBigEndian_andWrites22Characters() {
        var generator = FixedGenerator(words: [0x0001_0203_0405_0607, 0x0809_0A0B_0C0D_0E0F, 99])
        let token = StreamToken(random: &generator)
        #expect(generator.words == [99])
        #expect(token.bytes == Array(0...15))
        // python3 -c 'import base64; print(base64.urlsafe_b64encode(bytes(range(16))))' → AAECAwQFBgcICQoLDA0ODw==
        #expect(token.text == "AAECAwQFBgcICQoLDA0ODw")
        #expect(token.textBytes == Array("AAECAwQFBgcICQoLDA0ODw".utf8))

        var ones = FixedGenerator(words: [.max, .max])
        #expect(StreamToken(random: &ones).text == "_____________________w")
        var zeros = FixedGenerator(words: [0, 0])
        #expect(StreamToken(random: &zeros).text == "AAAAAAAAAAAAAAAAAAAAAA")
    }

    @Test func tokens_roundTripThroughText_andCompareByValue() {
        var rng = SplitMix64(seed: 0x70CE)
        var seen = Set<StreamToken>()
        for _ in 0..<300 {
            let token = StreamToken(random: &rng)
            #expect(token.text.utf8.count == StreamToken.textCount)
            #expect(token.bytes.count == StreamToken.byteCount)
            #expect(StreamToken(text: token.text) == token)
            #expect(StreamToken(text: token.textBytes) == token)
            #expect(StreamToken(text: token.textBytes[...]) == token)
            seen.insert(token)
            seen.insert(StreamToken(text: token.text)!)
        }
        #expect(seen.count == 300)
    }

    @Test func systemGenerator_givesDifferentTokens() {
        var system = SystemRandomNumberGenerator()
        let first = StreamToken(random: &system)
        let second = StreamToken(random: &system)
        #expect(first != second)
    }

    @Test func parsing_rejectsWrongLengthsAlphabetAndTrailingBits() {
        let valid = "AAECAwQFBgcICQoLDA0ODw"
        #expect(StreamToken(text: valid) != nil)
        for text in [
            "", "A", String(valid.dropLast()), valid + "A", valid + "==", "AAECAwQFBgcICQoLDA0ODw==",
            "AAECAwQFBgcICQoLDA0OD+", "AAECAwQFBgcICQoLDA0OD/", "AAECAwQFBgcICQoLDA0OD=", " AAECAwQFBgcICQoLDA0ODw",
            "AAECAwQFBgcICQoLDA0OD\n", "AAECAwQFBgcICQoLDA0ODx", "AAECAwQFBgcICQoLDA0OD_", "AAECAwQFBgcICQoLDA0.Dw",
            // 23 and 24 characters decode to 17 and 18 bytes.
            "AAECAwQFBgcICQoLDA0ODxA", "AAECAwQFBgcICQoLDA0ODxAR",
        ] {
            #expect(StreamToken(text: text) == nil, "\(text.debugDescription)")
        }
    }
}

import Testing
@testable import SSEKeeperCore

/// The static Huffman code (RFC 7541 §5.2, Appendix B).
@Suite struct HPACKHuffmanTests {
    @Test func derivedCodes_matchAppendixB() {
        // (symbol, code as hex, length) as Appendix B prints them, across the lengths.
        let printed: [(Int, UInt32, UInt8)] = [
            (0, 0x1ff8, 13), (1, 0x7fffd8, 23), (10, 0x3ffffffc, 30), (13, 0x3ffffffd, 30), (22, 0x3ffffffe, 30),
            (32, 0x14, 6), (48, 0x0, 5), (97, 0x3, 5), (116, 0x9, 5), (58, 0x5c, 7), (60, 0x7ffc, 15),
            (92, 0x7fff0, 19), (127, 0xffffffc, 28), (128, 0xfffe6, 20), (192, 0x3ffffe0, 26), (200, 0x3ffffe2, 26), (254, 0x7fffff0, 27),
            (255, 0x3ffffee, 26), (256, 0x3fffffff, 30),
        ]
        for (symbol, code, length) in printed {
            #expect(HPACKHuffman.codes[symbol] == code, "symbol \(symbol)")
            #expect(HPACKHuffman.codeLengths[symbol] == length, "symbol \(symbol)")
        }
        #expect(HPACKHuffman.codeLengths.count == 257)
    }

    @Test func code_isComplete_kraftSumIsExactlyOne() {
        let sum = HPACKHuffman.codeLengths.reduce(UInt64(0)) { $0 + (UInt64(1) << (30 - UInt64($1))) }
        #expect(sum == UInt64(1) << 30)
    }

    @Test func appendixCStrings_encodeAndDecode() throws {
        let cases: [(String, String)] = [
            ("www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"), ("no-cache", "a8eb 1064 9cbf"),
            ("custom-key", "25a8 49e9 5ba9 7d7f"), ("custom-value", "25a8 49e9 5bb8 e8b4 bf"), ("302", "6402"),
            ("private", "aec3 771a 4b"), ("gzip", "9bd9 ab"),
        ]
        for (text, hex) in cases {
            #expect(HPACKHuffman.encode(Array(text.utf8)) == HPACKFixture.hex(hex), "\(text)")
            #expect(HPACKHuffman.encodedLength(of: Array(text.utf8)) == HPACKFixture.hex(hex).count)
            #expect(try HPACKHuffman.decode(HPACKFixture.hex(hex)) == Array(text.utf8))
        }
        #expect(try HPACKHuffman.decode([UInt8]()) == [])
    }

    @Test func randomByteStrings_roundTrip() throws {
        var random = SplitMix64(seed: 7541)
        for _ in 0..<2000 {
            let bytes = HPACKFixture.randomBytes(&random, maxLength: 64)
            let encoded = HPACKHuffman.encode(bytes)
            #expect(encoded.count == HPACKHuffman.encodedLength(of: bytes))
            #expect(try HPACKHuffman.decode(encoded) == bytes, "\(bytes)")
        }
        let everyByte = (0...255).map(UInt8.init)
        #expect(try HPACKHuffman.decode(HPACKHuffman.encode(everyByte + everyByte.reversed())) == everyByte + everyByte.reversed())
    }

    @Test func endOfStringSymbol_isRejectedInsideAString() {
        // "a" (00011), then EOS (30 ones), then 5 ones of padding: 40 bits.
        #expect(throws: HPACKHuffmanError.endOfStringInString) { try HPACKHuffman.decode([0x1F, 0xFF, 0xFF, 0xFF, 0xFF]) }
        #expect(throws: HPACKHuffmanError.endOfStringInString) { try HPACKHuffman.decode([0xFF, 0xFF, 0xFF, 0xFF]) }
    }

    @Test func paddingLongerThanSevenBits_isRejected() throws {
        // "a" + 3 ones is a whole byte; another 0xFF makes 11 bits of padding.
        #expect(throws: HPACKHuffmanError.paddingTooLong) { try HPACKHuffman.decode([0x1F, 0xFF]) }
        #expect(throws: HPACKHuffmanError.paddingTooLong) { try HPACKHuffman.decode([0xFF]) }
        #expect(try HPACKHuffman.decode([0x1F]) == Array("a".utf8))
    }

    @Test func paddingNotAllOnes_isRejected() {
        #expect(throws: HPACKHuffmanError.paddingNotAllOnes) { try HPACKHuffman.decode([0x18]) }  // 00011 000
        #expect(throws: HPACKHuffmanError.paddingNotAllOnes) { try HPACKHuffman.decode([0x1E]) }  // 00011 110
        // A truncated 13-bit code (symbol 0, 1111111111000) looks like padding with a zero in it.
        #expect(throws: HPACKHuffmanError.paddingNotAllOnes) { try HPACKHuffman.decode([0xFF, 0xC0]) }
    }

    @Test func decodedLength_isCappedWhileDecoding() throws {
        let encoded = HPACKHuffman.encode(Array(repeating: UInt8(ascii: "0"), count: 100))
        #expect(throws: HPACKHuffmanError.decodedTooLong(maxLength: 99)) { try HPACKHuffman.decode(encoded, maxLength: 99) }
        #expect(try HPACKHuffman.decode(encoded, maxLength: 100).count == 100)
    }

    @Test func randomInputs_decodeOrFail_andWhatDecodesReencodesCanonically() {
        var random = SplitMix64(seed: 9113)
        var decoded = 0
        for _ in 0..<5000 {
            let input = (0..<random.int(0...12)).map { _ in UInt8(random.int(0...255)) }
            guard let bytes = try? HPACKHuffman.decode(input) else { continue }
            decoded += 1
            // The padding is forced (all ones, under 8 bits), so the encoding of a string is unique.
            #expect(HPACKHuffman.encode(bytes) == input, "\(input)")
        }
        #expect(decoded > 100)
    }
}

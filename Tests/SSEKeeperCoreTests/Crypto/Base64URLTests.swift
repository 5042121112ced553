import Testing
@testable import SSEKeeperCore

/// base64url without padding, strict: RFC 4648 §10's vectors (URL alphabet, padding removed), round trips of random
/// bytes, and every kind of rejection.
struct Base64URLTests {
    /// RFC 4648 §10, with the `=` padding taken off (§5's alphabet agrees with §4's for these).
    static let rfcVectors: [(String, String)] = [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"),
        ("foobar", "Zm9vYmFy"),
    ]

    @Test func encode_andDecode_matchRFC4648Section10() {
        for (plain, encoded) in Self.rfcVectors {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Array(plain.utf8))
            #expect(Base64URL.encodedCount(byteCount: plain.utf8.count) == encoded.utf8.count)
        }
    }

    @Test func encode_usesTheURLAlphabet_whereStandardBase64HasPlusAndSlash() {
        // Standard base64 of these is "+/+/" and "//8" and "+-8": the same bits in §5's alphabet.
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64URL.encode([0xFF, 0xFF]) == "__8")
        #expect(Base64URL.encode([0xFB, 0xEF]) == "--8")
        #expect(Base64URL.decode("-_-_") == [0xFB, 0xFF, 0xBF])
        #expect(Base64URL.encode(Array(0...255).map(UInt8.init)).utf8.allSatisfy { byte in
            (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        })
    }

    @Test func randomBytes_roundTrip_throughText_andSlices() {
        var rng = SplitMix64(seed: 0xB64)
        for _ in 0..<500 {
            let bytes = (0..<rng.int(0...70)).map { _ in UInt8(rng.int(0...255)) }
            let encoded = Base64URL.encodedBytes(bytes)
            #expect(encoded.count == Base64URL.encodedCount(byteCount: bytes.count))
            #expect(Base64URL.decode(encoded) == bytes)
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
            // An array slice, and a non-contiguous collection.
            let framed = [0x2E] + encoded + [0x2E]
            #expect(Base64URL.decode(framed[1..<framed.count - 1]) == bytes)
            #expect(Base64URL.decode(encoded.lazy.map { $0 }) == bytes)
        }
    }

    @Test func decode_rejectsPaddingAndTheStandardAlphabet() {
        for text in ["Zg==", "Zm8=", "Zg=", "=", "====", "Zm9v====", "+/+/", "Zm+v", "Zm/v", "Zm9v+w"] {
            #expect(Base64URL.decode(text) == nil, "\(text)")
        }
    }

    @Test func decode_rejectsWhitespaceControlsAndNonASCII() {
        for text in [" Zm9v", "Zm9v ", "Zm 9v", "Zm9v\n", "Zm9v\r\n", "Zm\t9v", "Zm9\u{0}", "Zm9é", "Zm9v.", "Zm9v%3D"] {
            #expect(Base64URL.decode(text) == nil, "\(text.debugDescription)")
        }
        for byte in 0...255 where !(0x41...0x5A).contains(byte) && !(0x61...0x7A).contains(byte)
            && !(0x30...0x39).contains(byte) && byte != 0x2D && byte != 0x5F {
            #expect(Base64URL.decode([0x5A, 0x6D, 0x39, UInt8(byte)]) == nil, "byte \(byte)")
            #expect(Base64URL.decode([UInt8(byte), 0x41]) == nil, "byte \(byte) in a tail")
        }
    }

    @Test func decode_rejectsLengthsOf4nPlus1() {
        for text in ["Z", "Zm9vY", "Zm9vYmFyZ", "A"] {
            #expect(Base64URL.decode(text) == nil, "\(text)")
        }
    }

    @Test func decode_rejectsNonCanonicalTrailingBits() {
        // "Zg" is the only text for [0x66]; "Zh"..."Zv" carry non-zero unused low bits (RFC 4648 §3.5).
        #expect(Base64URL.decode("Zg") == [0x66])
        for last in "hijklmnopqrstuv" {
            #expect(Base64URL.decode("Z\(last)") == nil, "Z\(last)")
        }
        #expect(Base64URL.decode("Zm8") == [0x66, 0x6F])
        for last in "9-_" {
            #expect(Base64URL.decode("Zm\(last)") == nil, "Zm\(last)")
        }
        // Every accepted text re-encodes to itself, and exactly one two-character text decodes to each byte.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var acceptedPairs = Set<[UInt8]>()
        for first in alphabet {
            for second in alphabet {
                if let decoded = Base64URL.decode([first, second]) { acceptedPairs.insert(decoded) }
            }
        }
        #expect(acceptedPairs.count == 256)
        for first in alphabet {
            for second in alphabet {
                for text in [[first, second], [first, second, UInt8(ascii: "A")], [first, second, second]] {
                    if let decoded = Base64URL.decode(text) {
                        #expect(Base64URL.encodedBytes(decoded) == text)
                    }
                }
            }
        }
    }
}

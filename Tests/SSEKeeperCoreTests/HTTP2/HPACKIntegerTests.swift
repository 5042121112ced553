import Testing
@testable import SSEKeeperCore

/// Prefixed integers (RFC 7541 §5.1, examples C.1) and their bounds.
@Suite struct HPACKIntegerTests {
    private func decode(_ bytes: [UInt8], prefixBits: Int) throws(HPACKError) -> (Int, Int) {
        var position = 0
        let value = try HPACKInteger.decode(bytes[...], at: &position, prefixBits: prefixBits)
        return (value, position)
    }

    @Test func c1Examples_encodeAndDecode() throws {
        for (value, prefix, bytes) in [(10, 5, [0x0A]), (1337, 5, [0x1F, 0x9A, 0x0A]), (42, 8, [0x2A]),
                                       (31, 5, [0x1F, 0x00]), (127, 7, [0x7F, 0x00]), (0, 1, [0x00])] as [(Int, Int, [UInt8])] {
            var encoded: [UInt8] = []
            HPACKInteger.encode(value, prefixBits: prefix, flags: 0, into: &encoded)
            #expect(encoded == bytes, "\(value) with \(prefix)-bit prefix")
            let (decoded, consumed) = try decode(bytes + [0xEE], prefixBits: prefix)
            #expect(decoded == value && consumed == bytes.count)
        }
    }

    @Test func flagBits_areKeptOutOfTheValue() throws {
        var encoded: [UInt8] = []
        HPACKInteger.encode(3, prefixBits: 6, flags: 0x40, into: &encoded)
        #expect(encoded == [0x43])
        #expect(try decode([0xC3], prefixBits: 6).0 == 3)
    }

    @Test func maximum_2pow32minus1_roundTrips_andOneMoreOverflows() throws {
        for prefix in 1...8 {
            var encoded: [UInt8] = []
            HPACKInteger.encode(HPACKInteger.maxValue, prefixBits: prefix, flags: 0, into: &encoded)
            #expect(try decode(encoded, prefixBits: prefix).0 == HPACKInteger.maxValue)
            var over: [UInt8] = []
            HPACKInteger.encode(HPACKInteger.maxValue + 1, prefixBits: prefix, flags: 0, into: &over)
            #expect(throws: HPACKError.integerOverflow(offset: 0)) { try decode(over, prefixBits: prefix) }
        }
    }

    @Test func moreThanFiveContinuationBytes_overflow_evenWhenTheyAreZeros() {
        #expect(throws: HPACKError.integerOverflow(offset: 0)) {
            try decode([0x1F, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], prefixBits: 5)
        }
        #expect(throws: HPACKError.integerOverflow(offset: 0)) {
            try decode([0x1F] + Array(repeating: 0xFF, count: 100), prefixBits: 5)
        }
    }

    @Test func endOfInputInsideAnInteger_isTruncated() {
        #expect(throws: HPACKError.truncated(offset: 2)) { try decode([0x1F, 0x9A], prefixBits: 5) }
        #expect(throws: HPACKError.truncated(offset: 0)) { try decode([], prefixBits: 5) }
    }
}

import Testing
@testable import SSEKeeperCore

/// `ConstantTime.equal` answers like `==` (its timing is a property of the code, not tested here).
struct ConstantTimeTests {
    @Test func equal_isTrue_onlyForTheSameBytes() {
        #expect(ConstantTime.equal([], []))
        #expect(ConstantTime.equal([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equal([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equal([0, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equal([1, 2, 3], [1, 2]))
        #expect(!ConstantTime.equal([], [0]))
    }

    @Test func equal_findsADifferenceAtEveryPosition_andEveryBit() {
        let base = SHA256Vectors.message(count: 70)
        #expect(ConstantTime.equal(base, base))
        for index in base.indices {
            for bit in 0..<8 {
                var changed = base
                changed[index] ^= 1 << bit
                #expect(!ConstantTime.equal(base, changed), "byte \(index) bit \(bit)")
                #expect(!ConstantTime.equal(changed, base), "byte \(index) bit \(bit), swapped")
            }
        }
    }

    @Test func equal_agreesWithEquality_onRandomPairs() {
        var rng = SplitMix64(seed: 0xC0DE)
        for _ in 0..<2000 {
            let a = (0..<rng.int(0...6)).map { _ in UInt8(rng.int(0...2)) }
            let b = (0..<rng.int(0...6)).map { _ in UInt8(rng.int(0...2)) }
            #expect(ConstantTime.equal(a, b) == (a == b), "\(a) \(b)")
        }
    }

    @Test func equal_onStrings_comparesUTF8Bytes_withoutNormalization() {
        #expect(ConstantTime.equal("Bearer abc", "Bearer abc"))
        #expect(!ConstantTime.equal("Bearer abc", "Bearer abd"))
        #expect(!ConstantTime.equal("Bearer abc", "bearer abc"))
        #expect(!ConstantTime.equal("abc", "abc "))
        #expect(ConstantTime.equal("", ""))
        #expect(ConstantTime.equal("caf\u{E9}", "caf\u{E9}"))
        // Canonically equivalent (so == on String is true) but different bytes.
        #expect("caf\u{E9}" == "cafe\u{301}")
        #expect(!ConstantTime.equal("caf\u{E9}", "cafe\u{301}"))
        // A bridged or substring-backed string is compared by its bytes too.
        let long = String(repeating: "x", count: 40) + "y"
        #expect(ConstantTime.equal(String(long.dropFirst(1)), String(repeating: "x", count: 39) + "y"))
    }
}

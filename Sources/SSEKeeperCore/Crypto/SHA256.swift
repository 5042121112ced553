/// SHA-256 (FIPS 180-4 §6.2), incremental: feed the message with `update` in pieces of any size, then read the
/// 32-byte digest with `finalize()`.
///
/// Client ride-through compares a reconnecting request's body with the original one by their digests (issue 15);
/// the package takes no dependencies, so the hash lives here. Contract:
/// - Whole 64-byte blocks are compressed straight from the caller's memory; only a partial block (fewer than 64
///   bytes) is copied, into a fixed buffer inside the hasher. Nothing is allocated on the heap per block or per
///   `update` (the message schedule lives on the stack).
/// - The message length is counted modulo 2^64 bits, as FIPS 180-4 §5.1.1 limits messages to fewer than 2^64
///   bits (2 EiB); longer messages are outside the standard.
/// - A value type: copying a hasher forks it (both copies can go on independently).
/// - Not constant time with respect to the message's length (the number of blocks shows); the bytes themselves go
///   through no data-dependent branch or table lookup.
public struct SHA256: Sendable {
    /// The digest's length in bytes (256 bits).
    public static let digestByteCount = 32
    /// The block length in bytes (512 bits, FIPS 180-4 §5.1.1).
    public static let blockByteCount = 64

    /// Where the length is written into the last block (FIPS 180-4 §5.1.1: the 64-bit length ends the block).
    private static let lengthOffset = 56

    /// The eight working hash words H0...H7 (FIPS 180-4 §6.2).
    private struct State: Sendable {
        var h0: UInt32 = 0x6A09_E667, h1: UInt32 = 0xBB67_AE85, h2: UInt32 = 0x3C6E_F372, h3: UInt32 = 0xA54F_F53A
        var h4: UInt32 = 0x510E_527F, h5: UInt32 = 0x9B05_688C, h6: UInt32 = 0x1F83_D9AB, h7: UInt32 = 0x5BE0_CD19
    }

    /// 64 bytes of inline storage for a partial block (a tuple, so the hasher holds no reference).
    private typealias BlockStorage = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    private var state = State()
    private var block: BlockStorage = (0, 0, 0, 0, 0, 0, 0, 0)
    /// How many bytes of `block` hold message bytes not yet compressed, 0..<64.
    private var blockCount = 0
    /// The message length so far, in bytes; wraps, and only its value modulo 2^61 reaches the digest (the
    /// bit length modulo 2^64, see the type's contract).
    private var messageByteCount: UInt64 = 0

    /// A hasher that has seen no bytes.
    public init() {}

    /// Adds `bytes` to the message. The caller keeps the memory; it is read only during the call.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var input = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        messageByteCount &+= UInt64(truncatingIfNeeded: remaining)
        var state = self.state
        var block = self.block
        var blockCount = self.blockCount

        if blockCount > 0 {
            let take = min(Self.blockByteCount - blockCount, remaining)
            let offset = blockCount
            withUnsafeMutableBytes(of: &block) { storage in
                (storage.baseAddress! + offset).copyMemory(from: input, byteCount: take)
            }
            blockCount += take
            input += take
            remaining -= take
            if blockCount == Self.blockByteCount {
                withUnsafeBytes(of: &block) { Self.compress(&state, blocks: $0.baseAddress!, count: 1) }
                blockCount = 0
            }
        }
        let wholeBlocks = remaining / Self.blockByteCount
        if wholeBlocks > 0 {
            Self.compress(&state, blocks: input, count: wholeBlocks)
            input += wholeBlocks * Self.blockByteCount
            remaining -= wholeBlocks * Self.blockByteCount
        }
        if remaining > 0 {
            let tail = remaining
            withUnsafeMutableBytes(of: &block) { storage in
                storage.baseAddress!.copyMemory(from: input, byteCount: tail)
            }
            blockCount = tail
        }

        self.state = state
        self.block = block
        self.blockCount = blockCount
    }

    /// Adds `bytes` to the message.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Pads the message (FIPS 180-4 §5.1.1: a 1 bit, zeros, the 64-bit big-endian bit length) and returns the
    /// 32-byte digest, H0...H7 big-endian (§6.2.2 step 4).
    public consuming func finalize() -> [UInt8] {
        let bitCount = messageByteCount &* 8
        let used = blockCount
        var state = self.state
        var block = self.block
        withUnsafeMutableBytes(of: &block) { storage in
            let base = storage.baseAddress!
            base.storeBytes(of: 0x80, toByteOffset: used, as: UInt8.self)
            if used + 1 > Self.lengthOffset {
                (base + used + 1).initializeMemory(as: UInt8.self, repeating: 0, count: Self.blockByteCount - used - 1)
                Self.compress(&state, blocks: UnsafeRawPointer(base), count: 1)
                base.initializeMemory(as: UInt8.self, repeating: 0, count: Self.lengthOffset)
            } else {
                (base + used + 1).initializeMemory(as: UInt8.self, repeating: 0, count: Self.lengthOffset - used - 1)
            }
            base.storeBytes(of: bitCount.bigEndian, toByteOffset: Self.lengthOffset, as: UInt64.self)
            Self.compress(&state, blocks: UnsafeRawPointer(base), count: 1)
        }
        let words = [state.h0, state.h1, state.h2, state.h3, state.h4, state.h5, state.h6, state.h7]
        return [UInt8](unsafeUninitializedCapacity: Self.digestByteCount) { digest, initialized in
            for (index, word) in words.enumerated() {
                UnsafeMutableRawPointer(digest.baseAddress!).storeBytes(
                    of: word.bigEndian, toByteOffset: index * 4, as: UInt32.self)
            }
            initialized = Self.digestByteCount
        }
    }

    /// The SHA-256 digest of `bytes` (32 bytes).
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    // MARK: - Compression (FIPS 180-4 §6.2.2)

    /// The round constants K0...K63 (FIPS 180-4 §4.2.2).
    private static let roundConstants: [UInt32] = [
        0x428A_2F98, 0x7137_4491, 0xB5C0_FBCF, 0xE9B5_DBA5, 0x3956_C25B, 0x59F1_11F1, 0x923F_82A4, 0xAB1C_5ED5,
        0xD807_AA98, 0x1283_5B01, 0x2431_85BE, 0x550C_7DC3, 0x72BE_5D74, 0x80DE_B1FE, 0x9BDC_06A7, 0xC19B_F174,
        0xE49B_69C1, 0xEFBE_4786, 0x0FC1_9DC6, 0x240C_A1CC, 0x2DE9_2C6F, 0x4A74_84AA, 0x5CB0_A9DC, 0x76F9_88DA,
        0x983E_5152, 0xA831_C66D, 0xB003_27C8, 0xBF59_7FC7, 0xC6E0_0BF3, 0xD5A7_9147, 0x06CA_6351, 0x1429_2967,
        0x27B7_0A85, 0x2E1B_2138, 0x4D2C_6DFC, 0x5338_0D13, 0x650A_7354, 0x766A_0ABB, 0x81C2_C92E, 0x9272_2C85,
        0xA2BF_E8A1, 0xA81A_664B, 0xC24B_8B70, 0xC76C_51A3, 0xD192_E819, 0xD699_0624, 0xF40E_3585, 0x106A_A070,
        0x19A4_C116, 0x1E37_6C08, 0x2748_774C, 0x34B0_BCB5, 0x391C_0CB3, 0x4ED8_AA4A, 0x5B9C_CA4F, 0x682E_6FF3,
        0x748F_82EE, 0x78A5_636F, 0x84C8_7814, 0x8CC7_0208, 0x90BE_FFFA, 0xA450_6CEB, 0xBEF9_A3F7, 0xC671_78F2,
    ]

    @inline(__always)
    private static func rotateRight(_ word: UInt32, _ count: UInt32) -> UInt32 {
        (word &>> count) | (word &<< (32 &- count))
    }

    /// One round (FIPS 180-4 §6.2.2 step 3) with the working variables renamed instead of shifted: the caller
    /// rotates the argument order, so `d` receives the new `e` and `h` the new `a`.
    @inline(__always)
    private static func round(
        _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
        _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ constantPlusWord: UInt32
    ) {
        let t1 = h &+ (rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25)) &+ ((e & f) ^ (~e & g))
            &+ constantPlusWord
        let t2 = (rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
        d &+= t1
        h = t1 &+ t2
    }

    /// Compresses `count` consecutive 64-byte blocks at `blocks` (no alignment required) into `state`.
    private static func compress(_ state: inout State, blocks: UnsafeRawPointer, count: Int) {
        roundConstants.withUnsafeBufferPointer { constants in
            let k = constants.baseAddress!
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
                let w = schedule.baseAddress!
                var current = state
                for blockIndex in 0..<count {
                    let message = blocks + blockIndex &* blockByteCount
                    for t in 0..<16 {
                        w[t] = UInt32(bigEndian: message.loadUnaligned(fromByteOffset: t &* 4, as: UInt32.self))
                    }
                    for t in 16..<64 {
                        let x = w[t &- 15], y = w[t &- 2]
                        let sigma0 = rotateRight(x, 7) ^ rotateRight(x, 18) ^ (x &>> 3)
                        let sigma1 = rotateRight(y, 17) ^ rotateRight(y, 19) ^ (y &>> 10)
                        w[t] = sigma1 &+ w[t &- 7] &+ sigma0 &+ w[t &- 16]
                    }
                    var a = current.h0, b = current.h1, c = current.h2, d = current.h3
                    var e = current.h4, f = current.h5, g = current.h6, h = current.h7
                    var t = 0
                    while t < 64 {
                        round(a, b, c, &d, e, f, g, &h, k[t] &+ w[t])
                        round(h, a, b, &c, d, e, f, &g, k[t &+ 1] &+ w[t &+ 1])
                        round(g, h, a, &b, c, d, e, &f, k[t &+ 2] &+ w[t &+ 2])
                        round(f, g, h, &a, b, c, d, &e, k[t &+ 3] &+ w[t &+ 3])
                        round(e, f, g, &h, a, b, c, &d, k[t &+ 4] &+ w[t &+ 4])
                        round(d, e, f, &g, h, a, b, &c, k[t &+ 5] &+ w[t &+ 5])
                        round(c, d, e, &f, g, h, a, &b, k[t &+ 6] &+ w[t &+ 6])
                        round(b, c, d, &e, f, g, h, &a, k[t &+ 7] &+ w[t &+ 7])
                        t &+= 8
                    }
                    current.h0 &+= a
                    current.h1 &+= b
                    current.h2 &+= c
                    current.h3 &+= d
                    current.h4 &+= e
                    current.h5 &+= f
                    current.h6 &+= g
                    current.h7 &+= h
                }
                state = current
            }
        }
    }
}

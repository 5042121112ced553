/// Finds the first of one or two byte values in raw bytes, sixteen and then eight bytes at a time: the line ends of
/// an event stream (`SSELineEndScanner`) and of an HTTP/1.1 head (`HeadParser`, `HeadReader`).
///
/// The word step is SWAR ("SIMD within a register"): each 64-bit word is XORed with the broadcast value, and the
/// classic has-zero-byte test flags matching bytes. The lowest flagged bit is exact (borrows only propagate
/// upwards), so the first match is found without a per-byte loop and without libc (`memchr` would need Glibc in
/// this pure module, and only finds one value).
enum ByteScan {
    /// 0x01 in every byte of a word: times a byte value, that value in every byte (the SWAR word tests here and in
    /// `HTTPSyntax` share these two).
    static let ones: UInt64 = 0x0101_0101_0101_0101
    /// The high bit of every byte of a word.
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The offset of the first byte equal to `first` or `second` in `base[start..<end]`, or `end` when there is
    /// none. Pass the same value twice to find one value (the compiler folds the second comparison away).
    ///
    /// The caller owns the memory; `base` must be readable for `end` bytes. No alignment is required.
    @inline(__always)
    static func firstIndex(of first: UInt8, or second: UInt8, in base: UnsafeRawPointer, from start: Int,
                           to end: Int) -> Int {
        var offset = start
        // Made here, not stored as `static let`s: a stored vector is initialised lazily, and reading it cost a
        // `swift_once` call (7 instructions) per read per scan; these fold into constants.
        let firstVector = SIMD16<UInt8>(repeating: first)
        let secondVector = SIMD16<UInt8>(repeating: second)
        // Sixteen bytes at a time first (the standard library's portable SIMD: SSE2 or NEON compares), to pass
        // over the bytes of a long line; the word scan below then finds the exact byte within a block that has one.
        // A 100-byte line took about half the time this way (a micro-benchmark of both over the same lines).
        while offset &+ 16 <= end {
            let block = base.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
            if any((block .== firstVector) .| (block .== secondVector)) { break }
            offset &+= 16
        }
        let firstWord = UInt64(first) &* ones
        let secondWord = UInt64(second) &* ones
        while offset &+ 8 <= end {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let x = word ^ firstWord
            let y = word ^ secondWord
            let found = ((x &- ones) & ~x | (y &- ones) & ~y) & highBits
            if found != 0 {
                return offset &+ (found.trailingZeroBitCount &>> 3)
            }
            offset &+= 8
        }
        while offset < end {
            let byte = base.load(fromByteOffset: offset, as: UInt8.self)
            if byte == first || byte == second { return offset }
            offset &+= 1
        }
        return end
    }

    /// The offset of the first byte equal to `value` in `base[start..<end]`, or `end` when there is none.
    @inline(__always)
    static func firstIndex(of value: UInt8, in base: UnsafeRawPointer, from start: Int, to end: Int) -> Int {
        firstIndex(of: value, or: value, in: base, from: start, to: end)
    }
}

/// Finds the next line end (LF or CR) in raw bytes, sixteen and then eight bytes at a time.
///
/// WHATWG HTML §9.2.5 "Parsing an event stream" ends lines with CRLF, a lone LF or a lone CR
/// (`end-of-line = ( cr lf / cr / lf )`). Both bytes are ASCII, so they never occur inside a
/// multi-byte UTF-8 sequence and a byte scan finds exactly the line ends the client's decoder sees.
///
/// The scan is SWAR ("SIMD within a register"): each 64-bit word is XORed with a broadcast LF and a
/// broadcast CR, and the classic has-zero-byte test flags matching bytes. The lowest flagged bit is
/// exact (borrows only propagate upwards), so the first match is found without a per-byte loop and
/// without libc (`memchr` would need Glibc in this pure module, and only finds one byte value).
enum SSELineEndScanner {
    /// Line feed, U+000A.
    static let lineFeed: UInt8 = 0x0A
    /// Carriage return, U+000D.
    static let carriageReturn: UInt8 = 0x0D

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080
    private static let lineFeeds: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
    private static let carriageReturns: UInt64 = 0x0D0D_0D0D_0D0D_0D0D

    /// The offset of the first LF or CR in `base[start..<end]`, or `end` when there is none.
    ///
    /// The caller owns the memory; `base` must be readable for `end` bytes. No alignment is required.
    @inline(__always)
    static func firstLineEnd(in base: UnsafeRawPointer, from start: Int, to end: Int) -> Int {
        var offset = start
        // Made here, not stored as `static let`s: a stored vector is initialised lazily, and reading it cost a
        // `swift_once` call (7 instructions) per read per scan; these fold into constants.
        let lineFeedVector = SIMD16<UInt8>(repeating: lineFeed)
        let carriageReturnVector = SIMD16<UInt8>(repeating: carriageReturn)
        // Sixteen bytes at a time first (the standard library's portable SIMD: SSE2 or NEON compares), to pass
        // over the bytes of a long line; the word scan below then finds the exact byte within a block that has one.
        // A 100-byte line took about half the time this way (a micro-benchmark of both over the same lines).
        while offset &+ 16 <= end {
            let block = base.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
            if any((block .== lineFeedVector) .| (block .== carriageReturnVector)) { break }
            offset &+= 16
        }
        while offset &+ 8 <= end {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let lf = word ^ lineFeeds
            let cr = word ^ carriageReturns
            let found = ((lf &- ones) & ~lf | (cr &- ones) & ~cr) & highBits
            if found != 0 {
                return offset &+ (found.trailingZeroBitCount &>> 3)
            }
            offset &+= 8
        }
        while offset < end {
            let byte = base.load(fromByteOffset: offset, as: UInt8.self)
            if byte == lineFeed || byte == carriageReturn { return offset }
            offset &+= 1
        }
        return end
    }
}

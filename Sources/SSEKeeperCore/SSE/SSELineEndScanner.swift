/// Finds the next line end (LF or CR) in raw bytes (`ByteScan`, sixteen and then eight bytes at a time).
///
/// WHATWG HTML §9.2.5 "Parsing an event stream" ends lines with CRLF, a lone LF or a lone CR
/// (`end-of-line = ( cr lf / cr / lf )`). Both bytes are ASCII, so they never occur inside a
/// multi-byte UTF-8 sequence and a byte scan finds exactly the line ends the client's decoder sees.
enum SSELineEndScanner {
    /// Line feed, U+000A.
    static let lineFeed: UInt8 = 0x0A
    /// Carriage return, U+000D.
    static let carriageReturn: UInt8 = 0x0D

    /// The offset of the first LF or CR in `base[start..<end]`, or `end` when there is none.
    ///
    /// The caller owns the memory; `base` must be readable for `end` bytes. No alignment is required.
    @inline(__always)
    static func firstLineEnd(in base: UnsafeRawPointer, from start: Int, to end: Int) -> Int {
        ByteScan.firstIndex(of: lineFeed, or: carriageReturn, in: base, from: start, to: end)
    }
}

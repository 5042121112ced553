/// Writes the chunked transfer coding (RFC 9112 §7.1): `size-in-hex CRLF data CRLF`, ended by `0 CRLF CRLF`.
///
/// The proxy re-encodes every body it forwards as chunked, and each SSE event or heartbeat becomes one chunk.
/// No chunk extensions and no trailers are ever written.
public enum ChunkedEncoder {
    /// The most bytes `writeHeader(forChunkOf:into:)` writes: 16 hex digits and CRLF.
    public static let maxHeaderBytes = 18

    /// The chunk-size line for a chunk of `count` bytes, lowercase hex: `"1a\r\n"` for 26.
    /// - Precondition: `count > 0` (a zero-size chunk is `lastChunk`, which ends the body).
    public static func header(forChunkOf count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: maxHeaderBytes)
        let written = bytes.withUnsafeMutableBytes { writeHeader(forChunkOf: count, into: $0) }
        bytes.removeLast(maxHeaderBytes - written)
        return bytes
    }

    /// Writes the chunk-size line for `count` bytes at the start of `buffer`, without allocating; returns the
    /// number of bytes written (at most `maxHeaderBytes`).
    /// - Precondition: `count > 0` and `buffer.count >= maxHeaderBytes`.
    @discardableResult
    public static func writeHeader(forChunkOf count: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(count > 0, "ChunkedEncoder: a chunk must not be empty")
        precondition(buffer.count >= maxHeaderBytes, "ChunkedEncoder: header buffer too small")
        let digits = (Int.bitWidth - count.leadingZeroBitCount + 3) / 4
        var value = UInt(count)
        for position in stride(from: digits - 1, through: 0, by: -1) {
            let nibble = UInt8(value & 0xF)
            buffer[position] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
            value >>= 4
        }
        buffer[digits] = HTTPSyntax.cr
        buffer[digits + 1] = HTTPSyntax.lf
        return digits + 2
    }

    /// Appends one whole chunk, header, `data` and CRLF, to `output`. Appends nothing for empty `data`: an empty
    /// chunk would end the body.
    public static func appendChunk(_ data: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        guard !data.isEmpty else { return }
        withUnsafeTemporaryAllocation(byteCount: maxHeaderBytes, alignment: 1) { header in
            let written = writeHeader(forChunkOf: data.count, into: header)
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: header[..<written]))
        }
        output.append(contentsOf: data)
        output.append(contentsOf: chunkTrailer)
    }

    /// The CRLF that follows each chunk's data (RFC 9112 §7.1: `chunk-data CRLF`); not the trailer section.
    public static let chunkTrailer: [UInt8] = [HTTPSyntax.cr, HTTPSyntax.lf]

    /// The last chunk with an empty trailer section, `"0\r\n\r\n"`: ends a chunked body (RFC 9112 §7.1).
    public static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)
}

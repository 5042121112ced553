/// Writes the chunked transfer coding (RFC 9112 §7.1): `size-in-hex CRLF data CRLF`, ended by `0 CRLF CRLF`.
///
/// The proxy re-encodes every body it forwards as chunked: what one read of the upstream carried becomes one chunk
/// (`openChunk` / `closeChunk`), a heartbeat another. No chunk extensions and no trailers are ever written.
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

    /// Reserves room for a chunk header at the end of `output`, ahead of data appended afterwards (in as many
    /// pieces as it comes); returns the slot to give `closeChunk`.
    public static func openChunk(in output: inout [UInt8]) -> Int {
        let slot = output.count
        output.append(contentsOf: repeatElement(0, count: maxHeaderBytes))
        return slot
    }

    /// Ends the chunk whose header slot `openChunk` reserved at `slot`: writes its size line right before the data
    /// (exact width, no leading zeros) and the CRLF after it, or removes the slot when no data was appended.
    /// Returns the offset at which `output` now starts: the unused front of the slot is skipped, and whatever came
    /// before the slot is moved up against the size line, so `output[start...]` is the whole, contiguous output.
    public static func closeChunk(openedAt slot: Int, in output: inout [UInt8]) -> Int {
        let dataCount = output.count - slot - maxHeaderBytes
        precondition(dataCount >= 0, "ChunkedEncoder: closeChunk without a matching openChunk")
        guard dataCount > 0 else {
            output.removeLast(maxHeaderBytes)
            return 0
        }
        let start = output.withUnsafeMutableBytes { writeSizeLine(openedAt: slot, dataCount: dataCount, in: $0) }
        output.append(contentsOf: chunkTrailer)
        return start
    }

    /// The middle of `closeChunk` for a buffer the caller keeps (`RelayOutput`): writes the size line of a chunk of
    /// `dataCount > 0` bytes whose header slot is at `slot`, moves whatever came before the slot up against it, and
    /// returns where the output now starts. The caller appends the CRLF after the data.
    public static func writeSizeLine(openedAt slot: Int, dataCount: Int, in raw: UnsafeMutableRawBufferPointer) -> Int {
        precondition(slot + maxHeaderBytes + dataCount <= raw.count, "ChunkedEncoder: the chunk lies outside the buffer")
        return withUnsafeTemporaryAllocation(byteCount: maxHeaderBytes, alignment: 1) { header in
            let written = writeHeader(forChunkOf: dataCount, into: header)
            let headerStart = slot + maxHeaderBytes - written
            raw.baseAddress!.advanced(by: headerStart).copyMemory(from: header.baseAddress!, byteCount: written)
            if slot > 0 {
                // Overlapping when the slot is shorter than the bytes before it: `copyMemory` is `memmove`.
                raw.baseAddress!.advanced(by: headerStart - slot).copyMemory(from: raw.baseAddress!, byteCount: slot)
            }
            return headerStart - slot
        }
    }

    /// The CRLF that follows each chunk's data (RFC 9112 §7.1: `chunk-data CRLF`); not the trailer section.
    public static let chunkTrailer: [UInt8] = [HTTPSyntax.cr, HTTPSyntax.lf]

    /// The last chunk with an empty trailer section, `"0\r\n\r\n"`: ends a chunked body (RFC 9112 §7.1).
    public static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)
}

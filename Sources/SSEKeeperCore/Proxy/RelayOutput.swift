/// The bytes of one client write being assembled: a response head, body data in the client's framing, a heartbeat.
///
/// One per event loop, reused for every write (its capacity stays), so relaying an event allocates nothing.
/// Body data goes in through `appendBody(_:)` in the client's framing; `ResponseRelay.relay` opens one chunk for a
/// whole upstream read and closes it at the end, so a read becomes one chunk and one `send`. After a chunk is
/// closed the bytes to send may start after `start` (the unused front of the chunk header slot).
///
/// Ownership: the caller resets it (`removeAll()`) before assembling a write, and sends `withUnsafeBytes`'s bytes.
public struct RelayOutput: Sendable {
    /// The buffer; the bytes to send are `storage[start..<end]`. Past `end` it is room, zero-filled when it grows.
    ///
    /// Why a sized buffer and an end, not an array's count: bytes are appended with one `memcpy` into the room.
    /// `Array.append(contentsOf:)` cost about 80 instructions of its own per call, once per relayed event: a sixth of
    /// a saturated event's 510 (callgrind), and 29–35 ns against 9–10 for the copy (100 bytes, a loop of 20 million).
    public private(set) var storage: [UInt8]
    /// Where the bytes to send begin (non-zero only after a chunk was closed).
    public private(set) var start = 0
    /// Where the bytes to send end.
    public private(set) var end = 0
    /// The header slot of the chunk open in `storage` (`ChunkedEncoder.openChunk`), if any.
    private var chunkSlot: Int?
    /// The framing `appendBody` applies.
    public var framing: ClientFraming = .none

    /// An empty output with room for `capacity` bytes.
    public init(capacity: Int = 0) {
        storage = [UInt8](repeating: 0, count: capacity)
    }

    /// The number of bytes to send.
    public var count: Int { end - start }
    /// Whether there is nothing to send.
    public var isEmpty: Bool { end <= start }

    /// Forgets everything assembled (keeping the capacity); the framing stays.
    public mutating func removeAll() {
        start = 0
        end = 0
        chunkSlot = nil
    }

    /// Calls `body` with the bytes to send.
    ///
    /// `@inlinable` so the shell's per-event writes get a specialized copy: a generic from this module is not
    /// specialized in SSEKeeperIO, and every relayed event went through an unspecialized `Array.withUnsafeBytes`
    /// (seen in the HTTP/2 profile).
    @inlinable
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }

    /// Appends bytes as they are (a response head, the last chunk): no framing applied.
    public mutating func appendRaw(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Appends bytes as they are: no framing applied.
    public mutating func appendRaw(_ bytes: UnsafeRawBufferPointer) {
        append(bytes)
    }

    /// Appends response body data in the client's framing: inside the open chunk when there is one, else as a chunk
    /// of its own (chunked) or as it is.
    public mutating func appendBody(_ data: UnsafeRawBufferPointer) {
        guard !data.isEmpty else { return }
        if framing == .chunked && chunkSlot == nil {
            // A whole chunk: the size line written in place, the data, CRLF.
            makeRoom(ChunkedEncoder.maxHeaderBytes + data.count + 2)
            let at = end
            end = storage.withUnsafeMutableBytes { raw in
                let written = ChunkedEncoder.writeHeader(
                    forChunkOf: data.count,
                    into: UnsafeMutableRawBufferPointer(rebasing: raw[at..<(at + ChunkedEncoder.maxHeaderBytes)]))
                let dataAt = raw.baseAddress! + at + written
                dataAt.copyMemory(from: data.baseAddress!, byteCount: data.count)
                dataAt.storeBytes(of: HTTPSyntax.cr, toByteOffset: data.count, as: UInt8.self)
                dataAt.storeBytes(of: HTTPSyntax.lf, toByteOffset: data.count + 1, as: UInt8.self)
                return at + written + data.count + 2
            }
        } else {
            append(data)
        }
    }

    /// Appends response body data in the client's framing.
    public mutating func appendBody(_ data: [UInt8]) {
        data.withUnsafeBytes { appendBody($0) }
    }

    /// With chunked framing, starts one chunk that collects every `appendBody` until `closeChunk()`.
    mutating func openChunk() {
        guard framing == .chunked, chunkSlot == nil else { return }
        if start > 0 {
            // A chunk was closed in this write already: drop the unused front so the next close moves only bytes
            // that are sent.
            let (from, count) = (start, end - start)
            storage.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: $0.baseAddress! + from, byteCount: count) }
            start = 0
            end = count
        }
        makeRoom(ChunkedEncoder.maxHeaderBytes)
        chunkSlot = end
        end += ChunkedEncoder.maxHeaderBytes
    }

    /// Ends the chunk `openChunk()` started (removing it when nothing was appended).
    mutating func closeChunk() {
        guard let slot = chunkSlot else { return }
        chunkSlot = nil
        let dataCount = end - slot - ChunkedEncoder.maxHeaderBytes
        guard dataCount > 0 else {
            end = slot
            return
        }
        start = storage.withUnsafeMutableBytes {
            ChunkedEncoder.writeSizeLine(openedAt: slot, dataCount: dataCount, in: $0)
        }
        ChunkedEncoder.chunkTrailer.withUnsafeBytes { append($0) }
    }

    /// Ends a chunked body: the last chunk (`0\r\n\r\n`); nothing for other framings.
    mutating func appendEndOfBody() {
        if framing == .chunked { ChunkedEncoder.lastChunk.withUnsafeBytes { append($0) } }
    }

    /// Copies `bytes` to the end.
    private mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        let (at, count) = (end, bytes.count)
        makeRoom(count)
        storage.withUnsafeMutableBytes { ($0.baseAddress! + at).copyMemory(from: source, byteCount: count) }
        end = at + count
    }

    /// Makes sure `count` more bytes fit after `end`.
    @inline(__always)
    private mutating func makeRoom(_ count: Int) {
        if storage.count - end < count { grow(toFit: count) }
    }

    /// Grows the room to fit `count` more bytes after `end`: at least doubling, so appends stay amortized.
    private mutating func grow(toFit count: Int) {
        let wanted = max(end + count, storage.count * 2, 64)
        storage.append(contentsOf: repeatElement(0, count: wanted - storage.count))
    }
}

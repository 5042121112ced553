/// The bytes of one client write being assembled: a response head, body data in the client's framing, a heartbeat.
///
/// One per event loop, reused for every write (its capacity stays), so relaying an event allocates nothing.
/// Body data goes in through `appendBody(_:)` in the client's framing; `ResponseRelay.relay` opens one chunk for a
/// whole upstream read and closes it at the end, so a read becomes one chunk and one `send`. After a chunk is
/// closed the bytes to send may start after `start` (the unused front of the chunk header slot).
///
/// Ownership: the caller resets it (`removeAll()`) before assembling a write, and sends `withUnsafeBytes`'s bytes.
public struct RelayOutput: Sendable {
    /// The buffer; the bytes to send are `storage[start...]`.
    public private(set) var storage: [UInt8] = []
    /// Where the bytes to send begin (non-zero only after a chunk was closed).
    public private(set) var start = 0
    /// The header slot of the chunk open in `storage` (`ChunkedEncoder.openChunk`), if any.
    private var chunkSlot: Int?
    /// The framing `appendBody` applies.
    public var framing: ClientFraming = .none

    /// An empty output with room for `capacity` bytes.
    public init(capacity: Int = 0) {
        storage.reserveCapacity(capacity)
    }

    /// The number of bytes to send.
    public var count: Int { storage.count - start }
    /// Whether there is nothing to send.
    public var isEmpty: Bool { storage.count <= start }

    /// Forgets everything assembled (keeping the capacity); the framing stays.
    public mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        start = 0
        chunkSlot = nil
    }

    /// Calls `body` with the bytes to send.
    ///
    /// `@inlinable` so the shell's per-event writes get a specialized copy: a generic from this module is not
    /// specialized in SSEKeeperIO, and every relayed event went through an unspecialized `Array.withUnsafeBytes`
    /// (seen in the HTTP/2 profile).
    @inlinable
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start...])) }
    }

    /// Appends bytes as they are (a response head, the last chunk): no framing applied.
    public mutating func appendRaw(_ bytes: [UInt8]) {
        storage.append(contentsOf: bytes)
    }

    /// Appends bytes as they are: no framing applied.
    public mutating func appendRaw(_ bytes: UnsafeRawBufferPointer) {
        storage.append(contentsOf: bytes)
    }

    /// Appends response body data in the client's framing: inside the open chunk when there is one, else as a chunk
    /// of its own (chunked) or as it is.
    public mutating func appendBody(_ data: UnsafeRawBufferPointer) {
        guard !data.isEmpty else { return }
        if framing == .chunked && chunkSlot == nil {
            ChunkedEncoder.appendChunk(data, to: &storage)
        } else {
            storage.append(contentsOf: data)
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
            storage.removeFirst(start)
            start = 0
        }
        chunkSlot = ChunkedEncoder.openChunk(in: &storage)
    }

    /// Ends the chunk `openChunk()` started (removing it when nothing was appended).
    mutating func closeChunk() {
        guard let slot = chunkSlot else { return }
        chunkSlot = nil
        start = ChunkedEncoder.closeChunk(openedAt: slot, in: &storage)
    }

    /// Ends a chunked body: the last chunk (`0\r\n\r\n`); nothing for other framings.
    mutating func appendEndOfBody() {
        if framing == .chunked { storage.append(contentsOf: ChunkedEncoder.lastChunk) }
    }
}

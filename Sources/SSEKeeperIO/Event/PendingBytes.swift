/// Bytes waiting for a socket to turn writable: a queue of copied chunks.
struct PendingBytes {
    private var chunks: [[UInt8]] = []
    private var headOffset = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// The unsent part of the oldest chunk.
    var first: ArraySlice<UInt8>? {
        chunks.first.map { $0[headOffset...] }
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        chunks.append(Array(bytes))
        count += bytes.count
    }

    /// Drops `sent` bytes from the front of the oldest chunk.
    mutating func consume(_ sent: Int) {
        headOffset += sent
        count -= sent
        if headOffset == chunks[0].count {
            chunks.removeFirst()
            headOffset = 0
        }
    }

    mutating func removeAll() {
        chunks = []
        headOffset = 0
        count = 0
    }
}

/// Splits what the proxy writes for one HTTP/2 stream into response heads and body bytes.
///
/// The proxy builds every response the same way whatever the client speaks: an HTTP/1.1 head (the upstream's
/// filtered head, an interim 1xx, or an answer of ssekeeper's own) followed by the body in the client framing,
/// which for an HTTP/2 stream is unframed (`ClientResponseBuilder`: the body ends with the stream). The HTTP/2
/// shell feeds each write here and sends each head as HEADERS (`sendHeaders`) and the body bytes as DATA: the
/// first write of a stream carries the head (and maybe the first body bytes); after the final (non-1xx) head
/// every byte is body and passes through without a copy.
///
/// Memory: a head is held until complete, at most `maxHeadBytes`.
public struct HTTP2ResponseTranslator: Sendable {
    /// One response head, for `sendHeaders`.
    public struct Head: Sendable, Equatable {
        /// The status code (1xx for an interim head).
        public var status: Int
        /// The fields in order, names as the proxy wrote them (`sendHeaders` lowercases them and drops the
        /// connection-specific ones).
        public var fields: [HPACKHeaderField]
    }

    /// What one write held: heads completed by it (interim ones first), and where its body bytes start.
    public struct Pieces: Sendable, Equatable {
        /// Heads completed by this write, in order.
        public var heads: [Head]
        /// The offset in the write where body bytes start (the write's length when it holds none).
        public var bodyStart: Int
    }

    /// The largest head held: ssekeeper's own heads are the upstream's (bounded by `max_header_size`) plus a few
    /// fields.
    public let maxHeadBytes: Int
    /// Whether the final head went by: from then on every byte is body.
    public private(set) var isInBody = false
    /// Head bytes not complete yet.
    private var pending: [UInt8] = []

    /// A translator for one stream's response.
    public init(maxHeadBytes: Int) {
        self.maxHeadBytes = maxHeadBytes
    }

    /// Takes the next write. Throws when the bytes are not a response head (a defect in the proxy: the shell
    /// resets the stream).
    public mutating func take(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> Pieces {
        guard !isInBody else { return Pieces(heads: [], bodyStart: 0) }
        var heads: [Head] = []
        let previous = pending.count
        pending.append(contentsOf: bytes)
        var consumedTotal = 0
        while !isInBody {
            var parser = HeadParser(maxHeaderBytes: maxHeadBytes)
            let offset = consumedTotal
            let result = try pending.withUnsafeBytes { raw in
                Result { () throws(HTTPParseError) in try parser.parseResponse(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
            }.get()
            guard case .complete(let head, let consumed) = result else { break }
            consumedTotal += consumed
            heads.append(Head(status: head.status, fields: head.headers.fields.map { HPACKHeaderField($0.name, $0.value) }))
            if !head.isInterim { isInBody = true }
        }
        if isInBody {
            // Body bytes start in this write after what the heads took of the bytes held before it.
            let bodyStart = consumedTotal - previous
            pending = []
            return Pieces(heads: heads, bodyStart: bodyStart)
        }
        pending.removeFirst(consumedTotal)
        return Pieces(heads: heads, bodyStart: bytes.count)
    }
}

/// Why a header block was rejected by `HPACKDecoder` (RFC 7541), with the byte offset in the block where it was
/// found.
///
/// Every case except `headerListTooLarge` and `tooManyFields` is a decoding error: RFC 9113 §4.3 makes it a
/// connection error of type COMPRESSION_ERROR, since the dynamic table may now disagree with the peer's
/// (`scope == .connection`). `headerListTooLarge` and `tooManyFields` are thrown only after the whole block was
/// decoded and the dynamic table updated, so the connection may go on: the caller refuses the one stream
/// (RST_STREAM, or a 431 response, RFC 9113 §8.2.2, §10.5.1) (`scope == .stream`).
public enum HPACKError: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Where an error leaves the connection.
    public enum Scope: Sendable, Equatable, Hashable {
        /// A decoding error: the connection fails with COMPRESSION_ERROR (RFC 9113 §4.3).
        case connection
        /// A limit of ours: the block was fully processed, only its stream is refused.
        case stream
    }

    /// The block ends inside a representation (an integer or a string runs past the end).
    case truncated(offset: Int)
    /// An integer (§5.1) above `HPACKInteger.maxValue` or with more than `HPACKInteger.maxContinuationBytes`
    /// continuation bytes.
    case integerOverflow(offset: Int)
    /// Index 0 (§6.1), or an index past the static and dynamic tables (§2.3.3).
    case invalidIndex(Int, offset: Int)
    /// A string longer than the decoder's `maxStringLength` (on the wire, or decoded from Huffman).
    case stringTooLong(length: Int, limit: Int, offset: Int)
    /// A Huffman-encoded string is invalid (§5.2).
    case invalidHuffman(HPACKHuffmanError, offset: Int)
    /// A dynamic table size update after the first field representation of the block (§4.2).
    case tableSizeUpdateNotAtStart(offset: Int)
    /// A dynamic table size update above the limit we advertised in SETTINGS_HEADER_TABLE_SIZE (§6.3).
    case tableSizeUpdateAboveLimit(size: Int, limit: Int, offset: Int)
    /// We lowered SETTINGS_HEADER_TABLE_SIZE below the table's size, and the block did not start with the size
    /// update that must follow (§4.2).
    case missingTableSizeUpdate(offset: Int)
    /// The decoded fields exceed `maxHeaderListSize`, counting name + value + 32 per field
    /// (RFC 9113 §6.5.2). `size` is the total of the fields that fit plus the first that did not.
    case headerListTooLarge(size: Int, limit: Int)
    /// More fields than `maxFieldCount`.
    case tooManyFields(limit: Int)

    /// Whether the connection must fail (COMPRESSION_ERROR) or only the stream is refused.
    public var scope: Scope {
        switch self {
        case .headerListTooLarge, .tooManyFields: return .stream
        default: return .connection
        }
    }

    /// The HTTP/2 error code for a connection-scoped error: COMPRESSION_ERROR (0xb, RFC 9113 §7), else nil.
    public var connectionErrorCode: UInt32? { scope == .connection ? 0xB : nil }

    /// `HPACK error: invalidIndex(70, offset: 3)`.
    public var description: String {
        switch self {
        case .truncated(let offset): return "HPACK error: truncated(offset: \(offset))"
        case .integerOverflow(let offset): return "HPACK error: integerOverflow(offset: \(offset))"
        case .invalidIndex(let index, let offset): return "HPACK error: invalidIndex(\(index), offset: \(offset))"
        case .stringTooLong(let length, let limit, let offset):
            return "HPACK error: stringTooLong(length: \(length), limit: \(limit), offset: \(offset))"
        case .invalidHuffman(let error, let offset): return "HPACK error: invalidHuffman(\(error), offset: \(offset))"
        case .tableSizeUpdateNotAtStart(let offset): return "HPACK error: tableSizeUpdateNotAtStart(offset: \(offset))"
        case .tableSizeUpdateAboveLimit(let size, let limit, let offset):
            return "HPACK error: tableSizeUpdateAboveLimit(size: \(size), limit: \(limit), offset: \(offset))"
        case .missingTableSizeUpdate(let offset): return "HPACK error: missingTableSizeUpdate(offset: \(offset))"
        case .headerListTooLarge(let size, let limit): return "HPACK error: headerListTooLarge(size: \(size), limit: \(limit))"
        case .tooManyFields(let limit): return "HPACK error: tooManyFields(limit: \(limit))"
        }
    }
}

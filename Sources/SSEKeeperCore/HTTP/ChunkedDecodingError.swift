/// Why a chunked body was rejected, and where (RFC 9112 §7.1).
///
/// `offset` counts bytes from the start of the chunked body (everything passed to one `ChunkedDecoder`), so it
/// does not depend on how the bytes were split across calls. The proxy answers a client's bad body with 400
/// and treats an upstream's as a broken upstream (502 when nothing was sent yet, else it closes).
public enum ChunkedDecodingError: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// A chunk-size line does not start with a hex digit, or has a stray byte after the size.
    case invalidChunkSize(offset: Int)
    /// More hex digits than `maxChunkSizeDigits` (leading zeros count): the size could overflow.
    case chunkSizeTooLong(offset: Int)
    /// A control byte (other than HTAB) in a chunk extension.
    case invalidChunkExtension(offset: Int)
    /// Whitespace and extensions after one chunk size exceed `maxExtensionBytes`.
    case chunkExtensionTooLong(offset: Int)
    /// The chunk-size line does not end with CRLF (a bare LF or a CR without LF).
    case missingCRLFAfterChunkSize(offset: Int)
    /// The chunk data is not followed by CRLF.
    case missingCRLFAfterChunkData(offset: Int)
    /// A trailer line holds a control byte or does not end with CRLF.
    case invalidTrailer(offset: Int)
    /// The trailer section exceeds `maxTrailerBytes`.
    case trailersTooLong(offset: Int)

    /// Where the error was found, from the start of the chunked body.
    public var offset: Int {
        switch self {
        case .invalidChunkSize(let offset), .chunkSizeTooLong(let offset), .invalidChunkExtension(let offset),
             .chunkExtensionTooLong(let offset), .missingCRLFAfterChunkSize(let offset),
             .missingCRLFAfterChunkData(let offset), .invalidTrailer(let offset), .trailersTooLong(let offset):
            return offset
        }
    }

    /// `chunked body error: invalidChunkSize(offset: 3)`.
    public var description: String { "chunked body error: \(name)(offset: \(offset))" }

    private var name: String {
        switch self {
        case .invalidChunkSize: return "invalidChunkSize"
        case .chunkSizeTooLong: return "chunkSizeTooLong"
        case .invalidChunkExtension: return "invalidChunkExtension"
        case .chunkExtensionTooLong: return "chunkExtensionTooLong"
        case .missingCRLFAfterChunkSize: return "missingCRLFAfterChunkSize"
        case .missingCRLFAfterChunkData: return "missingCRLFAfterChunkData"
        case .invalidTrailer: return "invalidTrailer"
        case .trailersTooLong: return "trailersTooLong"
        }
    }
}

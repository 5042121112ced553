/// How the proxy delimits the body it sends to the client (RFC 9112 §6.3), chosen by `ClientResponseBuilder`.
public enum ClientFraming: Sendable, Equatable, Hashable {
    /// No body follows the head.
    case none
    /// Exactly this many bytes follow, copied through unchanged.
    case contentLength(UInt64)
    /// The proxy writes the body with `ChunkedEncoder` and ends it with `ChunkedEncoder.lastChunk`.
    case chunked
    /// The proxy writes the body raw and closes the connection to end it.
    case closeDelimited
}

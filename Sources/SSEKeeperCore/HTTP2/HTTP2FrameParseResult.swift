/// What `HTTP2FrameParser.parse` made of the bytes it was given.
///
/// Only the bytes counted by `consumed` are used up; the caller drops them from its receive buffer and calls
/// again with what is left (plus whatever arrives).
public enum HTTP2FrameParseResult: Hashable, Sendable {
    /// No complete preface or frame yet: call again with the same bytes and more. Nothing was consumed.
    case needMore
    /// The bytes do not begin with the client connection preface (RFC 9113 §3.4); nothing was consumed. On an
    /// `h2c` listener with prior knowledge this is an HTTP/1.1 client: hand the same bytes to the HTTP/1.1
    /// parser. Returned only while the parser still expects the preface.
    case notHTTP2
    /// The 24-byte client connection preface was read (RFC 9113 §3.4); the server now sends its SETTINGS.
    case preface(consumed: Int)
    /// One frame, `consumed` bytes (the 9-byte header plus the payload).
    case frame(HTTP2Frame, consumed: Int)
    /// One frame broke a rule whose scope is a single stream (RFC 9113 §5.4.2): answer RST_STREAM with
    /// `error.code` on that stream and go on parsing after `consumed` bytes.
    case streamError(HTTP2FrameError, consumed: Int)
}

/// An HTTP/2 error code, as carried by RST_STREAM and GOAWAY (RFC 9113 §7).
///
/// A struct over the 32-bit wire value rather than a closed enum: §7 says unknown or unsupported codes "MUST NOT
/// trigger any special behavior" and MAY be treated as `INTERNAL_ERROR`, so a peer's unknown code must still be
/// representable (and round-trip) without being an error of its own.
public struct HTTP2ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 32-bit value on the wire.
    public let rawValue: UInt32

    /// Wraps any 32-bit value, known or not.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// 0x0: graceful shutdown, or no error (RFC 9113 §7).
    public static let noError = HTTP2ErrorCode(rawValue: 0x0)
    /// 0x1: an unspecific protocol error was detected.
    public static let protocolError = HTTP2ErrorCode(rawValue: 0x1)
    /// 0x2: the endpoint hit an unexpected internal error.
    public static let internalError = HTTP2ErrorCode(rawValue: 0x2)
    /// 0x3: the peer violated the flow-control protocol (RFC 9113 §5.2, §6.9).
    public static let flowControlError = HTTP2ErrorCode(rawValue: 0x3)
    /// 0x4: a SETTINGS frame was not acknowledged in time (RFC 9113 §6.5.3).
    public static let settingsTimeout = HTTP2ErrorCode(rawValue: 0x4)
    /// 0x5: a frame arrived on a half-closed (remote) or closed stream (RFC 9113 §5.1).
    public static let streamClosed = HTTP2ErrorCode(rawValue: 0x5)
    /// 0x6: a frame has an invalid size (RFC 9113 §4.2).
    public static let frameSizeError = HTTP2ErrorCode(rawValue: 0x6)
    /// 0x7: the stream was refused before any application processing (safe to retry, RFC 9113 §8.7).
    public static let refusedStream = HTTP2ErrorCode(rawValue: 0x7)
    /// 0x8: the stream is no longer needed.
    public static let cancel = HTTP2ErrorCode(rawValue: 0x8)
    /// 0x9: the field-compression context cannot be maintained (RFC 7541).
    public static let compressionError = HTTP2ErrorCode(rawValue: 0x9)
    /// 0xa: a CONNECT tunnel was reset or closed abnormally (RFC 9113 §8.5).
    public static let connectError = HTTP2ErrorCode(rawValue: 0xa)
    /// 0xb: the peer behaves in a way that might generate excessive load (floods, RFC 9113 §10.5).
    public static let enhanceYourCalm = HTTP2ErrorCode(rawValue: 0xb)
    /// 0xc: the transport does not meet minimum security requirements (RFC 9113 §9.2).
    public static let inadequateSecurity = HTTP2ErrorCode(rawValue: 0xc)
    /// 0xd: the endpoint requires HTTP/1.1 instead of HTTP/2.
    public static let http11Required = HTTP2ErrorCode(rawValue: 0xd)

    /// Every code RFC 9113 §7 defines, in value order.
    public static let allDefined: [HTTP2ErrorCode] = [
        .noError, .protocolError, .internalError, .flowControlError, .settingsTimeout, .streamClosed,
        .frameSizeError, .refusedStream, .cancel, .compressionError, .connectError, .enhanceYourCalm,
        .inadequateSecurity, .http11Required,
    ]

    /// The RFC's name (`PROTOCOL_ERROR`), or `0x...` for a code it does not define.
    public var description: String {
        let names = [
            "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
            "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR",
            "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
        ]
        if rawValue < UInt32(names.count) { return names[Int(rawValue)] }
        return "0x" + String(rawValue, radix: 16)
    }
}

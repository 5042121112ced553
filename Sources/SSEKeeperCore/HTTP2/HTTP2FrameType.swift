/// The frame types RFC 9113 §6 defines, by their 8-bit wire value.
///
/// A frame of any other type is not an error: §4.1 and §5.5 say implementations MUST ignore and discard frames
/// of unknown types (except in the middle of a field block, §6.10). The parser reports them as
/// `HTTP2Frame.unknown`.
public enum HTTP2FrameType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// 0x0, RFC 9113 §6.1.
    case data = 0x0
    /// 0x1, RFC 9113 §6.2.
    case headers = 0x1
    /// 0x2, RFC 9113 §6.3 (the signaling scheme is deprecated by §5.3.2; the frame is still parsed).
    case priority = 0x2
    /// 0x3, RFC 9113 §6.4.
    case rstStream = 0x3
    /// 0x4, RFC 9113 §6.5.
    case settings = 0x4
    /// 0x5, RFC 9113 §6.6 (server to client only).
    case pushPromise = 0x5
    /// 0x6, RFC 9113 §6.7.
    case ping = 0x6
    /// 0x7, RFC 9113 §6.8.
    case goaway = 0x7
    /// 0x8, RFC 9113 §6.9.
    case windowUpdate = 0x8
    /// 0x9, RFC 9113 §6.10.
    case continuation = 0x9

    /// The RFC's name, `WINDOW_UPDATE`.
    public var description: String {
        switch self {
        case .data: return "DATA"
        case .headers: return "HEADERS"
        case .priority: return "PRIORITY"
        case .rstStream: return "RST_STREAM"
        case .settings: return "SETTINGS"
        case .pushPromise: return "PUSH_PROMISE"
        case .ping: return "PING"
        case .goaway: return "GOAWAY"
        case .windowUpdate: return "WINDOW_UPDATE"
        case .continuation: return "CONTINUATION"
        }
    }
}

/// Flag bits of the frame header (RFC 9113 §4.1, values from §6). Only the bits a type defines mean anything;
/// the others MUST be ignored on receipt and are never set by `HTTP2FrameWriter`.
enum HTTP2FrameFlag {
    /// END_STREAM on DATA and HEADERS.
    static let endStream: UInt8 = 0x1
    /// ACK on SETTINGS and PING.
    static let ack: UInt8 = 0x1
    /// END_HEADERS on HEADERS, PUSH_PROMISE and CONTINUATION.
    static let endHeaders: UInt8 = 0x4
    /// PADDED on DATA, HEADERS and PUSH_PROMISE.
    static let padded: UInt8 = 0x8
    /// PRIORITY on HEADERS.
    static let priority: UInt8 = 0x20
}

/// One HTTP/2 frame as received or to be sent (RFC 9113 §4.1, §6).
///
/// Stream identifiers are 31-bit (the reserved bit is dropped on receipt, §4.1). Payloads are copies owned by
/// the frame, at most one frame's length. Flags a type does not define are not kept (§4.1: ignored). There is
/// no PUSH_PROMISE case: we are always the server, and a server MUST treat a received PUSH_PROMISE as a
/// connection error (§8.4), which `HTTP2FrameParser` does before building a frame.
public enum HTTP2Frame: Hashable, Sendable {
    /// DATA (§6.1). `paddingLength` is nil when the PADDED flag was clear; padding bytes are not kept, but they
    /// count for flow control (`flowControlledLength`).
    case data(stream: UInt32, payload: [UInt8], endStream: Bool, paddingLength: Int?)
    /// HEADERS (§6.2): a field-block fragment for HPACK; when `endHeaders` is false, CONTINUATION frames of the
    /// same stream follow (§6.10). `priority` is present when the PRIORITY flag was set (deprecated, §5.3.2).
    case headers(stream: UInt32, fragment: [UInt8], endStream: Bool, endHeaders: Bool, priority: HTTP2Priority?,
                 paddingLength: Int?)
    /// PRIORITY (§6.3): deprecated signaling, parsed so its rules can be checked, otherwise ignored.
    case priority(stream: UInt32, HTTP2Priority)
    /// RST_STREAM (§6.4).
    case rstStream(stream: UInt32, errorCode: HTTP2ErrorCode)
    /// SETTINGS without ACK (§6.5): pairs in frame order, unknown identifiers included.
    case settings([HTTP2Setting])
    /// SETTINGS with ACK (§6.5): the peer applied our SETTINGS.
    case settingsAck
    /// PING without ACK (§6.7): answer with `pingAck` carrying the same 8 bytes (big-endian here).
    case ping(opaqueData: UInt64)
    /// PING with ACK (§6.7): the answer to a PING we sent.
    case pingAck(opaqueData: UInt64)
    /// GOAWAY (§6.8).
    case goaway(lastStreamID: UInt32, errorCode: HTTP2ErrorCode, debugData: [UInt8])
    /// WINDOW_UPDATE (§6.9) with a non-zero 31-bit increment; stream 0 is the connection window.
    case windowUpdate(stream: UInt32, increment: UInt32)
    /// CONTINUATION (§6.10): the next fragment of the field block opened by HEADERS on `stream`.
    case continuation(stream: UInt32, fragment: [UInt8], endHeaders: Bool)
    /// A frame of a type RFC 9113 does not define: to be ignored and discarded (§4.1, §5.5). Its payload
    /// (`length` bytes) is not kept.
    case unknown(type: UInt8, flags: UInt8, stream: UInt32, length: Int)

    /// The stream the frame belongs to; 0 for the connection.
    public var stream: UInt32 {
        switch self {
        case .data(let stream, _, _, _), .headers(let stream, _, _, _, _, _), .priority(let stream, _),
             .rstStream(let stream, _), .windowUpdate(let stream, _), .continuation(let stream, _, _),
             .unknown(_, _, let stream, _):
            return stream
        case .settings, .settingsAck, .ping, .pingAck, .goaway:
            return 0
        }
    }

    /// The frame's type; nil for `unknown`.
    public var type: HTTP2FrameType? {
        switch self {
        case .data: return .data
        case .headers: return .headers
        case .priority: return .priority
        case .rstStream: return .rstStream
        case .settings, .settingsAck: return .settings
        case .ping, .pingAck: return .ping
        case .goaway: return .goaway
        case .windowUpdate: return .windowUpdate
        case .continuation: return .continuation
        case .unknown: return nil
        }
    }

    /// The bytes a DATA frame takes from the flow-control windows: its whole payload, Pad Length and padding
    /// included (§6.9.1); 0 for other types.
    public var flowControlledLength: Int {
        guard case .data(_, let payload, _, let paddingLength) = self else { return 0 }
        return payload.count + (paddingLength.map { $0 + 1 } ?? 0)
    }
}

/// The priority fields of HEADERS and PRIORITY frames (RFC 9113 §5.3, §6.3): deprecated, kept for checking.
public struct HTTP2Priority: Hashable, Sendable {
    /// The E flag: exclusive dependency.
    public var exclusive: Bool
    /// The 31-bit stream this one depends on.
    public var dependency: UInt32
    /// The weight on the wire, 0...255 (meaning 1...256).
    public var weight: UInt8

    /// Priority fields as on the wire.
    public init(exclusive: Bool, dependency: UInt32, weight: UInt8) {
        self.exclusive = exclusive
        self.dependency = dependency
        self.weight = weight
    }
}

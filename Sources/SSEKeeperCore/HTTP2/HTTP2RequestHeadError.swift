/// Why a request's field section is malformed (RFC 9113 §8.1.1): answered with RST_STREAM PROTOCOL_ERROR on
/// that stream (§8.1.1: "treated as a stream error of type PROTOCOL_ERROR").
public enum HTTP2RequestHeadError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A required pseudo-header is absent: `:method`, `:scheme`, `:path`, or `:authority` for CONNECT (§8.3.1).
    case missingPseudoHeader(String)
    /// A pseudo-header appears twice (§8.3.1).
    case duplicatePseudoHeader(String)
    /// A pseudo-header that requests do not define, `:status` included (§8.3).
    case unknownPseudoHeader(String)
    /// A pseudo-header after a regular field (§8.3), or any pseudo-header in trailers (§8.1).
    case misplacedPseudoHeader(String)
    /// `:path` is empty (§8.3.1), or CONNECT carries `:scheme` or `:path` (§8.5).
    case invalidPseudoHeaderValue(String)
    /// A field name with an uppercase letter, a control, space, DEL or non-ASCII octet, or empty (§8.2.1).
    case invalidFieldName(String)
    /// A value with NUL, CR or LF, or leading or trailing space or tab (§8.2.1).
    case invalidFieldValue(name: String)
    /// A connection-specific field: connection, proxy-connection, keep-alive, transfer-encoding, upgrade,
    /// or `te` other than `trailers` (§8.2.2).
    case connectionSpecificField(String)
    /// `content-length` not all digits, or given twice with different values (RFC 9110 §8.6).
    case invalidContentLength
    /// DATA payloads differ from `content-length` (§8.1.1): `received` bytes against `declared`.
    case contentLengthMismatch(declared: Int, received: Int)
    /// `host` and `:authority` name different hosts (§8.3.1).
    case hostMismatch

    /// `malformed request: missingPseudoHeader(":path")`.
    public var description: String { "malformed request: \(String(reflecting: self))" }
}

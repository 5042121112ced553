/// Checks a client's request field section, or trailers, against HTTP/2's message rules (RFC 9113 §8.1, §8.2,
/// §8.3.1), before the proxy sees it; HPACK (RFC 7541) itself accepts any octets.
///
/// A failure makes the request malformed: the caller answers RST_STREAM PROTOCOL_ERROR (§8.1.1). Field values
/// are not otherwise interpreted; `cookie` crumbs (§8.2.3) stay separate fields for the proxy to join.
public enum HTTP2RequestHeadValidator {
    /// What a valid request head declared that the connection must enforce on its body.
    public struct Summary: Hashable, Sendable {
        /// The `content-length`, if present (§8.1.1: DATA must add up to it).
        public var contentLength: Int?
    }

    /// The longest `content-length` accepted, in digits (enough for 10^18 − 1).
    public static let maxContentLengthDigits = 18

    /// Field names §8.2.2 forbids in HTTP/2 (`te` is checked apart).
    static let connectionSpecificNames: Set<[UInt8]> = Set(
        ["connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade"].map { Array($0.utf8) })

    /// Validates a request head (§8.3.1): pseudo-headers first, each once; `:method`, `:scheme` and a non-empty
    /// `:path` present (CONNECT: `:authority` and neither of the other two, §8.5); regular fields valid.
    public static func validateRequest(_ fields: [HPACKHeaderField]) throws(HTTP2RequestHeadError) -> Summary {
        var pseudo: [String: [UInt8]] = [:]
        var regularSeen = false
        var host: [UInt8]?
        var summary = Summary()
        for field in fields {
            if field.name.first == UInt8(ascii: ":") {
                let name = String(decoding: field.name, as: UTF8.self)
                guard !regularSeen else { throw .misplacedPseudoHeader(name) }
                guard [":method", ":scheme", ":path", ":authority"].contains(name) else { throw .unknownPseudoHeader(name) }
                guard pseudo[name] == nil else { throw .duplicatePseudoHeader(name) }
                try checkValue(field)
                pseudo[name] = field.value
                continue
            }
            regularSeen = true
            try checkRegular(field, summary: &summary)
            if field.name == Array("host".utf8) { host = field.value }
        }
        guard let method = pseudo[":method"] else { throw .missingPseudoHeader(":method") }
        if method == Array("CONNECT".utf8) {
            guard pseudo[":authority"] != nil else { throw .missingPseudoHeader(":authority") }
            guard pseudo[":scheme"] == nil && pseudo[":path"] == nil else { throw .invalidPseudoHeaderValue("CONNECT") }
        } else {
            guard pseudo[":scheme"] != nil else { throw .missingPseudoHeader(":scheme") }
            guard let path = pseudo[":path"] else { throw .missingPseudoHeader(":path") }
            guard !path.isEmpty else { throw .invalidPseudoHeaderValue(":path") }
        }
        if let host, let authority = pseudo[":authority"], host != authority { throw .hostMismatch }
        return summary
    }

    /// Validates trailers (§8.1): regular fields only, by the same rules as a head.
    public static func validateTrailers(_ fields: [HPACKHeaderField]) throws(HTTP2RequestHeadError) {
        var summary = Summary()
        for field in fields {
            guard field.name.first != UInt8(ascii: ":") else {
                throw .misplacedPseudoHeader(String(decoding: field.name, as: UTF8.self))
            }
            try checkRegular(field, summary: &summary)
        }
    }

    /// §8.2.1 name and value rules, §8.2.2 connection-specific fields, and `content-length` parsing.
    private static func checkRegular(_ field: HPACKHeaderField, summary: inout Summary) throws(HTTP2RequestHeadError) {
        let name = field.name
        guard !name.isEmpty, name.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !($0 >= 0x41 && $0 <= 0x5A) && $0 != 0x3A }) else {
            throw .invalidFieldName(String(decoding: name, as: UTF8.self))
        }
        try checkValue(field)
        if connectionSpecificNames.contains(name) { throw .connectionSpecificField(String(decoding: name, as: UTF8.self)) }
        if name == Array("te".utf8) && field.value != Array("trailers".utf8) { throw .connectionSpecificField("te") }
        if name == Array("content-length".utf8) {
            let value = field.value
            guard !value.isEmpty, value.count <= maxContentLengthDigits,
                  value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { throw .invalidContentLength }
            let length = value.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            if let earlier = summary.contentLength, earlier != length { throw .invalidContentLength }
            summary.contentLength = length
        }
    }

    /// §8.2.1: no NUL, CR or LF; no leading or trailing space or tab.
    private static func checkValue(_ field: HPACKHeaderField) throws(HTTP2RequestHeadError) {
        let value = field.value
        let whitespace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        guard !value.contains(where: { $0 == 0 || $0 == 0x0A || $0 == 0x0D }),
              !(value.first.map(whitespace) ?? false), !(value.last.map(whitespace) ?? false) else {
            throw .invalidFieldValue(name: String(decoding: field.name, as: UTF8.self))
        }
    }
}

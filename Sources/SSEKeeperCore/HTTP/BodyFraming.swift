/// How the body of a message is delimited on the wire (RFC 9112 §6.3).
public enum BodyFraming: Sendable, Equatable, Hashable {
    /// No body: the message ends with its head.
    case none
    /// Exactly this many bytes follow the head (`Content-Length`, RFC 9112 §6.2).
    case contentLength(UInt64)
    /// The chunked transfer coding follows the head (RFC 9112 §7.1); decode with `ChunkedDecoder`.
    case chunked
    /// The body runs until the sender closes the connection (responses only, RFC 9112 §6.3 rule 8).
    case closeDelimited
}

/// Reads the two framing fields, Content-Length and Transfer-Encoding, shared by requests and responses.
enum FramingFields {
    /// The Content-Length, or nil when absent (RFC 9112 §6.3 rule 5).
    ///
    /// Every element of every Content-Length line must be `1*DIGIT` within `UInt64`, and all must be equal:
    /// `Content-Length: 5, 5` and two lines of `5` are accepted as 5 (RFC 9110 §8.6), anything else is
    /// `invalidContentLength`.
    static func contentLength(_ headers: HTTPHeaders, role: HeadRole) throws(HTTPParseError) -> UInt64? {
        var length: UInt64?
        for field in headers.fields where HTTPSyntax.equalsIgnoringCase(field.name, "Content-Length") {
            let elements = HTTPSyntax.listElements(field.value)
            if elements.isEmpty { throw role.error(.invalidContentLength) }
            for element in elements {
                guard let value = HTTPSyntax.decimalValue(element), length == nil || length == value else {
                    throw role.error(.invalidContentLength)
                }
                length = value
            }
        }
        return length
    }

    /// The transfer codings in order of application, across every Transfer-Encoding line, or nil when absent
    /// (RFC 9112 §6.1). An empty list (`Transfer-Encoding:` with no value) is an empty array.
    static func transferCodings(_ headers: HTTPHeaders) -> [Substring]? {
        // One pass and one array (this runs for every response head): not a values array, a split and an array
        // per line.
        var codings: [Substring]?
        for field in headers.fields where HTTPSyntax.equalsIgnoringCase(field.name, "Transfer-Encoding") {
            if codings == nil { codings = [] }
            HTTPSyntax.appendListElements(field.value, to: &codings!)
        }
        return codings
    }

    /// Whether the codings are exactly `chunked`, the only transfer coding this proxy implements.
    static func isChunkedOnly(_ codings: [Substring]) -> Bool {
        codings.count == 1 && HTTPSyntax.equalsIgnoringCase(codings[0], "chunked")
    }
}

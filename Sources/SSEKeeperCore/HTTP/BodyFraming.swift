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
        // By index, reading a field only when it is the one: `for field in headers.fields` copied every field.
        for index in headers.fields.indices where headers.fields[index].known == .contentLength {
            let elements = HTTPSyntax.listElements(headers.fields[index].value)
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

    /// What the Transfer-Encoding lines say, across all of them (RFC 9112 §6.1). An empty list
    /// (`Transfer-Encoding:` with no value) has `count` 0.
    struct TransferCodings: Equatable {
        /// How many codings are listed (empty list elements are not codings).
        var count = 0
        /// Whether the last coding applied is `chunked`.
        var lastIsChunked = false
        /// Whether `chunked` also comes before the last coding.
        var chunkedBeforeLast = false

        /// Whether the codings are exactly `chunked`, the only transfer coding this proxy implements.
        var isChunkedOnly: Bool { count == 1 && lastIsChunked }
    }

    /// The Transfer-Encoding summary of `headers`, or nil when the field is absent. One pass that does not
    /// allocate for native strings: it runs for every request and response head.
    static func transferCodings(_ headers: HTTPHeaders) -> TransferCodings? {
        var codings: TransferCodings?
        for index in headers.fields.indices where headers.fields[index].known == .transferEncoding {
            var summary = codings ?? TransferCodings()
            _ = HTTPSyntax.containsListElement(in: headers.fields[index].value) { element in
                guard !element.isEmpty else { return false }
                if summary.lastIsChunked { summary.chunkedBeforeLast = true }
                summary.count += 1
                summary.lastIsChunked = HTTPSyntax.equalsIgnoringCase(element, "chunked")
                return false
            }
            codings = summary
        }
        return codings
    }
}

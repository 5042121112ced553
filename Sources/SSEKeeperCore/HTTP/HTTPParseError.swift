/// Why a message head or its framing was rejected, where, and which status to answer with (h11's
/// `error_status_hint`).
///
/// `status` is the response the proxy sends: for a client's request the status of `kind` (400, 414, 431, 501,
/// 505); for an upstream's response always 502 (RFC 9110 §15.6.3: the upstream sent an invalid response).
/// `offset` counts bytes from the start of the buffer given to `HeadParser`; nil for framing errors, which are
/// found after parsing.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rule that was broken.
    public enum Kind: Sendable, Equatable, Hashable {
        /// More empty lines before the start line than `HeadParser.maxLeadingEmptyLines` (RFC 9112 §2.2).
        case tooManyLeadingEmptyLines
        /// The request line (or status line) is longer than `maxRequestLineBytes` (414, RFC 9112 §3).
        case startLineTooLong
        /// The head is larger than `maxHeaderBytes` (431, RFC 6585 §5).
        case headTooLarge
        /// More field lines than `maxFieldCount` (431, RFC 6585 §5).
        case tooManyFields
        /// The method is empty or not a token (RFC 9112 §3.1).
        case invalidMethod
        /// The request-target is empty or holds a control byte, a space or a non-ASCII byte (RFC 9112 §3.2), has
        /// none of the four target forms (`foo`; `*` other than for OPTIONS), or is an `http`/`https`
        /// absolute-form whose authority is empty or not `[userinfo "@"] host [":" port]` (RFC 9110 §4.2.1,
        /// RFC 3986 §3.2).
        case invalidTarget
        /// Not `HTTP/DIGIT.DIGIT`, or not separated by exactly one SP (RFC 9112 §2.3, §3).
        case invalidVersion
        /// A well-formed version other than 1.x (505, RFC 9110 §15.6.6).
        case unsupportedVersion
        /// The status line is malformed or the status code is not three digits in 100–599 (RFC 9112 §4).
        case invalidStatusLine
        /// A field line starts with SP or HTAB: obsolete line folding (RFC 9112 §5.2).
        case obsoleteLineFolding
        /// Whitespace between a field name and its colon (RFC 9112 §5.1).
        case whitespaceBeforeColon
        /// A field name is empty, has a non-token byte, or the line has no colon (RFC 9110 §5.1).
        case invalidFieldName
        /// A field value holds a control byte other than HTAB, or is not valid UTF-8 (RFC 9110 §5.5).
        case invalidFieldValue
        /// A CR not followed by LF (RFC 9112 §2.2).
        case bareCarriageReturn
        /// An HTTP/1.1 request without Host (RFC 9112 §3.2).
        case missingHost
        /// More than one Host field line (RFC 9112 §3.2).
        case multipleHost
        /// A Host value that is neither empty nor `uri-host [ ":" port ]` (RFC 9112 §3.2, RFC 9110 §7.2).
        case invalidHost
        /// Content-Length is not `1*DIGIT`, overflows, or its values differ (RFC 9112 §6.3 rule 5).
        case invalidContentLength
        /// Both Transfer-Encoding and Content-Length (RFC 9112 §6.3 rule 3; request smuggling).
        case contentLengthWithTransferEncoding
        /// Transfer-Encoding is empty, or chunked is not the final coding, or applied twice (RFC 9112 §6.3, §7).
        case invalidTransferEncoding
        /// A transfer coding other than chunked (501, RFC 9112 §6.1).
        case unsupportedTransferCoding
        /// Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1: the framing is faulty).
        case transferEncodingInHTTP10

        /// The status a server answers a request with for this kind.
        public var requestStatus: Int {
            switch self {
            case .startLineTooLong: return 414
            case .headTooLarge, .tooManyFields: return 431
            case .unsupportedTransferCoding: return 501
            case .unsupportedVersion: return 505
            default: return 400
            }
        }
    }

    /// The rule that was broken.
    public var kind: Kind
    /// The byte offset in the parsed buffer where the problem was found, if known.
    public var offset: Int?
    /// The status to answer with: `kind.requestStatus` for requests, 502 for upstream responses.
    public var status: Int

    /// Creates an error; `status` defaults to `kind.requestStatus`.
    public init(_ kind: Kind, offset: Int? = nil, status: Int? = nil) {
        self.kind = kind
        self.offset = offset
        self.status = status ?? kind.requestStatus
    }

    /// The error for a message from the upstream: always status 502.
    public static func upstream(_ kind: Kind, offset: Int? = nil) -> HTTPParseError {
        HTTPParseError(kind, offset: offset, status: 502)
    }

    /// `HTTP parse error 400 (bareCarriageReturn) at byte 17`.
    public var description: String {
        let location = offset.map { " at byte \($0)" } ?? ""
        return "HTTP parse error \(status) (\(kind))\(location)"
    }
}

/// Which side sent the head being parsed; decides the error status (a bad upstream response is a 502).
enum HeadRole: Sendable {
    case request
    case response

    func error(_ kind: HTTPParseError.Kind, offset: Int? = nil) -> HTTPParseError {
        switch self {
        case .request: return HTTPParseError(kind, offset: offset)
        case .response: return HTTPParseError.upstream(kind, offset: offset)
        }
    }
}

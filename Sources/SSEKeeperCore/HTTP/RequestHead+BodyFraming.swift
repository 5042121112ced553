extension RequestHead {
    /// How the request body is delimited (RFC 9112 §6.3 rules 3–7): `.none`, `.contentLength` or `.chunked`,
    /// never `.closeDelimited` (a request cannot be delimited by closing, rule 7).
    ///
    /// Rejections, each a request-smuggling guard:
    /// - Transfer-Encoding in an HTTP/1.0 request → 400 `transferEncodingInHTTP10` (RFC 9112 §6.1).
    /// - Transfer-Encoding with Content-Length → 400 `contentLengthWithTransferEncoding` (rule 3 allows
    ///   forwarding with CL removed; a reverse proxy gains nothing by accepting it, so it is rejected).
    /// - Transfer-Encoding empty, chunked not the final coding, or chunked twice → 400 `invalidTransferEncoding`
    ///   (rule 4, §7).
    /// - Any coding besides chunked (`gzip, chunked`) → 501 `unsupportedTransferCoding` (RFC 9112 §6.1: "SHOULD
    ///   respond with 501"): the proxy does not implement other transfer codings.
    /// - A Content-Length that is not `1*DIGIT`, overflows, or disagrees with another → 400 (rule 5).
    public func bodyFraming() throws(HTTPParseError) -> BodyFraming {
        let length = try FramingFields.contentLength(headers, role: .request)
        guard let codings = FramingFields.transferCodings(headers) else {
            return length.map(BodyFraming.contentLength) ?? .none
        }
        if version < .http1_1 { throw HTTPParseError(.transferEncodingInHTTP10) }
        if length != nil { throw HTTPParseError(.contentLengthWithTransferEncoding) }
        guard codings.lastIsChunked, !codings.chunkedBeforeLast else { throw HTTPParseError(.invalidTransferEncoding) }
        if codings.count > 1 { throw HTTPParseError(.unsupportedTransferCoding) }
        return .chunked
    }
}

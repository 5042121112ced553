extension ResponseHead {
    /// How the response body is delimited (RFC 9112 §6.3), given the method of the request it answers.
    ///
    /// - 1xx, 204, 304, and any response to HEAD → `.none`, whatever the fields say (rule 1).
    /// - Transfer-Encoding exactly `chunked` → `.chunked` (rule 4).
    /// - Transfer-Encoding in an HTTP/1.0 response → `.closeDelimited`: RFC 9112 §6.1 says to treat the framing
    ///   as faulty and close after the message, so the body is read until the upstream closes.
    /// - Any other Transfer-Encoding (`gzip`, `gzip, chunked`) → error 502 `unsupportedTransferCoding`. Rule 4
    ///   would read such a body until close, but the proxy can neither decode those codings nor pass them on
    ///   (they are hop-by-hop, and the client did not ask for them with TE), so forwarding would corrupt the body.
    /// - Transfer-Encoding with Content-Length → error 502 (rule 3: "ought to be handled as an error").
    /// - Content-Length → `.contentLength`; invalid or conflicting → error 502 (rule 5).
    /// - Otherwise → `.closeDelimited` (rule 8).
    /// Every error has status 502. A 2xx answer to CONNECT (a tunnel, rule 2) is not handled here.
    public func bodyFraming(requestMethod: String) throws(HTTPParseError) -> BodyFraming {
        if isInterim || status == 204 || status == 304 || requestMethod == "HEAD" { return .none }
        let codings = FramingFields.transferCodings(headers)
        if codings != nil && headers.contains(.contentLength) {
            throw HTTPParseError.upstream(.contentLengthWithTransferEncoding)
        }
        if let codings {
            if version < .http1_1 { return .closeDelimited }
            guard codings.isChunkedOnly else { throw HTTPParseError.upstream(.unsupportedTransferCoding) }
            return .chunked
        }
        if let length = try FramingFields.contentLength(headers, role: .response) { return .contentLength(length) }
        return .closeDelimited
    }
}

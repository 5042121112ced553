extension HTTP2ConnectionConfiguration {
    /// The configuration of the HTTP/2 connections of a process running with `limits`: the stream limit from
    /// `http2_max_concurrent_streams`, the header limits from `max_header_size`, everything else at its default.
    ///
    /// `max_header_size` bounds an HTTP/1.1 request head, where each field line costs its name and value plus 4
    /// octets (`": "` and CRLF, RFC 9112 §5). HTTP/2 counts name + value + 32 per field, pseudo-headers included
    /// (RFC 9113 §6.5.2), so the advertised SETTINGS_MAX_HEADER_LIST_SIZE is `maxHeaderBytes` plus 32 for each of
    /// the `maxFieldCount` fields a block may carry: a request whose HTTP/1.1 head fits `max_header_size` fits over
    /// HTTP/2 too, and nothing much larger does. One name or value is at most `maxHeaderBytes`, as it is on HTTP/1.1.
    /// The field count stays `HPACKDecoder.Limits.defaultMaxFieldCount` (100, pseudo-headers included), the
    /// HTTP/1.1 head parser's limit.
    public init(limits: Limits) {
        let fieldCount = HPACKDecoder.Limits.defaultMaxFieldCount
        self.init(
            maxConcurrentStreams: limits.http2MaxConcurrentStreams,
            headerLimits: HPACKDecoder.Limits(
                maxHeaderListSize: limits.maxHeaderBytes + fieldCount * HPACKDynamicTable.entryOverhead,
                maxFieldCount: fieldCount,
                maxStringLength: limits.maxHeaderBytes))
    }
}

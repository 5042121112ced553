/// An incremental parser for one HTTP/1.1 message head (RFC 9112 §2.1): start line, field lines, empty line.
///
/// The caller owns the bytes: it accumulates everything received since the head started and passes the whole
/// buffer on every call. The parser keeps only how far it has scanned, so each byte is looked at for the end of
/// the head once, and the head is parsed in one more pass when it is complete: O(n) however the bytes arrive
/// (h11's receive buffer does the same). Use one parser per head; after `.complete` or an error, make a new one.
///
/// Line ends: a field line ends with CRLF, or with a bare LF, which RFC 9112 §2.2 allows a recipient to accept
/// and nginx and h11 accept too. A bare CR anywhere in the head is rejected (RFC 9112 §2.2: "MUST either
/// consider the message as invalid or replace each bare CR with SP"), so the proxy never forwards one.
///
/// Limits (RFC 9112 §2.3, §3, §5; RFC 6585 §5), checked while the head is still arriving so hostile input is
/// bounded by them:
/// - `maxRequestLineBytes`: the request (or status) line without its line end, also capped by `maxHeaderBytes`;
///   over it → 414 (`startLineTooLong`).
/// - `maxHeaderBytes`: from the start line through the final empty line; over it → 431 (`headTooLarge`).
/// - `maxFieldCount`: field lines; over it → 431 (`tooManyFields`).
/// - `maxLeadingEmptyLines`: empty lines ignored before the start line (RFC 9112 §2.2 asks to ignore at least
///   one); over it → 400.
/// Every error from `parseResponse(_:)` carries status 502: the upstream is broken, not the client.
public struct HeadParser: Sendable {
    /// Default for `maxLeadingEmptyLines`: a few stray CRLFs after a previous body are tolerated.
    public static let defaultMaxLeadingEmptyLines = 4

    /// The largest head accepted, in bytes, start line through final empty line.
    public let maxHeaderBytes: Int
    /// The most field lines accepted.
    public let maxFieldCount: Int
    /// The longest start line accepted, in bytes without the line end.
    public let maxRequestLineBytes: Int
    /// The most empty lines skipped before the start line.
    public let maxLeadingEmptyLines: Int

    /// Where the scan for the end of the head stands.
    private enum Phase: Sendable {
        /// Looking for the end of the start line (skipping leading empty lines).
        case startLine
        /// The start line ended with the LF at `startLineEnd`; `fieldCount` field lines seen since.
        case fieldLines(startLineEnd: Int, fieldCount: Int)
    }

    private var phase = Phase.startLine
    /// Bytes already scanned; the next call resumes here.
    private var scanned = 0
    /// Offset of the line being scanned.
    private var lineStart = 0
    /// Offset of the start line, after the leading empty lines.
    private var headStart = 0
    private var leadingEmptyLines = 0

    /// Creates a parser for one head with the given limits.
    public init(
        maxHeaderBytes: Int,
        maxFieldCount: Int = 100,
        maxRequestLineBytes: Int = 8192,
        maxLeadingEmptyLines: Int = HeadParser.defaultMaxLeadingEmptyLines
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxFieldCount = maxFieldCount
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxLeadingEmptyLines = maxLeadingEmptyLines
    }

    /// Parses a request head from `bytes`, everything received since the head started.
    ///
    /// Returns `.needMore` until the final empty line has arrived, then the head and how many bytes it
    /// occupied. Beyond the syntax (RFC 9112 §3, §5) it enforces the Host rules of RFC 9112 §3.2: an HTTP/1.1
    /// request without Host, or any request with several Host lines or a Host value that is not
    /// `uri-host [ ":" port ]` (RFC 9110 §7.2; empty is allowed), is rejected with 400. So is an `http`/`https`
    /// absolute-form target whose authority is empty or malformed (`invalidTarget`, RFC 9110 §4.2.1), since
    /// that authority replaces Host upstream (RFC 9112 §3.2.2).
    /// - Precondition: `bytes` starts with the bytes of the previous call (the buffer only grows).
    public mutating func parseRequest(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HeadParseResult<RequestHead> {
        guard let (end, fieldCount) = try scanForEnd(of: bytes, role: .request) else { return .needMore }
        var reader = HeadReader(bytes: bytes, start: headStart, role: .request)
        let head = try reader.readRequest(fieldCount: fieldCount)
        let hosts = head.headers.count(of: .host)
        if hosts > 1 { throw HTTPParseError(.multipleHost) }
        if hosts == 0 && head.version >= .http1_1 { throw HTTPParseError(.missingHost) }
        if let host = head.headers.first(.host), !HTTPSyntax.isValidHostFieldValue(host) {
            throw HTTPParseError(.invalidHost)
        }
        if let authority = head.absoluteFormParts?.authority, !HTTPSyntax.isValidAbsoluteFormAuthority(authority) {
            throw HTTPParseError(.invalidTarget)
        }
        return .complete(head, consumed: end)
    }

    /// Parses a response head from `bytes`, everything received since the head started.
    ///
    /// Same contract as `parseRequest(_:)`; every error has status 502. A 1xx response is returned like any
    /// other: the caller forwards or drops it and parses the next head with a new parser.
    /// - Precondition: `bytes` starts with the bytes of the previous call (the buffer only grows).
    public mutating func parseResponse(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HeadParseResult<ResponseHead> {
        guard let (end, fieldCount) = try scanForEnd(of: bytes, role: .response) else { return .needMore }
        var reader = HeadReader(bytes: bytes, start: headStart, role: .response)
        return .complete(try reader.readResponse(fieldCount: fieldCount), consumed: end)
    }

    /// Scans the bytes not yet seen for line ends; returns the offset just past the final empty line and the
    /// number of field lines, or nil when the head is not complete. Enforces every limit.
    private mutating func scanForEnd(
        of bytes: UnsafeRawBufferPointer,
        role: HeadRole
    ) throws(HTTPParseError) -> (end: Int, fieldCount: Int)? {
        precondition(bytes.count >= scanned, "HeadParser: the buffer shrank between calls")
        let count = bytes.count
        let startLineLimit = min(maxRequestLineBytes, maxHeaderBytes)
        var index = scanned
        while index < count {
            // The limits are checked at each line end and after the scan, as a byte loop would: a word scan only
            // passes over the bytes between line ends faster.
            index = ByteScan.firstIndex(of: HTTPSyntax.lf, in: bytes.baseAddress!, from: index, to: count)
            guard index < count else { break }
            let lineEnd = index
            index += 1
            let contentEnd = lineEnd > lineStart && bytes[lineEnd - 1] == HTTPSyntax.cr ? lineEnd - 1 : lineEnd
            let isEmpty = contentEnd == lineStart
            switch phase {
            case .startLine where isEmpty:
                leadingEmptyLines += 1
                if leadingEmptyLines > maxLeadingEmptyLines {
                    throw role.error(.tooManyLeadingEmptyLines, offset: lineStart)
                }
                headStart = index
            case .startLine:
                if contentEnd - lineStart > startLineLimit {
                    throw role.error(.startLineTooLong, offset: lineStart + startLineLimit)
                }
                phase = .fieldLines(startLineEnd: lineEnd, fieldCount: 0)
            case .fieldLines(_, let fieldCount) where isEmpty:
                if index - headStart > maxHeaderBytes {
                    throw role.error(.headTooLarge, offset: headStart + maxHeaderBytes)
                }
                scanned = index
                return (index, fieldCount)
            case .fieldLines(let startLineEnd, let fieldCount):
                // Size before count: a split buffer already failed on size inside this line (the check after the
                // loop), so the whole buffer must too, or the outcome would depend on how the bytes arrived.
                if index - headStart > maxHeaderBytes {
                    throw role.error(.headTooLarge, offset: headStart + maxHeaderBytes)
                }
                if fieldCount + 1 > maxFieldCount {
                    throw role.error(.tooManyFields, offset: lineStart)
                }
                phase = .fieldLines(startLineEnd: startLineEnd, fieldCount: fieldCount + 1)
            }
            lineStart = index
            if index - headStart > maxHeaderBytes {
                throw role.error(.headTooLarge, offset: headStart + maxHeaderBytes)
            }
        }
        scanned = count
        switch phase {
        case .startLine:
            // A CR at the very end may be the first half of the line end: it does not count yet.
            var pending = count - lineStart
            if pending > 0 && bytes[count - 1] == HTTPSyntax.cr { pending -= 1 }
            if pending > startLineLimit {
                throw role.error(.startLineTooLong, offset: lineStart + startLineLimit)
            }
        case .fieldLines:
            if count - headStart > maxHeaderBytes {
                throw role.error(.headTooLarge, offset: headStart + maxHeaderBytes)
            }
        }
        return nil
    }
}

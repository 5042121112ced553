/// Reads the lines of a head that `HeadParser` has found complete: one pass, no allocation beyond the strings
/// of the result (RFC 9112 §3, §4, §5).
///
/// `bytes[start...]` must contain the whole head up to and including its final empty line, so every line is
/// known to end with LF before the buffer ends.
struct HeadReader {
    let bytes: UnsafeRawBufferPointer
    let role: HeadRole
    /// Offset of the next line to read.
    private(set) var position: Int

    init(bytes: UnsafeRawBufferPointer, start: Int, role: HeadRole) {
        self.bytes = bytes
        self.position = start
        self.role = role
    }

    /// Reads `method SP request-target SP HTTP-version` (RFC 9112 §3) and the field lines.
    mutating func readRequest(fieldCount: Int) throws(HTTPParseError) -> RequestHead {
        let line = nextLine()
        var index = line.lowerBound
        while index < line.upperBound && HTTPSyntax.isTokenByte(bytes[index]) { index += 1 }
        guard index > line.lowerBound, index < line.upperBound, bytes[index] == HTTPSyntax.space else {
            throw failure(.invalidMethod, at: index, lineEnd: line.upperBound)
        }
        let method = string(line.lowerBound..<index, commonly: "GET")
        index += 1
        let targetStart = index
        while index < line.upperBound && HTTPSyntax.isTargetByte(bytes[index]) { index += 1 }
        guard index > targetStart, index < line.upperBound, bytes[index] == HTTPSyntax.space else {
            let kind: HTTPParseError.Kind = index > targetStart && index == line.upperBound ? .invalidVersion : .invalidTarget
            throw failure(kind, at: index, lineEnd: line.upperBound)
        }
        let target = string(targetStart..<index)
        let version = try readVersion(at: index + 1, lineEnd: line.upperBound, endsLine: true)
        // After the version, so an HTTP/2 preface (`PRI * HTTP/2.0`) still gets 505.
        guard HTTPSyntax.isRequestTargetForm(UnsafeRawBufferPointer(rebasing: bytes[targetStart..<index]), method: method) else {
            throw role.error(.invalidTarget, offset: targetStart)
        }
        let headers = try readFields(fieldCount: fieldCount)
        return RequestHead(method: method, target: target, version: version, headers: headers)
    }

    /// Reads `HTTP-version SP status-code SP [reason-phrase]` (RFC 9112 §4) and the field lines.
    ///
    /// Lenient where RFC 9112 §4 asks to be: a status line without the SP after the code (`HTTP/1.1 200`) is
    /// accepted with an empty reason.
    mutating func readResponse(fieldCount: Int) throws(HTTPParseError) -> ResponseHead {
        let line = nextLine()
        let version = try readVersion(at: line.lowerBound, lineEnd: line.upperBound, endsLine: false)
        var index = line.lowerBound + 8
        guard index + 4 <= line.upperBound, bytes[index] == HTTPSyntax.space else {
            throw failure(.invalidStatusLine, at: index, lineEnd: line.upperBound)
        }
        index += 1
        var status = 0
        for offset in index..<index + 3 {
            let byte = bytes[offset]
            guard byte >= 0x30 && byte <= 0x39 else { throw failure(.invalidStatusLine, at: offset, lineEnd: line.upperBound) }
            status = status * 10 + Int(byte - 0x30)
        }
        index += 3
        guard (100...599).contains(status) else { throw role.error(.invalidStatusLine, offset: index - 3) }
        var reason = ""
        if index < line.upperBound {
            guard bytes[index] == HTTPSyntax.space else { throw failure(.invalidStatusLine, at: index, lineEnd: line.upperBound) }
            index += 1
            let reasonStart = index
            while index < line.upperBound {
                guard HTTPSyntax.isFieldValueByte(bytes[index]) else {
                    throw failure(.invalidStatusLine, at: index, lineEnd: line.upperBound)
                }
                index += 1
            }
            // The reason phrase is informational (RFC 9112 §4): invalid UTF-8 is replaced rather than rejected.
            reason = string(reasonStart..<line.upperBound, commonly: "OK")
        }
        let headers = try readFields(fieldCount: fieldCount)
        return ResponseHead(version: version, status: status, reason: reason, headers: headers)
    }

    /// Reads `HTTP/DIGIT.DIGIT` at `start` (RFC 9112 §2.3); when `endsLine`, nothing may follow it.
    /// 1.0 stays 1.0, any other 1.x becomes 1.1, other majors are `unsupportedVersion` (505).
    private func readVersion(at start: Int, lineEnd: Int, endsLine: Bool) throws(HTTPParseError) -> HTTPVersion {
        let expected: StaticString = "HTTP/"
        for offset in 0..<5 where start + offset >= lineEnd || bytes[start + offset] != expected.utf8Start[offset] {
            throw failure(.invalidVersion, at: start + offset, lineEnd: lineEnd)
        }
        let isDigit = { (offset: Int) in offset < lineEnd && self.bytes[offset] >= 0x30 && self.bytes[offset] <= 0x39 }
        if !isDigit(start + 5) { throw failure(.invalidVersion, at: start + 5, lineEnd: lineEnd) }
        if start + 6 >= lineEnd || bytes[start + 6] != UInt8(ascii: ".") {
            throw failure(.invalidVersion, at: start + 6, lineEnd: lineEnd)
        }
        if !isDigit(start + 7) { throw failure(.invalidVersion, at: start + 7, lineEnd: lineEnd) }
        if endsLine && start + 8 != lineEnd { throw failure(.invalidVersion, at: start + 8, lineEnd: lineEnd) }
        let major = bytes[start + 5]
        let minor = bytes[start + 7]
        guard major == UInt8(ascii: "1") else { throw role.error(.unsupportedVersion, offset: start + 5) }
        return minor == UInt8(ascii: "0") ? .http1_0 : .http1_1
    }

    /// Reads field lines up to the empty line (RFC 9112 §5): `field-name ":" OWS field-value OWS`.
    private mutating func readFields(fieldCount: Int) throws(HTTPParseError) -> HTTPHeaders {
        var fields: [HTTPField] = []
        fields.reserveCapacity(fieldCount)
        while true {
            let line = nextLine()
            if line.isEmpty { return HTTPHeaders(fields) }
            fields.append(try readField(line))
        }
    }

    private func readField(_ line: Range<Int>) throws(HTTPParseError) -> HTTPField {
        let first = bytes[line.lowerBound]
        if HTTPSyntax.isWhitespace(first) { throw role.error(.obsoleteLineFolding, offset: line.lowerBound) }
        var index = line.lowerBound
        while index < line.upperBound && HTTPSyntax.isTokenByte(bytes[index]) { index += 1 }
        guard index < line.upperBound, index > line.lowerBound, bytes[index] == HTTPSyntax.colon else {
            var afterWhitespace = index
            while afterWhitespace < line.upperBound && HTTPSyntax.isWhitespace(bytes[afterWhitespace]) {
                afterWhitespace += 1
            }
            if index > line.lowerBound, afterWhitespace > index, afterWhitespace < line.upperBound,
               bytes[afterWhitespace] == HTTPSyntax.colon {
                throw role.error(.whitespaceBeforeColon, offset: index)
            }
            throw failure(.invalidFieldName, at: index, lineEnd: line.upperBound)
        }
        let nameBytes = UnsafeRawBufferPointer(rebasing: bytes[line.lowerBound..<index])
        let recognized = KnownFieldName.recognize(nameBytes)
        let known = recognized?.name
        // A known name spelled as registered (nearly every one) is the literal: no allocation for the long ones.
        let name = recognized.flatMap { $0.exact ? $0.name.spelling : nil } ?? string(line.lowerBound..<index)
        var valueStart = index + 1
        var valueEnd = line.upperBound
        while valueStart < valueEnd && HTTPSyntax.isWhitespace(bytes[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart && HTTPSyntax.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        var isASCII = true
        // Eight bytes at a time while they are plain ASCII, then byte by byte from the first word that is not.
        var checked = valueStart
        while checked + 8 <= valueEnd,
              HTTPSyntax.isSpaceOrVisibleASCII(word: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: checked, as: UInt64.self))) {
            checked += 8
        }
        for offset in checked..<valueEnd {
            let byte = bytes[offset]
            guard HTTPSyntax.isFieldValueByte(byte) else { throw failure(.invalidFieldValue, at: offset, lineEnd: line.upperBound) }
            if byte >= 0x80 { isASCII = false }
        }
        if isASCII { return HTTPField(name: name, value: string(valueStart..<valueEnd), known: known) }
        // obs-text is allowed by RFC 9110 §5.5, but a String cannot carry invalid UTF-8 without changing the
        // bytes the proxy forwards, so such a value is rejected rather than silently rewritten.
        let raw = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
        let value = String(decoding: raw, as: UTF8.self)
        guard value.utf8.elementsEqual(raw) else { throw role.error(.invalidFieldValue, offset: valueStart) }
        return HTTPField(name: name, value: value, known: known)
    }

    /// The content of the next line, without its LF or CRLF; empty for the final empty line.
    private mutating func nextLine() -> Range<Int> {
        // The head is known to end with an empty line inside `bytes`, so the LF is found before the end.
        let lineFeed = ByteScan.firstIndex(of: HTTPSyntax.lf, in: bytes.baseAddress!, from: position, to: bytes.count)
        precondition(lineFeed < bytes.count, "HeadReader: a line without LF")
        let contentEnd = lineFeed > position && bytes[lineFeed - 1] == HTTPSyntax.cr ? lineFeed - 1 : lineFeed
        defer { position = lineFeed + 1 }
        return position..<contentEnd
    }

    /// The error for an unexpected byte at `offset`: a CR inside a line is always a bare CR, whatever was
    /// expected there; running off the end of the line is `kind`.
    private func failure(_ kind: HTTPParseError.Kind, at offset: Int, lineEnd: Int) -> HTTPParseError {
        if offset < lineEnd && bytes[offset] == HTTPSyntax.cr { return role.error(.bareCarriageReturn, offset: offset) }
        return role.error(kind, offset: offset)
    }

    /// The text of `range`. Past 15 bytes a `String` is a heap allocation; the long names and values nearly every
    /// SSE head carries (`text/event-stream`, `Transfer-Encoding`) come from literals instead, which cost none. The
    /// bytes must equal the literal's exactly, case included, so the text is the same either way.
    private func string(_ range: Range<Int>) -> String {
        let text = UnsafeRawBufferPointer(rebasing: bytes[range])
        if text.count > 15, let common = Self.commonLongText.first(where: { HTTPSyntax.bytesEqual(text, $0) }) {
            return common
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The text of `range`: `common` (a literal, no string to make) when the bytes are exactly its text, as they
    /// nearly always are where it is given (the method of an SSE request, the reason of a response).
    private func string(_ range: Range<Int>, commonly common: String) -> String {
        HTTPSyntax.bytesEqual(UnsafeRawBufferPointer(rebasing: bytes[range]), common) ? common : string(range)
    }

    /// Long field names and values common in SSE heads (see `string`).
    static let commonLongText: [String] = [
        "text/event-stream", "Transfer-Encoding", "text/event-stream; charset=utf-8", "X-Forwarded-Proto",
        "Content-Encoding", "no-cache, no-transform", "X-Accel-Buffering", "Access-Control-Allow-Origin",
        "transfer-encoding", "application/json",
    ]
}

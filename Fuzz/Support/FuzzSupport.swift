// Helpers shared by every fuzz target. `Fuzz/build.sh` compiles this file with one file of `Fuzz/Targets/` into
// that target's module, from a copy that begins with `@testable import SSEKeeperCoreFuzz` (the core, built once
// with -enable-testing), so `internal` core symbols are visible here.
//
// An invariant that does not hold ends the process through `fatalError`, which libFuzzer reports as a crash
// ("deadly signal") after the `FUZZ INVARIANT:` message, and saves the input under `Fuzz/artifacts/`.
//
// Environment: FUZZ_HEAD_ERRORS=status makes the head targets compare only the status of two errors when the
// same head is fed in different splits (by default kind and offset must match too), so fuzzing can go on past a
// known divergence of error kinds.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Stops with `message` when `condition` is false.
@inline(__always)
func require(
    _ condition: @autoclosure () -> Bool,
    _ message: @autoclosure () -> String,
    file: StaticString = #fileID,
    line: UInt = #line
) {
    if !condition() { invariantFailure(message(), file: file, line: line) }
}

/// Stops the process with `message`; libFuzzer records the input as a crash.
func invariantFailure(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError("FUZZ INVARIANT: \(message)", file: file, line: line)
}

/// The fuzzer's bytes as an array.
func fuzzBytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: size))
}

/// `bytes` as a C-style escaped string for messages (`GET / HTTP/1.1\r\n`), cut after `limit` bytes.
/// The layout the piece-feeding targets share: byte 0 a selector, byte 1 = K (mod 17, at most what follows), K
/// piece lengths, then the stream. Nil for inputs under 2 bytes.
func selectorPiecesAndStream(_ input: [UInt8]) -> (selector: UInt8, lengths: [Int], stream: [UInt8])? {
    guard input.count >= 2 else { return nil }
    let count = min(Int(input[1]) % 17, input.count - 2)
    return (input[0], input[2..<2 + count].map(Int.init), Array(input[(2 + count)...]))
}

func escaped<Bytes: Collection>(_ bytes: Bytes, limit: Int = 400) -> String where Bytes.Element == UInt8 {
    var out = "\""
    for byte in bytes.prefix(limit) {
        switch byte {
        case 0x0D: out += "\\r"
        case 0x0A: out += "\\n"
        case 0x09: out += "\\t"
        case 0x22: out += "\\\""
        case 0x5C: out += "\\\\"
        case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let digits = Array("0123456789abcdef".unicodeScalars)
            out += "\\x"
            out.unicodeScalars.append(digits[Int(byte >> 4)])
            out.unicodeScalars.append(digits[Int(byte & 0xF)])
        }
    }
    out += "\""
    if bytes.count > limit { out += "...(\(bytes.count) bytes)" }
    return out
}

/// Byte-exact string equality (`==` on String compares canonical equivalence, not bytes).
func sameBytes(_ lhs: String, _ rhs: String) -> Bool {
    lhs.utf8.elementsEqual(rhs.utf8)
}

// MARK: - Head parsing

/// What a `HeadParser` made of some bytes; comparable across ways of feeding them.
enum HeadOutcome<Head: Equatable>: Equatable {
    case needMore
    case complete(Head, consumed: Int)
    case failed(HTTPParseError)
}

typealias HeadParse<Head> = (inout HeadParser, UnsafeRawBufferPointer) throws(HTTPParseError) -> HeadParseResult<Head>

/// One call of `parse` on `bytes`.
func headStep<Head: Equatable>(
    _ parser: inout HeadParser,
    _ bytes: ArraySlice<UInt8>,
    _ parse: HeadParse<Head>
) -> HeadOutcome<Head> {
    bytes.withUnsafeBytes { buffer in
        do throws(HTTPParseError) {
            switch try parse(&parser, buffer) {
            case .needMore: return .needMore
            case .complete(let head, let consumed): return .complete(head, consumed: consumed)
            }
        } catch {
            return .failed(error)
        }
    }
}

/// Feeds the growing prefixes `bytes[..<cut]` for each cut in `cuts` (increasing), then the whole of `bytes`, to
/// one parser, as the proxy does with its receive buffer; stops at the first answer that is not `.needMore`.
func headGrowing<Head: Equatable>(
    _ bytes: [UInt8],
    cuts: some Sequence<Int>,
    parser template: HeadParser,
    _ parse: HeadParse<Head>
) -> HeadOutcome<Head> {
    var parser = template
    for cut in cuts {
        let outcome = headStep(&parser, bytes[..<cut], parse)
        if outcome != .needMore { return outcome }
    }
    return headStep(&parser, bytes[...], parse)
}

/// Parses `bytes` whole, split once at `split`, one byte at a time (when short), and followed by trailing
/// bytes (when not `.needMore`); every way must give the same outcome. Returns the whole-input outcome.
func headAllWays<Head: Equatable>(
    _ bytes: [UInt8],
    split: Int,
    parser template: HeadParser,
    byteByByteLimit: Int = 4096,
    _ parse: HeadParse<Head>
) -> HeadOutcome<Head> {
    var wholeParser = template
    let whole = headStep(&wholeParser, bytes[...], parse)
    func same(_ other: HeadOutcome<Head>) -> Bool {
        if compareErrorStatusOnly, case .failed(let lhs) = whole, case .failed(let rhs) = other {
            return lhs.status == rhs.status
        }
        return other == whole
    }
    func differs(_ how: String, _ other: HeadOutcome<Head>) -> Never {
        invariantFailure(
            "head parsed \(how) differs from whole input\n  whole: \(whole)\n  \(how): \(other)\n"
                + "  limits: header \(template.maxHeaderBytes) fields \(template.maxFieldCount) "
                + "line \(template.maxRequestLineBytes) empty \(template.maxLeadingEmptyLines)\n"
                + "  input: \(escaped(bytes))")
    }
    let cut = bytes.isEmpty ? 0 : split % (bytes.count + 1)
    let splitOutcome = headGrowing(bytes, cuts: [cut], parser: template, parse)
    if !same(splitOutcome) { differs("split at \(cut)", splitOutcome) }
    if bytes.count <= byteByByteLimit {
        let byteByByte = headGrowing(bytes, cuts: 0..<bytes.count, parser: template, parse)
        if !same(byteByByte) { differs("one byte at a time", byteByByte) }
    }
    if whole != .needMore {
        let trailing = bytes + Array("body\r\n\r\nGET /next HTTP/1.1\r\nHost: n\r\n\r\n".utf8)
        var trailingParser = template
        let withTrailing = headStep(&trailingParser, trailing[...], parse)
        if !same(withTrailing) { differs("with trailing bytes", withTrailing) }
    }
    if case .complete(_, let consumed) = whole {
        require(consumed > 0 && consumed <= bytes.count, "consumed \(consumed) of \(bytes.count) bytes")
        require(bytes[consumed - 1] == HTTPSyntax.lf, "head does not end with LF at \(consumed)")
    }
    return whole
}

/// FUZZ_HEAD_ERRORS=status: two errors from differently split feeds only need the same status.
let compareErrorStatusOnly: Bool = {
    guard let value = getenv("FUZZ_HEAD_ERRORS") else { return false }
    return String(cString: value) == "status"
}()

/// A parser with limits picked by `selector`: bits 0-1 header bytes, bit 2 field count, bit 3 request-line
/// bytes, bit 4 leading empty lines. Selector 0 gives the proxy's defaults (16k, 100, 8192, 4). The small limits
/// let short inputs reach every limit check.
func headParser(selector: UInt8) -> HeadParser {
    HeadParser(
        maxHeaderBytes: [16 * 1024, 1024, 96, 40][Int(selector & 3)],
        maxFieldCount: selector & 4 == 0 ? 100 : 3,
        maxRequestLineBytes: selector & 8 == 0 ? 8192 : 24,
        maxLeadingEmptyLines: selector & 16 == 0 ? HeadParser.defaultMaxLeadingEmptyLines : 0)
}

/// A parser for re-reading what the builders wrote: no limit gets in the way.
func unlimitedHeadParser() -> HeadParser {
    HeadParser(maxHeaderBytes: 1 << 30, maxFieldCount: 1 << 30, maxRequestLineBytes: 1 << 30, maxLeadingEmptyLines: 0)
}

// MARK: - Checks on parsed heads

/// Field names are tokens; values are trimmed, free of CR, LF, NUL and other controls but HTAB.
func checkHeaders(_ headers: HTTPHeaders, _ context: @autoclosure () -> String) {
    for field in headers.fields {
        require(!field.name.isEmpty && field.name.utf8.allSatisfy(HTTPSyntax.isTokenByte),
                "\(context()): field name \(escaped(Array(field.name.utf8))) is not a token")
        let value = Array(field.value.utf8)
        require(value.allSatisfy(HTTPSyntax.isFieldValueByte),
                "\(context()): field value \(escaped(value)) holds a control byte")
        if let first = value.first, let last = value.last {
            require(!HTTPSyntax.isWhitespace(first) && !HTTPSyntax.isWhitespace(last),
                    "\(context()): field value \(escaped(value)) is not trimmed")
        }
    }
}

func checkRequestHead(_ head: RequestHead) {
    require(!head.method.isEmpty && head.method.utf8.allSatisfy(HTTPSyntax.isTokenByte),
            "method \(escaped(Array(head.method.utf8))) is not a token")
    require(!head.target.isEmpty && head.target.utf8.allSatisfy(HTTPSyntax.isTargetByte),
            "target \(escaped(Array(head.target.utf8))) is not visible ASCII")
    require(head.version == .http1_0 || head.version == .http1_1, "request version \(head.version)")
    checkHeaders(head.headers, "request")
    let hosts = head.headers.count(of: "Host")
    require(hosts <= 1, "\(hosts) Host fields accepted")
    require(head.version < .http1_1 || hosts == 1, "HTTP/1.1 request without Host accepted")
    let origin = head.originFormTarget
    require(!origin.isEmpty && origin.utf8.allSatisfy(HTTPSyntax.isTargetByte),
            "origin-form target \(escaped(Array(origin.utf8))) of \(escaped(Array(head.target.utf8)))")
    _ = head.path
    if let authority = head.absoluteFormAuthority {
        require(authority.utf8.allSatisfy(HTTPSyntax.isTargetByte), "authority \(escaped(Array(authority.utf8)))")
    }
}

func checkResponseHead(_ head: ResponseHead) {
    require((100...599).contains(head.status), "status \(head.status)")
    require(head.version == .http1_0 || head.version == .http1_1, "response version \(head.version)")
    require(head.reason.utf8.allSatisfy(HTTPSyntax.isFieldValueByte),
            "reason \(escaped(Array(head.reason.utf8))) holds a control byte")
    checkHeaders(head.headers, "response")
}

/// CR and LF occur only as CRLF pairs, and the head ends with an empty line: no bare CR or LF inside a line.
func checkLineEnds(_ bytes: [UInt8], _ what: String) {
    for index in bytes.indices {
        if bytes[index] == HTTPSyntax.cr {
            require(index + 1 < bytes.count && bytes[index + 1] == HTTPSyntax.lf,
                    "\(what): bare CR at \(index): \(escaped(bytes))")
        } else if bytes[index] == HTTPSyntax.lf {
            require(index > 0 && bytes[index - 1] == HTTPSyntax.cr, "\(what): bare LF at \(index): \(escaped(bytes))")
        } else {
            require(bytes[index] != 0, "\(what): NUL at \(index): \(escaped(bytes))")
        }
    }
    require(bytes.count >= 4 && bytes.suffix(4).elementsEqual([0x0D, 0x0A, 0x0D, 0x0A]),
            "\(what): does not end with an empty line: \(escaped(bytes))")
}

func framingDescription(_ framing: BodyFraming?) -> String {
    framing.map { "\($0)" } ?? "error"
}

// MARK: - Builders

/// Builds the upstream request for `head` and checks it: CRLF-only lines, re-parses to the same method, the
/// origin-form target and the same body framing (a disagreement would be request smuggling), and carries the
/// proxy's own fields. Returns the re-parsed head.
@discardableResult
func checkUpstreamRequest(
    _ head: RequestHead,
    framing: BodyFraming,
    clientAddress: String,
    clientProtocol: String
) -> RequestHead {
    let built = UpstreamRequestBuilder.build(
        head, framing: framing, clientAddress: clientAddress, clientProtocol: clientProtocol)
    let context = "upstream request for \(head) (framing \(framing))\n  built: \(escaped(built, limit: 2000))"
    checkLineEnds(built, "upstream request")
    var parser = unlimitedHeadParser()
    guard case .complete(let rebuilt, let consumed) = headStep(&parser, built[...], { (parser, bytes) throws(HTTPParseError) in
        try parser.parseRequest(bytes)
    }) else {
        var again = unlimitedHeadParser()
        let outcome = headStep(&again, built[...]) { (parser, bytes) throws(HTTPParseError) in try parser.parseRequest(bytes) }
        invariantFailure("built upstream request does not re-parse: \(outcome)\n  \(context)")
    }
    require(consumed == built.count, "re-parse consumed \(consumed) of \(built.count): \(context)")
    require(sameBytes(rebuilt.method, head.method), "re-parsed method \(rebuilt.method): \(context)")
    require(sameBytes(rebuilt.target, head.originFormTarget),
            "re-parsed target \(rebuilt.target), expected \(head.originFormTarget): \(context)")
    require(rebuilt.version == .http1_1, "re-parsed version \(rebuilt.version): \(context)")
    let expectedFraming: BodyFraming = framing == .closeDelimited ? .none : framing
    let rebuiltFraming = try? rebuilt.bodyFraming()
    require(rebuiltFraming == expectedFraming,
            "upstream sees framing \(framingDescription(rebuiltFraming)), proxy used \(framing): \(context)")

    let headers = rebuilt.headers
    require(headers.values("Connection").elementsEqual(["close"], by: sameBytes),
            "Connection is not exactly close: \(context)")
    for name in ["Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Connection"] {
        require(!headers.contains(name), "hop-by-hop \(name) forwarded: \(context)")
    }
    let exempt = ["Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Content-Length",
                  "Transfer-Encoding", "Connection"]
    for option in head.headers.values("Connection").flatMap(HTTPSyntax.listElements).map(String.init)
    where !exempt.contains(where: { HTTPSyntax.equalsIgnoringCase($0, option) }) {
        require(!headers.contains(option), "field \(option) named by Connection was forwarded: \(context)")
    }
    require(headers.values("X-Forwarded-Proto").elementsEqual([clientProtocol], by: sameBytes),
            "X-Forwarded-Proto is not \(clientProtocol): \(context)")
    let forwardedFor = headers.values("X-Forwarded-For")
    require(forwardedFor.count == 1 && (sameBytes(forwardedFor[0], clientAddress)
                                        || forwardedFor[0].utf8.reversed().starts(with: (", " + clientAddress).utf8.reversed())),
            "X-Forwarded-For \(forwardedFor) does not end with \(clientAddress): \(context)")
    let hosts = headers.values("Host")
    require(hosts.count == 1, "\(hosts.count) Host fields: \(context)")
    let forwardedHost = headers.values("X-Forwarded-Host")
    require(hosts[0].isEmpty ? forwardedHost.isEmpty : forwardedHost.elementsEqual([hosts[0]], by: sameBytes),
            "X-Forwarded-Host \(forwardedHost) for Host \(hosts[0]): \(context)")
    if let authority = head.absoluteFormAuthority {
        require(sameBytes(hosts[0], authority), "Host \(hosts[0]) is not the target's authority: \(context)")
    }
    if UpstreamRequestBuilder.acceptsEventStream(head) {
        require(!headers.contains("Accept-Encoding"), "Accept-Encoding kept for an event stream: \(context)")
    }
    return rebuilt
}

/// Builds the client's response head for `head` and checks it: CRLF-only lines, re-parses to the same status
/// and reason, and its framing fields say exactly what `plan.framing` says (the client would otherwise read the
/// body differently from how the proxy writes it).
func checkClientResponse(
    _ head: ResponseHead,
    upstreamFraming: BodyFraming,
    requestMethod: String,
    clientVersion: HTTPVersion,
    clientWantsKeepAlive: Bool,
    isSSE: Bool
) {
    let plan = ClientResponseBuilder.build(
        head, upstreamFraming: upstreamFraming, requestMethod: requestMethod, clientVersion: clientVersion,
        clientWantsKeepAlive: clientWantsKeepAlive, isSSE: isSSE)
    let context = "client response for \(head) (upstream framing \(upstreamFraming), method \(requestMethod), "
        + "client \(clientVersion), keep-alive \(clientWantsKeepAlive), SSE \(isSSE)) → \(plan.framing)\n"
        + "  built: \(escaped(plan.head, limit: 2000))"
    checkLineEnds(plan.head, "client response")
    var parser = unlimitedHeadParser()
    let outcome = headStep(&parser, plan.head[...]) { (parser, bytes) throws(HTTPParseError) in try parser.parseResponse(bytes) }
    guard case .complete(let rebuilt, let consumed) = outcome else {
        invariantFailure("built client response does not re-parse: \(outcome)\n  \(context)")
    }
    require(consumed == plan.head.count, "re-parse consumed \(consumed) of \(plan.head.count): \(context)")
    require(rebuilt.status == head.status, "re-parsed status \(rebuilt.status): \(context)")
    require(sameBytes(rebuilt.reason, head.reason), "re-parsed reason \(escaped(Array(rebuilt.reason.utf8))): \(context)")
    require(rebuilt.version == .http1_1, "re-parsed version \(rebuilt.version): \(context)")

    let headers = rebuilt.headers
    let lengths = headers.values("Content-Length")
    let codings = headers.values("Transfer-Encoding")
    switch plan.framing {
    case .chunked:
        require(clientVersion >= .http1_1, "chunked to an HTTP/1.0 client: \(context)")
        require(codings.elementsEqual(["chunked"], by: sameBytes) && lengths.isEmpty, "chunked framing fields: \(context)")
    case .contentLength(let length):
        require(lengths.elementsEqual([String(length)], by: sameBytes) && codings.isEmpty, "length framing fields: \(context)")
    case .closeDelimited:
        require(lengths.isEmpty && codings.isEmpty, "close-delimited framing fields: \(context)")
        require(!plan.keepAlive, "close-delimited body on a kept-alive connection: \(context)")
    case .none:
        require(codings.isEmpty, "Transfer-Encoding without a body: \(context)")
        require(upstreamFraming == .none, "no client body for upstream framing \(upstreamFraming): \(context)")
        if head.status != 304 && requestMethod != "HEAD" {
            require(lengths.isEmpty, "Content-Length on a \(head.status) without body: \(context)")
        }
    }
    let expected: BodyFraming
    switch plan.framing {
    case .none: expected = .none
    case .contentLength(let length): expected = .contentLength(length)
    case .chunked: expected = .chunked
    case .closeDelimited: expected = .closeDelimited
    }
    let clientReads = try? rebuilt.bodyFraming(requestMethod: requestMethod)
    require(clientReads == expected,
            "client would read framing \(framingDescription(clientReads)), proxy writes \(plan.framing): \(context)")
    require(plan.keepAlive == (clientWantsKeepAlive && plan.framing != .closeDelimited), "keepAlive: \(context)")
    let connection = headers.values("Connection")
    if !plan.keepAlive {
        require(connection.elementsEqual(["close"], by: sameBytes), "Connection \(connection) without keep-alive: \(context)")
    } else if clientVersion < .http1_1 {
        require(connection.elementsEqual(["keep-alive"], by: sameBytes), "Connection \(connection) for HTTP/1.0: \(context)")
    } else {
        require(connection.isEmpty, "Connection \(connection) on a kept-alive HTTP/1.1 response: \(context)")
    }
    if isSSE {
        require(headers.contains("X-Accel-Buffering") && headers.contains("Cache-Control"), "SSE fields: \(context)")
    }

    if let interim = ClientResponseBuilder.interim(head, clientVersion: clientVersion) {
        require(head.isInterim && head.status != 101 && clientVersion >= .http1_1, "interim forwarded: \(context)")
        checkLineEnds(interim, "interim response")
        var again = unlimitedHeadParser()
        let reparsed = headStep(&again, interim[...]) { (parser, bytes) throws(HTTPParseError) in try parser.parseResponse(bytes) }
        guard case .complete(let rebuiltInterim, interim.count) = reparsed else {
            invariantFailure("built interim response does not re-parse: \(reparsed)\n  \(escaped(interim))")
        }
        require(rebuiltInterim.status == head.status, "interim status \(rebuiltInterim.status): \(escaped(interim))")
        require(!rebuiltInterim.headers.contains("Transfer-Encoding") && !rebuiltInterim.headers.contains("Content-Length"),
                "interim framing fields: \(escaped(interim))")
    } else {
        require(!(head.isInterim && head.status != 101 && clientVersion >= .http1_1), "interim dropped: \(context)")
    }
}

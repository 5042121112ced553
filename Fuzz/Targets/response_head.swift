// Fuzz target: HeadParser.parseResponse, ResponseHead.bodyFraming(requestMethod:) and ClientResponseBuilder.
//
// Input: byte 0 bits 0-4 select the parser limits (`headParser(selector:)`), bits 5-7 the method of the request
// being answered; bytes 1-2 (little endian) the split point; the rest is the response head.
//
// Checks: the outcome is the same fed whole, split at the chosen point, one byte at a time (up to 4 KiB) and
// with trailing bytes; every error is a 502; an accepted head is well formed; its framing obeys RFC 9112 §6.3
// rule 1; the client head built for an HTTP/1.0 and an HTTP/1.1 client, keep-alive or not, re-parses to the
// same status and reason, and its framing fields match the plan (see `checkClientResponse`).

private let methods = ["GET", "HEAD", "POST", "GET", "CONNECT", "OPTIONS", "GET", "DELETE"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 3 else { return 0 }
    let input = fuzzBytes(data, size)
    let parser = headParser(selector: input[0])
    let method = methods[Int(input[0] >> 5)]
    let split = Int(input[1]) | Int(input[2]) << 8
    let bytes = Array(input[3...])

    let outcome = headAllWays(bytes, split: split, parser: parser) { (parser, bytes) throws(HTTPParseError) in
        try parser.parseResponse(bytes)
    }
    switch outcome {
    case .needMore:
        return 0
    case .failed(let error):
        require(error.status == 502, "response error with status \(error.status): \(error)")
        if let offset = error.offset {
            require(offset >= 0 && offset <= bytes.count, "error offset \(offset) outside \(bytes.count) bytes: \(error)")
        }
        return 0
    case .complete(let head, _):
        checkResponseHead(head)
        let framing: BodyFraming
        do {
            framing = try head.bodyFraming(requestMethod: method)
        } catch {
            require(error.status == 502 && error.offset == nil, "framing error \(error)")
            return 0
        }
        if head.isInterim || head.status == 204 || head.status == 304 || method == "HEAD" {
            require(framing == .none, "response \(head.status) to \(method) framed as \(framing)")
        } else {
            require(framing != .none, "response \(head.status) to \(method) without body")
        }
        let isSSE = framing != .none && ClientResponseBuilder.isEventStream(head)
        for clientVersion in [HTTPVersion.http1_1, .http1_0] {
            for keepAlive in [true, false] {
                checkClientResponse(
                    head, upstreamFraming: framing, requestMethod: method, clientVersion: clientVersion,
                    clientWantsKeepAlive: keepAlive, isSSE: isSSE)
            }
        }
        return 0
    }
}

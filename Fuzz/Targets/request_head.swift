// Fuzz target: HeadParser.parseRequest, RequestHead.bodyFraming() and UpstreamRequestBuilder.build.
//
// Input: byte 0 selects the parser limits (`headParser(selector:)`), bytes 1-2 (little endian) the split point,
// the rest is the request head (and whatever follows it).
//
// Checks: the outcome is the same fed whole, split once at the chosen point, one byte at a time (inputs up to
// 4 KiB) and with trailing bytes after it; errors carry a request status; an accepted head is well formed; when
// its framing is accepted, the upstream request built from it has CRLF-only lines and re-parses to the same
// method, the origin-form target and the same framing (see `checkUpstreamRequest`).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 3 else { return 0 }
    let input = fuzzBytes(data, size)
    let parser = headParser(selector: input[0])
    let split = Int(input[1]) | Int(input[2]) << 8
    let bytes = Array(input[3...])

    let outcome = headAllWays(bytes, split: split, parser: parser) { (parser, bytes) throws(HTTPParseError) in
        try parser.parseRequest(bytes)
    }
    switch outcome {
    case .needMore:
        return 0
    case .failed(let error):
        require([400, 414, 431, 501, 505].contains(error.status), "request error status \(error)")
        require(error.status == error.kind.requestStatus, "status \(error.status) for kind \(error.kind)")
        if let offset = error.offset {
            require(offset >= 0 && offset <= bytes.count, "error offset \(offset) outside \(bytes.count) bytes: \(error)")
        }
        return 0
    case .complete(let head, _):
        checkRequestHead(head)
        let framing: BodyFraming
        do {
            framing = try head.bodyFraming()
        } catch {
            require(error.offset == nil && [400, 501].contains(error.status), "framing error \(error)")
            return 0
        }
        require(framing != .closeDelimited, "request framed by close: \(head)")
        if head.headers.contains("Transfer-Encoding") {
            require(framing == .chunked, "Transfer-Encoding accepted as \(framing): \(head)")
        }
        checkUpstreamRequest(head, framing: framing, clientAddress: "192.0.2.7", clientProtocol: "http")
        _ = ClientResponseBuilder.clientWantsKeepAlive(head)
        return 0
    }
}

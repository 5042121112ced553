// Fuzz target: one whole exchange through the builders, request then response, as the proxy chains them.
//
// Input: byte 0 picks the client address (bits 0-1), protocol (bit 2) and whether the parsed request is sent
// as HTTP/1.0 instead (bit 3, kept only when it has no Transfer-Encoding); the rest is a request head, and the
// bytes after it (per `consumed`) are the upstream's response head. Both are parsed with the default limits.
//
// Checks: the upstream request built for the request is sound (`checkUpstreamRequest`: CRLF-only, same method,
// origin-form target, same framing, hop-by-hop fields gone, X-Forwarded-* set by the proxy); the client response
// built for the response, with the request's method, version and keep-alive wish, is sound
// (`checkClientResponse`: same status and reason, framing fields match the plan, Connection as planned).

private let clientAddresses = ["192.0.2.7", "2001:db8::1", "127.0.0.1", "10.1.2.3"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let input = fuzzBytes(data, size)
    let clientAddress = clientAddresses[Int(input[0] & 3)]
    let clientProtocol = input[0] & 4 == 0 ? "http" : "https"
    let bytes = Array(input[1...])

    var requestParser = HeadParser(maxHeaderBytes: 16 * 1024)
    guard case .complete(var request, let consumed) = headStep(&requestParser, bytes[...], { (parser, bytes) throws(HTTPParseError) in
        try parser.parseRequest(bytes)
    }) else { return 0 }
    checkRequestHead(request)
    if input[0] & 8 != 0 && !request.headers.contains("Transfer-Encoding") { request.version = .http1_0 }
    guard let requestFraming = try? request.bodyFraming() else { return 0 }
    checkUpstreamRequest(request, framing: requestFraming, clientAddress: clientAddress, clientProtocol: clientProtocol)

    var responseParser = HeadParser(maxHeaderBytes: 16 * 1024)
    guard case .complete(let response, _) = headStep(&responseParser, bytes[consumed...], { (parser, bytes) throws(HTTPParseError) in
        try parser.parseResponse(bytes)
    }) else { return 0 }
    checkResponseHead(response)
    guard let responseFraming = try? response.bodyFraming(requestMethod: request.method) else { return 0 }
    let isSSE = responseFraming != .none && ClientResponseBuilder.isEventStream(response)
    checkClientResponse(
        response, upstreamFraming: responseFraming, requestMethod: request.method, clientVersion: request.version,
        clientWantsKeepAlive: ClientResponseBuilder.clientWantsKeepAlive(request), isSSE: isSSE)
    return 0
}

import Testing
@testable import SSEKeeperCore

@Suite struct BodyFramingTests {
    static func request(_ headers: HTTPHeaders, version: HTTPVersion = .http1_1) -> RequestHead {
        RequestHead(method: "POST", target: "/", version: version, headers: headers)
    }

    static let validRequests: [(HTTPHeaders, BodyFraming)] = [
        (["Host": "a"], .none),
        (["Content-Length": "0"], .contentLength(0)),
        (["Content-Length": "42"], .contentLength(42)),
        (["Content-Length": "5, 5"], .contentLength(5)),
        (["Content-Length": "5", "content-length": "5"], .contentLength(5)),
        (["Content-Length": "18446744073709551615"], .contentLength(UInt64.max)),
        (["Content-Length": "007"], .contentLength(7)),
        (["Transfer-Encoding": "chunked"], .chunked),
        (["Transfer-Encoding": "CHUNKED"], .chunked),
        // Empty list elements are no codings (RFC 9110 §5.6.1), and OWS around an element is not part of it.
        (["Transfer-Encoding": " , chunked ,"], .chunked),
        (["Transfer-Encoding": "", "Transfer-Encoding": "\tchunked"], .chunked),
    ]

    @Test(arguments: validRequests)
    func requestFraming_isDecided_byContentLengthOrChunked(_ headers: HTTPHeaders, _ framing: BodyFraming) throws {
        #expect(try Self.request(headers).bodyFraming() == framing)
    }

    static let invalidRequests: [(HTTPVersion, HTTPHeaders, HTTPParseError.Kind)] = [
        (.http1_1, ["Transfer-Encoding": "chunked", "Content-Length": "5"], .contentLengthWithTransferEncoding),
        (.http1_1, ["Content-Length": "5", "Content-Length": "6"], .invalidContentLength),
        (.http1_1, ["Content-Length": "5, 6"], .invalidContentLength),
        (.http1_1, ["Content-Length": "-1"], .invalidContentLength),
        (.http1_1, ["Content-Length": "+5"], .invalidContentLength),
        (.http1_1, ["Content-Length": "0x10"], .invalidContentLength),
        (.http1_1, ["Content-Length": "5 5"], .invalidContentLength),
        (.http1_1, ["Content-Length": ""], .invalidContentLength),
        (.http1_1, ["Content-Length": "18446744073709551616"], .invalidContentLength),
        (.http1_1, ["Transfer-Encoding": "gzip"], .invalidTransferEncoding),
        (.http1_1, ["Transfer-Encoding": "chunked, gzip"], .invalidTransferEncoding),
        (.http1_1, ["Transfer-Encoding": "chunked", "Transfer-Encoding": "identity"], .invalidTransferEncoding),
        (.http1_1, ["Transfer-Encoding": "chunked, chunked"], .invalidTransferEncoding),
        (.http1_1, ["Transfer-Encoding": ""], .invalidTransferEncoding),
        (.http1_1, ["Transfer-Encoding": "chunked;q=1"], .invalidTransferEncoding),
        (.http1_1, ["Transfer-Encoding": "gzip, chunked"], .unsupportedTransferCoding),
        (.http1_1, ["Transfer-Encoding": "gzip", "Transfer-Encoding": "chunked"], .unsupportedTransferCoding),
        (.http1_0, ["Transfer-Encoding": "chunked"], .transferEncodingInHTTP10),
    ]

    @Test(arguments: invalidRequests)
    func requestFraming_isRejected_whenAmbiguous(_ version: HTTPVersion, _ headers: HTTPHeaders, _ kind: HTTPParseError.Kind) {
        #expect(throws: HTTPParseError(kind)) { try Self.request(headers, version: version).bodyFraming() }
    }

    @Test func unsupportedTransferCoding_isAnswered501_andTheOthers400() {
        #expect(HTTPParseError(.unsupportedTransferCoding).status == 501)
        #expect(HTTPParseError(.invalidTransferEncoding).status == 400)
        #expect(HTTPParseError(.contentLengthWithTransferEncoding).status == 400)
    }

    static let responses: [(Int, String, HTTPHeaders, BodyFraming)] = [
        (100, "GET", [:], .none),
        (103, "GET", ["Link": "</a>"], .none),
        (204, "GET", ["Content-Length": "10"], .none),
        (304, "GET", ["Content-Length": "10"], .none),
        (200, "HEAD", ["Content-Length": "10"], .none),
        (200, "HEAD", ["Transfer-Encoding": "chunked"], .none),
        (304, "GET", ["Transfer-Encoding": "chunked", "Content-Length": "1"], .none),
        (200, "GET", ["Transfer-Encoding": "chunked"], .chunked),
        (200, "GET", ["Content-Length": "10"], .contentLength(10)),
        (200, "GET", ["Content-Length": "10, 10"], .contentLength(10)),
        (200, "GET", ["Content-Type": "text/event-stream"], .closeDelimited),
        (404, "POST", [:], .closeDelimited),
    ]

    @Test(arguments: responses)
    func responseFraming_followsRFC9112Section6_3(_ status: Int, _ method: String, _ headers: HTTPHeaders, _ framing: BodyFraming) throws {
        let head = ResponseHead(status: status, reason: "", headers: headers)
        #expect(try head.bodyFraming(requestMethod: method) == framing)
    }

    @Test func http10Response_withTransferEncoding_isReadUntilClose() throws {
        let head = ResponseHead(version: .http1_0, status: 200, reason: "OK", headers: ["Transfer-Encoding": "chunked"])
        #expect(try head.bodyFraming(requestMethod: "GET") == .closeDelimited)
    }

    static let transferCodingLists: [(HTTPHeaders, FramingFields.TransferCodings?)] = [
        (["Content-Length": "5"], nil),
        (["Transfer-Encoding": ""], FramingFields.TransferCodings()),
        (["Transfer-Encoding": "chunked"], FramingFields.TransferCodings(count: 1, lastIsChunked: true)),
        (["Transfer-Encoding": "gzip, Chunked"], FramingFields.TransferCodings(count: 2, lastIsChunked: true)),
        (["Transfer-Encoding": "chunked, gzip"],
         FramingFields.TransferCodings(count: 2, lastIsChunked: false, chunkedBeforeLast: true)),
        (["Transfer-Encoding": "chunked", "transfer-encoding": "gzip,,chunked"],
         FramingFields.TransferCodings(count: 3, lastIsChunked: true, chunkedBeforeLast: true)),
    ]

    @Test(arguments: transferCodingLists)
    func transferCodings_summarizeEveryLine_inOrder(_ headers: HTTPHeaders,
                                                    _ expected: FramingFields.TransferCodings?) {
        #expect(FramingFields.transferCodings(headers) == expected)
    }

    static let brokenResponses: [(HTTPHeaders, HTTPParseError.Kind)] = [
        (["Transfer-Encoding": "chunked", "Content-Length": "10"], .contentLengthWithTransferEncoding),
        (["Transfer-Encoding": "gzip"], .unsupportedTransferCoding),
        (["Transfer-Encoding": "gzip, chunked"], .unsupportedTransferCoding),
        (["Transfer-Encoding": "chunked, chunked"], .unsupportedTransferCoding),
        (["Transfer-Encoding": "chunked", "Transfer-Encoding": "chunked"], .unsupportedTransferCoding),
        (["Transfer-Encoding": ""], .unsupportedTransferCoding),
        (["Transfer-Encoding": "chunk"], .unsupportedTransferCoding),
        (["Content-Length": "10", "Content-Length": "11"], .invalidContentLength),
        (["Content-Length": "ten"], .invalidContentLength),
    ]

    @Test(arguments: brokenResponses)
    func responseFraming_isRejectedWith502_whenBroken(_ headers: HTTPHeaders, _ kind: HTTPParseError.Kind) {
        let head = ResponseHead(status: 200, reason: "OK", headers: headers)
        #expect(throws: HTTPParseError.upstream(kind)) { try head.bodyFraming(requestMethod: "GET") }
    }
}

struct ResponsePersistenceTests {
    @Test func anHTTP11Response_isPersistent_unlessItSaysClose() {
        #expect(ResponseHead(status: 200, reason: "OK").allowsConnectionReuse)
        #expect(ResponseHead(status: 200, reason: "OK", headers: ["Connection": "keep-alive"]).allowsConnectionReuse)
        #expect(!ResponseHead(status: 200, reason: "OK", headers: ["Connection": "Keep-Alive, CLOSE"]).allowsConnectionReuse)
        #expect(!ResponseHead(version: .http1_0, status: 200, reason: "OK", headers: ["Connection": "keep-alive"]).allowsConnectionReuse)
    }
}

import Testing
@testable import SSEKeeperCore

@Suite struct HeadParserLimitTests {
    /// `GET /aaa… HTTP/1.1` with a request line of exactly `length` bytes.
    static func requestLine(length: Int) -> String {
        "GET /" + String(repeating: "a", count: length - 14) + " HTTP/1.1"
    }

    @Test func requestLine_atTheLimit_isAccepted() {
        let parser = HeadParser(maxHeaderBytes: 4096, maxRequestLineBytes: 100)
        let outcome = HeadFeeding.request(Self.requestLine(length: 100) + "\r\nHost: a\r\n\r\n", parser: parser)
        #expect(outcome.head?.target.utf8.count == 87)
    }

    @Test func requestLine_oneByteOverTheLimit_isRejectedWith414() {
        let parser = HeadParser(maxHeaderBytes: 4096, maxRequestLineBytes: 100)
        let outcome = HeadFeeding.request(Self.requestLine(length: 101) + "\r\nHost: a\r\n\r\n", parser: parser)
        #expect(outcome == .failed(HTTPParseError(.startLineTooLong, offset: 100)))
        #expect(outcome.error?.status == 414)
    }

    @Test func requestLine_thatNeverEnds_isRejectedWith414_beforeItsEndArrives() {
        let parser = HeadParser(maxHeaderBytes: 4096, maxRequestLineBytes: 100)
        let outcome = HeadFeeding.request("GET /" + String(repeating: "a", count: 200), parser: parser)
        #expect(outcome == .failed(HTTPParseError(.startLineTooLong, offset: 100)))
    }

    @Test func requestLine_isAlsoCappedByMaxHeaderBytes() {
        let parser = HeadParser(maxHeaderBytes: 64, maxRequestLineBytes: 8192)
        let outcome = HeadFeeding.request(Self.requestLine(length: 80) + "\r\nHost: a\r\n\r\n", parser: parser)
        #expect(outcome == .failed(HTTPParseError(.startLineTooLong, offset: 64)))
    }

    @Test func head_ofExactlyMaxHeaderBytes_isAccepted() {
        let input = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
        let parser = HeadParser(maxHeaderBytes: input.utf8.count)
        #expect(HeadFeeding.request(input, parser: parser).head != nil)
    }

    @Test func head_oneByteOverMaxHeaderBytes_isRejectedWith431() {
        let input = "GET / HTTP/1.1\r\nHost: ab\r\n\r\n"
        let parser = HeadParser(maxHeaderBytes: input.utf8.count - 1)
        let outcome = HeadFeeding.request(input, parser: parser)
        #expect(outcome == .failed(HTTPParseError(.headTooLarge, offset: input.utf8.count - 1)))
        #expect(outcome.error?.status == 431)
    }

    @Test func head_thatNeverEnds_isRejectedWith431_assoonAsItPassesTheLimit() {
        let parser = HeadParser(maxHeaderBytes: 1024)
        let input = "GET / HTTP/1.1\r\n" + String(repeating: "X-Filler: 0123456789\r\n", count: 100)
        #expect(HeadFeeding.request(input, parser: parser) == .failed(HTTPParseError(.headTooLarge, offset: 1024)))
    }

    @Test func leadingEmptyLines_doNotCountTowardsMaxHeaderBytes() {
        let input = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
        let parser = HeadParser(maxHeaderBytes: input.utf8.count)
        let outcome = HeadFeeding.request("\r\n\r\n" + input, parser: parser)
        #expect(outcome.head != nil)
    }

    @Test func maxFieldCountFields_areAccepted() {
        let parser = HeadParser(maxHeaderBytes: 16_384, maxFieldCount: 3)
        let outcome = HeadFeeding.request("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", parser: parser)
        #expect(outcome.head?.headers.count == 3)
    }

    @Test func oneFieldOverMaxFieldCount_isRejectedWith431_atThatLine() {
        let parser = HeadParser(maxHeaderBytes: 16_384, maxFieldCount: 3)
        let outcome = HeadFeeding.request("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", parser: parser)
        #expect(outcome == .failed(HTTPParseError(.tooManyFields, offset: 37)))
        #expect(outcome.error?.status == 431)
    }

    /// Found by the request_head fuzz target: a field line that is both one too many and over the size limit
    /// gave `tooManyFields` whole and `headTooLarge` split. HeadFeeding asserts the three ways agree.
    @Test func aFieldLineOverBothLimits_failsTheSameWay_howeverTheBytesArrive() {
        let parser = HeadParser(maxHeaderBytes: 96, maxFieldCount: 3)
        let input = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: " + String(repeating: "x", count: 80) + "\r\n\r\n"
        #expect(HeadFeeding.request(input, parser: parser) == .failed(HTTPParseError(.headTooLarge, offset: 96)))
        let response = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: " + String(repeating: "d", count: 70) + "\r\n\r\n"
        #expect(HeadFeeding.response(response, parser: parser).error?.status == 502)
    }

    @Test func leadingEmptyLines_upToTheLimit_areIgnored() {
        let parser = HeadParser(maxHeaderBytes: 1024, maxLeadingEmptyLines: 2)
        #expect(HeadFeeding.request("\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", parser: parser).head != nil)
        #expect(HeadFeeding.request("\r\n\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", parser: parser).error?.kind == .tooManyLeadingEmptyLines)
    }

    @Test func statusLine_overTheLimit_isRejectedWith502() {
        let parser = HeadParser(maxHeaderBytes: 4096, maxRequestLineBytes: 20)
        let outcome = HeadFeeding.response("HTTP/1.1 200 A very long reason phrase\r\n\r\n", parser: parser)
        #expect(outcome == .failed(.upstream(.startLineTooLong, offset: 20)))
    }

    @Test func responseHead_overMaxHeaderBytes_isRejectedWith502() {
        let parser = HeadParser(maxHeaderBytes: 32)
        let outcome = HeadFeeding.response("HTTP/1.1 200 OK\r\nServer: something long\r\n\r\n", parser: parser)
        #expect(outcome == .failed(.upstream(.headTooLarge, offset: 32)))
    }

    @Test func hostileHead_fedOneByteAtATime_isScannedInLinearTime() {
        // 256 KiB of field lines fed one byte at a time: a parser that rescanned from the start on every call
        // would do ~34 billion byte comparisons here; this one does each byte once.
        let line = Array("X-Filler: 0123456789abcdef0123456789abcdef0123456789\r\n".utf8)
        var bytes = Array("GET / HTTP/1.1\r\n".utf8)
        while bytes.count < 256 * 1024 { bytes += line }
        var parser = HeadParser(maxHeaderBytes: 1 << 20, maxFieldCount: 1 << 20)
        var results = 0
        for length in 1...bytes.count {
            let result = bytes[..<length].withUnsafeBytes { try? parser.parseRequest($0) }
            if result == .needMore { results += 1 }
        }
        #expect(results == bytes.count)
    }
}

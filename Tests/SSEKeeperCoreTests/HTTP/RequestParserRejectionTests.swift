import Testing
@testable import SSEKeeperCore

@Suite struct RequestParserRejectionTests {
    /// A malformed request, the kind it must be rejected with, and the offset of the offending byte.
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var input: String
        var kind: HTTPParseError.Kind
        var offset: Int?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "obs-fold", input: "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", kind: .obsoleteLineFolding, offset: 33),
        Case(name: "obs-fold with tab", input: "GET / HTTP/1.1\r\nHost: a\r\n\tc\r\n\r\n", kind: .obsoleteLineFolding, offset: 25),
        Case(name: "space before colon", input: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", kind: .whitespaceBeforeColon, offset: 20),
        Case(name: "tab before colon", input: "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", kind: .whitespaceBeforeColon, offset: 20),
        Case(name: "space inside name", input: "GET / HTTP/1.1\r\nHo st: a\r\n\r\n", kind: .invalidFieldName, offset: 18),
        Case(name: "non-token name byte", input: "GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n", kind: .invalidFieldName, offset: 26),
        Case(name: "empty name", input: "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", kind: .invalidFieldName, offset: 25),
        Case(name: "no colon", input: "GET / HTTP/1.1\r\nHost: a\r\nJunk\r\n\r\n", kind: .invalidFieldName, offset: 29),
        Case(name: "NUL in value", input: "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", kind: .invalidFieldValue, offset: 23),
        Case(name: "DEL in value", input: "GET / HTTP/1.1\r\nHost: a\u{7F}\r\n\r\n", kind: .invalidFieldValue, offset: 23),
        Case(name: "escape in value", input: "GET / HTTP/1.1\r\nHost: a\u{1B}[0m\r\n\r\n", kind: .invalidFieldValue, offset: 23),
        Case(name: "bare CR in value", input: "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", kind: .bareCarriageReturn, offset: 23),
        Case(name: "CR CR LF", input: "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", kind: .bareCarriageReturn, offset: 23),
        Case(name: "bare CR line", input: "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n\r\n", kind: .bareCarriageReturn, offset: 25),
        Case(name: "bare CR in request line", input: "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", kind: .bareCarriageReturn, offset: 5),
        Case(name: "bare CR after version", input: "GET / HTTP/1.1\rX\r\nHost: a\r\n\r\n", kind: .bareCarriageReturn, offset: 14),
        Case(name: "empty method", input: " / HTTP/1.1\r\nHost: a\r\n\r\n", kind: .invalidMethod, offset: 0),
        Case(name: "non-token method", input: "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", kind: .invalidMethod, offset: 2),
        Case(name: "tab after method", input: "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", kind: .invalidMethod, offset: 3),
        Case(name: "double space", input: "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", kind: .invalidTarget, offset: 4),
        Case(name: "space in target", input: "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", kind: .invalidVersion, offset: 7),
        Case(name: "control byte in target", input: "GET /a\u{1}b HTTP/1.1\r\nHost: a\r\n\r\n", kind: .invalidTarget, offset: 6),
        Case(name: "non-ASCII target", input: "GET /é HTTP/1.1\r\nHost: a\r\n\r\n", kind: .invalidTarget, offset: 5),
        Case(name: "no target", input: "GET HTTP/1.1\r\nHost: a\r\n\r\n", kind: .invalidVersion, offset: 12),
        Case(name: "no version", input: "GET /\r\nHost: a\r\n\r\n", kind: .invalidVersion, offset: 5),
        Case(name: "lowercase version", input: "GET / http/1.1\r\nHost: a\r\n\r\n", kind: .invalidVersion, offset: 6),
        Case(name: "version without minor", input: "GET / HTTP/1\r\nHost: a\r\n\r\n", kind: .invalidVersion, offset: 12),
        Case(name: "two-digit major", input: "GET / HTTP/10.1\r\nHost: a\r\n\r\n", kind: .invalidVersion, offset: 12),
        Case(name: "space after version", input: "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", kind: .invalidVersion, offset: 14),
        Case(name: "HTTP/2.0", input: "GET / HTTP/2.0\r\nHost: a\r\n\r\n", kind: .unsupportedVersion, offset: 11),
        Case(name: "HTTP/3.0", input: "GET / HTTP/3.0\r\nHost: a\r\n\r\n", kind: .unsupportedVersion, offset: 11),
        Case(name: "HTTP/0.9", input: "GET / HTTP/0.9\r\n\r\n", kind: .unsupportedVersion, offset: 11),
        Case(name: "missing Host", input: "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", kind: .missingHost, offset: nil),
        Case(name: "two Host lines", input: "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", kind: .multipleHost, offset: nil),
        Case(name: "two Host lines in HTTP/1.0", input: "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", kind: .multipleHost, offset: nil),
        Case(
            name: "five leading empty lines", input: "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            kind: .tooManyLeadingEmptyLines, offset: 8
        ),
    ]

    @Test(arguments: cases)
    func malformedRequest_isRejected_withItsKindStatusAndOffset(_ testCase: Case) {
        let error = HeadFeeding.request(testCase.input).error
        #expect(error?.kind == testCase.kind)
        #expect(error?.status == testCase.kind.requestStatus)
        #expect(error?.offset == testCase.offset)
    }

    @Test func invalidUTF8Value_isRejected_atTheValueStart() throws {
        var bytes = Array("GET / HTTP/1.1\r\nHost: a\r\nX: ok".utf8)
        bytes += [0xC3, 0x28]
        bytes += Array("\r\n\r\n".utf8)
        let outcome = HeadFeeding.threeWays(bytes, parser: HeadFeeding.parser, sourceLocation: #_sourceLocation) {
            parser, buffer throws(HTTPParseError) in try parser.parseRequest(buffer)
        }
        #expect(outcome == .failed(HTTPParseError(.invalidFieldValue, offset: 28)))
    }

    @Test(arguments: [
        (HTTPParseError.Kind.missingHost, 400), (.unsupportedVersion, 505), (.startLineTooLong, 414),
        (.headTooLarge, 431), (.tooManyFields, 431), (.unsupportedTransferCoding, 501), (.bareCarriageReturn, 400),
    ])
    func errorKinds_mapToTheirRequestStatus(_ kind: HTTPParseError.Kind, _ status: Int) {
        #expect(HTTPParseError(kind).status == status)
        #expect(HTTPParseError.upstream(kind).status == 502)
    }

    @Test func errorDescription_namesStatusKindAndOffset() {
        #expect(HTTPParseError(.bareCarriageReturn, offset: 17).description == "HTTP parse error 400 (bareCarriageReturn) at byte 17")
    }
}

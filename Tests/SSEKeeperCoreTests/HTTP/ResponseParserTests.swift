import Testing
@testable import SSEKeeperCore

@Suite struct ResponseParserTests {
    @Test func okResponse_isParsed_withVersionStatusReasonAndFields() {
        let input = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
        let expected = ResponseHead(
            status: 200, reason: "OK",
            headers: ["Content-Type": "text/event-stream", "Cache-Control": "no-cache"]
        )
        #expect(HeadFeeding.response(input) == .complete(expected, consumed: input.utf8.count))
    }

    /// The common long names and values come from literals (`HeadReader.string`): the text is what was sent, for
    /// every one of them and for near misses (another case, a byte more or less).
    @Test(arguments: HeadReader.commonLongText + ["Text/Event-Stream", "text/event-streams", "text/event-strea",
                                                  "TRANSFER-ENCODING", "X-Forwarded-Proto2", "text/event-stream;"])
    func longFieldTexts_areReadAsSent(_ text: String) {
        // As a name too when it is a token (no `/`, `;`, `,` or space).
        let name = text.contains(where: { "/;, ".contains($0) }) ? "X-Value" : text
        let input = "HTTP/1.1 200 OK\r\n\(name): \(text)\r\nX-After: 1\r\n\r\n"
        let head = HeadFeeding.response(input).head
        #expect(head?.headers.fields.first == HTTPField(name: name, value: text))
        #expect(head?.headers.fields.count == 2)
    }

    @Test(arguments: [(204, "No Content"), (304, "Not Modified"), (404, "Not Found"), (599, "Custom"), (200, "OK"),
                      (200, "ok"), (200, "OK!"), (200, "O")])
    func statusCodes_areParsed(_ status: Int, _ reason: String) {
        let outcome = HeadFeeding.response("HTTP/1.1 \(status) \(reason)\r\nServer: x\r\n\r\n")
        #expect(outcome.head?.status == status)
        #expect(outcome.head?.reason == reason)
    }

    @Test func interimResponse_consumesOnlyItsOwnHead_leavingTheFinalResponse() {
        let interim = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        let final = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        var parser = HeadFeeding.parser
        let bytes = Array((interim + final).utf8)
        let first = bytes.withUnsafeBytes { try? parser.parseResponse($0) }
        guard case .complete(let head, let consumed) = first else {
            Issue.record("expected a complete interim head")
            return
        }
        #expect(head.status == 103 && head.isInterim)
        #expect(consumed == interim.utf8.count)
        var next = HeadFeeding.parser
        let second = bytes[consumed...].withUnsafeBytes { try? next.parseResponse($0) }
        #expect(second == .complete(ResponseHead(status: 200, reason: "OK", headers: ["Content-Length": "0"]), consumed: final.utf8.count))
        #expect(HeadFeeding.response("HTTP/1.1 100 Continue\r\n\r\n").head?.status == 100)
    }

    @Test func statusLine_withoutReason_isAccepted_withOrWithoutItsSpace() {
        #expect(HeadFeeding.response("HTTP/1.1 200\r\n\r\n").head == ResponseHead(status: 200, reason: ""))
        #expect(HeadFeeding.response("HTTP/1.1 200 \r\n\r\n").head == ResponseHead(status: 200, reason: ""))
    }

    @Test func reasonPhrase_mayHoldSpacesTabsAndUTF8() {
        #expect(HeadFeeding.response("HTTP/1.1 200 All\tgood ✓ \r\n\r\n").head?.reason == "All\tgood ✓ ")
    }

    @Test func http10Response_keepsItsVersion() {
        #expect(HeadFeeding.response("HTTP/1.0 200 OK\r\n\r\n").head?.version == .http1_0)
    }

    @Test func bareLineFeeds_areAcceptedInResponses() {
        #expect(HeadFeeding.response("HTTP/1.1 200 OK\nServer: x\n\n").head?.headers.first("Server") == "x")
    }

    static let malformed: [(String, HTTPParseError.Kind, Int)] = [
        ("HTTP/1.1 20 OK\r\n\r\n", .invalidStatusLine, 11),
        ("HTTP/1.1 2000 OK\r\n\r\n", .invalidStatusLine, 12),
        ("HTTP/1.1 099 Low\r\n\r\n", .invalidStatusLine, 9),
        ("HTTP/1.1 600 High\r\n\r\n", .invalidStatusLine, 9),
        ("HTTP/1.1 abc OK\r\n\r\n", .invalidStatusLine, 9),
        ("HTTP/1.1  200 OK\r\n\r\n", .invalidStatusLine, 9),
        ("HTTP/1.1\r\n\r\n", .invalidStatusLine, 8),
        ("HTTP/2.0 200 OK\r\n\r\n", .unsupportedVersion, 5),
        ("ICY 200 OK\r\n\r\n", .invalidVersion, 0),
        ("HTTP/1.1 200 O\u{1}K\r\n\r\n", .invalidStatusLine, 14),
        ("HTTP/1.1 200 OK\rX\r\n\r\n", .bareCarriageReturn, 15),
        ("HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\n\r\n", .obsoleteLineFolding, 25),
        ("HTTP/1.1 200 OK\r\nX-A : b\r\n\r\n", .whitespaceBeforeColon, 20),
        ("HTTP/1.1 200 OK\r\nX-A: b\0\r\n\r\n", .invalidFieldValue, 23),
    ]

    @Test(arguments: malformed)
    func malformedResponse_isRejected_with502(_ input: String, _ kind: HTTPParseError.Kind, _ offset: Int) {
        #expect(HeadFeeding.response(input) == .failed(.upstream(kind, offset: offset)))
    }

    @Test(arguments: ["", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nServer: x\r\n\r"])
    func incompleteResponses_needMore(_ input: String) {
        #expect(HeadFeeding.response(input) == .needMore)
    }
}

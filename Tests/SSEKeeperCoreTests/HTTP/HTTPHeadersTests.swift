import Testing
@testable import SSEKeeperCore

@Suite struct HTTPHeadersTests {
    let headers: HTTPHeaders = [
        "Host": "example.com",
        "Connection": "keep-alive, Upgrade",
        "accept": "text/html",
        "ACCEPT": "text/event-stream;q=0.9",
        "connection": "X-Trace ,\tTE",
    ]

    @Test func first_andValues_matchNamesCaseInsensitively() {
        #expect(headers.first("HOST") == "example.com")
        #expect(headers.first("Missing") == nil)
        #expect(headers.values("Accept") == ["text/html", "text/event-stream;q=0.9"])
        #expect(headers.count(of: "connection") == 2)
        #expect(headers.contains("ConNection"))
    }

    @Test(arguments: ["keep-alive", "UPGRADE", "x-trace", "te"])
    func containsToken_findsListElements_inAnyLineAnyCaseAndWhitespace(_ token: String) {
        #expect(headers.containsToken(token, in: "Connection"))
    }

    @Test(arguments: ["keep", "alive", "keep-alive, Upgrade", "", "close"])
    func containsToken_matchesWholeElementsOnly(_ token: String) {
        #expect(!headers.containsToken(token, in: "Connection"))
    }

    @Test func containsToken_toleratesEmptyElements() {
        let headers: HTTPHeaders = ["Connection": " , ,close,"]
        #expect(headers.containsToken("close", in: "connection"))
    }

    @Test func remove_dropsEveryLineOfThatName() {
        var headers = headers
        headers.remove("ACCEPT")
        #expect(headers.fields.map(\.name) == ["Host", "Connection", "connection"])
    }

    @Test func add_appends_andSet_replacesTheFirstInPlace() {
        var headers = headers
        headers.add("Via", "1.1 a")
        #expect(headers.fields.last == HTTPField(name: "Via", value: "1.1 a"))
        headers.set("Accept", "*/*")
        #expect(headers.values("accept") == ["*/*"])
        #expect(headers.fields[2] == HTTPField(name: "accept", value: "*/*"))
        headers.set("X-New", "1")
        #expect(headers.fields.last?.name == "X-New")
    }
}

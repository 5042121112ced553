import Testing
@testable import SSEKeeperCore

@Suite struct RequestParserTests {
    @Test func getRequest_isParsed_withMethodTargetVersionAndFieldsInOrder() {
        let input = "GET /events?topic=a HTTP/1.1\r\n"
            + "Host: example.com\r\n"
            + "Accept: text/event-stream\r\n"
            + "Last-Event-ID: 42\r\n"
            + "\r\n"
        let outcome = HeadFeeding.request(input)
        let expected = RequestHead(
            method: "GET",
            target: "/events?topic=a",
            version: .http1_1,
            headers: ["Host": "example.com", "Accept": "text/event-stream", "Last-Event-ID": "42"]
        )
        #expect(outcome == .complete(expected, consumed: input.utf8.count))
        #expect(outcome.head?.path == "/events")
    }

    @Test func postRequest_consumesOnlyTheHead_leavingTheBodyToTheCaller() {
        let head = "POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"
        let outcome = HeadFeeding.request(head)
        #expect(outcome.head?.method == "POST")
        #expect(outcome == .complete(outcome.head!, consumed: head.utf8.count))
        #expect(outcome.head.map { try? $0.bodyFraming() } == .contentLength(5))
    }

    @Test func headRequest_isParsed() {
        let outcome = HeadFeeding.request("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(outcome.head?.method == "HEAD")
        #expect(outcome.head?.target == "/")
    }

    @Test func http10Request_withoutHost_isAccepted() {
        let outcome = HeadFeeding.request("GET / HTTP/1.0\r\n\r\n")
        #expect(outcome.head == RequestHead(method: "GET", target: "/", version: .http1_0))
    }

    @Test(arguments: ["HTTP/1.2", "HTTP/1.9"])
    func laterHTTP1MinorVersions_areTreatedAsHTTP11(_ version: String) {
        let outcome = HeadFeeding.request("GET / \(version)\r\nHost: a\r\n\r\n")
        #expect(outcome.head?.version == .http1_1)
    }

    @Test func fieldValues_areTrimmedOfOptionalWhitespace_butKeepInnerWhitespace() {
        let outcome = HeadFeeding.request("GET / HTTP/1.1\r\nHost:a\r\nX-Note: \t two  words \t\r\nX-Empty:\r\nX-Blank:   \r\n\r\n")
        #expect(outcome.head?.headers.first("X-Note") == "two  words")
        #expect(outcome.head?.headers.first("Host") == "a")
        #expect(outcome.head?.headers.first("X-Empty") == "")
        #expect(outcome.head?.headers.first("X-Blank") == "")
    }

    @Test func fieldNames_keepTheirCase_whileLookupsIgnoreIt() {
        let outcome = HeadFeeding.request("GET / HTTP/1.1\r\nhOsT: a\r\nX-Custom-Thing: 1\r\n\r\n")
        #expect(outcome.head?.headers.fields.map(\.name) == ["hOsT", "X-Custom-Thing"])
        #expect(outcome.head?.headers.first("x-custom-thing") == "1")
    }

    /// A known name is recognized in any case, and keeps the bytes it came with: the registered spelling only
    /// stands in for bytes that are exactly it.
    @Test(arguments: ["Accept", "accept", "ACCEPT", "Last-Event-ID", "last-event-id", "Last-Event-Id", "TE", "te",
                      "X-Accel-Buffering", "x-accel-buffering", "Transfer-EncodinG", "Content-Type", "content-type"])
    func knownFieldNames_areRecognizedInAnyCase_andKeepTheirBytes(name: String) {
        let outcome = HeadFeeding.request("GET / HTTP/1.1\r\nHost: a\r\n\(name): 1\r\n\r\n")
        let field = outcome.head?.headers.fields.last
        #expect(field?.name == name)
        #expect(field?.name.utf8.elementsEqual(name.utf8) == true)
        #expect(field?.known != nil && field?.known == KnownFieldName(name))
    }

    /// The common method is a literal only when the bytes are exactly it: methods are case-sensitive.
    @Test(arguments: ["GET", "get", "GEt", "GETX", "GE"])
    func methods_keepTheirBytes(method: String) {
        #expect(HeadFeeding.request("\(method) / HTTP/1.1\r\nHost: a\r\n\r\n").head?.method == method)
    }

    @Test func bareLineFeeds_areAcceptedAsLineEnds() {
        let input = "GET / HTTP/1.1\nHost: a\r\nX-A: b\n\n"
        let outcome = HeadFeeding.request(input)
        #expect(outcome == .complete(RequestHead(method: "GET", target: "/", headers: ["Host": "a", "X-A": "b"]), consumed: input.utf8.count))
    }

    @Test func leadingEmptyLines_areIgnored_andCountedInConsumed() {
        let input = "\r\n\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"
        let outcome = HeadFeeding.request(input)
        #expect(outcome == .complete(RequestHead(method: "GET", target: "/", headers: ["Host": "a"]), consumed: input.utf8.count))
    }

    @Test func utf8FieldValues_areAccepted() {
        let outcome = HeadFeeding.request("GET / HTTP/1.1\r\nHost: a\r\nX-Name: Zoë ✓\r\n\r\n")
        #expect(outcome.head?.headers.first("X-Name") == "Zoë ✓")
    }

    @Test func tokenCharacters_areAcceptedInMethodsAndFieldNames() {
        let outcome = HeadFeeding.request("M-SEARCH / HTTP/1.1\r\nHost: a\r\n!#$%&'*+-.^_`|~09az: ok\r\n\r\n")
        #expect(outcome.head?.method == "M-SEARCH")
        #expect(outcome.head?.target == "/")
        #expect(outcome.head?.headers.first("!#$%&'*+-.^_`|~09AZ") == "ok")
    }

    @Test func repeatedFields_keepTheirOrder() {
        let outcome = HeadFeeding.request("GET / HTTP/1.1\r\nHost: a\r\nAccept: x\r\nVia: 1\r\naccept: y\r\n\r\n")
        #expect(outcome.head?.headers.values("Accept") == ["x", "y"])
    }

    @Test func absoluteFormTarget_isKept_andReducibleToOriginForm() {
        let outcome = HeadFeeding.request("GET http://user@example.com:8080/a/b?c=d HTTP/1.1\r\nHost: other\r\n\r\n")
        let head = outcome.head
        #expect(head?.target == "http://user@example.com:8080/a/b?c=d")
        #expect(head?.originFormTarget == "/a/b?c=d")
        #expect(head?.path == "/a/b")
        #expect(head?.absoluteFormAuthority == "example.com:8080")
    }

    @Test(arguments: [
        ("HTTP://h", "/"), ("https://h?x", "/?x"), ("http://h/p", "/p"), ("/plain?q", "/plain?q"), ("*", "*"),
        ("h:443", "h:443"),
    ])
    func originFormTarget_coversEveryTargetForm(_ target: String, _ expected: String) {
        #expect(RequestHead(method: "GET", target: target).originFormTarget == expected)
    }

    @Test(arguments: [
        ("GET", "/"), ("GET", "/a?b"), ("GET", "http://h/p"), ("GET", "HTTPS://h"), ("GET", "ftp://h/x"),
        ("GET", "urn:x-a.b+c:d"), ("OPTIONS", "*"), ("CONNECT", "example.com:443"), ("CONNECT", "[::1]:443"),
    ])
    func everyTargetForm_isAccepted_forItsMethods(_ method: String, _ target: String) {
        let outcome = HeadFeeding.request("\(method) \(target) HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(outcome.head?.target == target, "\(method) \(target): \(outcome)")
    }

    /// RFC 9112 §3.2: a target in none of the four forms is answered 400, not routed (it used to get 404).
    @Test(arguments: [
        ("GET", "foo"), ("GET", "foo/bar"), ("GET", "?q"), ("GET", "1http://h/"), ("GET", "-x:y"), ("GET", ":80"),
        ("GET", "*"), ("POST", "*"), ("GET", "example.com"), ("CONNECT", "example.com:443/x"),
        ("GET", "/a#b"), ("GET", "http://h#frag"), ("GET", "http://user:pw@example.com:61##"), ("GET", "/#"),
    ])
    func targetsOfNoForm_areRejectedWith400_atTheTarget(_ method: String, _ target: String) {
        let outcome = HeadFeeding.request("\(method) \(target) HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(outcome.error == HTTPParseError(.invalidTarget, offset: method.utf8.count + 1), "\(method) \(target)")
        #expect(outcome.error?.status == 400)
    }

    @Test(arguments: [
        "", "G", "GET / HTTP/1.1", "GET / HTTP/1.1\r", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: a\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n\r", "\r\n",
    ])
    func incompleteHeads_needMore(_ input: String) {
        #expect(HeadFeeding.request(input) == .needMore)
    }
}

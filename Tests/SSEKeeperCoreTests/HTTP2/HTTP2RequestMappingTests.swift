import Testing
@testable import SSEKeeperCore

/// `HTTP2RequestMapping`: an HTTP/2 request head becomes the HTTP/1.1 head the upstream gets, through the HTTP/1.1
/// parser, so whatever HTTP/1.1 would refuse is refused here too.
struct HTTP2RequestMappingTests {
    static func fields(method: String = "GET", path: String = "/events?x=1", authority: String? = "example.com",
                       _ extra: [(String, String)] = []) -> [HPACKHeaderField] {
        var fields = [HPACKHeaderField(":method", method), HPACKHeaderField(":scheme", "https"), HPACKHeaderField(":path", path)]
        if let authority { fields.append(HPACKHeaderField(":authority", authority)) }
        return fields + extra.map { HPACKHeaderField($0.0, $0.1) }
    }

    @Test func aGet_becomesAnOriginFormRequest_withHostFromAuthority() throws {
        let head = try HTTP2RequestMapping.requestHead(Self.fields([("accept", "text/event-stream")]), hasBody: false, maxHeaderBytes: 8192)
        #expect(head.method == "GET")
        #expect(head.target == "/events?x=1")
        #expect(head.version == .http2)
        #expect(head.headers.first("Host") == "example.com")
        #expect(head.headers.first("accept") == "text/event-stream")
        #expect(!head.headers.contains("Transfer-Encoding"))
        #expect(try head.bodyFraming() == .none)
    }

    @Test func cookieCrumbs_areJoinedIntoOneField() throws {
        let head = try HTTP2RequestMapping.requestHead(Self.fields([("cookie", "a=1"), ("x", "y"), ("cookie", "b=2")]),
                                                       hasBody: false, maxHeaderBytes: 8192)
        #expect(head.headers.values("cookie") == ["a=1; b=2"])
    }

    @Test func aBodyWithoutLength_isChunked_andWithALength_keepsIt() throws {
        let chunked = try HTTP2RequestMapping.requestHead(Self.fields(method: "POST"), hasBody: true, maxHeaderBytes: 8192)
        #expect(try chunked.bodyFraming() == .chunked)
        let sized = try HTTP2RequestMapping.requestHead(Self.fields(method: "POST", [("content-length", "5")]), hasBody: true, maxHeaderBytes: 8192)
        #expect(try sized.bodyFraming() == .contentLength(5))
    }

    @Test func whatHTTP1WouldReadDifferently_isRefused() {
        let cases: [([HPACKHeaderField], Int)] = [
            (Self.fields(path: "/a b"), 400),                        // would split the request line
            (Self.fields(path: "/a HTTP/1.1\r\nX: y"), 400),          // (the validator stops CR/LF first; this too)
            (Self.fields(method: "G T"), 400),
            (Self.fields(method: "CONNECT"), 405),
            (Self.fields(authority: "bad host"), 400),
            (Self.fields(authority: nil), 400),                       // no Host at all
            (Self.fields([("x", "\u{1}")]), 400),                     // a control byte in a value
        ]
        for (fields, status) in cases {
            do {
                let head = try HTTP2RequestMapping.requestHead(fields, hasBody: false, maxHeaderBytes: 8192)
                Issue.record("accepted \(fields) as \(head)")
            } catch {
                #expect(error.status == status, "\(fields): \(error)")
            }
        }
    }

    @Test func aHeadOverTheLimit_is431() {
        let fields = Self.fields([("x-big", String(repeating: "a", count: 9000))])
        do {
            _ = try HTTP2RequestMapping.requestHead(fields, hasBody: false, maxHeaderBytes: 8192)
            Issue.record("accepted")
        } catch {
            #expect(error.status == 431)
        }
    }
}

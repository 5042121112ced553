import Testing
@testable import SSEKeeperCore

struct ProbeURLTests {
    @Test(arguments: [
        ("http://127.0.0.1:8080/.ssekeeper/probe", ProbeURL(scheme: .http, host: "127.0.0.1", port: 8080, path: "/.ssekeeper/probe")),
        ("https://lb.example.com/p?token=a%20b", ProbeURL(scheme: .https, host: "lb.example.com", path: "/p", query: "token=a%20b")),
        ("HTTPS://Example.com", ProbeURL(scheme: .https, host: "Example.com", path: "/")),
        ("http://[::1]:9000/x", ProbeURL(scheme: .http, host: "::1", port: 9000, path: "/x")),
        ("http://[2001:db8::1]/x#frag", ProbeURL(scheme: .http, host: "2001:db8::1", path: "/x")),
        ("http://host:80?q=1", ProbeURL(scheme: .http, host: "host", path: "/", query: "q=1")),
        ("http://vpn.example.com/", ProbeURL(scheme: .http, host: "vpn.example.com", path: "/")),
    ])
    func validURLs_parseIntoTheirParts(text: String, expected: ProbeURL) throws {
        #expect(try ProbeURL.parse(text) == expected)
    }

    @Test(arguments: [
        ("", "visible ASCII"),
        ("example.com/probe", "needs a scheme"),
        ("ftp://example.com/", "unsupported scheme \"ftp\""),
        ("http:///probe", "no host"),
        ("http://user:pw@example.com/", "credentials"),
        ("http://example.com:0/", "invalid port \"0\""),
        ("http://example.com:65536/", "invalid port \"65536\""),
        ("http://example.com:123456/", "invalid port"),
        ("http://exa mple.com/", "visible ASCII"),
        ("http://example.com/é", "visible ASCII"),
        ("http://[::1/", "invalid host"),
        ("http://[v1.x]/", "IPvFuture"),
        ("http://a%41b/", "percent-encoded"),
        ("http://example.com:80:80/", "invalid host"),
    ])
    func invalidURLs_areRefusedWithAReason(text: String, fragment: String) {
        #expect {
            try ProbeURL.parse(text)
        } throws: { error in
            (error as? ProbeURLError)?.message.contains(fragment) == true
        }
    }

    @Test func aURLOverTheLengthLimit_isRefused() {
        let long = "http://h/" + String(repeating: "a", count: ProbeURL.maxLength)
        #expect(throws: ProbeURLError("the URL is longer than \(ProbeURL.maxLength) bytes")) { try ProbeURL.parse(long) }
    }

    @Test func theTarget_keepsTheUsersQuery_andReplacesAnySilenceOfItsOwn() throws {
        let url = try ProbeURL.parse("http://h/probe?token=x&silence=9s&b")
        #expect(url.target(silence: .milliseconds(2500)) == "/probe?token=x&b&silence=2500ms")
        #expect(try ProbeURL.parse("http://h/probe").target(silence: .seconds(90)) == "/probe?silence=90000ms")
    }

    @Test func theHostField_bracketsIPv6_andOmitsTheDefaultPort() throws {
        #expect(try ProbeURL.parse("https://h:443/").hostField == "h")
        #expect(try ProbeURL.parse("https://h:8443/").hostField == "h:8443")
        #expect(try ProbeURL.parse("http://[::1]/").hostField == "[::1]")
        #expect(try ProbeURL.parse("http://[::1]:81/").hostField == "[::1]:81")
        #expect(try ProbeURL.parse("http://[::1]:81/p?q").description == "http://[::1]:81/p?q")
    }

    @Test func ipLiterals_areRecognised_soNoSNIIsSentForThem() throws {
        #expect(try ProbeURL.parse("https://127.0.0.1/").isIPLiteral)
        #expect(try ProbeURL.parse("https://[::1]/").isIPLiteral)
        #expect(try !ProbeURL.parse("https://example.com/").isIPLiteral)
        #expect(try !ProbeURL.parse("https://1.2.3.example/").isIPLiteral)
    }

    @Test func theRequest_asksForAnEventStream_onItsOwnConnection() throws {
        let url = try ProbeURL.parse("http://h:8080/probe?t=1")
        let text = String(decoding: ProbeRequest.bytes(url: url, silence: .seconds(4)), as: UTF8.self)
        #expect(text == "GET /probe?t=1&silence=4000ms HTTP/1.1\r\nHost: h:8080\r\nAccept: text/event-stream\r\n"
            + "Cache-Control: no-cache\r\nUser-Agent: ssekeeper-probe\r\nConnection: close\r\n\r\n")
    }

    @Test func theTargetSilence_isReadBackByTheProbeEndpoint() throws {
        let url = try ProbeURL.parse("http://h/probe")
        let target = url.target(silence: .milliseconds(1250))
        #expect(ProbeResponse.silence(requestedIn: target, maxSilence: .seconds(900)) == .success(.milliseconds(1250)))
    }

    @Test func aBusyPhase_isAskedBeforeTheSilence_andReadBackByTheProbeEndpoint() throws {
        let url = try ProbeURL.parse("http://h/probe?busy=1s&x=1")
        let target = url.target(silence: .milliseconds(5000), busy: .milliseconds(1250))
        #expect(target == "/probe?x=1&busy=1250ms&silence=5000ms")
        #expect(ProbeResponse.busy(requestedIn: target, maxSilence: .seconds(900)) == .success(.milliseconds(1250)))
        #expect(ProbeResponse.silence(requestedIn: target, maxSilence: .seconds(900)) == .success(.seconds(5)))
        #expect(url.target(silence: .seconds(2)) == "/probe?x=1&silence=2000ms", "no busy phase: none asked")
    }
}

import Testing
@testable import SSEKeeperCore

/// The Host value and the absolute-form authority must be `uri-host [ ":" port ]` (RFC 9112 §3.2, RFC 9110 §4.2.1,
/// §7.2, RFC 3986 §3.2): the proxy forwards both as Host and X-Forwarded-Host.
@Suite struct HostValidationTests {
    @Test(arguments: [
        "a.example", "a.example:8080", "a.example:", "127.0.0.1", "127.0.0.1:80", "[::1]", "[::1]:8080",
        "[2001:db8::192.0.2.1]", "[v1.fe:x]:1", "localhost", "xn--caf-dma.example", "a-b_c~d!$&'()*+,;=%41",
        "A.EXAMPLE.", "",
    ])
    func validHostValues_areAccepted(_ host: String) {
        let outcome = HeadFeeding.request("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n")
        #expect(outcome.head?.headers.first("Host") == host, "Host: \(host)")
    }

    @Test(arguments: [
        "a b", "a.example/admin", "a.example\\x", "user@a.example", "a.example:http", "a.example:80:81", ":80",
        "[::1", "[::1]x", "[::1]:8o", "[]", "[zz]", "[v.x]", "[v1.]", "a%4", "a%zz", "a\"b", "a<b>", "a{b}", "a|b",
        "a^b", "a`b", "a#b", "a?b", "caf\u{E9}.example",
    ])
    func invalidHostValues_areRejectedWith400(_ host: String) {
        let error = HeadFeeding.request("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n").error
        #expect(error == HTTPParseError(.invalidHost), "Host: \(host)")
        #expect(error?.status == 400)
    }

    @Test func anInvalidHost_isRejected_inHTTP10_too() {
        #expect(HeadFeeding.request("GET / HTTP/1.0\r\nHost: a b\r\n\r\n").error == HTTPParseError(.invalidHost))
    }

    @Test(arguments: [
        "http:///admin", "http://:80/", "http://a.example:8o/", "http://evil.example\\@a.example/",
        "http://a@b@c.example/", "http://[::1/", "HTTP://a.example:80:81/", "http://us%zzer@a/",
        "http://a.example;x=%/",
    ])
    func absoluteFormTargets_withABadAuthority_areRejectedWith400(_ target: String) {
        let error = HeadFeeding.request("GET \(target) HTTP/1.1\r\nHost: t\r\n\r\n").error
        #expect(error == HTTPParseError(.invalidTarget), "target \(target)")
    }

    @Test(arguments: [
        ("http://a.example", "a.example"), ("https://a.example:8443/p", "a.example:8443"),
        ("http://user:pa%20ss@a.example/", "a.example"), ("http://[::1]:8080/x", "[::1]:8080"),
        ("http://a.example:/x", "a.example:"),
    ])
    func absoluteFormTargets_withAValidAuthority_areAccepted(_ target: String, _ authority: String) {
        let head = HeadFeeding.request("GET \(target) HTTP/1.1\r\nHost: t\r\n\r\n").head
        #expect(head?.absoluteFormAuthority == authority, "target \(target)")
    }

    @Test func otherSchemes_andOriginForm_areNotCheckedForAnAuthority() {
        #expect(HeadFeeding.request("GET ftp:///x HTTP/1.1\r\nHost: t\r\n\r\n").head != nil)
        #expect(HeadFeeding.request("GET /http:///x HTTP/1.1\r\nHost: t\r\n\r\n").head != nil)
    }
}

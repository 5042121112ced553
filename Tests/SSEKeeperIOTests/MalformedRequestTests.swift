import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// Malformed and ambiguous requests sent over real sockets to a real ssekeeper (RFC 9112, RFC 9110): each one
/// must get its own status as a short `text/plain` answer with `Connection: close`, the proxy must then close the
/// connection, and the upstream must receive nothing at all — not even a connection. Request smuggling lives in
/// exactly these requests, so a proxy that lets one through hands the upstream a request it may frame differently.
///
/// Every case gets a fresh upstream and proxy, so a connection the proxy should not have made is seen by that
/// case alone. The accepted-but-odd requests (the positive controls) are in a separate test below, which checks
/// what the upstream did receive.
struct MalformedRequestTests {
    /// A request the proxy must reject, and the status it must answer with.
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var status: Int

        init(_ name: String, _ text: String, _ status: Int) {
            self.init(name, bytes: Array(text.utf8), status)
        }

        init(_ name: String, bytes: [UInt8], _ status: Int) {
            self.name = name
            self.bytes = bytes
            self.status = status
        }

        var testDescription: String { "\(name) → \(status)" }
    }

    /// `max_header_size` for every case: small, so the limit cases stay small too.
    static let maxHeaderBytes = 1024

    static let post = "POST /upload HTTP/1.1\r\nHost: t\r\n"
    static let chunkedPost = post + "Transfer-Encoding: chunked\r\n\r\n"

    static let framingCases: [Case] = [
        // Content-Length together with Transfer-Encoding (RFC 9112 §6.3 rule 3).
        Case("Content-Length then Transfer-Encoding chunked", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400),
        Case("Transfer-Encoding chunked then Content-Length", post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400),
        Case("Content-Length 0 with Transfer-Encoding chunked", post + "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        Case("Content-Length with Transfer-Encoding gzip", post + "Content-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\nhello", 400),
        Case("Transfer-Encoding gzip, chunked with Content-Length", post + "Transfer-Encoding: gzip, chunked\r\nContent-Length: 5\r\n\r\nhello", 400),
        // Content-Length values (RFC 9112 §6.3 rule 5, RFC 9110 §8.6).
        Case("two Content-Length lines that differ", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
        Case("one Content-Length line with differing values", post + "Content-Length: 5, 6\r\n\r\nhello!", 400),
        Case("Content-Length not digits", post + "Content-Length: abc\r\n\r\n", 400),
        Case("Content-Length negative", post + "Content-Length: -5\r\n\r\nhello", 400),
        Case("Content-Length with a plus sign", post + "Content-Length: +5\r\n\r\nhello", 400),
        Case("Content-Length in hex", post + "Content-Length: 0x5\r\n\r\nhello", 400),
        Case("Content-Length with a decimal point", post + "Content-Length: 5.0\r\n\r\nhello", 400),
        Case("Content-Length with inner space", post + "Content-Length: 5 5\r\n\r\nhello", 400),
        Case("Content-Length empty", post + "Content-Length:\r\n\r\n", 400),
        Case("Content-Length of 2^64 (20 digits)", post + "Content-Length: 18446744073709551616\r\n\r\n", 400),
        Case("Content-Length of 25 digits", post + "Content-Length: 9999999999999999999999999\r\n\r\n", 400),
        // Transfer-Encoding (RFC 9112 §6.1, §6.3 rule 4, §7).
        Case("Transfer-Encoding gzip alone", post + "Transfer-Encoding: gzip\r\n\r\nhello", 400),
        Case("Transfer-Encoding chunked, gzip", post + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400),
        Case("Transfer-Encoding gzip, chunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
        Case("Transfer-Encoding unknown coding", post + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400),
        Case("Transfer-Encoding identity", post + "Transfer-Encoding: identity\r\n\r\nhello", 400),
        Case("Transfer-Encoding chunked, chunked", post + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
        Case("two Transfer-Encoding chunked lines", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        Case("Transfer-Encoding empty", post + "Transfer-Encoding:\r\n\r\n", 400),
        Case("Transfer-Encoding quoted chunked", post + "Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", 400),
        Case("Transfer-Encoding with vertical tab", post + "Transfer-Encoding:\u{0B}chunked\r\n\r\n0\r\n\r\n", 400),
        Case("Transfer-Encoding chunked in HTTP/1.0", "POST /upload HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400),
    ]

    static let chunkedBodyCases: [Case] = [
        // The chunked body itself (RFC 9112 §7.1): found while the body is forwarded.
        Case("chunk size not hex", chunkedPost + "zz\r\nhello\r\n0\r\n\r\n", 400),
        Case("chunk size negative", chunkedPost + "-5\r\nhello\r\n0\r\n\r\n", 400),
        Case("chunk size with 0x prefix", chunkedPost + "0x5\r\nhello\r\n0\r\n\r\n", 400),
        Case("chunk size of 17 hex digits", chunkedPost + "00000000000000005\r\nhello\r\n0\r\n\r\n", 400),
        Case("chunk size overflowing 64 bits", chunkedPost + "10000000000000000\r\nhello\r\n0\r\n\r\n", 400),
        Case("chunk extension beyond the limit", chunkedPost + "5;" + String(repeating: "e", count: 4200) + "\r\nhello\r\n0\r\n\r\n", 400),
        Case("bare LF after chunk size", chunkedPost + "5\nhello\r\n0\r\n\r\n", 400),
        Case("bare LF after chunk data", chunkedPost + "5\r\nhello\n0\r\n\r\n", 400),
        Case("missing CRLF after chunk data", chunkedPost + "5\r\nhelloXX\r\n0\r\n\r\n", 400),
        Case("control byte in a trailer", chunkedPost + "0\r\nX-T: a\u{1}b\r\n\r\n", 400),
    ]

    static let syntaxCases: [Case] = [
        // Line ends and field lines (RFC 9112 §2.2, §5; RFC 9110 §5).
        Case("bare CR in the request line", "GET /\r HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("bare CR in a field value", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n", 400),
        Case("obs-fold with SP", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n", 400),
        Case("obs-fold with HTAB", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n\tb\r\n\r\n", 400),
        Case("whitespace before the first field line", "GET / HTTP/1.1\r\n Host: t\r\n\r\n", 400),
        Case("space between field name and colon", "GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400),
        Case("space between Transfer-Encoding and colon", post + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
        Case("tab between Content-Length and colon", post + "Content-Length\t: 5\r\n\r\nhello", 400),
        Case("NUL in a field value", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\0b\r\n\r\n", 400),
        Case("LF inside a field value", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\nb c\r\n\r\n", 400),
        Case("SOH in a field value", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\u{1}b\r\n\r\n", 400),
        Case("ESC in a field value", "GET / HTTP/1.1\r\nHost: t\r\nX-A: \u{1B}[31mred\r\n\r\n", 400),
        Case("DEL in a field value", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\u{7F}\r\n\r\n", 400),
        Case("space inside the method", "GE T / HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("@ in the method", "G@T / HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("( in the method", "GE(T / HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("\" in the method", "GE\"T / HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("{ in the method", "{GET} / HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("( in a field name", "GET / HTTP/1.1\r\nHost: t\r\nX(A): b\r\n\r\n", 400),
        Case("\" in a field name", "GET / HTTP/1.1\r\nHost: t\r\nX\"A: b\r\n\r\n", 400),
        Case("{ in a field name", "GET / HTTP/1.1\r\nHost: t\r\nX{A}: b\r\n\r\n", 400),
        Case("@ in a field name", "GET / HTTP/1.1\r\nHost: t\r\nX@A: b\r\n\r\n", 400),
        Case("empty field name", "GET / HTTP/1.1\r\nHost: t\r\n: value\r\n\r\n", 400),
        Case("field line without colon", "GET / HTTP/1.1\r\nHost: t\r\nJunk\r\n\r\n", 400),
        Case("five leading empty lines", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        // The request line (RFC 9112 §3).
        Case("empty method (leading space)", " / HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("double space after the method", "GET  / HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("double space before the version", "GET /  HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("tab as separator", "GET\t/ HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("missing version", "GET /\r\nHost: t\r\n\r\n", 400),
        Case("trailing space after the version", "GET / HTTP/1.1 \r\nHost: t\r\n\r\n", 400),
        Case("lowercase http/1.1", "GET / http/1.1\r\nHost: t\r\n\r\n", 400),
        Case("HTTP/1 without minor", "GET / HTTP/1\r\nHost: t\r\n\r\n", 400),
        Case("HTTP/1.10", "GET / HTTP/1.10\r\nHost: t\r\n\r\n", 400),
        Case("garbage line", "SSH-2.0-OpenSSH_9.2\r\n\r\n", 400),
        Case("garbage with spaces", "hello there world\r\n\r\n", 400),
        Case("control byte in the target", "GET /a\u{1}b HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("DEL in the target", "GET /a\u{7F}b HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("space in the target", "GET /a b HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("empty target", "GET  HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("no target", "GET HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        // Versions (RFC 9112 §2.3, RFC 9110 §15.6.6).
        Case("HTTP/2.0", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        Case("HTTP/2 connection preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
        Case("HTTP/3.0", "GET / HTTP/3.0\r\nHost: t\r\n\r\n", 505),
        Case("HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 505),
        Case("HTTP/3 without minor", "GET / HTTP/3\r\nHost: t\r\n\r\n", 400),
        Case("HTTP/10.1 (two-digit major)", "GET / HTTP/10.1\r\nHost: t\r\n\r\n", 400),
        // Host (RFC 9112 §3.2, RFC 9110 §4.2.1, §7.2).
        Case("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
        Case("two Host lines", "GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", 400),
        Case("two Host lines, different case", "GET / HTTP/1.1\r\nHost: a.example\r\nhost: a.example\r\n\r\n", 400),
        Case("two Host lines in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a.example\r\nHost: b.example\r\n\r\n", 400),
        Case("Host with a space", "GET / HTTP/1.1\r\nHost: a.example b.example\r\n\r\n", 400),
        Case("Host with a path", "GET / HTTP/1.1\r\nHost: a.example/admin\r\n\r\n", 400),
        Case("Host with userinfo", "GET / HTTP/1.1\r\nHost: user@a.example\r\n\r\n", 400),
        Case("Host with a non-numeric port", "GET / HTTP/1.1\r\nHost: a.example:http\r\n\r\n", 400),
        Case("Host with two ports", "GET / HTTP/1.1\r\nHost: a.example:80:81\r\n\r\n", 400),
        Case("Host with an unclosed IPv6 literal", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400),
        Case("absolute-form target with an empty host", "GET http:///admin HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("absolute-form target with a bad port", "GET http://a.example:8o/ HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("absolute-form target with a backslash", "GET http://evil.example\\@a.example/ HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        // A target in none of the four forms (RFC 9112 §3.2): 400, not a 404 from the router.
        Case("target that is not origin-form", "GET foo HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("asterisk-form target for GET", "GET * HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        // Limits (RFC 9112 §3, RFC 6585 §5), with max_header_size 1024.
        Case("request line longer than the limit", "GET /" + String(repeating: "a", count: 1100) + " HTTP/1.1\r\nHost: t\r\n\r\n", 414),
        Case("head larger than max_header_size", "GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + String(repeating: "b", count: 1100) + "\r\n\r\n", 431),
        Case("101 field lines", "GET / HTTP/1.1\r\nHost: t\r\n" + String(repeating: "a: b\r\n", count: 100) + "\r\n", 431),
        // Bytes outside ASCII (RFC 9112 §3.2, RFC 3986 §2; RFC 9110 §5.5).
        Case("non-ASCII UTF-8 in the target", "GET /caf\u{E9} HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        Case("invalid UTF-8 in the target", bytes: Array("GET /a".utf8) + [0xFF, 0xFE] + Array(" HTTP/1.1\r\nHost: t\r\n\r\n".utf8), 400),
        Case("invalid UTF-8 in a field value", bytes: Array("GET / HTTP/1.1\r\nHost: t\r\nX-A: a".utf8) + [0xC3, 0x28] + Array("\r\n\r\n".utf8), 400),
        Case("lone continuation byte in a field value", bytes: Array("GET / HTTP/1.1\r\nHost: t\r\nX-A: ".utf8) + [0x80] + Array("\r\n\r\n".utf8), 400),
        Case("non-ASCII in a field name", "GET / HTTP/1.1\r\nHost: t\r\nX-Caf\u{E9}: b\r\n\r\n", 400),
    ]

    static let cases = framingCases + chunkedBodyCases + syntaxCases

    @Test func theTableHasEnoughDistinctCases() {
        #expect(Self.cases.count >= 45)
        #expect(Set(Self.cases.map(\.name)).count == Self.cases.count, "case names are unique")
    }

    @Test(arguments: cases)
    func aMalformedRequest_getsItsStatusAsPlainText_thenTheConnectionCloses_andTheUpstreamReceivesNothing(_ testCase: Case) async throws {
        let upstream = try TestUpstream { connection, _, _ in
            // Never answers: whatever the client sees comes from the proxy.
            _ = try? connection.secondsUntilClosed()
        }
        var limits = Limits()
        limits.maxHeaderBytes = Self.maxHeaderBytes
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        let client = try proxy.client()
        try client.send(testCase.bytes)

        let (reply, ending) = Self.readUntilClosed(client)
        let shown = "\(testCase.name): got \(String(decoding: reply, as: UTF8.self).debugDescription), then \(ending)"
        #expect(ending == "EOF", "the proxy closes the connection after answering — \(shown)")
        guard let response = Self.parseResponse(reply) else {
            Issue.record("no complete response — \(shown)")
            return
        }
        #expect(response.status == testCase.status, "status — \(shown)")
        #expect(response.header("Connection") == "close", "Connection: close — \(shown)")
        #expect(response.header("Content-Type")?.hasPrefix("text/plain") == true, "text/plain — \(shown)")
        #expect(response.header("Content-Length") == String(response.body.count), "Content-Length matches the body — \(shown)")
        #expect(String(decoding: response.body, as: UTF8.self).hasPrefix("\(testCase.status) "), "the body names the status — \(shown)")

        // A connection the proxy started would be accepted by now (an async sleep, so the cases wait side by side).
        // Chunked bodies are checked before connecting upstream, so body errors count here too.
        try await Task.sleep(for: .milliseconds(150))
        let upstreamSaw = "\(testCase.name): upstream had \(upstream.connectionCount) connection(s), heads \(upstream.receivedRequests)"
        #expect(upstream.connectionCount == 0, "no upstream connection — \(upstreamSaw)")
        #expect(upstream.receivedRequests.isEmpty, "no upstream request — \(upstreamSaw)")
    }

    // MARK: Positive controls

    /// An odd but valid request, and what the upstream must (and must not) see of it.
    struct Accepted: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        /// Substrings of what the upstream received, head and body.
        var upstreamSees: [String]
        var upstreamDoesNotSee: [String] = []
        /// The value of the single Host line the upstream must get.
        var host: String
        var testDescription: String { name }

        init(_ name: String, _ text: String, host: String = "t", sees: [String], doesNotSee: [String] = []) {
            self.init(name, bytes: Array(text.utf8), host: host, sees: sees, doesNotSee: doesNotSee)
        }

        init(_ name: String, bytes: [UInt8], host: String = "t", sees: [String], doesNotSee: [String] = []) {
            self.name = name
            self.bytes = bytes
            self.upstreamSees = sees
            self.upstreamDoesNotSee = doesNotSee
            self.host = host
        }
    }

    static let acceptedCases: [Accepted] = [
        Accepted("Content-Length 5, 5 (identical values in one line)", post + "Content-Length: 5, 5\r\n\r\nhello",
                 sees: ["POST /upload HTTP/1.1\r\n", "\r\nContent-Length: 5\r\n", "\r\n\r\nhello"], doesNotSee: ["5, 5"]),
        Accepted("two identical Content-Length lines", post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
                 sees: ["\r\nContent-Length: 5\r\n", "\r\n\r\nhello"], doesNotSee: ["Content-Length: 5\r\nContent-Length"]),
        Accepted("Content-Length with leading zeros", post + "Content-Length: 005\r\n\r\nhello",
                 sees: ["\r\nContent-Length: 5\r\n", "\r\n\r\nhello"], doesNotSee: ["005"]),
        Accepted("absolute-form target whose host differs from Host",
                 "GET http://authority.example:8080/a?b=c HTTP/1.1\r\nHost: other.example\r\n\r\n",
                 host: "authority.example:8080",
                 sees: ["GET /a?b=c HTTP/1.1\r\n", "\r\nX-Forwarded-Host: authority.example:8080\r\n"], doesNotSee: ["other.example"]),
        Accepted("absolute-form target with userinfo", "GET http://user@authority.example/x HTTP/1.1\r\nHost: other.example\r\n\r\n",
                 host: "authority.example", sees: ["GET /x HTTP/1.1\r\n"], doesNotSee: ["user", "other.example"]),
        Accepted("absolute-form target without a path", "GET HTTP://authority.example?q HTTP/1.1\r\nHost: t\r\n\r\n",
                 host: "authority.example", sees: ["GET /?q HTTP/1.1\r\n"]),
        Accepted("HTTP/1.2 is treated as HTTP/1.1", "GET /v HTTP/1.2\r\nHost: t\r\n\r\n", sees: ["GET /v HTTP/1.1\r\n"]),
        Accepted("bare LF line ends", "GET /lf HTTP/1.1\nHost: t\nX-A: b\n\n", sees: ["GET /lf HTTP/1.1\r\n", "\r\nX-A: b\r\n"]),
        Accepted("one leading empty line", "\r\nGET /after-empty HTTP/1.1\r\nHost: t\r\n\r\n", sees: ["GET /after-empty HTTP/1.1\r\n"]),
        Accepted("IPv6 literal Host with port", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", host: "[::1]:8080", sees: []),
        Accepted("Host with an empty port", "GET / HTTP/1.1\r\nHost: a.example:\r\n\r\n", host: "a.example:", sees: []),
        Accepted("Host with sub-delims and percent-encoding", "GET / HTTP/1.1\r\nHost: a-b_c~d!$&'()*+,;=%41\r\n\r\n",
                 host: "a-b_c~d!$&'()*+,;=%41", sees: []),
        Accepted("empty Host in HTTP/1.1", "GET /no-host HTTP/1.1\r\nHost:\r\n\r\n", host: "", sees: [], doesNotSee: ["X-Forwarded-Host"]),
        Accepted("HTTP/1.0 without Host", "GET /old HTTP/1.0\r\n\r\n", host: "", sees: ["GET /old HTTP/1.1\r\n"]),
        Accepted("UTF-8 field value", "GET / HTTP/1.1\r\nHost: t\r\nX-Name: caf\u{E9} \u{2603}\r\n\r\n", sees: ["\r\nX-Name: caf\u{E9} \u{2603}\r\n"]),
        Accepted("valid chunked body", chunkedPost + "5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n",
                 sees: ["\r\nTransfer-Encoding: chunked\r\n", "\r\n\r\n5\r\nhello\r\n0\r\n\r\n"], doesNotSee: ["ext=1", "X-Trailer"]),
        Accepted("Transfer-Encoding in another case", post + "Transfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                 sees: ["\r\nTransfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"], doesNotSee: ["Chunked"]),
    ]

    @Test(arguments: acceptedCases)
    func anOddButValidRequest_reachesTheUpstream_normalised(_ testCase: Accepted) throws {
        let upstream = try TestUpstream { connection, head, _ in
            // Echoes everything it received, head and body, as the response body.
            var received = Array(head.utf8)
            let headEnd = received.firstRange(of: Array("\r\n\r\n".utf8))!.upperBound
            let lowered = String(decoding: received[..<headEnd], as: UTF8.self).lowercased()
            if let line = lowered.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
               let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
                while received.count < headEnd + length {
                    let some = try connection.receiveSome()
                    if some.isEmpty { break }
                    received += some
                }
            } else if lowered.contains("\r\ntransfer-encoding: chunked\r\n") {
                while !received.ends(with: Array("0\r\n\r\n".utf8)) {
                    let some = try connection.receiveSome()
                    if some.isEmpty { break }
                    received += some
                }
            }
            try connection.send("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: \(received.count)\r\n\r\n")
            try connection.send(received)
        }
        var limits = Limits()
        limits.maxHeaderBytes = Self.maxHeaderBytes
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        let client = try proxy.client()
        try client.send(testCase.bytes)

        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200, "\(testCase.name): \(head.statusLine) \(String(decoding: head.rest, as: UTF8.self).debugDescription)")
        guard head.status == 200, let length = head.header("Content-Length").flatMap({ Int($0) }) else { return }
        var body = head.rest
        while body.count < length {
            let some = try client.receiveSome()
            if some.isEmpty { break }
            body += some
        }
        let seen = String(decoding: body, as: UTF8.self)
        let shown = "\(testCase.name): upstream received \(seen.debugDescription)"
        for expected in testCase.upstreamSees {
            #expect(seen.contains(expected), "sees \(expected.debugDescription) — \(shown)")
        }
        for unexpected in testCase.upstreamDoesNotSee {
            #expect(!seen.contains(unexpected), "does not see \(unexpected.debugDescription) — \(shown)")
        }
        let headText = seen.components(separatedBy: "\r\n\r\n")[0]
        let hosts = headText.components(separatedBy: "\r\n").dropFirst().filter { $0.lowercased().hasPrefix("host:") }
        #expect(hosts == ["Host: \(testCase.host)"], "exactly one Host line, \(testCase.host.debugDescription) — \(shown)")
        #expect(upstream.connectionCount == 1, "\(testCase.name): one upstream connection")
    }

    // MARK: Helpers

    /// Everything the proxy sends until it closes, and how it ended: `EOF`, a reset, or a timeout.
    static func readUntilClosed(_ socket: TestSocket) -> ([UInt8], String) {
        var all: [UInt8] = []
        while true {
            do {
                let some = try socket.receiveSome()
                if some.isEmpty { return (all, "EOF") }
                all += some
            } catch {
                return (all, "\(error)")
            }
        }
    }

    /// A response parsed from the bytes of a whole connection: status, headers, body per Content-Length.
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    static func parseResponse(_ bytes: [UInt8]) -> Response? {
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let lines = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, statusParts[0] == "HTTP/1.1", let status = Int(statusParts[1]) else { return nil }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return Response(status: status, headers: headers, body: Array(bytes[end.upperBound...]))
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix)
    }
}

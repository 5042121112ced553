import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// Non-SSE traffic through a real ssekeeper: bodies pass byte for byte, framing is honoured, headers are rewritten
/// as a proxy must (hop-by-hop removed, X-Forwarded-* added).
struct PassThroughTests {
    /// 0…255 repeated: every byte value, so any alteration shows.
    static let binaryBody: [UInt8] = (0..<70_000).map { UInt8($0 % 256) }

    @Test func aContentLengthGET_passesThroughByteForByte() throws {
        let body = Self.binaryBody
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: \(body.count)\r\nX-Custom: kept\r\n\r\n")
            try connection.send(body)
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET /file HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "\(body.count)")
        #expect(head.header("X-Custom") == "kept")
        #expect(head.header("X-Accel-Buffering") == nil, "non-SSE responses are not altered")
        let received = head.rest + (try client.receiveAll())
        #expect(received == body)
    }

    @Test func aSlowReader_stillGetsAllOfALargeResponse_beforeTheConnectionCloses() throws {
        // Larger than the kernel's socket buffers, so bytes are still queued in the proxy when the upstream's
        // response ends and the proxy starts closing: they must all reach the client before the FIN.
        let body = (0..<(12 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 16) }
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\n\r\n")
            try connection.send(body)
        }
        var limits = Limits()
        limits.maxBufferedBytes = 64 * 1024
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        let client = try proxy.client()
        try client.send("GET /big HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        usleep(300_000)
        let head = try ReceivedHead.read(from: client)
        var received = head.rest
        received.reserveCapacity(body.count)
        while true {
            let some = try client.receiveSome(max: 65536)
            if some.isEmpty { break }
            received += some
            usleep(2_000)  // a steadily slow reader keeps the proxy's send buffer full to the end
        }
        #expect(received.count == body.count, "every byte before the close")
        let firstDifference = zip(received, body).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(firstDifference == nil, "bytes differ from offset \(firstDifference ?? 0)")
    }

    @Test func aChunkedResponse_passesThroughWithTheSameBody() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
            try connection.send("5\r\nhello\r\n")
            usleep(20_000)
            try connection.send("7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET /chunked HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.header("Transfer-Encoding") == "chunked")
        var reader = ChunkedReader(initial: head.rest)
        #expect(String(decoding: try reader.readToEnd(from: client), as: UTF8.self) == "hello, world")
    }

    @Test func aCloseDelimitedResponse_reachesAnHTTP11ClientChunked_andTheConnectionStaysUsable() throws {
        let upstream = try TestUpstream { connection, head, _ in
            if head.hasPrefix("GET /first") {
                try connection.send("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close")
            } else {
                try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond")
            }
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET /first HTTP/1.1\r\nHost: test\r\n\r\n")
        let first = try ReceivedHead.read(from: client)
        #expect(first.header("Transfer-Encoding") == "chunked")
        var reader = ChunkedReader(initial: first.rest)
        #expect(String(decoding: try reader.readToEnd(from: client), as: UTF8.self) == "until close")
        try client.send("GET /second HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        let second = try ReceivedHead.read(from: client)
        let body = second.rest + (try client.receiveAll())
        #expect(String(decoding: body, as: UTF8.self) == "second")
        #expect(upstream.connectionCount == 2)
    }

    @Test func aPOSTWithContentLength_andAChunkedPOST_reachTheUpstreamIntact() throws {
        let upstream = try TestUpstream { connection, head, _ in
            // `head` may already hold the first body bytes: the harness reads whatever arrived with the head.
            var received = Array(head.utf8)
            if head.contains("Content-Length: 11") {
                let headLength = head.utf8.count - head[head.range(of: "\r\n\r\n")!.upperBound...].utf8.count
                while received.count < headLength + 11 { received += try connection.receiveSome() }
            } else {
                try connection.receive(until: "0\r\n\r\n", into: &received)
            }
            let text = String(decoding: received, as: UTF8.self)
            let echo = String(text[text.range(of: "\r\n\r\n")!.upperBound...])
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: \(echo.utf8.count)\r\n\r\n\(echo)")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("POST /submit HTTP/1.1\r\nHost: test\r\nContent-Length: 11\r\n\r\nhello world")
        let first = try ReceivedHead.read(from: client)
        var body = first.rest
        while body.count < 11 { body += try client.receiveSome() }
        #expect(String(decoding: body, as: UTF8.self) == "hello world")

        try client.send("POST /submit HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n")
        usleep(20_000)
        try client.send("6\r\n world\r\n0\r\n\r\n")
        let second = try ReceivedHead.read(from: client)
        let echoed = String(decoding: second.rest + (try client.receiveAll()), as: UTF8.self)
        #expect(echoed == "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "the proxy re-encodes a chunked body chunk by chunk")
    }

    @Test(arguments: [204, 304])
    func bodylessStatuses_passThrough_andKeepTheConnection(status: Int) throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 \(status) Whatever\r\nETag: \"abc\"\r\n\r\n")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET /x HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == status)
        #expect(head.header("ETag") == "\"abc\"")
        #expect(head.rest.isEmpty)
        try client.send("GET /again HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(try ReceivedHead.read(from: client).status == status, "the connection is reused after a bodyless response")
    }

    @Test func aHEADRequest_getsTheHeadersWithoutABody() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1234\r\n\r\n")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("HEAD /x HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "1234")
        try client.send("GET /y HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        let next = try ReceivedHead.read(from: client)
        #expect(next.status == 200, "no phantom body was expected after HEAD")
    }

    @Test func hopByHopHeaders_areRemoved_andForwardingHeadersAdded() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close, X-Hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\n\r\nok")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET /h?q=1 HTTP/1.1\r\nHost: example.test\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: 300\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\nLast-Event-ID: 42\r\nX-Forwarded-For: 10.0.0.1\r\nAccept: text/event-stream\r\nAccept-Encoding: gzip\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.header("X-Hop") == nil)
        #expect(head.header("Keep-Alive") == nil)
        let request = try #require(upstream.receivedRequests.first)
        #expect(request.hasPrefix("GET /h?q=1 HTTP/1.1\r\n"))
        for removed in ["X-Secret", "Keep-Alive", "TE:", "Proxy-Connection", "Upgrade", "Accept-Encoding"] {
            #expect(!request.contains(removed), "\(removed) reached the upstream: \(request)")
        }
        #expect(request.contains("Last-Event-ID: 42\r\n"))
        #expect(request.contains("X-Forwarded-For: 10.0.0.1, 127.0.0.1\r\n"))
        #expect(request.contains("X-Forwarded-Proto: http\r\n"))
        #expect(request.contains("X-Forwarded-Host: example.test\r\n"))
    }
}

import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// A broken or hostile upstream: the client gets a 502 when no head was sent yet, a broken connection when one
/// was, the log says why, and the proxy keeps serving.
struct BrokenUpstreamTests {
    /// (name, what the upstream sends, expected status when no head reached the client).
    static let beforeHead: [(String, String, Int)] = [
        ("garbage instead of a status line", "SSH-2.0-OpenSSH_9.2\r\n\r\n", 502),
        ("a status line without a version", "200 OK\r\n\r\n", 502),
        ("a two-digit status", "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n", 502),
        ("Content-Length with Transfer-Encoding", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 502),
        ("two different Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 502),
        ("an oversized head", "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Filler: \(String(repeating: "a", count: 100))\r\n", count: 400) + "\r\n", 502),
        ("a header with a NUL", "HTTP/1.1 200 OK\r\nX-Bad: a\u{0}b\r\nContent-Length: 0\r\n\r\n", 502),
        ("a close before any byte", "", 502),
        ("half a head, then a close", "HTTP/1.1 200 OK\r\nContent-Ty", 502),
        ("a 101 the proxy did not ask for", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 502),
    ]

    @Test(arguments: beforeHead)
    func aBrokenResponseHead_gives502_andTheProxyKeepsServing(name: String, response: String, status: Int) throws {
        let upstream = try TestUpstream { connection, head, _ in
            if head.contains("GET /healthy") {
                try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            } else if !response.isEmpty {
                try connection.send(response)
            }
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET /broken HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == status, "\(name): got \(head.statusLine)")
        #expect(head.header("Connection") == "close")
        #expect(proxy.waitForLogLine(containing: ["path=/broken", "status=502"]) != nil, "\(name): no log line")

        let next = try proxy.client()
        try next.send("GET /healthy HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(try ReceivedHead.read(from: next).status == 200, "\(name): the proxy stopped serving")
    }

    @Test(arguments: [
        ("a chunked body that breaks mid-way", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n"),
        ("a chunked body cut by a close", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"),
        ("a Content-Length body that ends early", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello"),
    ])
    func aBodyThatBreaksAfterTheHead_breaksTheClientConnection(name: String, response: String) throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(response)
            usleep(50_000)
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET /body HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200, "\(name)")
        var received = head.rest
        while true {
            guard let some = try? client.receiveSome(), !some.isEmpty else { break }
            received += some
        }
        let text = String(decoding: received, as: UTF8.self)
        #expect(text.contains("hello"), "\(name): the bytes before the break still arrive")
        #expect(!text.hasSuffix("0\r\n\r\n"), "\(name): no final chunk, so the client knows the body is incomplete")
        #expect(proxy.waitForLogLine(containing: ["path=/body", "end=upstream_"]) != nil, "\(name): no log line")
    }

    @Test func anSSELineOfManyMegabytesWithoutANewline_passesThrough_withBoundedBuffering() throws {
        let lineBytes = 16 * 1024 * 1024
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead(chunked: false))
            try connection.send("data: ")
            let block = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
            for _ in 0..<(lineBytes / block.count) { try connection.send(block) }
            try connection.send("\n\n")
        }
        var limits = Limits()
        limits.maxBufferedBytes = 64 * 1024
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try ReceivedHead.read(from: client)
        var reader = ChunkedReader(initial: head.rest)
        var total = 0
        var largestChunk = 0
        while !reader.finished {
            let data = try reader.nextChunk(from: client)
            total += data.count
            largestChunk = max(largestChunk, data.count)
        }
        #expect(total == "data: ".utf8.count + lineBytes + 2, "every byte of the long line arrives")
        #expect(largestChunk <= EventLoop.readBufferBytes, "bytes are forwarded as they are read, never collected into a line")
    }
}

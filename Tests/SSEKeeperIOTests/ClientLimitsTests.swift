import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// Limits on what clients may send, and clients that try to exhaust the proxy.
@Suite(.serialized)
struct ClientLimitsTests {
    @Test func aContentLengthAboveMaxBodySize_gets413_andNothingIsForwarded() throws {
        let upstream = try TestUpstream { connection, _, _ in try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") }
        var limits = Limits()
        limits.maxBodyBytes = 10
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        let client = try proxy.client()
        try client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world")
        #expect(try ReceivedHead.read(from: client).status == 413)
        usleep(50_000)
        #expect(upstream.connectionCount == 0)

        let small = try proxy.client()
        try small.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhelloworld")
        #expect(try ReceivedHead.read(from: small).status == 200, "a body at the limit passes")
    }

    @Test func aChunkedBodyGrowingAboveMaxBodySize_gets413_andNothingIsForwarded() throws {
        let upstream = try TestUpstream { connection, _, _ in try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") }
        var limits = Limits()
        limits.maxBodyBytes = 8
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        let client = try proxy.client()
        try client.send("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        usleep(100_000)
        try client.send("5\r\nworld\r\n0\r\n\r\n")
        #expect(try ReceivedHead.read(from: client).status == 413)
        usleep(100_000)
        #expect(upstream.connectionCount == 0, "a chunked body is checked before the upstream sees anything")
    }

    @Test func aChunkedBodyLargerThanMaxBufferSize_streamsUpstream_beforeItEnds() throws {
        let received = CounterBox()
        let upstream = try TestUpstream { connection, head, _ in
            var all = Array(head.utf8)
            while !all.suffix(5).elementsEqual(Array("0\r\n\r\n".utf8)) {
                let some = try connection.receiveSome()
                if some.isEmpty { break }
                all += some
                received.add(some.count)
            }
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        }
        var limits = Limits()
        limits.maxBufferedBytes = 16 * 1024
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        let client = try proxy.client()
        try client.send("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        let piece = "4000\r\n" + String(repeating: "u", count: 0x4000) + "\r\n"
        for _ in 0..<4 { try client.send(piece) }
        usleep(300_000)
        #expect(received.value > 0, "past max_buffer_size the body streams: the upload is not held whole")
        try client.send("0\r\n\r\n")
        #expect(try ReceivedHead.read(from: client).status == 200)
    }

    @Test func hundredsOfSlowlorisClients_doNotSlowDownANormalClient() throws {
        let upstream = try TestUpstream { connection, _, _ in try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") }
        var limits = Limits()
        limits.clientHeaderTimeout = .seconds(2)
        let proxy = try ProxyHarness(upstreamPort: upstream.port, limits: limits)
        var slow: [TestSocket] = []
        for _ in 0..<300 {
            let socket = try proxy.client()
            try socket.send("GET / HTTP/1.1\r\n")
            slow.append(socket)
        }
        // Trickle one byte per slow client, then time normal requests in between.
        var worst = 0.0
        for round in 0..<5 {
            for socket in slow { try? socket.send("X") }
            let start = Date()
            let client = try proxy.client()
            try client.send("GET /normal\(round) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            #expect(try ReceivedHead.read(from: client).status == 200)
            worst = max(worst, Date().timeIntervalSince(start))
            usleep(100_000)
        }
        #expect(worst < 0.5, "a normal request took \(worst) s next to 300 slowloris clients")
        // The slow ones are cut when client_header_timeout expires (they get a 408 and a close).
        for socket in slow { socket.setReceiveTimeout(seconds: 5) }
        var closed = 0
        for socket in slow where (try? socket.receiveAll()) != nil { closed += 1 }
        #expect(closed == slow.count, "\(slow.count - closed) slowloris connections were still open after the timeout")
    }
}


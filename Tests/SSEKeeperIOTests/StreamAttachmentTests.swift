import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// A stream apart from its client connection: detached from one client connection and attached to another, it goes
/// on where it stood, on the same upstream connection, and loses nothing. (Client ride-through decides *when* to do
/// this; here the test does it by hand, on the loop, over real sockets.)
@Suite(.serialized)
struct StreamAttachmentTests {
    /// The local port of a test client, which is the port in its connection's `clientAddress`.
    static func localPort(_ socket: TestSocket) -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(socket.fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    /// The connection serving `socket`, found on the proxy's loop (call on the loop's queue).
    static func connection(of socket: TestSocket, on loop: EventLoop) -> HTTP1Connection? {
        let suffix = ":\(localPort(socket))"
        return loop.sessions.values.compactMap { $0 as? HTTP1Connection }.first { $0.clientAddress.hasSuffix(suffix) }
    }

    /// A proxy in front of `upstream`, and a first client whose stream has delivered `data: one`.
    static func firstStream(through upstream: TestUpstream) throws -> (ProxyHarness, EventLoop, TestSocket) {
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: StreamSettings(idleTimeout: .seconds(30)))
        let first = try proxy.client()
        first.setReceiveTimeout(seconds: 5)
        try first.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        var seen: [UInt8] = []
        try first.receive(until: "data: one\n\n", into: &seen)
        return (proxy, proxy.server.group.loops[0], first)
    }

    @Test func aDetachedStream_attachedToAnotherConnection_goesOnWhereItStood_onTheSameUpstreamConnection() throws {
        let release = DispatchSemaphore(value: 0)
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead(chunked: false))
            try connection.send("id: 1\ndata: one\n\n")
            release.wait()
            try connection.send("id: 2\ndata: two\n\nid: 3\ndata: three\n\n")
            _ = try? connection.secondsUntilClosed()
        }
        let (proxy, loop, first) = try Self.firstStream(through: upstream)

        // Detach: the first connection closes, the stream and its upstream connection stay.
        let stream: ProxyStream? = loop.queue.sync { Self.connection(of: first, on: loop)?.releaseStream() }
        #expect(stream != nil)
        #expect(loop.queue.sync { stream?.isDetached } == true)
        #expect(try first.secondsUntilClosed() < 2, "the first connection is closed")
        // The upstream writes while nobody is attached: its bytes wait in its socket.
        release.signal()
        usleep(200_000)

        let second = try proxy.client()
        second.setReceiveTimeout(seconds: 5)
        usleep(100_000)  // accepted and registered on the loop
        let head = Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        let attached: Bool = loop.queue.sync {
            guard let stream, let connection = Self.connection(of: second, on: loop) else { return false }
            return connection.adopt(stream, preamble: head)
        }
        #expect(attached)
        var received: [UInt8] = []
        try second.receive(until: "data: three\n\n", into: &received)
        let text = String(decoding: received, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.contains("id: 2\ndata: two\n\n"))
        #expect(!text.contains("data: one"), "nothing the first client had is sent again")
        #expect(upstream.connectionCount == 1, "the backend saw one request")
        #expect(loop.queue.sync { stream?.isDetached } == false)
    }

    @Test func aStream_isAttachedOnlyWhileDetached() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead(chunked: false))
            try connection.send("data: one\n\n")
            _ = try? connection.secondsUntilClosed()
        }
        let (proxy, loop, first) = try Self.firstStream(through: upstream)
        let second = try proxy.client()
        usleep(100_000)
        // The stream still has its first client: a second connection cannot take it.
        let taken: Bool = loop.queue.sync {
            guard let owner = Self.connection(of: first, on: loop), let stream = owner.stream,
                  let other = Self.connection(of: second, on: loop) else { return true }
            return other.adopt(stream, preamble: [])
        }
        #expect(!taken)
        // And the first client still gets its stream.
        #expect(loop.queue.sync { Self.connection(of: first, on: loop)?.stream?.isDetached } == false)
    }
}

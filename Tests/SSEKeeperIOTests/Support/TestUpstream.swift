import Foundation
import Glibc

/// A real upstream server on 127.0.0.1 for tests: each accepted connection runs `handler` on its own thread with
/// a blocking socket. Records what it received so tests can assert on it.
final class TestUpstream: @unchecked Sendable {
    let port: UInt16
    private let listenFD: Int32
    private let lock = NSLock()
    private var requests: [String] = []
    private var connections = 0
    private var closedAt: [Date] = []
    private let handler: @Sendable (TestSocket, String, TestUpstream) throws -> Void

    private let keepAlive: Bool

    /// Starts listening; `handler` gets the connection, the request head it read (up to the blank line), and self.
    /// With `keepAlive`, a connection serves request after request (the handler must consume any body and answer
    /// with a framed response) until the proxy closes it or the handler throws; `connection.requestsServed`
    /// tells the handler how many requests came before on that connection.
    init(keepAlive: Bool = false, handler: @escaping @Sendable (TestSocket, String, TestUpstream) throws -> Void) throws {
        self.handler = handler
        self.keepAlive = keepAlive
        (listenFD, port) = Self.listenOnLoopback()
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// A listening socket on 127.0.0.1 with an ephemeral port.
    static func listenOnLoopback() -> (fd: Int32, port: UInt16) {
        let listenFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listenFD, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(listenFD, 128)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listenFD, $0, &length) }
        }
        return (listenFD, UInt16(bigEndian: bound.sin_port))
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 { return }
            let connection = TestSocket(fd: fd)
            lock.withLock { connections += 1 }
            let thread = Thread { [self] in
                repeat {
                    var head: [UInt8] = []
                    do {
                        try connection.receive(until: "\r\n\r\n", into: &head)
                    } catch {
                        if keepAlive { noteClosed() }
                        connection.close()
                        return
                    }
                    let text = String(decoding: head, as: UTF8.self)
                    lock.withLock { requests.append(text) }
                    do {
                        try handler(connection, text, self)
                    } catch {
                        break
                    }
                    connection.requestsServed += 1
                } while keepAlive && !connection.isClosed
                connection.close()
            }
            thread.start()
        }
    }

    /// Request heads (and any body bytes that came with them) received so far.
    var receivedRequests: [String] { lock.withLock { requests } }
    var connectionCount: Int { lock.withLock { connections } }

    /// Records that a handler saw its client go away (used by teardown tests).
    func noteClosed() { lock.withLock { closedAt.append(Date()) } }
    var closeTimes: [Date] { lock.withLock { closedAt } }

    private var stopped = false

    /// Stops listening: new connects are refused. Idempotent, so `deinit` after an explicit `stop()` does not
    /// close a descriptor number another test may have been given meanwhile.
    func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
    }

    deinit { stop() }
}

/// A port on 127.0.0.1 with nothing listening (bound, then closed).
func closedPort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var bound = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &bound) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    close(fd)
    return UInt16(bigEndian: bound.sin_port)
}

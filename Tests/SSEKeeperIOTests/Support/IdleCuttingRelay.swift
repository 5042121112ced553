import Foundation
import Glibc

/// A test intermediary on 127.0.0.1 that relays TCP connections to a target port and, like a load balancer,
/// NAT or proxy, does something to a connection once it has been idle (no byte either way) for `idleTimeout` —
/// or, in `.finAtAge`, once it is that old whatever the traffic.
/// One thread per connection, `poll` with a short timeout so `stop()` ends every thread promptly.
final class IdleCuttingRelay: @unchecked Sendable {
    enum Mode: Sendable {
        /// Close both sides: the client sees a FIN.
        case fin
        /// Reset the client side (SO_LINGER 0): the client sees ECONNRESET.
        case rst
        /// Stop forwarding both ways and keep the sockets open: nothing arrives any more, nothing says so.
        case silentDrop
        /// Buffer the whole response; when it ends, send it. When the connection goes idle first, answer
        /// this status instead and close (a buffering proxy's gateway timeout).
        case bufferedError(status: Int)
        /// Close both sides once the connection is `idleTimeout` old, busy or not: a limit on a request's total
        /// time (Envoy's route timeout), which no heartbeat defeats.
        case finAtAge
    }

    let port: UInt16
    let idleTimeout: Double
    let mode: Mode
    private let targetPort: UInt16
    private let listenFD: Int32
    private let lock = NSLock()
    private var stopped = false

    init(targetPort: UInt16, idleTimeout: Double, mode: Mode) throws {
        self.targetPort = targetPort
        self.idleTimeout = idleTimeout
        self.mode = mode
        let listener = TestUpstream.listenOnLoopback()
        listenFD = listener.fd
        port = listener.port
        Thread { [self] in acceptLoop() }.start()
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    func stop() {
        lock.withLock { stopped = true }
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
    }

    deinit { stop() }

    private func acceptLoop() {
        while !isStopped {
            let client = accept(listenFD, nil, nil)
            if client < 0 { return }
            // Without TCP_NODELAY a small write after another waits for a delayed ACK (40 ms on loopback).
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            Thread { [self] in relay(client: client) }.start()
        }
    }

    private func relay(client: Int32) {
        guard let upstream = try? TestSocket.connect(port: targetPort) else {
            close(client)
            return
        }
        let upstreamFD = upstream.fd
        let openedAt = Date()
        var lastActivity = Date()
        var buffered: [UInt8] = []
        var dropped = false
        defer {
            close(client)
            upstream.close()
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !isStopped {
            if dropped {
                usleep(50_000)
                continue
            }
            if case .finAtAge = mode {
                // Only the age counts: the wait below and the cut use it in place of the idle time.
                lastActivity = openedAt
            }
            let idle = Date().timeIntervalSince(lastActivity)
            if idle >= idleTimeout {
                switch mode {
                case .finAtAge:
                    shutdown(client, Int32(SHUT_RDWR))
                case .fin:
                    shutdown(client, Int32(SHUT_RDWR))
                case .rst:
                    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                    setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                case .silentDrop:
                    // Sockets stay open until stop(): the client never hears of the drop.
                    dropped = true
                    continue
                case .bufferedError(let status):
                    let body = "<html><body>\(status) Gateway Time-out</body></html>"
                    sendAll(client, Array(("HTTP/1.1 \(status) Gateway Time-out\r\nContent-Type: text/html\r\n"
                        + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body).utf8))
                }
                return
            }
            var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: upstreamFD, events: Int16(POLLIN), revents: 0)]
            let wait = Int32(max(1, min(100, (idleTimeout - idle) * 1000)))
            guard poll(&fds, 2, wait) >= 0 else { return }
            if fds[0].revents != 0 {
                let count = recv(client, &buffer, buffer.count, 0)
                if count <= 0 { return }
                sendAll(upstreamFD, Array(buffer[..<count]))
                lastActivity = Date()
            }
            if fds[1].revents != 0 {
                let count = recv(upstreamFD, &buffer, buffer.count, 0)
                if count <= 0 {
                    if case .bufferedError = mode { sendAll(client, buffered) }
                    return
                }
                if case .bufferedError = mode {
                    buffered += buffer[..<count]
                } else {
                    sendAll(client, Array(buffer[..<count]))
                }
                lastActivity = Date()
            }
        }
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }
}

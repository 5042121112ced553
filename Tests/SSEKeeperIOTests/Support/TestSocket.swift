import Foundation
import Glibc
@testable import SSEKeeperIO

/// A blocking TCP socket for tests, with a receive timeout so a test can never hang forever.
final class TestSocket: @unchecked Sendable {
    let fd: Int32
    private(set) var isClosed = false
    /// Requests a keep-alive `TestUpstream` answered on this connection before the current one.
    var requestsServed = 0

    init(fd: Int32) {
        self.fd = fd
        setReceiveTimeout(seconds: 10)
    }

    /// Connects to 127.0.0.1:`port`.
    static func connect(port: UInt16) throws -> TestSocket {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TestError("connect to \(port): \(SocketError.message(errno: code))")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return TestSocket(fd: fd)
    }

    func setReceiveTimeout(seconds: Double) {
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw TestError("send: \(SocketError.message(errno: errno))") }
            offset += sent
        }
    }

    /// One `recv`: bytes, or empty at EOF; throws on timeout or error.
    func receiveSome(max: Int = 65536) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 {
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK { throw TestError("receive timed out") }
            throw TestError("recv: \(SocketError.message(errno: code))")
        }
        return Array(buffer[..<count])
    }

    /// Everything until EOF (or throws on timeout).
    func receiveAll() throws -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let some = try receiveSome()
            if some.isEmpty { return all }
            all += some
        }
    }

    /// Reads until `buffer` contains `marker`; returns everything read so far.
    func receive(until marker: String, into buffer: inout [UInt8]) throws {
        let needle = Array(marker.utf8)
        while buffer.firstRange(of: needle) == nil {
            let some = try receiveSome()
            if some.isEmpty { throw TestError("EOF before \(marker.debugDescription); got \(String(decoding: buffer, as: UTF8.self).debugDescription)") }
            buffer += some
        }
    }

    /// Waits for EOF or reset; returns the seconds it took, or throws on timeout.
    func secondsUntilClosed() throws -> Double {
        let start = Date()
        while true {
            var byte: UInt8 = 0
            let count = recv(fd, &byte, 1, 0)
            if count == 0 { return Date().timeIntervalSince(start) }
            if count < 0 {
                let code = errno
                if code == EAGAIN || code == EWOULDBLOCK { throw TestError("peer did not close in time") }
                return Date().timeIntervalSince(start)
            }
        }
    }

    /// Closes with a RST instead of a FIN (SO_LINGER 0).
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close()
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    deinit { close() }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

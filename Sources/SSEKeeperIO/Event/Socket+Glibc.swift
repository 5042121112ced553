import CEpoll
import Glibc
import SSEKeeperCore

/// Thin wrappers over the socket system calls the shell needs. Every descriptor they return is
/// non-blocking and close-on-exec; TCP sockets get `TCP_NODELAY` so small SSE events leave at once (an accepted
/// socket inherits it from its listening socket, as it inherits `TCP_USER_TIMEOUT`: no system call per accept).
enum Socket {
    /// Opens a listening socket with `SO_REUSEADDR` and `SO_REUSEPORT` (several instances, or an old and a new
    /// process during a restart, may share the port; the kernel spreads connections between them).
    static func listen(on address: SocketAddress, backlog: Int32 = 1024) throws(SocketError) -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(operation: "socket for \(address)", errno: errno) }
        setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1)
        setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)  // inherited by every accepted socket (Linux copies it)
        if address.family == AF_INET6 { setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
        let bound = address.withSockAddr { bind(fd, $0, $1) }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw SocketError(operation: "bind \(address)", errno: code)
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let code = errno
            close(fd)
            throw SocketError(operation: "listen \(address)", errno: code)
        }
        return fd
    }

    /// The outcome of one `accept`.
    enum AcceptResult {
        /// The new descriptor, and the peer's address when the kernel gave one.
        case accepted(Int32, SocketAddress?)
        case wouldBlock
        case failed(Int32)
    }

    /// Accepts one connection, non-blocking and close-on-exec (`accept4`, through the CEpoll shim: Glibc's Swift
    /// overlay does not export it), with `TCP_NODELAY` from the listening socket (`listen`).
    static func accept(from listener: Int32) -> AcceptResult {
        var peer = SocketAddress()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = ssk_accept(listener, &peer.storage, &length)
        if fd < 0 {
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            return .failed(code)
        }
        return .accepted(fd, length > 0 && length <= socklen_t(MemoryLayout<sockaddr_storage>.size) ? peer : nil)
    }

    /// Starts a non-blocking connect. Returns the descriptor; the connect completes when it turns writable
    /// (then read `pendingError`). Throws when the connect fails at once (e.g. `ECONNREFUSED` on loopback).
    ///
    /// `noDelay` sets `TCP_NODELAY`, which matters only where one small write may follow another before the first
    /// is acknowledged (a request head, then its body). A connection that only ever carries one write per
    /// exchange (a request without a body, then the response) is never held by Nagle's algorithm and is spared the
    /// system call.
    static func startConnect(to address: SocketAddress, noDelay: Bool = true) throws(SocketError) -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(operation: "socket for \(address)", errno: errno) }
        if noDelay { setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1) }
        let status = address.withSockAddr { connect(fd, $0, $1) }
        if status != 0 && errno != EINPROGRESS {
            let code = errno
            close(fd)
            throw SocketError(operation: "connect \(address)", errno: code)
        }
        return fd
    }

    /// Whether a socket whose non-blocking connect is under way is connected already: `getpeername` answers
    /// `ENOTCONN` while the handshake is in flight (`SYN_SENT`) and after a refusal (the error then waits for
    /// `pendingError`). On loopback the handshake is usually over by the time `connect` returns.
    static func isConnected(_ fd: Int32) -> Bool {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) == 0 }
        }
    }

    /// `SO_ERROR` of a socket: 0 once a non-blocking connect succeeded, the errno when it failed.
    static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { return errno }
        return value
    }

    /// `TCP_USER_TIMEOUT`: the longest time sent data may stay unacknowledged (and, with keepalive, the longest a
    /// peer may leave probes unanswered) before the kernel drops the connection with `ETIMEDOUT`. Zero turns it off
    /// (the kernel's own retransmission limit then applies, about 15 minutes).
    static func setUserTimeout(_ fd: Int32, _ timeout: TimeAmount) {
        setOption(fd, Int32(IPPROTO_TCP), 18 /* TCP_USER_TIMEOUT */, Int32(clamping: timeout.milliseconds))
    }

    /// TCP keepalive probes: the first after `idle` without traffic, then every `interval`, `count` in all (nil: the
    /// system's `tcp_keepalive_probes`).
    static func setKeepalive(_ fd: Int32, idle: TimeAmount, interval: TimeAmount, count: Int32?) {
        setOption(fd, SOL_SOCKET, SO_KEEPALIVE, 1)
        setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, Int32(clamping: max(1, idle.seconds)))
        setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, Int32(clamping: max(1, interval.seconds)))
        if let count { setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, count) }
    }

    /// The system's default keepalive probe count (`/proc/sys/net/ipv4/tcp_keepalive_probes`, read once), or 0
    /// when it cannot be read (callers then set their own).
    static let systemKeepaliveProbes: Int = {
        let fd = open("/proc/sys/net/ipv4/tcp_keepalive_probes", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 16)
        let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return 0 }
        return Int(String(decoding: bytes[..<count].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") },
                          as: UTF8.self)) ?? 0
    }()

    /// How far the peer has read what was sent (see `ssk_tcp_send_progress`); nil when the kernel cannot tell.
    /// With nothing outstanding the acknowledged total is not read (one system call, not two) and `knownAcked` is
    /// returned as it.
    static func sendProgress(_ fd: Int32, knownAcked: UInt64) -> SendProgress? {
        var acked: UInt64 = knownAcked
        var outstanding: Int32 = 0
        var window: Int64 = -1
        guard ssk_tcp_send_progress(fd, &acked, &outstanding, &window) == 0 else { return nil }
        return SendProgress(ackedBytes: acked, outstandingBytes: Int(outstanding),
                            peerWindowClosed: window < 0 ? nil : window == 0)
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var value = value
        _ = setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }
}

/// How far a TCP peer has read what was sent to it.
struct SendProgress {
    /// The running total of bytes the peer acknowledged.
    var ackedBytes: UInt64
    /// Bytes not acknowledged yet (the kernel's send queue, plus ssekeeper's own queue where the caller adds it).
    var outstandingBytes: Int
    /// Whether the peer's last advertised receive window is zero (it is alive but not reading); nil when unknown.
    var peerWindowClosed: Bool?
}

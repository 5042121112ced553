import Glibc
import SSEKeeperCore

/// A resolved socket address (IPv4 or IPv6), stored by value.
struct SocketAddress: @unchecked Sendable, CustomStringConvertible {
    var storage = sockaddr_storage()
    var length: socklen_t = 0

    /// The address family (`AF_INET` or `AF_INET6`).
    var family: Int32 { Int32(storage.ss_family) }

    /// Resolves `host:port` (numeric literals or names, via getaddrinfo) into every address it names.
    /// Blocking: call at start-up or config load, never on an event loop.
    static func resolve(host: String?, port: UInt16, passive: Bool = false) throws(SocketError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = passive ? AI_PASSIVE : 0
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw SocketError(operation: "resolve \(host ?? "*"):\(port)", message: SocketError.message(resolverStatus: status))
        }
        defer { freeaddrinfo(first) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            var address = SocketAddress()
            withUnsafeMutableBytes(of: &address.storage) { raw in
                raw.copyMemory(from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen)))
            }
            address.length = info.pointee.ai_addrlen
            addresses.append(address)
            cursor = info.pointee.ai_next
        }
        return addresses
    }

    /// The address of a listen directive: `nil` host means every IPv4 interface.
    static func forListen(_ listen: ListenAddress) throws(SocketError) -> SocketAddress {
        let addresses = try resolve(host: listen.host ?? "0.0.0.0", port: listen.port, passive: true)
        guard let first = addresses.first else {
            throw SocketError(operation: "resolve \(listen)", message: "no address")
        }
        return first
    }

    /// Reads the peer address of a connected socket.
    static func peer(of fd: Int32) -> SocketAddress? { read(fd, getpeername) }

    /// Reads the local address of a bound socket (used to learn an ephemeral port).
    static func local(of fd: Int32) -> SocketAddress? { read(fd, getsockname) }

    private static func read(
        _ fd: Int32, _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) -> SocketAddress? {
        var address = SocketAddress()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &address.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &length) }
        }
        address.length = length
        return status == 0 ? address : nil
    }

    /// The IPv4 address in host byte order, or nil for another family.
    var ipv4: UInt32? {
        guard family == AF_INET else { return nil }
        return UInt32(bigEndian: withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self).sin_addr.s_addr })
    }

    /// The numeric host without brackets (`127.0.0.1`, `::1`).
    ///
    /// IPv4 is formatted here, digit by digit into one small string (it is read for every accepted connection:
    /// `inet_ntop` formats through `sprintf`, and that showed in the profile of new streams); IPv6 goes through
    /// `inet_ntop`.
    var host: String {
        switch family {
        case AF_INET:
            let address = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self).sin_addr.s_addr }
            return Self.dottedQuad(UInt32(bigEndian: address))
        case AF_INET6:
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            var copy = storage
            let written: Bool = withUnsafeMutableBytes(of: &copy) { raw in
                let sin6 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                return inet_ntop(AF_INET6, &sin6.pointee.sin6_addr, &buffer, socklen_t(buffer.count)) != nil
            }
            guard written, let end = buffer.firstIndex(of: 0) else { return "?" }
            return String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        default:
            return "?"
        }
    }

    /// `address` (host byte order) as `a.b.c.d`, as `inet_ntop` writes it.
    static func dottedQuad(_ address: UInt32) -> String {
        String(unsafeUninitializedCapacity: 15) { (buffer: UnsafeMutableBufferPointer<UInt8>) -> Int in
            var count = 0
            for shift in stride(from: 24, through: 0, by: -8) {
                let octet = Int((address >> UInt32(shift)) & 0xff)
                if shift != 24 { buffer[count] = UInt8(ascii: "."); count += 1 }
                if octet >= 100 { buffer[count] = UInt8(48 + octet / 100); count += 1 }
                if octet >= 10 { buffer[count] = UInt8(48 + octet / 10 % 10); count += 1 }
                buffer[count] = UInt8(48 + octet % 10); count += 1
            }
            return count
        }
    }

    /// `host:port` (`[host]:port` for IPv6) with `host` already formatted (see `host`): what `description` gives,
    /// without formatting the host a second time. For a client, `ClientAddress` defers this until a log needs it.
    func description(host: String) -> String {
        Self.text(host: host, port: port, isIPv6: family == AF_INET6)
    }

    /// `host:port`, or `[host]:port` for IPv6: the one place an address is written for logs.
    static func text(host: String, port: UInt16, isIPv6: Bool) -> String {
        isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The port in host byte order.
    var port: UInt16 {
        withUnsafeBytes(of: storage) { raw in
            switch family {
            case AF_INET: return UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
            case AF_INET6: return UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
            default: return 0
            }
        }
    }

    /// `127.0.0.1:8080` or `[::1]:8080`.
    var description: String { description(host: host) }

    /// Calls `body` with the address as a `sockaddr` pointer and its length.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var copy = storage
        return withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}

/// A client's address as logs show it (`host:port`, `[host]:port` for IPv6, `unknown`), kept as its parts and
/// formatted only when a log line, an access record or a `/streams` row asks: formatting the port for every new
/// connection cost about 720 instructions (callgrind), and with the access log off nothing reads it.
struct ClientAddress: Sendable, CustomStringConvertible {
    /// The host as admitted (`SocketAddress.host`), also the `X-Forwarded-For` entry.
    let host: String
    let port: UInt16
    let isIPv6: Bool
    let isKnown: Bool

    /// `peer`'s address, its host already formatted as `host`; `unknown` without a peer.
    init(peer: SocketAddress?, host: String) {
        self.host = host
        if let peer {
            port = peer.port
            isIPv6 = peer.family == AF_INET6
            isKnown = true
        } else {
            port = 0
            isIPv6 = false
            isKnown = false
        }
    }

    var description: String {
        isKnown ? SocketAddress.text(host: host, port: port, isIPv6: isIPv6) : "unknown"
    }
}

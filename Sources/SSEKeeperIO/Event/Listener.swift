import Glibc
import SSEKeeperCore

/// One `listen` address of the proxy (or the admin endpoint): its listening sockets and how connections reach the
/// event loops.
///
/// - `.acceptor` (the default): one socket, accepted on the first loop, each connection handed to the next loop of
///   the group, round-robin (`EventLoopGroup.nextLoop`): the loops' connection counts stay even.
/// - `.socketPerLoop`: one `SO_REUSEPORT` socket per loop, each accepted and served on its own loop, so no
///   connection crosses a queue; the kernel spreads connections over the sockets by a hash of their addresses.
///
/// Which is better was measured (docs/BENCHMARKS.md, "Several event loops"); `SSEKEEPER_ACCEPT=per-loop` selects
/// the other for comparison. With one loop both are the same single socket. Thread-safe: `start` and `stop` hop
/// onto each acceptor's loop.
final class Listener: Sendable {
    /// How connections reach the loops.
    enum Mode: Sendable, Equatable {
        case acceptor
        case socketPerLoop

        /// The mode this process uses: `SSEKEEPER_ACCEPT=per-loop` for one socket per loop, else one acceptor.
        static let current: Mode = getenv("SSEKEEPER_ACCEPT").map { String(cString: $0) } == "per-loop" ? .socketPerLoop : .acceptor
    }

    /// The address bound (the port resolved when 0 was asked).
    let address: SocketAddress
    private let acceptors: [Acceptor]

    /// Binds `address` once, or once per loop of `group` with `.socketPerLoop` (all on the port the first one got).
    /// `onAccept` takes each accepted descriptor instead of an `HTTP1Connection` (the admin endpoint, one socket).
    /// With `transport` `.tls`, each connection is served through TLS (`ProxyContext.tls`).
    init(address: SocketAddress, group: EventLoopGroup, runtime: ProxyRuntime, mode: Mode = Mode.current,
         transport: ListenTransport = .plain, onAccept: ((Int32) -> Void)? = nil) throws(SocketError) {
        let perLoop = mode == .socketPerLoop && onAccept == nil && group.loops.count > 1
        let first = try Acceptor(address: address, group: group, acceptLoop: group.loops[0], servesLocally: perLoop,
                                 runtime: runtime, transport: transport, onAccept: onAccept)
        var acceptors = [first]
        if perLoop {
            for loop in group.loops.dropFirst() {
                do {
                    acceptors.append(try Acceptor(address: first.address, group: group, acceptLoop: loop,
                                                  servesLocally: true, runtime: runtime, transport: transport))
                } catch {
                    acceptors.forEach { $0.stop() }
                    throw error
                }
            }
        }
        self.address = first.address
        self.acceptors = acceptors
    }

    /// How many sockets this address has open (one, or one per loop).
    var socketCount: Int { acceptors.count }

    /// Sets `client_ack_timeout` on the sockets, for the connections accepted from now on (see `Acceptor`).
    func setClientAckTimeout(_ timeout: Duration?) {
        acceptors.forEach { $0.setClientAckTimeout(timeout) }
    }

    /// Starts accepting.
    func start() {
        acceptors.forEach { $0.start() }
    }

    /// Stops accepting and closes the sockets (see `Acceptor.stop(acceptingPending:)`).
    func stop(acceptingPending: Bool = false) {
        acceptors.forEach { $0.stop(acceptingPending: acceptingPending) }
    }
}

import CEpoll
import Dispatch
import Glibc
import SSEKeeperCore

/// One listening socket of a `Listener`. Accepts on its own loop's queue and either serves each connection on that
/// loop (`servesLocally`: one acceptor per loop, the kernel spreading connections over them with `SO_REUSEPORT`) or
/// hands it to the next loop of the group, round-robin (one acceptor for all loops).
///
/// The socket is registered level-triggered with the accept loop's poller, so a connection accepted there and
/// served there is read in the same batch (no hop through another queue).
///
/// Confinement: every method runs on `acceptLoop.queue`. When descriptors run out (EMFILE/ENFILE) it logs,
/// stops accepting for `acceptBackoffNanos`, and resumes: open streams keep flowing meanwhile.
final class Acceptor: @unchecked Sendable, PollTarget, DeadlineTarget {
    /// Its place in the loop's deadline heap (`DeadlineTarget`).
    var deadlineSlot = -1
    let fd: Int32
    let address: SocketAddress
    let acceptLoop: EventLoop
    private let group: EventLoopGroup
    /// Whether connections accepted here are served on `acceptLoop` (one acceptor per loop).
    private let servesLocally: Bool
    private let runtime: ProxyRuntime
    /// What connections accepted here speak: TLS (`.tls`) or plain TCP (`.plain`, and `.h2c`, which is plain TCP
    /// at this level: no TLS session is made for it).
    private let transport: ListenTransport
    /// Takes each accepted descriptor instead of an `HTTP1Connection` (the admin endpoint); nil for a proxy listener.
    private let onAccept: ((Int32) -> Void)?
    /// The last IPv4 peer accepted here and its host text: connections tend to come from a few addresses (a load
    /// balancer, a corporate proxy), and formatting the host cost some 260 instructions per connection (callgrind).
    private var lastIPv4Peer: (address: UInt32, host: String)?
    private var registered = false
    private var suspended = false
    private var closed = false
    /// Connections accepted per report of the socket. An acceptor that serves its connections on its own loop (one
    /// loop, or a socket per loop) takes one and leaves any more to the next report of the level-triggered socket,
    /// like nginx without `multi_accept`: that saves the `accept` per connection that would only find the queue
    /// empty (`EAGAIN`), and a loop busy with many connections still gets a new one per turn. The one acceptor of
    /// several loops, whose work is mainly handing connections out, takes a batch.
    private let acceptsPerReport: Int

    /// How long accepting pauses after the process ran out of descriptors.
    static let acceptBackoffNanos: UInt64 = 100_000_000
    /// Connections accepted per wake-up at most, so one busy listener cannot starve its loop.
    static let acceptBatch = 128

    init(address: SocketAddress, group: EventLoopGroup, acceptLoop: EventLoop, servesLocally: Bool,
         runtime: ProxyRuntime, transport: ListenTransport = .plain, onAccept: ((Int32) -> Void)? = nil) throws(SocketError) {
        fd = try Socket.listen(on: address)
        self.address = SocketAddress.local(of: fd) ?? address
        self.group = group
        self.acceptLoop = acceptLoop
        self.servesLocally = servesLocally
        self.runtime = runtime
        self.transport = transport
        self.onAccept = onAccept
        acceptsPerReport = servesLocally || group.loops.count == 1 ? 1 : Self.acceptBatch
        if onAccept == nil { setClientAckTimeout(runtime.context.config.limits.clientAckTimeout) }
    }

    /// Sets `client_ack_timeout` (`TCP_USER_TIMEOUT`; nil: off) on the listening socket, which every connection
    /// accepted from then on inherits (no system call per accept). A reload sets it again: connections that were
    /// already established keep the value they were accepted with, like their other settings.
    func setClientAckTimeout(_ timeout: Duration?) {
        Socket.setUserTimeout(fd, timeout.map { TimeAmount($0) } ?? .zero)
    }

    /// Starts accepting.
    func start() {
        acceptLoop.queue.async { [self] in
            guard !closed, !registered else { return }
            let code = acceptLoop.poller.register(self, fd: fd, events: UInt32(SSK_EPOLLIN))
            if code != 0 {
                runtime.logger.error("listen on \(address): cannot watch the socket: \(SocketError.message(errno: code))")
                return
            }
            registered = true
        }
    }

    /// Called by the poller while connections wait in the accept queue.
    func pollEvents(_ events: UInt32) {
        guard !closed, !suspended else { return }
        acceptBatch(limit: acceptsPerReport)
    }

    /// Stops accepting and closes the socket. With `acceptingPending`, connections already waiting in the accept
    /// queue are accepted (and served) first: closing a listener resets them, and with `SO_REUSEPORT` they are
    /// clients the kernel handed to this process while a new one was listening too.
    func stop(acceptingPending: Bool = false) {
        acceptLoop.queue.async { [self] in
            guard !closed else { return }
            if acceptingPending && registered {
                while acceptBatch() {}
            }
            closed = true
            if registered { acceptLoop.poller.unregister(fd: fd) }
            Glibc.close(fd)
        }
    }

    /// Accepts up to `limit` connections; true when the limit was used up (more may be waiting).
    @discardableResult
    private func acceptBatch(limit: Int = Acceptor.acceptBatch) -> Bool {
        for _ in 0..<limit {
            switch Socket.accept(from: fd) {
            case .accepted(let connection, let peer):
                if let onAccept { onAccept(connection) } else { admit(connection, peer: peer) }
            case .wouldBlock:
                return false
            case .failed(let code):
                if code == EINTR || code == ECONNABORTED { continue }
                if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM {
                    runtime.logger.error("accept on \(address): \(SocketError.message(errno: code)); pausing accepts for 100ms")
                    backOff()
                } else {
                    runtime.logger.error("accept on \(address): \(SocketError.message(errno: code))")
                }
                return false
            }
        }
        return true
    }

    private func admit(_ connection: Int32, peer accepted: SocketAddress?) {
        acceptLoop.metrics.process.connectionsAccepted &+= 1
        let context = acceptLoop.context(of: runtime)
        let peer = accepted ?? SocketAddress.peer(of: connection)
        let host = peer.map(hostText) ?? "unknown"
        if let refusal = runtime.admit(host: host, limits: context.config.limits) {
            let retryAfter = 1
            let response = ErrorResponse.bytes(status: 503, detail: "too many connections (\(refusal.message))", retryAfterSeconds: retryAfter)
            _ = response.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            shutdown(connection, Int32(SHUT_WR))
            Glibc.close(connection)
            acceptLoop.metrics.process.countRejection(refusal.reason)
            runtime.logger.warn("refused a connection on \(address): \(refusal.message)")
            return
        }
        // From here on the client's address travels as a `ClientAddress` (host, port, family), not the 136-byte
        // `sockaddr_storage` it came in, which was copied at each hand-on.
        let client = ClientAddress(peer: peer, host: host)
        let loop = servesLocally ? acceptLoop : group.nextLoop()
        let runtime = self.runtime
        let transport = self.transport
        if loop === acceptLoop {
            Self.serve(connection, client: client, loop: loop, runtime: runtime, transport: transport)
        } else {
            loop.poller.execute {
                Self.serve(connection, client: client, loop: loop, runtime: runtime, transport: transport)
            }
        }
    }

    /// `peer`'s host text, the last IPv4 peer's again when it is the same address.
    private func hostText(_ peer: SocketAddress) -> String {
        guard let address = peer.ipv4 else { return peer.host }
        if let last = lastIPv4Peer, last.address == address { return last.host }
        let host = peer.host
        lastIPv4Peer = (address, host)
        return host
    }

    /// Starts an admitted connection on `loop` (its queue), through a TLS session made there when `transport`
    /// is `.tls` (never for `.plain` or `.h2c`); one that cannot get a session is closed and its admission released.
    /// `client.host` is the host as admitted (formatted once per connection).
    private static func serve(_ connection: Int32, client: ClientAddress, loop: EventLoop, runtime: ProxyRuntime,
                              transport: ListenTransport) {
        var session: TLSSession?
        if transport == .tls {
            do throws(TLSServerContext.SetupError) {
                guard let context = loop.context(of: runtime).tls else {
                    throw TLSServerContext.SetupError(message: "the configuration has no TLS listener any more")
                }
                session = try context.session(fd: connection)
            } catch {
                runtime.logger.error("TLS connection from \(client): \(error.message)")
                Glibc.close(connection)
                runtime.release(host: client.host)
                return
            }
        }
        HTTP1Connection(fd: connection, clientEndpoint: client,
                        loop: loop, runtime: runtime, tls: session,
                        offersHTTP2: offersHTTP2(transport, loop.context(of: runtime).config)).start()
    }

    /// Whether a listener of `transport` serves HTTP/2 as well as HTTP/1.1.
    /// TLS: when `http2` is on (ALPN offers `h2`; a client that chose it starts with the preface). `h2c`: prior
    /// knowledge, when `http2` is on.
    static func offersHTTP2(_ transport: ListenTransport, _ config: Config) -> Bool {
        (transport == .tls && config.limits.http2) || config.acceptsPriorKnowledgeHTTP2(on: transport)
    }

    private func backOff() {
        guard registered, !suspended else { return }
        acceptLoop.metrics.process.acceptBackoffs &+= 1
        suspended = true
        acceptLoop.poller.modify(fd: fd, events: 0)
        // On the loop's own deadline heap, not a Dispatch timer: libdispatch creates its timer descriptor lazily,
        // and with none left (the very reason for backing off) such a timer silently never fired.
        acceptLoop.schedule(self, at: EventLoop.now() + Self.acceptBackoffNanos)
    }

    /// The back-off is over: accept again.
    func deadlineReached(_ deadline: UInt64, now: UInt64) {
        guard suspended, !closed else { return }
        suspended = false
        acceptLoop.poller.modify(fd: fd, events: UInt32(SSK_EPOLLIN))
    }
}

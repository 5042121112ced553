import Dispatch
import Glibc
import SSEKeeperCore

/// The admin endpoint (`admin_listen`): `/metrics`, `/healthz` and `/streams`, served by ssekeeper itself on its
/// own event loop, apart from the proxy's loops.
///
/// Its own loop matters twice: a scrape hops onto every proxy loop with `sync` to copy its figures, which
/// would deadlock from one of them; and admin traffic never counts as proxied traffic (its connections are not
/// in `max_connections`, its requests not in `ssekeeper_requests_total`).
/// Confinement: everything but `init`, `start`, `stop`, `bind`, `move` and `address` runs on `loop.queue`. At most
/// `maxConnections` admin connections are open at once; more are closed at once. A reload that changes
/// `admin_listen` moves the endpoint (`bind`, then `move`) onto the same loop.
final class AdminServer: @unchecked Sendable {
    /// The admin loop's group (one loop), so the existing `Listener` can accept on it.
    let group = EventLoopGroup(count: 1, label: "ssekeeper.admin")
    var loop: EventLoop { group.loops[0] }
    /// The address accepted on now (the bound port when `admin_listen` asked for port 0).
    var address: SocketAddress { listener.withLock { $0.address } }
    /// The listener accepted on now; replaced by `move(to:)`.
    private let listener: Locked<Listener>
    private let runtime: ProxyRuntime
    private let logger: Logger
    /// The server whose figures the pages show; weak, so an admin endpoint never keeps a stopped server alive.
    private weak var proxy: ProxyServer?
    private var openConnections = 0

    /// Admin connections open at once, at most (a scraper or two, a person with curl).
    static let maxConnections = 16
    /// The request head must arrive within this.
    static let headerTimeoutNanos: UInt64 = 5_000_000_000
    /// Once answered, the connection is closed after this at the latest (flush, then wait for the client's close).
    static let closingTimeoutNanos: UInt64 = 10_000_000_000

    /// Binds `address` (the listener starts accepting in `start()`).
    init(address: SocketAddress, runtime: ProxyRuntime, proxy: ProxyServer) throws(SocketError) {
        self.logger = runtime.logger
        self.runtime = runtime
        self.proxy = proxy
        var accepted: ((Int32) -> Void)?
        listener = Locked(try Listener(address: address, group: group, runtime: runtime, onAccept: { fd in accepted?(fd) }))
        accepted = { [weak self] fd in
            guard let self else {
                Glibc.close(fd)
                return
            }
            self.accept(fd)
        }
    }

    func start() { listener.withLock { $0 }.start() }

    func stop() { listener.withLock { $0 }.stop() }

    /// Binds `address` for a move of the endpoint (a reload changed `admin_listen`); accepts nothing until
    /// `move(to:)`. Throws when the address cannot be bound, and then nothing changed.
    func bind(_ address: SocketAddress) throws(SocketError) -> Listener {
        try Listener(address: address, group: group, runtime: runtime, onAccept: { [weak self] fd in
            guard let self else {
                Glibc.close(fd)
                return
            }
            self.accept(fd)
        })
    }

    /// Accepts on `bound` (from `bind(_:)`) from now on and closes the previous listener; admin connections
    /// already open finish where they are.
    func move(to bound: Listener) {
        let previous = listener.withLock { current in
            defer { current = bound }
            return current
        }
        previous.stop()
        bound.start()
    }

    private func accept(_ fd: Int32) {
        guard openConnections < Self.maxConnections else {
            shutdown(fd, Int32(SHUT_RDWR))
            Glibc.close(fd)
            logger.warn("admin endpoint \(address): refused a connection (\(Self.maxConnections) open)")
            return
        }
        openConnections += 1
        AdminConnection(fd: fd, server: self).start()
    }

    /// Called by a connection when it closed.
    func connectionClosed() {
        openConnections -= 1
    }

    /// The response to `head`.
    func response(to head: RequestHead) -> [UInt8] {
        let page = AdminEndpoint.page(for: head)
        if case .error(let status, let detail) = page {
            return AdminEndpoint.errorResponse(status: status, detail: detail)
        }
        guard let proxy else {
            return AdminEndpoint.errorResponse(status: 503, detail: "the proxy is stopped")
        }
        switch page {
        case .metrics:
            return AdminEndpoint.response(status: 200, contentType: PrometheusTextWriter.contentType, body: proxy.metricsExposition())
        case .health:
            let draining = proxy.isDraining
            return AdminEndpoint.response(status: draining ? 503 : 200, contentType: "text/plain; charset=utf-8",
                                          body: draining ? "draining\n" : "ok\n")
        case .streams:
            return AdminEndpoint.response(status: 200, contentType: "application/json", body: proxy.streamsDocument())
        case .error:
            return []
        }
    }
}

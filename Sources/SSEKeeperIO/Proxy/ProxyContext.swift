import SSEKeeperCore

/// What every session reads from the running configuration, resolved once at start-up: the config, the router,
/// the upstream addresses, and each upstream's balancing and health state. Replaced whole on reload
/// (`ProxyRuntime`), so pool health starts fresh with a new configuration. Safe from any thread.
final class ProxyContext: Sendable {
    let config: Config
    let router: Router
    let logger: Logger
    /// Upstream name → one resolved address per `server`, in declaration order.
    let upstreamAddresses: [String: [SocketAddress]]
    /// Upstream name → each resolved address as `host:port` (the `server` of logs and of the keep-alive pool's
    /// keys), formatted once here rather than for every request.
    let upstreamServerNames: [String: [String]]
    /// Upstream name → its configuration (servers, keep-alive pool).
    let upstreams: [String: Upstream]
    /// Where access records go (`access_log`, `log_format`). Written through `ProxyRuntime.accessLog`, so only the
    /// current context's log is written to; an older one closes when the last stream holding its context ends.
    let accessLog: AccessLog
    /// The TLS server context of the `tls` listeners (their certificate, read when this context was made, so a
    /// reload reads it again); nil when no listener has `tls`, and libssl is then never loaded.
    let tls: TLSServerContext?

    /// Shared by every event loop: health must be process-wide, or each loop would hammer a dead server anew.
    private let pools: Locked<[String: UpstreamPool]>
    private let warnedCompressedRoutes = Locked<Set<String>>([])

    /// Resolves every upstream server (blocking DNS, at start-up and reload only).
    init(config: Config, logger: Logger) throws(SocketError) {
        self.config = config
        self.logger = logger
        accessLog = try AccessLog(settings: config.observe, logger: logger)
        tls = try Self.tlsContext(for: config)
        router = Router(routes: config.routes)
        var addresses: [String: [SocketAddress]] = [:]
        var pools: [String: UpstreamPool] = [:]
        var upstreams: [String: Upstream] = [:]
        for upstream in config.upstreams {
            var resolved: [SocketAddress] = []
            for server in upstream.servers {
                let candidates = try SocketAddress.resolve(host: server.address.host, port: server.address.port)
                guard let first = candidates.first else {
                    throw SocketError(operation: "resolve \(server.address)", message: "no address")
                }
                resolved.append(first)
            }
            addresses[upstream.name] = resolved
            pools[upstream.name] = UpstreamPool(servers: upstream.servers)
            upstreams[upstream.name] = upstream
        }
        upstreamAddresses = addresses
        upstreamServerNames = addresses.mapValues { $0.map(\.description) }
        self.upstreams = upstreams
        self.pools = Locked(pools)
    }

    /// Server indices of `upstream` in the order one request should try them (see `UpstreamPool.attemptOrder`).
    func attemptOrder(for upstream: String, now: UInt64) -> [Int] {
        pools.withLock { $0[upstream]?.attemptOrder(now: now) ?? [] }
    }

    /// A fresh connection to `server` of `upstream` failed before a response head; logs when it marks it down.
    func noteConnectFailure(upstream: String, server: Int, now: UInt64) {
        let event = pools.withLock { $0[upstream]?.noteFailure(server: server, now: now) }
        if let event { log(event, upstream: upstream, server: server) }
    }

    /// `server` of `upstream` sent a response head; logs when it was marked down before.
    func noteResponse(upstream: String, server: Int, now: UInt64) {
        let event = pools.withLock { $0[upstream]?.noteSuccess(server: server, now: now) }
        if let event { log(event, upstream: upstream, server: server) }
    }

    private func log(_ event: UpstreamPoolEvent, upstream: String, server: Int) {
        let name = upstreams[upstream]?.servers[server].address.description ?? "#\(server)"
        let message = event.message(upstream: upstream, serverName: name)
        if case .markedDown = event { logger.warn(message) } else { logger.info(message) }
    }

    /// Whether this is the first compressed SSE response seen on `routePrefix` (the warning is logged once).
    func firstCompressedStream(on routePrefix: String) -> Bool {
        warnedCompressedRoutes.withLock { $0.insert(routePrefix).inserted }
    }
}

extension ProxyContext {
    /// The TLS server context `config`'s `tls` listeners need, nil without one; a `SocketError` (operation
    /// `tls`) saying what to fix when libssl is missing or the files do not load or match.
    static func tlsContext(for config: Config) throws(SocketError) -> TLSServerContext? {
        guard config.hasTLSListener else { return nil }
        do {
            return try TLSServerContext(settings: config.tls, http2: config.limits.http2)
        } catch {
            throw SocketError(operation: "tls", message: error.message)
        }
    }
}

import SSEKeeperCore

/// What every session reads from the running configuration, resolved once at start-up: the config, the router,
/// the upstream addresses, and each upstream's balancing and health state. Replaced whole on reload
/// (`ProxyRuntime`), so pool health starts fresh with a new configuration. Safe from any thread.
final class ProxyContext: Sendable {
    let config: Config
    let router: Router
    let logger: Logger
    /// Upstream name → what streams use of it (addresses, server names, configuration, shared health). A stream
    /// looks its upstream up once (`RequestStart`), not for every use.
    let upstreamTargets: [String: UpstreamTarget]
    /// The upstream of each route, by the route's position in `router.routesInMatchOrder`: what `RequestStart`
    /// reads, with no hashing of the upstream's name per request.
    let upstreamsByRoute: [UpstreamTarget?]
    /// Where access records go (`access_log`, `log_format`). Written through `ProxyRuntime.accessLog`, so only the
    /// current context's log is written to; an older one closes when the last stream holding its context ends.
    let accessLog: AccessLog
    /// The TLS server context of the `tls` listeners (their certificate, read when this context was made, so a
    /// reload reads it again); nil when no listener has `tls`, and libssl is then never loaded.
    let tls: TLSServerContext?
    /// The HTTP/1.1 connection timeouts of `config`, converted once (a `Duration` conversion is a 128-bit division,
    /// and each request took them afresh).
    let http1Timeouts: HTTP1ConnectionMachine.Timeouts

    private let warnedCompressedRoutes = Locked<Set<String>>([])

    /// Resolves every upstream server (blocking DNS, at start-up and reload only).
    init(config: Config, logger: Logger) throws(SocketError) {
        self.config = config
        self.logger = logger
        accessLog = try AccessLog(settings: config.observe, logger: logger)
        tls = try Self.tlsContext(for: config)
        router = Router(routes: config.routes)
        http1Timeouts = HTTP1Connection.timeouts(config.limits)
        var targets: [String: UpstreamTarget] = [:]
        for upstream in config.upstreams {
            var resolved: [SocketAddress] = []
            for server in upstream.servers {
                let candidates = try SocketAddress.resolve(host: server.address.host, port: server.address.port)
                guard let first = candidates.first else {
                    throw SocketError(operation: "resolve \(server.address)", message: "no address")
                }
                resolved.append(first)
            }
            targets[upstream.name] = UpstreamTarget(config: upstream, addresses: resolved, logger: logger)
        }
        upstreamTargets = targets
        upstreamsByRoute = router.routesInMatchOrder.map { targets[$0.upstreamName] }
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

/// One upstream as the streams use it, made once per context: one resolved address per `server` in declaration
/// order, each as `host:port` (the `server` of logs and of the keep-alive pool's keys, formatted here rather than
/// for every request), its configuration, and its balancing and health state.
final class UpstreamTarget: Sendable {
    let config: Upstream
    let addresses: [SocketAddress]
    let serverNames: [String]
    let logger: Logger
    /// Shared by every event loop: health must be process-wide, or each loop would hammer a dead server anew.
    private let pool: Locked<UpstreamPool>

    init(config: Upstream, addresses: [SocketAddress], logger: Logger) {
        self.config = config
        self.addresses = addresses
        serverNames = addresses.map(\.description)
        self.logger = logger
        pool = Locked(UpstreamPool(servers: config.servers))
    }

    var name: String { config.name }
    /// Whether idle connections to it are kept (`upstream_keepalive` above 0).
    var keepsConnections: Bool { config.keepalive > 0 }

    /// Server indices in the order one request should try them (see `UpstreamPool.attemptOrder`).
    func attemptOrder(now: UInt64) -> [Int] {
        pool.withLock { $0.attemptOrder(now: now) }
    }

    /// A fresh connection to `server` failed before a response head; logs when it marks it down.
    func noteConnectFailure(server: Int, now: UInt64) {
        if let event = pool.withLock({ $0.noteFailure(server: server, now: now) }) { log(event, server: server) }
    }

    /// `server` sent a response head; logs when it was marked down before.
    func noteResponse(server: Int, now: UInt64) {
        if let event = pool.withLock({ $0.noteSuccess(server: server, now: now) }) { log(event, server: server) }
    }

    private func log(_ event: UpstreamPoolEvent, server: Int) {
        let serverName = server < config.servers.count ? config.servers[server].address.description : "#\(server)"
        let message = event.message(upstream: name, serverName: serverName)
        if case .markedDown = event { logger.warn(message) } else { logger.info(message) }
    }
}

import SSEKeeperCore
import Synchronization

/// What every session reads from the running configuration, resolved once at start-up: the config, the router,
/// the upstream addresses, and the round-robin positions. Replaced whole on reload (`ProxyRuntime`). Safe from any thread.
final class ProxyContext: Sendable {
    let config: Config
    let router: Router
    let logger: Logger
    /// Upstream name → one resolved address per `server`, in declaration order.
    let upstreamAddresses: [String: [SocketAddress]]
    /// Where access records go (`access_log`, `log_format`).
    let accessLog: AccessLog

    private let rotations: Mutex<[String: UpstreamRotation]>
    private let warnedCompressedRoutes = Mutex<Set<String>>([])

    /// Resolves every upstream server (blocking DNS, at start-up only).
    init(config: Config, logger: Logger) throws(SocketError) {
        self.config = config
        self.logger = logger
        accessLog = try AccessLog(settings: config.observe, logger: logger)
        router = Router(routes: config.routes)
        var addresses: [String: [SocketAddress]] = [:]
        var rotations: [String: UpstreamRotation] = [:]
        for upstream in config.upstreams {
            var resolved: [SocketAddress] = []
            for server in upstream.servers {
                let candidates = try SocketAddress.resolve(host: server.host, port: server.port)
                guard let first = candidates.first else {
                    throw SocketError(operation: "resolve \(server)", message: "no address")
                }
                resolved.append(first)
            }
            addresses[upstream.name] = resolved
            rotations[upstream.name] = UpstreamRotation(serverCount: resolved.count)
        }
        upstreamAddresses = addresses
        self.rotations = Mutex(rotations)
    }

    /// Server indices of `upstream` in the order one request should try them.
    func attemptOrder(for upstream: String) -> [Int] {
        rotations.withLock { $0[upstream]?.nextAttemptOrder() ?? [] }
    }

    /// Whether this is the first compressed SSE response seen on `routePrefix` (the warning is logged once).
    func firstCompressedStream(on routePrefix: String) -> Bool {
        warnedCompressedRoutes.withLock { $0.insert(routePrefix).inserted }
    }
}

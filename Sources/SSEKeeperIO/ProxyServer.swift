import Dispatch
import Glibc
import SSEKeeperCore
import Synchronization

/// A running proxy: its listeners and event loops, built from a validated `Config`.
///
/// `start()` binds every listen address (failing as a whole if one cannot be bound) and starts accepting;
/// `stop()` closes the listeners. Thread-safe: the state it keeps after `start()` is immutable.
/// With `admin_listen`, `start()` also opens the admin endpoint (see `ProxyServer+Observe.swift`).
public final class ProxyServer: @unchecked Sendable {
    public let config: Config
    private let logger: Logger
    let group: EventLoopGroup
    private var listeners: [Listener] = []
    let context: ProxyContext
    /// Backs `isDraining`.
    let drainingFlag = Atomic<Bool>(false)
    /// The admin endpoint, when `admin_listen` is set.
    private(set) var admin: AdminServer?

    /// Resolves the upstream servers (blocking DNS) and prepares `loopCount` event loops.
    public init(config: Config, logger: Logger = Logger(), loopCount: Int = 1) throws(SocketError) {
        self.config = config
        self.logger = logger
        self.group = EventLoopGroup(count: loopCount)
        self.context = try ProxyContext(config: config, logger: logger)
    }

    /// Binds every listen address and starts accepting. Returns the bound addresses (`127.0.0.1:8080`).
    @discardableResult
    public func start() throws(SocketError) -> [String] {
        ignoreSIGPIPE()
        var opened: [Listener] = []
        for listen in config.listens {
            do {
                let address = try SocketAddress.forListen(listen)
                opened.append(try Listener(address: address, group: group, context: context))
            } catch {
                opened.forEach { $0.stop() }
                throw error
            }
        }
        if let adminListen = config.observe.adminListen {
            do {
                admin = try AdminServer(address: SocketAddress.forListen(adminListen), context: context, proxy: self)
            } catch {
                opened.forEach { $0.stop() }
                throw error
            }
        }
        listeners = opened
        listeners.forEach { $0.start() }
        admin?.start()
        let addresses = listeners.map { $0.address.description }
        logger.info("ssekeeper listening on \(addresses.joined(separator: ", ")) (\(config.routes.count) route(s), \(config.upstreams.count) upstream(s))"
            + (admin.map { "; admin endpoint on \($0.address)" } ?? ""))
        return addresses
    }

    /// The ports the listeners are bound to, in `config.listens` order (useful with port 0 in tests).
    public var boundPorts: [UInt16] { listeners.map { $0.address.port } }

    /// Closes every listener (the admin endpoint's too). Open connections are left to finish.
    public func stop() {
        listeners.forEach { $0.stop() }
        admin?.stop()
    }
}

/// A closed peer must never kill the process: writes use `MSG_NOSIGNAL`, and SIGPIPE is ignored as well.
public func ignoreSIGPIPE() {
    signal(SIGPIPE, SIG_IGN)
}

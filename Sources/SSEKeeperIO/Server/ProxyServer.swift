import CEpoll
import Dispatch
import Glibc
import SSEKeeperCore

/// A running proxy: its listeners and event loops, built from a validated `Config`.
///
/// `start()` binds every listen address (failing as a whole if one cannot be bound) and starts accepting;
/// `reload(config:)` swaps the configuration for new requests; `drain(completion:)` ends every connection
/// politely; `stop()` closes the listeners. Thread-safe: listener changes are serialized by a lock.
/// With `admin_listen`, `start()` also opens the admin endpoint (see `ProxyServer+Observe.swift`).
public final class ProxyServer: @unchecked Sendable {
    private let logger: Logger
    let group: EventLoopGroup
    let runtime: ProxyRuntime
    /// How the proxy listeners hand connections to the loops (one acceptor, or one socket per loop).
    private let acceptMode: Listener.Mode
    /// Open listeners by the `listen` address they were opened for, in config order.
    private let listeners = Locked<[(listen: ListenAddress, listener: Listener)]>([])
    /// The admin endpoint and the `admin_listen` it accepts on: opened by `start()`, moved by a reload that changes
    /// `admin_listen`. `listen` is nil after a reload removed `admin_listen` (the endpoint stays, stopped, so a
    /// later reload moves it back onto its own loop instead of starting another).
    private let adminEndpoint = Locked<(server: AdminServer, listen: ListenAddress?)?>(nil)

    /// The admin endpoint while it accepts (`admin_listen` set).
    var admin: AdminServer? { adminEndpoint.withLock { $0?.listen == nil ? nil : $0?.server } }

    /// Resolves the upstream servers (blocking DNS) and prepares `loopCount` event loops; the listen addresses
    /// reach the loops as `SSEKEEPER_ACCEPT` says (`Listener.Mode.current`).
    public convenience init(config: Config, logger: Logger = Logger(), loopCount: Int = 1) throws(SocketError) {
        try self.init(config: config, logger: logger, loopCount: loopCount, acceptMode: Listener.Mode.current)
    }

    /// The same, with `acceptMode` chosen by the caller (the tests run both modes in one process).
    init(config: Config, logger: Logger = Logger(), loopCount: Int = 1, acceptMode: Listener.Mode) throws(SocketError) {
        self.logger = logger
        self.acceptMode = acceptMode
        self.group = EventLoopGroup(count: loopCount)
        self.runtime = ProxyRuntime(context: try ProxyContext(config: config, logger: logger), loopCount: loopCount)
    }

    /// The configuration new requests use.
    public var config: Config { runtime.context.config }

    /// Binds every listen address and starts accepting. Returns the bound addresses (`127.0.0.1:8080`).
    @discardableResult
    public func start() throws(SocketError) -> [String] {
        ignoreSIGPIPE()
        let config = self.config
        let opened = try openListeners(config.listens)
        var admin: AdminServer?
        if let adminListen = config.observe.adminListen {
            do {
                let server = try AdminServer(address: SocketAddress.forListen(adminListen), runtime: runtime, proxy: self)
                adminEndpoint.withLock { $0 = (server, adminListen) }
                admin = server
            } catch {
                opened.forEach { $0.listener.stop() }
                throw error
            }
        }
        listeners.withLock { $0 = opened }
        opened.forEach { $0.listener.start() }
        admin?.start()
        let addresses = opened.map { $0.listener.address.description }
        logger.info("ssekeeper listening on \(addresses.joined(separator: ", ")) (\(config.routes.count) route(s), \(config.upstreams.count) upstream(s), "
            + "\(group.loops.count) event loop(s))"
            + (admin.map { "; admin endpoint on \($0.address)" } ?? ""))
        return addresses
    }

    /// Checks what `config`'s `tls` listeners need, as `start` would: libssl loads, the certificate chain and key
    /// load, and the key matches (for `ssekeeper check`). Does nothing without a `tls` listener.
    public static func checkTLS(_ config: Config) throws(SocketError) {
        _ = try ProxyContext.tlsContext(for: config)
    }

    /// The number of event loops `config`'s `event_loops` asks for on this machine (`auto` counts the CPUs in the
    /// process's affinity mask, 1 when it cannot be read, and runs no more than its cgroup CPU limit lets run at
    /// once), and what to log about that limit at start, if anything (`EventLoopCount.limitNote`).
    public static func loopCount(for config: Config) -> (count: Int, note: EventLoopCount.Note?) {
        let found = Int(ssk_affinity_cpu_count())
        let cpus = found > 0 ? found : 1
        let limit = CgroupCPULimit.find { path in try? ConfigLoader.readFile(path) }
        let loops = config.limits.eventLoops
        return (loops.resolved(availableCPUs: cpus, cpuLimit: limit?.cpus),
                loops.limitNote(availableCPUs: cpus, cpuLimit: limit))
    }

    /// How many event loops serve connections.
    public var loopCount: Int { group.loops.count }

    /// The ports the listeners are bound to, in `config.listens` order (useful with port 0 in tests).
    public var boundPorts: [UInt16] { listeners.withLock { $0.map { $0.listener.address.port } } }

    /// Whether the server is draining: `/healthz` answers 503 and `ssekeeper_draining` is 1, so load balancers
    /// stop sending new clients. Set by `drain(completion:)`.
    public var isDraining: Bool { runtime.draining.load(ordering: .relaxed) }

    /// Idle keep-alive upstream connections held now, over every loop. Blocks briefly on each loop's queue:
    /// never call it from a loop.
    var idleUpstreamConnectionCount: Int {
        group.loops.reduce(0) { total, loop in total + loop.queue.sync { loop.idleUpstreams.count } }
    }

    /// Client connections open now.
    public var openConnectionCount: Int { runtime.openConnections.load(ordering: .relaxed) }

    /// Applies a new configuration: new requests use it at once, requests in flight (open streams) keep theirs.
    /// Listen addresses that were added are opened, removed ones closed, unchanged ones kept (no accept is lost).
    /// A changed `admin_listen` moves the admin endpoint: the new address is bound first, then the old one closed.
    /// Throws, changing nothing, when the upstreams cannot be resolved or a new address cannot be bound.
    public func reload(config: Config) throws(SocketError) {
        let context = try ProxyContext(config: config, logger: logger)
        if config.limits.eventLoops != self.config.limits.eventLoops {
            logger.warn("event_loops changed to \(config.limits.eventLoops.text): it takes effect at the next start; "
                + "keeping \(group.loops.count) loop(s)")
        }
        try listeners.withLock { (current: inout [(listen: ListenAddress, listener: Listener)]) throws(SocketError) in
            let added = config.listens.filter { listen in !current.contains { $0.listen == listen } }
            let opened = try openListeners(added)
            let adminChange: AdminChange
            do throws(SocketError) {
                adminChange = try prepareAdminChange(to: config.observe.adminListen)
            } catch {
                opened.forEach { $0.listener.stop() }
                throw error
            }
            runtime.replace(with: context)
            applyAdminChange(adminChange)
            var kept: [(listen: ListenAddress, listener: Listener)] = []
            for entry in current {
                if config.listens.contains(entry.listen) {
                    entry.listener.setClientAckTimeout(config.limits.clientAckTimeout)
                    kept.append(entry)
                } else {
                    entry.listener.stop()
                    logger.info("stopped listening on \(entry.listener.address)")
                }
            }
            for entry in opened {
                entry.listener.start()
                logger.info("listening on \(entry.listener.address)")
            }
            current = config.listens.compactMap { listen in (kept + opened).first { $0.listen == listen } }
        }
        applyOnLoops(context)
    }

    /// What a reload does with the admin endpoint; everything that can fail (binding) is done when it is made.
    private enum AdminChange {
        case keep
        /// `admin_listen` appears: a new endpoint, bound, not accepting yet.
        case open(AdminServer, ListenAddress)
        /// `admin_listen` changed (or came back): the endpoint accepts on `Listener`, bound already.
        case move(AdminServer, Listener, ListenAddress)
        /// `admin_listen` was removed.
        case close(AdminServer)
    }

    /// Binds what a new `admin_listen` needs. Throws when it cannot be bound (then nothing changed).
    private func prepareAdminChange(to listen: ListenAddress?) throws(SocketError) -> AdminChange {
        let current = adminEndpoint.withLock { $0 }
        guard listen != current?.listen else { return .keep }
        guard let listen else { return current.map { .close($0.server) } ?? .keep }
        let address = try SocketAddress.forListen(listen)
        if let server = current?.server { return .move(server, try server.bind(address), listen) }
        return .open(try AdminServer(address: address, runtime: runtime, proxy: self), listen)
    }

    private func applyAdminChange(_ change: AdminChange) {
        switch change {
        case .keep:
            return
        case .open(let server, let listen):
            adminEndpoint.withLock { $0 = (server, listen) }
            server.start()
            logger.info("admin endpoint on \(server.address)")
        case .move(let server, let listener, let listen):
            let previous = admin?.address
            adminEndpoint.withLock { $0 = (server, listen) }
            server.move(to: listener)
            logger.info("admin endpoint moved to \(listener.address)" + (previous.map { " from \($0)" } ?? ""))
        case .close(let server):
            adminEndpoint.withLock { $0?.listen = nil }
            server.stop()
            logger.info("admin endpoint on \(server.address) closed (admin_listen removed)")
        }
    }

    /// What a reload changes on each loop, in one block queued there: the loop's view of the context moves to the
    /// new one, and its idle keep-alive connections are pruned. Idle connections survive a reload when their
    /// upstream and server are still configured (no reconnection storm); those of removed servers or pools, and the
    /// least recently used above a lowered `upstream_keepalive`, are closed at once.
    private func applyOnLoops(_ context: ProxyContext) {
        let runtime = self.runtime
        for loop in group.loops {
            loop.queue.async {
                // The loop's view of the context moves to the new one now, not at its next connection: an idle loop
                // would keep the old context (its access log's descriptor with it) alive until then.
                _ = loop.context(of: runtime)
                loop.idleUpstreams.prune(
                    keeps: { key in
                        context.upstreamTargets[key.upstream]?.serverNames.contains(key.server) == true
                    },
                    capacity: { context.upstreamTargets[$0]?.config.keepalive ?? 0 })
            }
        }
    }

    /// Stops accepting and ends every connection politely (`Limits.drainTimeout` bounds it): idle connections close,
    /// requests in flight finish with `Connection: close`, and each SSE stream gets `retry:` at an event boundary
    /// and ends, so clients reconnect promptly elsewhere. With `drain_spread`, each stream's end and its `retry:`
    /// are drawn at random here (`DrainSpread`), so the clients do not all come back at once. A connection whose
    /// response is complete, flushed and half-closed no longer lingers for the client's close. `completion` runs on
    /// a global queue with the number of connections still open (0 when everything ended in time).
    public func drain(completion: @escaping @Sendable (Int) -> Void) {
        guard !runtime.draining.exchange(true, ordering: .relaxed) else { return }
        listeners.withLock { $0.forEach { $0.listener.stop(acceptingPending: true) } }
        let limits = config.limits
        let deadline = DispatchTime.now() + .nanoseconds(Int(clamping: TimeAmount(limits.drainTimeout).nanoseconds))
        let spread = DrainSpread(spread: limits.drainSpread, retry: limits.drainRetry)
        for loop in group.loops {
            loop.queue.async {
                for case let connection as ClientConnection in loop.sessions.values { connection.drain(spread: spread) }
                // Streams kept without a client (ride-through) end now: their clients will reconnect elsewhere.
                for stream in loop.rideThrough.detachedOldestFirst { stream.drainDetached() }
                // Nothing new will be sent upstream; responses finishing from now on close their connection.
                loop.idleUpstreams.closeAll()
            }
        }
        let watch = DrainWatch(runtime: runtime, deadline: deadline.uptimeNanoseconds, loop: group.loops[0], completion: completion)
        group.loops[0].queue.async { watch.check(now: EventLoop.now()) }
    }

    /// Closes every listener (the admin endpoint's too) and every idle keep-alive upstream connection. Open
    /// connections are left to finish.
    public func stop() {
        listeners.withLock { $0.forEach { $0.listener.stop() } }
        admin?.stop()
        for loop in group.loops {
            loop.queue.async { loop.idleUpstreams.closeAll() }
        }
    }

    private func openListeners(_ addresses: [ListenAddress]) throws(SocketError) -> [(listen: ListenAddress, listener: Listener)] {
        var opened: [(listen: ListenAddress, listener: Listener)] = []
        for listen in addresses {
            do {
                let address = try SocketAddress.forListen(listen)
                opened.append((listen, try Listener(address: address, group: group, runtime: runtime, mode: acceptMode,
                                                    transport: listen.transport)))
            } catch {
                opened.forEach { $0.listener.stop() }
                throw error
            }
        }
        return opened
    }
}

/// A closed peer must never kill the process: writes use `MSG_NOSIGNAL`, and SIGPIPE is ignored as well.
public func ignoreSIGPIPE() {
    signal(SIGPIPE, SIG_IGN)
}

/// Checks every 20 ms, on a loop's own deadline heap, whether a drain is over; then calls its completion on a global
/// queue. Not a Dispatch timer: libdispatch creates its timer descriptor lazily, so with descriptors exhausted such a
/// timer never fired, and a drain would never have ended.
private final class DrainWatch: DeadlineTarget, @unchecked Sendable {
    /// Its place in the loop's deadline heap (`DeadlineTarget`).
    var deadlineSlot = -1
    private let runtime: ProxyRuntime
    private let deadline: UInt64
    private let loop: EventLoop
    private let completion: @Sendable (Int) -> Void

    init(runtime: ProxyRuntime, deadline: UInt64, loop: EventLoop, completion: @escaping @Sendable (Int) -> Void) {
        self.runtime = runtime
        self.deadline = deadline
        self.loop = loop
        self.completion = completion
    }

    /// Runs on the loop's queue.
    func check(now: UInt64) {
        let open = runtime.openConnections.load(ordering: .relaxed)
        if open == 0 || now >= deadline {
            let completion = self.completion
            DispatchQueue.global().async { completion(open) }
        } else {
            loop.schedule(self, at: now + 20_000_000)
        }
    }

    func deadlineReached(_ deadline: UInt64, now: UInt64) {
        check(now: max(now, deadline))
    }
}

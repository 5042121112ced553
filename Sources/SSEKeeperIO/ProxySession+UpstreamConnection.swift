import Glibc
import SSEKeeperCore

/// Getting a request onto an upstream connection: the pool's attempt order, an idle pooled connection when there
/// is one, otherwise a fresh connect; passive-health notes; what happens when a connection fails before any
/// response byte; and handing a connection back to the keep-alive pool after a complete response.
extension ProxySession {
    /// Tries the next server of the exchange's attempt order: an idle pooled connection to it when the upstream
    /// keeps some, else a fresh connect. 502 (or 504 after a connect timeout) when no server is left.
    func connectNextServer() {
        guard let exchange else { return }
        let name = exchange.route.upstreamName
        let addresses = context.upstreamAddresses[name] ?? []
        let keepsConnections = (context.upstreams[name]?.keepalive ?? 0) > 0
        while exchange.attemptIndex < exchange.attemptOrder.count {
            let index = exchange.attemptOrder[exchange.attemptIndex]
            exchange.attemptIndex += 1
            let address = addresses[index]
            exchange.server = address.description
            exchange.serverIndex = index
            exchange.receivedResponseBytes = false
            if keepsConnections, !exchange.freshConnectionRequired,
               let channel = loop.idleUpstreams.take(.init(upstream: name, server: address.description), now: EventLoop.now()) {
                channel.handler = self
                upstream = channel
                exchange.reusedConnection = true
                upstreamConnected(error: 0)
                return
            }
            exchange.reusedConnection = false
            exchange.freshConnectionRequired = false
            do {
                let fd = try Socket.startConnect(to: address)
                let channel = SocketChannel(fd: fd, loop: loop, connecting: true)
                channel.handler = self
                upstream = channel
                phase = .connecting
                setDeadline(EventLoop.now() + limits.upstreamConnectTimeout.nanoseconds)
                channel.start()
                return
            } catch {
                exchange.lastConnectFailure = error.message
                let kind = Self.connectErrorKind(error.errnoCode)
                exchange.metrics.counters.countConnectError(kind)
                context.logger.warn("upstream \(name): \(error)")
                // Running out of descriptors, buffers or local ports says nothing about the server.
                if kind != .resources { noteServerFailure(exchange) }
            }
        }
        let failure = exchange.lastConnectFailure ?? "no server"
        let status = exchange.connectTimedOut ? 504 : 502
        let end: RequestEnd = exchange.connectTimedOut ? .timeout : .upstreamError
        let detail = "upstream \(name) unreachable: \(failure)"
        if respondUnavailableToEventStream(status: status, detail: detail, end: end) { return }
        respondError(status: status, detail: detail, end: end)
    }

    /// A connect finished (or a pooled connection was taken): on failure try the next server; on success send
    /// the head and whatever body arrived.
    func upstreamConnected(error: Int32) {
        guard let exchange, let upstream else { return }
        if error != 0 {
            let reason = String(cString: strerror(error))
            exchange.lastConnectFailure = reason
            exchange.metrics.counters.countConnectError(Self.connectErrorKind(error))
            context.logger.warn("upstream \(exchange.route.upstreamName): connect \(exchange.server ?? ""): \(reason)")
            noteServerFailure(exchange)
            dropUpstream()
            connectNextServer()
            return
        }
        phase = .awaitingResponse
        setDeadline(EventLoop.now() + limits.upstreamHeaderTimeout.nanoseconds)
        if case .failed(let code) = upstream.write(exchange.upstreamHead) {
            upstreamBroke(reason: "write to upstream failed: \(String(cString: strerror(code)))")
            return
        }
        upstream.acknowledgeQuickly()
        noteResumeConnected()
        // Kept for a retry only while one is possible (see `retryAfterUpstreamFailure`).
        if !exchange.isRetryable { exchange.upstreamHead = [] }
        let early = inbound
        inbound = []
        client.resumeReading()
        early.withUnsafeBytes { bytes in
            if exchange.requestBodyDone { keepPipelined(bytes) } else { forwardRequestBody(bytes) }
        }
    }

    /// Connecting to the current server took longer than `upstream_connect_timeout`: a failure of that server.
    func upstreamConnectTimedOut() {
        guard let exchange else { return }
        context.logger.warn("connect to \(exchange.server ?? "upstream") timed out after \(ConfigValue.formatDuration(limits.upstreamConnectTimeout))")
        exchange.connectTimedOut = true
        exchange.metrics.counters.countConnectError(.timeout)
        exchange.lastConnectFailure = "connect timed out"
        noteServerFailure(exchange)
        dropUpstream()
        connectNextServer()
    }

    /// The upstream connection closed or failed before a complete response head. Returns true when the request
    /// goes on elsewhere; false when the caller answers the error (as it did before pools existed).
    ///
    /// - A **pooled** connection that fails before any response byte was most likely closed by the upstream just
    ///   as it was reused: not the server's fault, so not counted (nginx does not count it either). A retryable
    ///   request (GET, HEAD, OPTIONS without a body) is sent again, once, on a fresh connection to the same
    ///   server; any other request gets the error, since the upstream may have acted on it.
    /// - A **fresh** connection's failure counts against the server (passive health); a retryable request that
    ///   got no response byte moves on to the next server of its attempt order, like nginx's default
    ///   `proxy_next_upstream error timeout`.
    func retryAfterUpstreamFailure(reason: String) -> Bool {
        guard let exchange, phase == .awaitingResponse, !exchange.headSent else { return false }
        let name = exchange.route.upstreamName
        let server = exchange.server ?? ""
        if exchange.reusedConnection {
            guard !exchange.receivedResponseBytes, exchange.isRetryable else { return false }
            context.logger.info("upstream \(name): reused connection to \(server) failed before a response (\(reason)); "
                + "retrying \(exchange.method) on a fresh connection")
            dropUpstream()
            exchange.attemptIndex -= 1
            exchange.freshConnectionRequired = true
            connectNextServer()
            return true
        }
        noteServerFailure(exchange)
        guard !exchange.receivedResponseBytes, exchange.isRetryable,
              exchange.attemptIndex < exchange.attemptOrder.count
        else { return false }
        context.logger.warn("upstream \(name): \(server): \(reason); trying the next server")
        exchange.lastConnectFailure = reason
        dropUpstream()
        connectNextServer()
        return true
    }

    /// The response is complete: the upstream connection goes to the loop's keep-alive pool when it can carry
    /// another request, and is closed otherwise. It can when the upstream keeps connections, the response was
    /// not SSE (a stream's connection ends with the stream), the upstream allowed it (HTTP/1.1, no `close`,
    /// length or chunked framing), nothing followed the response, the request body went out whole, and the
    /// process is not draining.
    func releaseUpstream(_ exchange: Exchange) {
        guard let channel = upstream else { return }
        upstream = nil
        let name = exchange.route.upstreamName
        guard let pool = context.upstreams[name], pool.keepalive > 0, let server = exchange.server,
              !exchange.isSSE, exchange.upstreamAllowsReuse, !exchange.upstreamSentExtraBytes,
              exchange.requestBodyDone, channel.pendingByteCount == 0,
              !runtime.draining.load(ordering: .relaxed)
        else {
            channel.abort()
            return
        }
        loop.idleUpstreams.park(
            channel, key: .init(upstream: name, server: server), capacity: pool.keepalive,
            timeoutNanos: pool.keepaliveTimeout.nanoseconds, now: EventLoop.now())
    }

    /// Counts a failure of the current attempt's server (passive health).
    func noteServerFailure(_ exchange: Exchange) {
        guard let index = exchange.serverIndex else { return }
        context.noteConnectFailure(upstream: exchange.route.upstreamName, server: index, now: EventLoop.now())
    }
}

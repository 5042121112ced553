import SSEKeeperCore

/// Getting the request onto an upstream connection: the machine's attempt order, an idle pooled connection when
/// there is one, otherwise a fresh connect; passive-health notes; what happens when a connection fails before the
/// response head; the request body; and handing a connection back to the keep-alive pool after a response.
extension ProxyStream {
    /// Starts the request's first round of attempts.
    func start() {
        let order = upstreamTarget?.attemptOrder(now: EventLoop.now()) ?? []
        perform(attempt.start(order: order))
    }

    /// Carries out what the attempt machine asked for, trying servers until one connection is under way.
    func perform(_ first: UpstreamAttemptMachine.Action) {
        var action = first
        let name = route.upstreamName
        let addresses = upstreamTarget?.addresses ?? []
        let serverNames = upstreamTarget?.serverNames ?? []
        let keepsConnections = upstreamTarget?.keepsConnections ?? false
        while true {
            switch action {
            case .giveUp(let timedOut, let lastFailure):
                if attempt.isResuming {
                    resumeAttemptFailed(lastFailure ?? "no server")
                    return
                }
                let status = timedOut ? 504 : 502
                let end: RequestEnd = timedOut ? .timeout : .upstreamError
                let detail = "upstream \(name) unreachable: \(lastFailure ?? "no server")"
                if respondUnavailableToEventStream(status: status, detail: detail, end: end) { return }
                respondError(status: status, detail: detail, end: end)
                return
            case .connect(let index, let mayReuse):
                let address = addresses[index]
                server = serverNames[index]
                if keepsConnections, mayReuse,
                   let channel = loop.idleUpstreams.take(.init(upstream: name, server: serverNames[index]), now: EventLoop.now()) {
                    channel.handler = self
                    upstream = channel
                    watchUpstreamLater(channel)
                    attempt.connectStarted(reused: true)
                    upstreamConnected(error: 0)
                    return
                }
                do {
                    // A body-less request on a connection that is not pooled is one write: no TCP_NODELAY needed
                    // (see `Socket.startConnect`); a pooled one may carry a body later.
                    let fd = try Socket.startConnect(to: address, noDelay: body.hasBody || keepsConnections)
                    let channel = SocketChannel(fd: fd, loop: loop, connecting: true)
                    channel.handler = self
                    upstream = channel
                    attempt.connectStarted(reused: false)
                    if !attempt.isResuming { setDeadline(TimeAmount(limits.upstreamConnectTimeout).deadline(after: EventLoop.now())) }
                    watchUpstreamLater(channel)
                    channel.start()
                    return
                } catch {
                    let kind = ConnectErrorKind(errno: error.errnoCode)
                    metrics.counters.countConnectError(kind)
                    context.logger.warn("upstream \(name): \(error)")
                    // Running out of descriptors, buffers or local ports says nothing about the server.
                    if kind != .resources { noteServerFailure(index) }
                    action = attempt.connectFailed(reason: error.message)
                }
            }
        }
    }

    /// A connect finished (or a pooled connection was taken): on failure the next server; on success the head and
    /// whatever body is ready go out.
    func upstreamConnected(error: Int32) {
        guard let upstream, let current = attempt.attempt else { return }
        if error != 0 {
            let reason = SocketError.message(errno: error)
            metrics.counters.countConnectError(ConnectErrorKind(errno: error))
            context.logger.warn("upstream \(route.upstreamName): connect \(server ?? ""): \(reason)")
            noteServerFailure(current.server)
            dropUpstream()
            perform(attempt.connectFailed(reason: reason))
            return
        }
        attempt.requestSent()
        let now = EventLoop.now()
        if attempt.isResuming {
            attempt.resumeRequestSent(now: now, headerTimeoutNanos: TimeAmount(limits.upstreamHeaderTimeout).nanoseconds)
            updateResumeDeadline()
        } else {
            setDeadline(TimeAmount(limits.upstreamHeaderTimeout).deadline(after: now))
        }
        if case .failed(let code) = upstream.write(upstreamHead) {
            upstreamBroke(reason: "write to upstream failed: \(SocketError.message(errno: code))")
            return
        }
        // A reused connection has left the kernel's initial quick-ACK mode (see `SocketChannel.acknowledgeQuickly`);
        // a fresh one has not, and is spared the system call.
        if current.reused { upstream.acknowledgeQuickly() }
        // Kept for a retry only while one is possible (see `UpstreamAttemptMachine.failedBeforeHead`).
        if !attempt.isRetryable { upstreamHead = [] }
        if !pendingUpstreamBody.isEmpty {
            let ready = pendingUpstreamBody
            pendingUpstreamBody = []
            _ = upstream.write(ready)
        }
        client?.resumeClientReading()
    }

    /// Connecting to the current server took longer than `upstream_connect_timeout`: a failure of that server.
    func upstreamConnectTimedOut() {
        context.logger.warn("connect to \(server ?? "upstream") timed out after \(ConfigValue.formatDuration(limits.upstreamConnectTimeout))")
        metrics.counters.countConnectError(.timeout)
        if let current = attempt.attempt { noteServerFailure(current.server) }
        dropUpstream()
        perform(attempt.connectFailed(reason: "connect timed out", timedOut: true))
    }

    /// The upstream connection closed or failed before a complete response head. True when the request goes on
    /// elsewhere; false when the caller answers the error.
    func retryAfterUpstreamFailure(reason: String) -> Bool {
        guard case .awaitingHead(let current) = attempt.state, !headSent else { return false }
        let name = route.upstreamName
        let decision = attempt.failedBeforeHead(reason: reason)
        switch decision {
        case .answer(let counts):
            if counts { noteServerFailure(current.server) }
            return false
        case .retry(let action, let counts):
            if counts {
                noteServerFailure(current.server)
                context.logger.warn("upstream \(name): \(server ?? ""): \(reason); trying the next server")
            } else {
                context.logger.info("upstream \(name): reused connection to \(server ?? "") failed before a response (\(reason)); "
                    + "retrying \(method) on a fresh connection")
            }
            dropUpstream()
            perform(action)
            return true
        }
    }

    /// Takes client bytes of the request body (after the head); returns how many were body: the rest belongs to the
    /// next request. A body that is invalid or too large is answered here (400/413) and the stream ends.
    func requestBodyBytes(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard !body.isComplete, end == nil else { return 0 }
        let outcome: RequestBodyForwarder.Outcome
        if let upstream, attempt.attempt != nil, !isConnecting {
            var framed: [UInt8] = []
            outcome = body.feed(bytes, into: &framed)
            if case .rejected = outcome {} else if !framed.isEmpty { _ = upstream.write(framed) }
            if upstream.pendingByteCount > limits.maxBufferedBytes { client?.pauseClientReading() }
        } else {
            outcome = body.feed(bytes, into: &pendingUpstreamBody)
            if pendingUpstreamBody.count > limits.maxBufferedBytes { client?.pauseClientReading() }
        }
        switch outcome {
        case .needMore:
            return bytes.count
        case .complete(let consumed):
            makeRideFingerprint()
            return consumed
        case .rejected(let error):
            // The upstream has only seen a truncated body, and its connection is aborted here, so it never
            // receives a complete request it could act on.
            respondError(status: error.status, detail: error.description, end: .rejected)
            return bytes.count
        }
    }

    /// Whether a fresh connect is in flight.
    var isConnecting: Bool {
        switch attempt.state {
        case .connecting: return true
        case .resumeAttempting(let resume, _): return resume.stage == .connecting
        default: return false
        }
    }

    /// The response is complete: the upstream connection goes to the loop's keep-alive pool when it can carry
    /// another request, and is closed otherwise. It can when the upstream keeps connections, the response was
    /// not SSE (a stream's connection ends with the stream), the upstream allowed it (HTTP/1.1, no `close`,
    /// length or chunked framing), nothing followed the response, the request body went out whole, and the
    /// process is not draining.
    func releaseUpstream() {
        guard let channel = upstream else { return }
        upstream = nil
        deadHostWatchAt = 0
        let name = route.upstreamName
        guard let pool = upstreamTarget?.config, pool.keepalive > 0, let server,
              !isSSE, upstreamAllowsReuse, relay?.trailingBytes != true,
              body.isComplete, channel.pendingByteCount == 0,
              !runtime.draining.load(ordering: .relaxed)
        else {
            channel.abort()
            return
        }
        loop.idleUpstreams.park(
            channel, key: .init(upstream: name, server: server), capacity: pool.keepalive,
            timeoutNanos: TimeAmount(pool.keepaliveTimeout).nanoseconds, now: EventLoop.now())
    }

    /// `upstream_dead_timeout`: keepalive probes after half the timeout without traffic, then every sixth of it, and
    /// `TCP_USER_TIMEOUT` at the whole timeout — so a host that vanished is noticed within about `timeout`, while a
    /// live but quiet backend answers the probes from its kernel and is never disturbed.
    ///
    /// Called for a connection a quarter of the timeout after the stream took it (`watchUpstreamLater`), not at
    /// connect: a stream that ends sooner does without these four system calls.
    ///
    /// The probe count (3) is set only where the system's default is lower: with the user timeout at `timeout`, the
    /// kernel drops the connection at `timeout` either way (idle/2 + 3 × interval = timeout), so on a system that
    /// allows at least 3 probes (Linux's default is 9) the call is left out, one system call fewer per connection.
    static func watchForDeadHost(_ fd: Int32, within timeout: TimeAmount) {
        Socket.setKeepalive(fd, idle: TimeAmount(nanoseconds: timeout.nanoseconds / 2),
                            interval: TimeAmount(nanoseconds: timeout.nanoseconds / 6),
                            count: Socket.systemKeepaliveProbes >= 3 ? nil : 3)
        Socket.setUserTimeout(fd, timeout)
    }

    /// Counts a failure of `serverIndex` (passive health).
    func noteServerFailure(_ serverIndex: Int) {
        upstreamTarget?.noteConnectFailure(server: serverIndex, now: EventLoop.now())
    }
}

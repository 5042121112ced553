import SSEKeeperCore

/// One HTTP/1.1 client connection: reads request heads, routes each request to a new `ProxyStream` and is that
/// stream's `StreamClient` until its response ends, serves the probe endpoint, keeps the connection alive between
/// requests, and closes it politely. Where it stands is the `HTTP1ConnectionMachine`'s state; this class does the
/// I/O.
///
/// Confinement: created on `loop.queue` and every method runs there (socket handlers, deadlines). It stays alive
/// through `loop.sessions` until `finish()`.
///
/// Its stored properties are `@exclusivity(unchecked)`, as the loop's are (`ReadinessPoller`): they are used on
/// one queue, by loads, stores and mutations of core values (parsers, machines, buffers) that call back into
/// nothing, and handlers are called after a property is read, never inside an access to it. Keep it so: the runtime
/// does not check these for overlapping accesses (it cost about 75 instructions an access, ~130 per new stream).
final class HTTP1Connection: SocketChannelHandler, LoopSession, StreamClient, ClientConnection {
    /// Its place in the loop's deadline heap (`DeadlineTarget`).
    @exclusivity(unchecked) var deadlineSlot = -1
    /// Its place in the loop's sessions (`LoopSession`).
    @exclusivity(unchecked) var sessionSlot = -1
    let runtime: ProxyRuntime
    /// The configuration of the current request: taken from `runtime` when a request starts, so a reload applies
    /// to the next request while one in flight keeps what it started with.
    @exclusivity(unchecked) var context: ProxyContext
    let loop: EventLoop
    let client: SocketChannel
    let clientEndpoint: ClientAddress
    @exclusivity(unchecked) var machine: HTTP1ConnectionMachine
    /// The stream of the request in flight, while attached.
    @exclusivity(unchecked) private(set) var stream: ProxyStream?
    /// The probe response in flight.
    @exclusivity(unchecked) var probe: ProbeState?

    /// Client bytes not consumed yet: a request head being assembled, or pipelined requests.
    @exclusivity(unchecked) var inbound: [UInt8] = []
    @exclusivity(unchecked) var headParser: HeadParser
    @exclusivity(unchecked) private var processingInbound = false
    /// The errno of the last failed write, for the log.
    @exclusivity(unchecked) private var lastWriteError: Int32 = 0
    /// Whether `client_ack_timeout` is held off because the client closed its receive window (see
    /// `clientReadingPaused`).
    @exclusivity(unchecked) private var ackTimeoutHeldOff = false
    /// Bytes read on another loop before the connection was handed here (`handOverToStreamLoop`): served first.
    @exclusivity(unchecked) private var handedBytes: [UInt8] = []

    @exclusivity(unchecked) private var scheduledDeadline: UInt64 = .max
    /// Whether the connection may still turn out to be HTTP/2: on a listener that offers it, until the first bytes
    /// show whether they start with the client connection preface (RFC 9113 §3.4).
    private var mayBeHTTP2: Bool

    var limits: Limits { context.config.limits }

    /// `https` for a client that came over TLS, else `http` (sent upstream as `X-Forwarded-Proto`).
    var clientProtocol: String { client.tls == nil ? "http" : "https" }

    /// `clientEndpoint` is the client's address and port: its host (`clientHost`) is the numeric address under which
    /// the runtime admitted the connection, the port is formatted for logs only. `tls` is the server session of a
    /// client of a `tls` listener.
    /// `offersHTTP2`: the listener serves HTTP/2 too (ALPN `h2`, or `h2c` prior knowledge).
    /// A connection handed over from another loop (`handOverToStreamLoop`) comes with the bytes read there: it was
    /// admitted there, and releases its admission at its end like any other.
    init(fd: Int32, clientEndpoint: ClientAddress, loop: EventLoop, runtime: ProxyRuntime,
         handedBytes: [UInt8] = [], tls: TLSSession? = nil, tlsEstablished: Bool = false, offersHTTP2: Bool = false) {
        self.runtime = runtime
        mayBeHTTP2 = offersHTTP2
        self.context = loop.context(of: runtime)
        self.loop = loop
        client = SocketChannel(fd: fd, loop: loop, tls: tls, tlsEstablished: tlsEstablished)
        self.clientEndpoint = clientEndpoint
        self.handedBytes = handedBytes
        headParser = HeadParser(maxHeaderBytes: context.config.limits.maxHeaderBytes)
        machine = HTTP1ConnectionMachine(now: EventLoop.now(), timeouts: context.http1Timeouts)
        // Accepted from the listener's queue after the drain began: it closes without lingering like the rest.
        if runtime.draining.load(ordering: .relaxed) { machine.stopLingering(now: EventLoop.now()) }
    }

    static func timeouts(_ limits: Limits) -> HTTP1ConnectionMachine.Timeouts {
        HTTP1ConnectionMachine.Timeouts(
            headerNanos: TimeAmount(limits.clientHeaderTimeout).nanoseconds, keepaliveNanos: TimeAmount(limits.keepaliveTimeout).nanoseconds)
    }

    /// Registers with the loop and starts reading. Call on the loop queue.
    func start() {
        loop.sessions.insert(self)
        // `client_ack_timeout` came with the socket from its listener (`Acceptor.setClientAckTimeout`).
        client.handler = self
        client.start()
        updateDeadline()
        if !handedBytes.isEmpty {
            let bytes = handedBytes
            handedBytes = []
            bytes.withUnsafeBytes { clientBytes($0) }
        }
    }

    // MARK: Deadlines

    /// Puts the machine's deadline in the loop's heap when it is earlier than the entry there.
    func updateDeadline() {
        guard let deadline = machine.deadline, deadline < scheduledDeadline else { return }
        scheduledDeadline = deadline
        loop.schedule(self, at: deadline)
    }

    func deadlineReached(_ entryDeadline: UInt64, now loopNow: UInt64) {
        scheduledDeadline = .max  // popped: out of the heap until scheduled again (one entry per target)
        guard !machine.isFinished else { return }
        let now = max(loopNow, entryDeadline)
        switch machine.deadlineReached(now: now) {
        case .wait, .none:
            updateDeadline()
        case .close:
            finish()
        case .requestTimeout(let body):
            let what = body ? "the chunked request body" : "the request head"
            let detail = "\(what) did not arrive within \(ConfigValue.formatDuration(limits.clientHeaderTimeout))"
            if body, let stream {
                stream.respondError(status: 408, detail: detail, end: .timeout)
            } else {
                respondError(status: 408, detail: detail, end: .timeout)
            }
        case .finishProbe:
            finishProbe(now: now)
        }
    }

    // MARK: Socket events

    func channelReadable(_ channel: SocketChannel) {
        if let end = client.readAvailable(while: { !machine.isFinished }, clientBytes) {
            clientGone(reason: end.reason, errno: end.errno)
        }
    }

    func channelConnected(_ channel: SocketChannel, error: Int32) {}

    func channelDrained(_ channel: SocketChannel) {
        if machine.isClosing {
            machine.flushed(now: EventLoop.now())
            updateDeadline()
        } else {
            stream?.clientDrained()
        }
    }

    func channelWriteFailed(_ channel: SocketChannel, error: Int32) {
        clientGone(reason: "write to client failed: \(SocketError.message(errno: error))", errno: error)
    }

    /// Routes client bytes by the machine's state: head assembly, the body check, the stream, or pipelined data.
    private func clientBytes(_ bytes: UnsafeRawBufferPointer) {
        if machine.isIdle { takeCurrentConfiguration() }
        switch machine.bytesArrived(now: EventLoop.now()) {
        case .parseHead(let newRequest):
            if newRequest { updateDeadline() }
            if inbound.isEmpty, !processingInbound, !mayBeHTTP2 {
                processInbound(fresh: bytes)
            } else {
                inbound.append(contentsOf: bytes)
                processInbound()
            }
        case .checkBody, .toStream:
            guard let stream else { return }
            let used = stream.requestBodyBytes(bytes)
            if used < bytes.count, self.stream === stream { keepPipelined(UnsafeRawBufferPointer(rebasing: bytes[used...])) }
            checkedBodyBytesArrived()
        case .keep:
            keepPipelined(bytes)
        case .discard:
            break
        }
    }

    /// Keeps bytes a client sent after its request (pipelining) for after the response, up to the head limit;
    /// beyond it the bytes are dropped and the connection closes after this response.
    func keepPipelined(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        if inbound.count + bytes.count <= limits.maxHeaderBytes {
            inbound.append(contentsOf: bytes)
        } else {
            stream?.forbidKeepAlive()
        }
    }

    /// A request is about to start: it takes the configuration running now (a reload applies from the next request
    /// on), timeouts included.
    private func takeCurrentConfiguration() {
        let current = loop.context(of: runtime)
        guard current !== context else { return }
        context = current
        machine.timeouts = current.http1Timeouts
    }

    /// Parses request heads out of `inbound` while the connection is between requests. `fresh`: bytes just read with
    /// nothing buffered before them (never while the connection may still be HTTP/2: the preface is matched in
    /// `inbound`), parsed where they were read, so a head that comes whole is never copied. What of them the head
    /// does not take goes to `inbound`: an incomplete head (the parser's next call reads it from the start), the
    /// bytes after a head, or all of them when the connection is handed to another loop (`leaveLoop` moves
    /// `inbound`).
    func processInbound(fresh freshBytes: UnsafeRawBufferPointer? = nil) {
        guard !processingInbound else { return }
        processingInbound = true
        defer { processingInbound = false }
        var fresh = freshBytes
        while machine.parsesHeads, fresh != nil || !inbound.isEmpty {
            if mayBeHTTP2 {
                switch HTTP2Preface.match(inbound) {
                case .incomplete: return
                case .matches:
                    switchToHTTP2()
                    return
                case .differs: mayBeHTTP2 = false
                }
            }
            if machine.isIdle {
                takeCurrentConfiguration()
                machine.pipelinedBytesPending(now: EventLoop.now())
                updateDeadline()
            }
            let result: HeadParseResult<RequestHead>
            do {
                if let bytes = fresh {
                    result = try headParser.parseRequest(bytes)
                } else {
                    result = try inbound.withUnsafeBytes { try headParser.parseRequest($0) }
                }
            } catch {
                respondError(status: (error as? HTTPParseError)?.status ?? 400, detail: "\(error)", end: .rejected)
                return
            }
            guard case .complete(let head, let consumed) = result else {
                if let bytes = fresh { inbound.append(contentsOf: bytes) }
                return
            }
            let target = streamLoop(for: head).flatMap { $0 !== loop ? $0 : nil }
            var headInInbound = true
            if let bytes = fresh {
                fresh = nil
                headInInbound = target != nil
                inbound.append(contentsOf: headInInbound ? bytes : UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
            }
            if let target, handOverToStreamLoop(target) { return }
            if headInInbound { inbound.removeFirst(consumed) }
            headParser = HeadParser(maxHeaderBytes: limits.maxHeaderBytes)
            machine.headParsed()
            startRequest(head)
        }
    }

    /// The client sent the HTTP/2 connection preface: the socket and the bytes read so far go to an
    /// `HTTP2Connection`, which keeps this connection's admission.
    private func switchToHTTP2() {
        mayBeHTTP2 = false
        let bytes = leaveLoop()
        HTTP2Connection(channel: client, clientEndpoint: clientEndpoint, loop: loop, runtime: runtime,
                        received: bytes).start()
    }

    /// With several loops: the loop holding the ridden-through stream a reconnect names, when it may be another.
    private func streamLoop(for head: RequestHead) -> EventLoop? {
        guard runtime.rideThroughLoops.isEnabled, head.headers.contains("Last-Event-ID"),
              let route = context.router.route(forPath: head.path), route.settings.clientResumeWindow != nil,
              let stamped = RideThroughReconnect.stampedID(in: head) else { return nil }
        return runtime.rideThroughLoops.loop(for: stamped.token)
    }

    /// Hands this connection, between requests, to `target` (where the stream its request names runs): the socket
    /// and the bytes read so far (the request's head and whatever followed) move, and the new connection there
    /// serves them from the start. False when the socket cannot move now (bytes still queued for the client).
    private func handOverToStreamLoop(_ target: EventLoop) -> Bool {
        guard stream == nil, probe == nil, let released = client.releaseDescriptor() else { return false }
        let fd = released.fd
        let tls = released.tls
        let bytes = leaveLoop()
        loop.metrics.process.connectionsHandedOver &+= 1
        let runtime = self.runtime
        let address = clientEndpoint
        target.poller.execute {
            HTTP1Connection(fd: fd, clientEndpoint: address, loop: target, runtime: runtime,
                            handedBytes: bytes, tls: tls?.session, tlsEstablished: tls != nil).start()
        }
        return true
    }

    /// Ends this object's part on the loop while its socket moves on (to an `HTTP2Connection`, or another loop):
    /// the machine finished, its deadline and its session entry gone. Returns the bytes read and not consumed.
    private func leaveLoop() -> [UInt8] {
        let bytes = inbound
        inbound = []
        machine.finish()
        loop.endSession(self)
        return bytes
    }

    /// Routes a parsed request: the probe, an error answered here, or a new stream to the upstream.
    private func startRequest(_ head: RequestHead) {
        let framing: BodyFraming
        let reconnect: StampedEventID?
        let stream: ProxyStream
        switch RequestStart.make(head, client: self, context: context, loop: loop, runtime: runtime) {
        case .probe:
            startProbe(head)
            return
        case .answer(let status, let detail, let end):
            respondError(status: status, detail: detail, end: end, method: head.method, path: head.path)
            return
        case .preflight(let fields, let route):
            answerPreflight(head, fields: fields, route: route)
            return
        case .stream(let made, let madeFraming, let madeReconnect):
            stream = made
            framing = madeFraming
            reconnect = madeReconnect
        }
        let body = stream.body
        self.stream = stream
        machine.streamAttached()
        // Bytes after the head are body (or the next request): the stream takes what is body.
        let early = inbound
        inbound = []
        if reconnect != nil, !body.hasBody {
            if reattach(stream) { return }
            stream.start()
            return
        }
        // A reconnect with a body is held like a chunked one: its digest decides whether it attaches.
        guard framing == .chunked || reconnect != nil else {
            stream.start()
            if !early.isEmpty, self.stream === stream { handBodyToStream(early, stream) }
            return
        }
        // A chunked body can be malformed or too large: it is checked (and held) before the upstream sees
        // anything; the connect starts once it is complete, or once more than `max_buffer_size` is held (a large
        // upload then streams, and a later error aborts the upstream connection mid-body).
        machine.checkingBody(now: EventLoop.now())
        updateDeadline()
        handBodyToStream(early, stream)
    }

    /// Answers a CORS preflight (`cors_allow_origin`) here: `204` with `fields`, the access record (counted in
    /// `route`'s figures), and the connection kept alive as after any response.
    private func answerPreflight(_ head: RequestHead, fields: [HTTPField], route: Route) {
        let keepAlive = ClientResponseBuilder.clientWantsKeepAlive(head) && !runtime.draining.load(ordering: .relaxed)
        let bytes = CORSPolicy.preflightResponse(fields, clientVersion: head.version, keepAlive: keepAlive)
        if case .failed(let code) = client.write(bytes) {
            clientGone(reason: "write to client failed: \(SocketError.message(errno: code))", errno: code)
            return
        }
        writeAccess(.ownAnswer(client: clientAddress, method: head.method, path: head.path, status: 204,
                               bytesSent: bytes.count, end: .completed, reason: CORSPolicy.preflightReason),
                    counting: loop.routeMetrics(route))
        guard machine.responseComplete(now: EventLoop.now(), keepAlive: keepAlive, pendingBytes: client.pendingByteCount) else {
            closeGracefully()
            return
        }
        updateDeadline()
    }

    /// Gives bytes that arrived with or before the stream's start to it; what is not body is kept as pipelined.
    private func handBodyToStream(_ bytes: [UInt8], _ stream: ProxyStream) {
        bytes.withUnsafeBytes { raw in
            let used = stream.requestBodyBytes(raw)
            if used < raw.count, self.stream === stream { keepPipelined(UnsafeRawBufferPointer(rebasing: raw[used...])) }
        }
        checkedBodyBytesArrived()
    }

    /// Bytes during the body check: fed to the stream, and the connect starts once the check allows it.
    func checkedBodyBytesArrived() {
        guard let stream, case .receivingBody = machine.state,
              stream.body.isComplete || stream.pendingUpstreamBody.count > limits.maxBufferedBytes
        else { return }
        machine.streamAttached()
        if stream.ride?.reconnect != nil, stream.body.isComplete, reattach(stream) { return }
        stream.start()
    }

    /// A reconnect that names a ridden-through stream: attached to it when it matches (its own stream, which never
    /// started, is discarded). False when it is served as the new request it is.
    private func reattach(_ candidate: ProxyStream) -> Bool {
        guard case .attached(let old) = ProxyStream.reattach(candidate, client: self) else { return false }
        if stream === candidate { stream = old }
        return true
    }

    // MARK: StreamClient

    var pendingClientBytes: Int { client.pendingByteCount }

    func writeToClient(_ output: borrowing RelayOutput) -> Bool {
        let outcome = output.withUnsafeBytes { client.write($0) }
        if case .failed(let code) = outcome {
            lastWriteError = code
            return false
        }
        return true
    }

    func writeToClient(_ bytes: [UInt8]) -> Bool {
        if case .failed(let code) = client.write(bytes) {
            lastWriteError = code
            return false
        }
        return true
    }

    func clientWriteFailed() {
        clientGone(reason: "write to client failed: \(SocketError.message(errno: lastWriteError))", errno: lastWriteError)
    }

    func clientSendProgress(knownAcked: UInt64) -> SendProgress? {
        guard var progress = Socket.sendProgress(client.fd, knownAcked: knownAcked) else { return nil }
        progress.outstandingBytes += client.pendingByteCount
        return progress
    }

    func clientReadingPaused(_ paused: Bool, sendTimeout: Duration?) {
        guard let ackTimeout = limits.clientAckTimeout, paused != ackTimeoutHeldOff else { return }
        ackTimeoutHeldOff = paused
        // While paused the kernel's timer is off: the send watch, which started this, bounds the pause (a client
        // that then vanishes acknowledges nothing either, and is cut by it just the same).
        Socket.setUserTimeout(client.fd, paused ? .zero : TimeAmount(ackTimeout))
    }

    func pauseClientReading() { client.pauseReading() }

    func resumeClientReading() { client.resumeReading() }

    func streamCompleted(keepAlive: Bool) {
        stream = nil
        guard machine.responseComplete(now: EventLoop.now(), keepAlive: keepAlive, pendingBytes: client.pendingByteCount) else {
            closeGracefully()
            return
        }
        client.resumeReading()
        updateDeadline()
        processInbound()
    }

    func streamAborted() {
        stream = nil
        finish()
    }

    func streamDetached() {
        stream = nil
        closeGracefully()
    }

    func streamTakenOver() {
        stream = nil
        finish()
    }

    // MARK: Endings

    /// The client closed, reset, or could not be written to: the stream (if any) drops its upstream at once, then
    /// the connection finishes. `errno` (when a socket call failed) tells a client that stopped acknowledging
    /// (`client_ack_timeout`) from one that left.
    func clientGone(reason: String, errno code: Int32 = 0) {
        guard !machine.isFinished else { return }
        if machine.isClosing {
            finish()
            return
        }
        if let stream {
            self.stream = nil
            let vanished = SocketError.isPeerTimeout(errno: code)
            stream.clientGone(reason: vanished ? "the client stopped acknowledging (client_ack_timeout): \(reason)" : reason,
                              end: vanished ? .clientDead : .clientClosed)
        }
        if probe != nil { probeCut(reason: reason) }
        finish()
    }

    /// Ends the connection: the socket torn down, unregistered from the loop (the stream, if any, ends too).
    func finish() {
        guard !machine.isFinished else { return }
        machine.finish()
        if let stream {
            self.stream = nil
            stream.clientGone(reason: "connection closed")
        }
        client.abort()
        inbound = []
        loop.endSession(self)
        runtime.release(host: clientHost)
    }

    /// Ends the connection politely: what was written still reaches the client, then a FIN, then the connection
    /// lingers (reading and discarding) until the client closes or the closing deadlines pass.
    func closeGracefully() {
        guard !machine.isFinished else { return }
        inbound = []
        machine.close(now: EventLoop.now(), pendingBytes: client.pendingByteCount)
        client.resumeReading()
        client.shutdownWriteAfterFlush()
        updateDeadline()
    }

    /// Answers a request that got no stream with a short plain-text error and closes politely.
    func respondError(status: Int, detail: String, end: RequestEnd, method: String? = nil, path: String? = nil) {
        guard !machine.isFinished, !machine.isClosing else { return }
        if let stream {
            stream.respondError(status: status, detail: detail, end: end)
            return
        }
        if end == .rejected || status == 408 { loop.metrics.process.countRejection(RejectionReason(status: status)) }
        let bytes = ErrorResponse.bytes(status: status, detail: detail)
        _ = client.write(bytes)
        writeAccess(.ownAnswer(client: clientAddress, method: method ?? "-", path: path ?? "-", status: status,
                               bytesSent: bytes.count, end: end, reason: detail), counting: loop.metrics.unrouted)
        closeGracefully()
    }

    /// Counts a finished request in `metrics` (its status class) and writes its access record.
    func writeAccess(_ record: AccessLogRecord, counting metrics: RouteMetrics) {
        metrics.counters.countRequest(status: record.status)
        loop.context(of: runtime).accessLog.write(record)
    }

    /// Ends this connection politely because the process is draining: an idle kept-alive connection closes, a
    /// request in flight finishes with `Connection: close`, and an SSE stream gets `retry:` at its next event
    /// boundary after its turn (`ending`, drawn for it from `drain_spread`), then a clean end. From now on a
    /// closing connection does not linger once its response is flushed and half-closed (one lingering already
    /// closes now), so the drain ends as soon as every response is complete. Call on the loop queue.
    func drain(ending: DrainSpread.Ending) {
        machine.stopLingering(now: EventLoop.now())
        updateDeadline()
        if let stream {
            stream.drain(ending: ending)
            return
        }
        switch machine.state {
        case .idle where machine.requestCount == 0:
            // Accepted just now (the listener hands over its queue before closing): its request is coming and
            // is answered with `Connection: close`; `client_header_timeout` still bounds the wait.
            break
        case .idle, .probing:
            probe = nil
            closeGracefully()
        default:
            break
        }
    }

    func drain(spread: DrainSpread) {
        drain(ending: spread.ending(endJitter: .random(in: 0..<1), retryJitter: .random(in: 0..<1)))
    }

    /// The row of this connection's stream in `/streams`, if it streams an SSE response.
    func streamRows(now: UInt64) -> [StreamRow] {
        stream?.streamRow(now: now).map { [$0] } ?? []
    }
}

import Glibc
import SSEKeeperCore

/// One client connection: reads requests, routes them, relays each to an upstream connection, and streams the
/// response back — with heartbeats for SSE, back-pressure both ways, and teardown of the upstream the moment the
/// client goes away.
///
/// Confinement: created on `loop.queue` and every method runs there (socket handlers, deadlines). It stays alive
/// through `loop.sessions` until `finish()`.
final class ProxySession: SocketChannelHandler, DeadlineTarget {
    /// Where the connection stands.
    enum Phase: Equatable {
        /// Waiting for the first request, or between keep-alive requests (no byte of the next one yet).
        case idle
        /// Part of a request head has arrived.
        case readingHead
        /// A chunked request body is being received and checked before anything goes upstream.
        case receivingBody
        /// Connecting to an upstream server.
        case connecting
        /// The request was sent (its body may still be flowing); no response head yet.
        case awaitingResponse
        /// The response head went to the client; the body is flowing.
        case streaming
        /// Serving the probe endpoint: silent until the deadline.
        case probing
        /// The last response is written: flushing it, then `shutdown(SHUT_WR)`, then reading and discarding until
        /// the client closes (so a client still sending does not turn the close into a reset that eats the response).
        case closing
        /// Closed; nothing more happens.
        case finished
    }

    let runtime: ProxyRuntime
    /// The configuration of the current request: taken from `runtime` when a request starts, so a reload applies
    /// to the next request while this one keeps what it started with.
    var context: ProxyContext
    let loop: EventLoop
    let client: SocketChannel
    let clientHost: String
    let clientAddress: String
    var upstream: SocketChannel?
    var phase: Phase = .idle
    var exchange: Exchange?
    /// The probe response in flight, in phase `.probing`.
    var probe: ProbeState?

    /// Client bytes not consumed yet: a request head being assembled, or pipelined requests.
    var inbound: [UInt8] = []
    /// Requests started on this connection so far.
    var requestCount = 0
    var headParser: HeadParser
    private var processingInbound = false

    /// The deadline this session wants now (0: none), and the earliest one it has in the loop's heap.
    var deadline: UInt64 = 0
    private var scheduledDeadline: UInt64 = .max

    var limits: Limits { context.config.limits }

    /// How long a closing connection may take to flush its last bytes to a slow client.
    static let closingFlushNanos: UInt64 = 30_000_000_000
    /// How long a closing connection lingers, once flushed, for the client to close its side.
    static let closingLingerNanos: UInt64 = 5_000_000_000

    /// `peer` is the client's address; the runtime has admitted the connection under `peer?.host`.
    init(fd: Int32, peer: SocketAddress?, loop: EventLoop, runtime: ProxyRuntime) {
        self.runtime = runtime
        self.context = runtime.context
        self.loop = loop
        client = SocketChannel(fd: fd, loop: loop)
        clientHost = peer?.host ?? "unknown"
        clientAddress = peer?.description ?? "unknown"
        headParser = HeadParser(maxHeaderBytes: context.config.limits.maxHeaderBytes)
    }

    /// Registers with the loop and starts reading. Call on the loop queue.
    func start() {
        loop.sessions[ObjectIdentifier(self)] = self
        client.handler = self
        client.start()
        setDeadline(EventLoop.now() + limits.clientHeaderTimeout.nanoseconds)
    }

    // MARK: Deadlines

    /// Sets the deadline this session wants; the heap gets a new entry only when it is earlier than the one it has.
    func setDeadline(_ newDeadline: UInt64) {
        deadline = newDeadline
        guard newDeadline != 0, newDeadline < scheduledDeadline else { return }
        scheduledDeadline = newDeadline
        loop.schedule(self, at: newDeadline)
    }

    func deadlineReached(_ entryDeadline: UInt64, now loopNow: UInt64) {
        if entryDeadline == scheduledDeadline { scheduledDeadline = .max }
        guard phase != .finished, deadline != 0 else { return }
        // The loop pops entries up to its slack early; an entry it pops counts as reached, or a target that
        // re-inserts "not yet" inside the slack would be popped again in the same sweep, forever.
        let now = max(loopNow, entryDeadline)
        if exchange?.resume != nil {
            resumeTick(now: now)
            return
        }
        if deadline > now {
            setDeadline(deadline)
            return
        }
        switch phase {
        case .idle:
            finish()
        case .readingHead:
            respondError(status: 408, detail: "the request head did not arrive within \(ConfigValue.formatDuration(limits.clientHeaderTimeout))", end: .timeout)
        case .receivingBody:
            respondError(status: 408, detail: "the chunked request body did not arrive within \(ConfigValue.formatDuration(limits.clientHeaderTimeout))", end: .timeout)
        case .connecting:
            upstreamConnectTimedOut()
        case .awaitingResponse:
            respondError(status: 504, detail: "upstream \(exchange?.server ?? "") sent no response head within \(ConfigValue.formatDuration(limits.upstreamHeaderTimeout))", end: .timeout)
        case .streaming:
            heartbeatDue(now: now)
        case .probing:
            finishProbe(now: now)
        case .closing, .finished:
            finish()
        }
    }

    // MARK: Socket events

    func channelReadable(_ channel: SocketChannel) {
        if channel === client {
            clientReadable()
        } else if channel === upstream {
            upstreamReadable()
        }
    }

    func channelConnected(_ channel: SocketChannel, error: Int32) {
        guard channel === upstream else { return }
        upstreamConnected(error: error)
    }

    func channelDrained(_ channel: SocketChannel) {
        if channel === client, phase == .closing {
            setDeadline(EventLoop.now() + Self.closingLingerNanos)
        } else if channel === client {
            upstream?.resumeReading()
        } else if channel === upstream, phase != .connecting {
            client.resumeReading()
        }
    }

    func channelWriteFailed(_ channel: SocketChannel, error: Int32) {
        if channel === client {
            clientGone(reason: "write to client failed: \(String(cString: strerror(error)))")
        } else if channel === upstream {
            upstreamBroke(reason: "write to upstream failed: \(String(cString: strerror(error)))")
        }
    }

    private func clientReadable() {
        while phase != .finished && !client.isReadingPaused {
            switch client.read() {
            case .bytes(let count):
                if phase == .closing { continue }
                clientBytes(UnsafeRawBufferPointer(rebasing: loop.readBuffer[..<count]))
                if count < loop.readBuffer.count { return }
            case .wouldBlock:
                return
            case .endOfFile:
                if phase == .closing { finish() } else { clientGone(reason: "client closed the connection") }
                return
            case .failed(let code):
                if phase == .closing { finish() } else { clientGone(reason: "client connection failed: \(String(cString: strerror(code)))") }
                return
            }
        }
    }

    /// Routes client bytes by phase: head assembly, request body, or pipelined data.
    private func clientBytes(_ bytes: UnsafeRawBufferPointer) {
        switch phase {
        case .idle, .readingHead:
            inbound.append(contentsOf: bytes)
            processInbound()
        case .receivingBody:
            inbound.append(contentsOf: bytes)
            checkChunkedBody(bytes)
        case .connecting:
            inbound.append(contentsOf: bytes)
            if inbound.count > limits.maxBufferedBytes { client.pauseReading() }
        case .probing:
            keepPipelined(bytes)
        case .awaitingResponse, .streaming:
            if let exchange, !exchange.requestBodyDone {
                forwardRequestBody(bytes)
            } else {
                keepPipelined(bytes)
            }
        case .closing, .finished:
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
            exchange?.clientWantsKeepAlive = false
            exchange?.keepAlive = false
        }
    }

    /// Parses request heads out of `inbound` while the connection is between requests.
    func processInbound() {
        guard !processingInbound else { return }
        processingInbound = true
        defer { processingInbound = false }
        while phase == .idle || phase == .readingHead, !inbound.isEmpty {
            if phase == .idle {
                context = runtime.context
                phase = .readingHead
                setDeadline(EventLoop.now() + limits.clientHeaderTimeout.nanoseconds)
            }
            let result: HeadParseResult<RequestHead>
            do {
                result = try inbound.withUnsafeBytes { try headParser.parseRequest($0) }
            } catch {
                respondError(status: (error as? HTTPParseError)?.status ?? 400, detail: "\(error)", end: .rejected)
                return
            }
            guard case .complete(let head, let consumed) = result else { return }
            inbound.removeFirst(consumed)
            headParser = HeadParser(maxHeaderBytes: limits.maxHeaderBytes)
            startExchange(head)
        }
    }

    /// Routes a parsed request and starts connecting upstream.
    private func startExchange(_ head: RequestHead) {
        requestCount += 1
        if let probePath = context.config.probe.path, head.path == probePath {
            startProbe(head)
            return
        }
        let framing: BodyFraming
        do {
            framing = try head.bodyFraming()
        } catch {
            respondError(status: error.status, detail: error.description, end: .rejected, method: head.method, path: head.path)
            return
        }
        guard let route = context.router.route(forPath: head.path) else {
            respondError(status: 404, detail: "no route for \(head.path)", end: .completed, method: head.method, path: head.path)
            return
        }
        if let maxBody = limits.maxBodyBytes, case .contentLength(let length) = framing, length > UInt64(maxBody) {
            respondError(status: 413, detail: "request body of \(length) bytes is larger than max_body_size \(maxBody)", end: .rejected, method: head.method, path: head.path)
            return
        }
        let body: Exchange.RequestBodyState
        switch framing {
        case .none, .closeDelimited: body = .none
        case .contentLength(let length): body = length == 0 ? .none : .remaining(length)
        case .chunked: body = .chunked(ChunkedDecoder())
        }
        let keepsConnections = (context.upstreams[route.upstreamName]?.keepalive ?? 0) > 0
        let upstreamHead = UpstreamRequestBuilder.build(
            head, framing: framing, clientAddress: clientHost, clientProtocol: "http", keepAlive: keepsConnections)
        let exchange = Exchange(
            startedAt: EventLoop.now(), head: head, route: route, upstreamHead: upstreamHead,
            attemptOrder: context.attemptOrder(for: route.upstreamName, now: EventLoop.now()), requestBody: body,
            maxHeaderBytes: limits.maxHeaderBytes, metrics: loop.metrics.route(route.prefix))
        if runtime.draining.load(ordering: .relaxed) { exchange.clientWantsKeepAlive = false }
        if route.settings.upstreamResume != .off, case .none = body { exchange.requestHead = head }
        self.exchange = exchange
        guard case .chunked = body else {
            connectNextServer()
            return
        }
        // A chunked body can be malformed or too large; check it before the upstream sees anything.
        exchange.bodyCheck = ChunkedDecoder()
        phase = .receivingBody
        setDeadline(EventLoop.now() + limits.clientHeaderTimeout.nanoseconds)
        let received = inbound
        received.withUnsafeBytes { checkChunkedBody($0) }
    }

    /// Runs newly received chunked body bytes through a checking decoder. The upstream connection starts once the
    /// whole body is known to be valid, or once more than `max_buffer_size` is buffered (a large upload then
    /// streams, and a later error aborts the upstream connection mid-body). 400/413 when invalid or too large.
    private func checkChunkedBody(_ bytes: UnsafeRawBufferPointer) {
        guard let exchange, var check = exchange.bodyCheck else { return }
        var decoded = exchange.checkedBodyBytes
        let finished: Bool
        do {
            finished = try check.decode(bytes) { decoded += UInt64($0.count) }.finished
        } catch {
            respondError(status: 400, detail: "invalid chunked request body: \(error)", end: .rejected)
            return
        }
        exchange.checkedBodyBytes = decoded
        if let maxBody = limits.maxBodyBytes, decoded > UInt64(maxBody) {
            respondError(status: 413, detail: "chunked request body is larger than max_body_size \(maxBody)", end: .rejected)
            return
        }
        exchange.bodyCheck = check
        if finished || inbound.count > limits.maxBufferedBytes {
            exchange.bodyCheck = nil
            connectNextServer()
        }
    }

    /// Forwards request body bytes upstream, by the request's framing; what follows the body is pipelined.
    func forwardRequestBody(_ bytes: UnsafeRawBufferPointer) {
        guard let exchange, let upstream else { return }
        var rest = bytes
        switch exchange.requestBody {
        case .none, .done:
            break
        case .remaining(let remaining):
            let take = Int(min(UInt64(bytes.count), remaining))
            _ = upstream.write(UnsafeRawBufferPointer(rebasing: bytes[..<take]))
            exchange.requestBody = remaining - UInt64(take) == 0 ? .done : .remaining(remaining - UInt64(take))
            rest = UnsafeRawBufferPointer(rebasing: bytes[take...])
        case .chunked(var decoder):
            let maxBody = limits.maxBodyBytes.map(UInt64.init) ?? .max
            var tooLarge = false
            do {
                let (consumed, finished) = try decoder.decode(bytes) { data in
                    exchange.requestBodyBytes += UInt64(data.count)
                    guard exchange.requestBodyBytes <= maxBody else {
                        tooLarge = true
                        return
                    }
                    var framed: [UInt8] = []
                    ChunkedEncoder.appendChunk(data, to: &framed)
                    _ = upstream.write(framed)
                }
                // Too large or malformed: the upstream has only seen a truncated chunked body, and its connection is
                // aborted below, so it never receives a complete request it could act on.
                guard !tooLarge else {
                    respondError(status: 413, detail: "chunked request body is larger than max_body_size \(maxBody)", end: .rejected)
                    return
                }
                exchange.requestBody = finished ? .done : .chunked(decoder)
                if finished { _ = upstream.write(ChunkedEncoder.lastChunk) }
                rest = UnsafeRawBufferPointer(rebasing: bytes[consumed...])
            } catch {
                respondError(status: 400, detail: "invalid chunked request body: \(error)", end: .rejected)
                return
            }
        }
        keepPipelined(rest)
        if upstream.pendingByteCount > limits.maxBufferedBytes { client.pauseReading() }
    }

    /// The client closed, reset, or could not be written to: drop the upstream at once and finish.
    func clientGone(reason: String) {
        guard phase != .finished else { return }
        dropUpstreamAfterClientClose()
        if phase == .probing { probeCut(reason: reason) }
        if let exchange, phase != .idle, phase != .readingHead, phase != .closing {
            if phase == .streaming, exchange.isSSE { noteQuietClientClose(exchange) }
            logAccess(exchange, status: exchange.headSent ? exchange.status : 499, end: .clientClosed, reason: reason)
        }
        finish()
    }

    /// A client-side close that comes while the upstream has been quiet for at least one heartbeat interval is
    /// worth a warning: if such closes cluster at one stream age, something between the clients and ssekeeper
    /// cuts streams (an idle timeout shorter than `idle_timeout`, or one that heartbeats do not reset).
    private func noteQuietClientClose(_ exchange: Exchange) {
        let now = EventLoop.now()
        let quiet = now &- exchange.lastUpstreamBytesAt
        let interval = exchange.route.settings.heartbeatInterval.nanoseconds
        guard quiet >= interval else { return }
        exchange.metrics.counters.quietClientCloses &+= 1
        exchange.metrics.counters.quietCloseAge.observe(nanos: now &- exchange.startedAt)
        let route = exchange.route.prefix
        switch loop.quietCloseWarnings.take(now: now) {
        case .log(let suppressedBefore):
            let left = suppressedBefore == 0 ? "" : " (\(suppressedBefore) more such closes were not logged before this one)"
            context.logger.warn("route \(route): the client side closed a stream \(AccessLogRecord.seconds(now &- exchange.startedAt)) "
                + "after it started, while the upstream had been quiet for \(AccessLogRecord.seconds(quiet)) "
                + "(heartbeat interval \(AccessLogRecord.seconds(interval)), \(exchange.heartbeats?.sent ?? 0) heartbeats sent); "
                + "if such closes cluster at one duration, an intermediary is cutting streams\(left)")
        case .suppressFirst(let until):
            context.logger.warn("route \(route): the client side closed a stream while the upstream was quiet, again; "
                + "further such warnings are left out for \(AccessLogRecord.seconds(until &- now)) "
                + "(ssekeeper_quiet_client_closes_total counts them all)")
        case .suppress:
            break
        }
    }

    /// Ends the session: both sockets torn down, deadline dropped, unregistered from the loop.
    func finish() {
        guard phase != .finished else { return }
        phase = .finished
        deadline = 0
        dropUpstream()
        client.abort()
        exchange = nil
        inbound = []
        loop.sessions[ObjectIdentifier(self)] = nil
        runtime.release(host: clientHost)
    }

    /// Ends the session politely: what was written still reaches the client, then a FIN, then the connection
    /// lingers (reading and discarding) until the client closes or the closing deadlines pass.
    func finishGracefully() {
        guard phase != .finished, phase != .closing else { return }
        dropUpstream()
        exchange = nil
        inbound = []
        phase = .closing
        client.resumeReading()
        client.shutdownWriteAfterFlush()
        let now = EventLoop.now()
        setDeadline(now + (client.pendingByteCount == 0 ? Self.closingLingerNanos : Self.closingFlushNanos))
    }

    func dropUpstream() {
        upstream?.abort()
        upstream = nil
    }

    /// Answers with a short plain-text error and closes the connection (or, when the response head already went
    /// out, breaks the connection so the client knows the response is incomplete).
    func respondError(status: Int, detail: String, end: RequestEnd, method: String? = nil, path: String? = nil) {
        guard phase != .finished else { return }
        if resumeAttemptFailed(detail) { return }
        dropUpstream()
        if end == .rejected || status == 408 { loop.metrics.process.countRejection(RejectionReason(status: status)) }
        if let exchange, exchange.headSent {
            logAccess(exchange, status: exchange.status, end: end, reason: detail)
            finish()
            return
        }
        let bytes = ErrorResponse.bytes(status: status, detail: detail)
        _ = client.write(bytes)
        if let exchange {
            exchange.bytesSent += UInt64(bytes.count)
            logAccess(exchange, status: status, end: end, reason: detail)
        } else {
            writeAccess(AccessLogRecord(
                client: clientAddress, method: method ?? "-", path: path ?? "-", status: status,
                bytesSent: UInt64(bytes.count), durationNanos: 0, heartbeatsSent: 0, heartbeatsSkipped: 0,
                end: end, upstream: nil, reason: detail), counting: loop.metrics.unrouted)
        }
        finishGracefully()
    }

    func logAccess(_ exchange: Exchange, status: Int, end: RequestEnd, reason: String?) {
        writeAccess(AccessLogRecord(
            client: clientAddress, method: exchange.method, path: exchange.path, status: status,
            bytesSent: exchange.bytesSent, durationNanos: EventLoop.now() &- exchange.startedAt,
            heartbeatsSent: exchange.heartbeats?.sent ?? 0, heartbeatsSkipped: exchange.heartbeats?.skipped ?? 0,
            end: end, upstream: exchange.server, reason: reason,
            longestUpstreamGapNanos: exchange.isSSE ? max(exchange.longestUpstreamGapNanos, EventLoop.now() &- exchange.lastUpstreamBytesAt) : nil,
            route: exchange.route.prefix,
            resumes: exchange.route.settings.upstreamResume != .off ? exchange.resumeCount : nil), counting: exchange.metrics)
    }
}

extension Duration {
    /// Whole nanoseconds (negative durations count as zero).
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}

import SSEKeeperCore

/// One HTTP/2 stream as the `StreamClient` of its `ProxyStream`: it maps the request head to an HTTP/1.1 one
/// (`HTTP2RequestMapping`), feeds the request body to the stream (as chunks when it has no `content-length`),
/// and turns what the stream writes into HEADERS and DATA (`HTTP2ResponseTranslator`), within the client's flow
/// control windows.
///
/// Back-pressure: bytes the windows do not take yet wait here (`held`) and count as the client's backlog
/// (`pendingClientBytes`), so past `max_buffer_size` the stream stops reading its own upstream, and only its
/// own; `.windowOpened` sends them and lets the upstream be read again. A heartbeat is skipped while bytes wait
/// (the stream is not silent). A stream whose window stays shut is judged by `client_send_timeout` like a client
/// that stopped reading (`clientSendProgress`).
///
/// Endings: the response's end is END_STREAM; a response that cannot be completed (upstream broke after the
/// head) is RST_STREAM INTERNAL_ERROR, so the client knows it is incomplete; a client's RST_STREAM ends the stream
/// like a closed HTTP/1.1 connection (the upstream dropped at once, or the stream rides through).
///
/// Confinement: the connection's loop.
final class HTTP2StreamClient: StreamClient, DeadlineTarget {
    /// Its place in the loop's deadline heap (`DeadlineTarget`).
    var deadlineSlot = -1
    let id: UInt32
    /// The connection; the adapter is dropped from its `streams` when it finishes (which breaks the cycle).
    private(set) var connection: HTTP2Connection?
    /// The stream while attached.
    private(set) var stream: ProxyStream?
    private var translator: HTTP2ResponseTranslator
    /// Response body bytes waiting for the flow-control windows, and whether END_STREAM follows them.
    private var held: [UInt8] = []
    private var endAfterHeld = false
    /// Body bytes the windows took (the stream's acknowledged total for the send watch).
    private var acceptedBytes: UInt64 = 0
    /// Whether the request body is encoded as chunks for the stream (no `content-length`).
    private var chunksBody = false
    /// Whether the request body is checked (held) before the upstream connect, as for HTTP/1.1 chunked bodies.
    private var checkingBody = false
    /// Whether the client ended its request (END_STREAM).
    private var requestEnded = false
    /// Whether our END_STREAM or RST_STREAM went out.
    private var responseEnded = false
    /// Whether the stream asked to stop reading the client (its body cannot go anywhere yet), and the request body
    /// bytes taken meanwhile, not yet returned to the client's window: the window is the back-pressure.
    private var bodyPaused = false
    private var unreturnedBodyBytes = 0

    let clientEndpoint: ClientAddress
    let clientProtocol: String

    /// The connection's loop (kept after the connection lets go, to take the held-body deadline out of its heap).
    private let loop: EventLoop

    init(id: UInt32, connection: HTTP2Connection) {
        self.id = id
        self.connection = connection
        loop = connection.loop
        clientEndpoint = connection.clientEndpoint
        clientProtocol = connection.clientProtocol
        translator = HTTP2ResponseTranslator(maxHeadBytes: max(connection.limits.maxHeaderBytes, 16_384) * 2)
    }

    // MARK: The request

    /// The client opened the stream with `fields` (checked by the machine); `endStream`: no body follows.
    func open(_ fields: [HPACKHeaderField], endStream: Bool) {
        guard let connection else { return }
        requestEnded = endStream
        let context = connection.loop.context(of: connection.runtime)
        let limits = context.config.limits
        let head: RequestHead
        do {
            head = try HTTP2RequestMapping.requestHead(fields, hasBody: !endStream, maxHeaderBytes: limits.maxHeaderBytes)
        } catch {
            answer(status: error.status, detail: error.detail, end: .rejected, method: "-", path: "-")
            return
        }
        let reconnect: StampedEventID?
        let stream: ProxyStream
        switch RequestStart.make(head, client: self, context: context, loop: connection.loop, runtime: connection.runtime) {
        case .probe:
            // The probe measures one HTTP/1.1 connection's path: RFC 9113 §8.1 lets us ask for HTTP/1.1.
            reset(.http11Required)
            return
        case .answer(let status, let detail, let end):
            answer(status: status, detail: detail, end: end, method: head.method, path: head.path)
            return
        case .preflight(let fields, let route):
            let bytes = CORSPolicy.preflightResponse(fields, clientVersion: .http2, keepAlive: true)
            _ = writeToClient(bytes)
            endResponse()
            writeAccess(.ownAnswer(client: clientAddress, method: head.method, path: head.path, status: 204,
                                   bytesSent: bytes.count, end: .completed, reason: CORSPolicy.preflightReason),
                        counting: connection.loop.routeMetrics(route))
            return
        case .stream(let made, let framing, let madeReconnect):
            stream = made
            reconnect = madeReconnect
            chunksBody = framing == .chunked
        }
        self.stream = stream
        if endStream {
            if reconnect != nil, reattach(stream) { return }
            stream.start()
            return
        }
        // A body without a length, or a reconnect's body (its digest decides whether it attaches), is held until
        // complete or past `max_buffer_size`, as over HTTP/1.1.
        if chunksBody || reconnect != nil {
            checkingBody = true
            // As over HTTP/1.1, `client_header_timeout` bounds the wait for a held body.
            connection.loop.schedule(self, at: EventLoop.now() &+ TimeAmount(limits.clientHeaderTimeout).nanoseconds)
        } else {
            stream.start()
        }
    }

    /// Request body bytes (a DATA frame's payload) and whether the request ends with them.
    func requestData(_ bytes: [UInt8], endStream: Bool) {
        if endStream { requestEnded = true }
        defer { consumed(bytes.count) }
        guard let stream, !stream.isEnded else { return }
        var input: [UInt8] = []
        if chunksBody {
            if !bytes.isEmpty { bytes.withUnsafeBytes { ChunkedEncoder.appendChunk($0, to: &input) } }
            if endStream { input += ChunkedEncoder.lastChunk }
        } else {
            input = bytes
        }
        if !input.isEmpty { input.withUnsafeBytes { _ = stream.requestBodyBytes($0) } }
        if checkingBody, self.stream === stream,
           stream.body.isComplete || stream.pendingUpstreamBody.count > (connection?.limits.maxBufferedBytes ?? 0) {
            stopCheckingBody()
            if stream.ride?.reconnect != nil, stream.body.isComplete, reattach(stream) { return }
            stream.start()
        }
    }

    /// The held body is complete (or the adapter ends): its deadline leaves the loop's heap, which would otherwise
    /// keep the adapter alive until `client_header_timeout`.
    private func stopCheckingBody() {
        guard checkingBody else { return }
        checkingBody = false
        loop.cancelDeadline(self)
    }

    /// `client_header_timeout` after the head: a body still held is answered 408.
    func deadlineReached(_ deadline: UInt64, now: UInt64) {
        guard checkingBody, let stream, !stream.isEnded else { return }
        checkingBody = false
        stream.respondError(status: 408, detail: "the request body did not arrive within "
            + ConfigValue.formatDuration(stream.limits.clientHeaderTimeout), end: .timeout)
    }

    /// `count` body bytes were handed to the stream (or dropped): returned to the client's window now, or when the
    /// stream reads the client again.
    private func consumed(_ count: Int) {
        guard count > 0, let connection else { return }
        if bodyPaused, stream != nil {
            unreturnedBodyBytes += count
            return
        }
        connection.performForStream(connection.machine.bodyConsumed(stream: id, count: count))
    }

    /// A reconnect that names a ridden-through stream: attached to it when it matches. False when it is served as
    /// the new request it is.
    private func reattach(_ candidate: ProxyStream) -> Bool {
        guard case .attached(let old) = ProxyStream.reattach(candidate, client: self) else { return false }
        if stream === candidate { stream = old }
        return true
    }

    /// Answers the stream with an error of ssekeeper's own (no `ProxyStream` exists), logged and counted.
    private func answer(status: Int, detail: String, end: RequestEnd, method: String, path: String) {
        guard let connection else { return }
        if end == .rejected { connection.loop.metrics.process.countRejection(RejectionReason(status: status)) }
        let bytes = ErrorResponse.bytes(status: status, detail: detail)
        _ = writeToClient(bytes)
        endResponse()
        writeAccess(.ownAnswer(client: clientAddress, method: method, path: path, status: status, bytesSent: bytes.count,
                               end: end, reason: detail), counting: connection.loop.metrics.unrouted)
    }

    /// Counts an answer of ssekeeper's own in `metrics` and writes its access record, marked `protocol=h2`.
    private func writeAccess(_ record: AccessLogRecord, counting metrics: RouteMetrics) {
        var record = record
        record.protocolName = "h2"
        metrics.counters.countRequest(status: record.status)
        if let connection { connection.loop.context(of: connection.runtime).accessLog.write(record) }
    }

    // MARK: The response

    var pendingClientBytes: Int { held.count + (connection?.client.pendingByteCount ?? 0) }

    func writeToClient(_ output: borrowing RelayOutput) -> Bool {
        // Through `storage` rather than `RelayOutput.withUnsafeBytes`: that generic lives in another module and is
        // not specialized here, so each event paid a generic call and a metadata lookup.
        let (start, end) = (output.start, output.end)
        return output.storage.withUnsafeBytes { send(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }

    func writeToClient(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { send($0) }
    }

    /// Sends one write of the stream: its heads as HEADERS, its body as DATA within the windows (the rest held).
    private func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let connection, !connection.hasFailedWrite else { return false }
        guard !responseEnded else { return true }  // reset by us: what the stream still writes goes nowhere
        var bodyStart = 0
        if !translator.isInBody {
            let pieces: HTTP2ResponseTranslator.Pieces
            do {
                pieces = try translator.take(bytes)
            } catch {
                connection.runtime.logger.error("HTTP/2 stream \(id): the response head does not translate: \(error)")
                reset(.internalError)
                return true
            }
            for head in pieces.heads {
                connection.performForStream(connection.machine.sendHeaders(stream: id, status: head.status, fields: head.fields, endStream: false))
            }
            bodyStart = pieces.bodyStart
        }
        guard bodyStart < bytes.count else { return !connection.hasFailedWrite }
        let body = UnsafeRawBufferPointer(rebasing: bytes[bodyStart...])
        if !held.isEmpty {
            held.append(contentsOf: body)
            return !connection.hasFailedWrite
        }
        let result = connection.machine.sendData(stream: id, bytes: body, endStream: false)
        acceptedBytes &+= UInt64(result.accepted)
        if result.accepted < body.count { held.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[result.accepted...])) }
        connection.performForStream(result.actions)
        return !connection.hasFailedWrite
    }

    /// The windows grew: send what waits; once nothing does, the stream may read its upstream again.
    func windowOpened() {
        guard let connection, !held.isEmpty || endAfterHeld else { return }
        if !held.isEmpty {
            let result = held.withUnsafeBytes { connection.machine.sendData(stream: id, bytes: $0, endStream: endAfterHeld) }
            acceptedBytes &+= UInt64(result.accepted)
            held.removeFirst(result.accepted)
            connection.performForStream(result.actions)
            if held.isEmpty && endAfterHeld { finishResponse() }
        }
        if held.isEmpty { stream?.clientDrained() }
    }

    /// The socket took everything queued: a stream with nothing held may read its upstream again.
    func connectionDrained() {
        if held.isEmpty { stream?.clientDrained() }
    }

    func clientWriteFailed() {
        connection?.connectionGone(reason: "write to client failed")
    }

    func clientSendProgress(knownAcked: UInt64) -> SendProgress? {
        guard let connection else { return nil }
        // The stream's progress is what the client's windows took; bytes wait while they stay shut (or while the
        // connection's socket is backlogged, which `client_ack_timeout` watches for the whole connection).
        return SendProgress(ackedBytes: acceptedBytes, outstandingBytes: held.count + connection.client.pendingByteCount,
                            peerWindowClosed: !held.isEmpty)
    }

    /// The kernel's cut is the connection's, shared by its streams: one stream's pause does not change it.
    func clientReadingPaused(_ paused: Bool, sendTimeout: Duration?) {}

    /// The request body cannot go anywhere yet: the stream's receive window (not returned until the body moves
    /// on) holds the client back; the connection's other streams go on.
    func pauseClientReading() { bodyPaused = true }

    func resumeClientReading() {
        guard bodyPaused else { return }
        bodyPaused = false
        let count = unreturnedBodyBytes
        unreturnedBodyBytes = 0
        consumed(count)
    }

    func streamCompleted(keepAlive: Bool) {
        stream = nil
        endResponse()
    }

    func streamAborted() {
        stream = nil
        reset(.internalError)
    }

    func streamDetached() {
        stream = nil
        endResponse()
    }

    func streamTakenOver() {
        stream = nil
        reset(.cancel)
    }

    // MARK: Endings

    /// Ends the response with END_STREAM, after what is held.
    private func endResponse() {
        guard let connection, !responseEnded else { return }
        if !held.isEmpty {
            endAfterHeld = true
            return
        }
        connection.performForStream(connection.machine.sendData(stream: id, bytes: [], endStream: true).actions)
        finishResponse()
    }

    /// END_STREAM went out: a client still sending its body is told to stop (RFC 9113 §8.1: RST_STREAM
    /// NO_ERROR), and the connection forgets the stream.
    private func finishResponse() {
        guard let connection, !responseEnded else { return }
        responseEnded = true
        stopCheckingBody()
        if !requestEnded { connection.performForStream(connection.machine.resetStream(stream: id, code: .noError)) }
        self.connection = nil
        connection.streamFinished(id)
    }

    /// Resets the stream from our side (`code`), without a word to the `ProxyStream` (it asked, or never ran).
    private func reset(_ code: HTTP2ErrorCode) {
        guard let connection, !responseEnded else { return }
        responseEnded = true
        stopCheckingBody()
        held = []
        connection.performForStream(connection.machine.resetStream(stream: id, code: code))
        self.connection = nil
        connection.streamFinished(id)
    }

    /// The client reset the stream (or the machine did, for a stream error): like a closed HTTP/1.1 connection.
    func resetByClient(_ code: HTTP2ErrorCode) {
        responseEnded = true
        stopCheckingBody()
        connection = nil
        held = []
        if let stream {
            self.stream = nil
            stream.clientGone(reason: "the client reset the stream (RST_STREAM \(code))")
        }
    }

    /// The connection ended under the stream.
    func connectionEnded(reason: String, end how: RequestEnd = .clientClosed) {
        responseEnded = true
        stopCheckingBody()
        connection = nil
        held = []
        if let stream {
            self.stream = nil
            stream.clientGone(reason: reason, end: how)
        }
    }

    /// Draining: the stream ends at its turn (`ending`), at an event boundary.
    func drain(ending: DrainSpread.Ending) {
        stream?.drain(ending: ending)
    }
}

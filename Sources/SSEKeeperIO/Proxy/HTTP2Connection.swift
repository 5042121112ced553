import Glibc
import SSEKeeperCore

/// One HTTP/2 client connection (RFC 9113): the socket, the `HTTP2ConnectionMachine` that frames it, and one
/// `HTTP2StreamClient` per client stream, each the `StreamClient` of its own `ProxyStream` (so every stream has its
/// own upstream HTTP/1.1 request, pools, resume and ride-through, exactly as a request over HTTP/1.1 has).
///
/// It starts where an `HTTP1Connection` saw the client connection preface on a listener that offers HTTP/2 (ALPN
/// `h2` on a `tls` listener, or prior knowledge on an `h2c` one) and hands its socket over.
///
/// Liveness: a connection silent past the shortest heartbeat interval gets a PING; one whose PING stays
/// unanswered for `client_ack_timeout` (or 30 s) is cut as a dead peer. A connection without streams closes after
/// `keepalive_timeout` with GOAWAY. Streams keep their own heartbeats (intermediaries time requests, not
/// connections).
///
/// Confinement: created on `loop.queue` and every method runs there. It stays alive through `loop.sessions` until
/// `finish()`.
final class HTTP2Connection: SocketChannelHandler, LoopSession, ClientConnection {
    /// Its place in the loop's deadline heap (`DeadlineTarget`).
    var deadlineSlot = -1
    /// Its place in the loop's sessions (`LoopSession`).
    var sessionSlot = -1
    let runtime: ProxyRuntime
    /// The configuration the connection started with: its HTTP/2 limits and timeouts. Each stream takes the one
    /// running when it opens (a reload applies to the next stream).
    let context: ProxyContext
    let loop: EventLoop
    let client: SocketChannel
    let clientEndpoint: ClientAddress
    var clientAddress: String { clientEndpoint.description }
    /// The host the runtime admitted the connection under.
    var clientHost: String { clientEndpoint.host }
    var machine: HTTP2ConnectionMachine
    /// Live streams by identifier.
    var streams: [UInt32: HTTP2StreamClient] = [:]
    private(set) var isFinished = false
    /// GOAWAY went out (or the machine ended): the socket half-closes once flushed and the connection ends when
    /// the client closes or `closingDeadline` passes.
    private var isClosing = false
    /// A socket write failed: the connection ends once the call that wrote is over.
    private var writeFailure: Int32?
    /// Set while the machine's actions are carried out, so a failure inside them waits for the end of the call.
    private var performing = false

    /// When the client last sent bytes, and when the connection last had a live stream.
    private var lastReadAt: UInt64
    private var idleSince: UInt64
    /// PING a connection silent for this long (the shortest heartbeat interval of the routes).
    private let pingIntervalNanos: UInt64
    /// Cut a connection whose PING is unanswered for this long.
    private let pingTimeoutNanos: UInt64
    /// Close a connection without streams after this long (`keepalive_timeout`).
    private let idleTimeoutNanos: UInt64
    private var closingDeadline: UInt64 = .max
    private var scheduledDeadline: UInt64 = .max

    var limits: Limits { context.config.limits }
    /// `https` or `http`, for `X-Forwarded-Proto`.
    var clientProtocol: String { client.tls == nil ? "http" : "https" }

    /// Takes over `channel` (an `HTTP1Connection`'s, admitted under `clientEndpoint`'s host) with `received`, the bytes read
    /// so far (they start with the client connection preface).
    init(channel: SocketChannel, clientEndpoint: ClientAddress, loop: EventLoop, runtime: ProxyRuntime,
         received: [UInt8]) {
        self.runtime = runtime
        context = loop.context(of: runtime)
        self.loop = loop
        client = channel
        self.clientEndpoint = clientEndpoint
        machine = HTTP2ConnectionMachine(configuration: HTTP2ConnectionConfiguration(limits: context.config.limits))
        let now = EventLoop.now()
        lastReadAt = now
        idleSince = now
        let limits = context.config.limits
        let heartbeats = context.config.routes.map { $0.heartbeatIntervalNanos }
        pingIntervalNanos = max(heartbeats.min() ?? 30_000_000_000, 1_000_000_000)
        pingTimeoutNanos = limits.clientAckTimeout.map { TimeAmount($0).nanoseconds } ?? 30_000_000_000
        idleTimeoutNanos = max(TimeAmount(limits.keepaliveTimeout).nanoseconds, 1_000_000_000)
        self.received = received
    }

    /// The bytes read before the hand-over, served first by `start()`.
    private var received: [UInt8]

    /// Registers with the loop, sends the server preface and serves the bytes read so far. Call on the loop queue.
    func start() {
        loop.sessions.insert(self)
        client.handler = self
        loop.metrics.process.http2Connections &+= 1
        perform(machine.start(now: EventLoop.now()))
        let bytes = received
        received = []
        if !bytes.isEmpty { bytes.withUnsafeBytes { clientBytes($0) } }
        updateDeadline()
    }

    // MARK: Socket events

    func channelReadable(_ channel: SocketChannel) {
        if let end = client.readAvailable(while: { !isFinished }, clientBytes) {
            connectionGone(reason: end.reason, errno: end.errno)
        }
    }

    func channelConnected(_ channel: SocketChannel, error: Int32) {}

    func channelDrained(_ channel: SocketChannel) {
        if isClosing {
            // While draining, a flushed and half-closed connection does not wait for the client (as over HTTP/1.1).
            if runtime.draining.load(ordering: .relaxed) { finish() }
            return
        }
        for adapter in Array(streams.values) { adapter.connectionDrained() }
    }

    func channelWriteFailed(_ channel: SocketChannel, error: Int32) {
        connectionGone(reason: "write to client failed: \(SocketError.message(errno: error))", errno: error)
    }

    private func clientBytes(_ bytes: UnsafeRawBufferPointer) {
        let now = EventLoop.now()
        lastReadAt = now
        if isClosing { return }  // lingering: read and discarded until the client closes
        perform(machine.receive(bytes, now: now))
    }

    // MARK: Actions

    /// Carries out the machine's actions in order. A failed socket write ends the connection once they are done.
    func perform(_ actions: [HTTP2ConnectionAction]) {
        let outer = !performing
        performing = true
        for action in actions {
            switch action {
            case .write(let bytes):
                write(bytes)
            case .openStream(let id, let head, let endStream):
                openStream(id, head: head, endStream: endStream)
            case .requestData(let id, let bytes, let endStream):
                streams[id]?.requestData(bytes, endStream: endStream)
            case .streamReset(let id, let code):
                streams.removeValue(forKey: id)?.resetByClient(code)
                noteStreamsChanged()
            case .windowOpened(let id):
                streams[id]?.windowOpened()
            case .pingAcknowledged:
                break
            case .goawayReceived:
                break
            case .closeConnection(let reason):
                machineClosed(reason)
            }
        }
        guard outer else { return }
        performing = false
        if let code = writeFailure {
            writeFailure = nil
            connectionGone(reason: "write to client failed: \(SocketError.message(errno: code))", errno: code)
        }
    }

    /// Carries out actions that a stream's own call produced (its response head, data, end or reset). A socket
    /// write that fails here is acted on only after that call has returned (the stream learns it from its write's
    /// result, `hasFailedWrite`): tearing the connection down under it would end streams, the writing one
    /// included, while it still holds the loop's output buffer.
    func performForStream(_ actions: [HTTP2ConnectionAction]) {
        guard !actions.isEmpty else { return }
        let wasPerforming = performing
        performing = true
        perform(actions)
        performing = wasPerforming
        // The loop's next sweep ends the connection (`deadlineReached`), unless the stream reported it first.
        if !wasPerforming, writeFailure != nil {
            // Through `scheduledDeadline`, so a later `updateDeadline` cannot move this one entry later.
            scheduledDeadline = EventLoop.now()
            loop.schedule(self, at: scheduledDeadline)
        }
    }

    /// Writes frames; a failure is noted and acted on by `perform`.
    private func write(_ bytes: [UInt8]) {
        guard !isFinished else { return }
        if case .failed(let code) = client.write(bytes), writeFailure == nil { writeFailure = code }
    }

    /// Whether a socket write failed during the current call (the stream writing learns it this way).
    var hasFailedWrite: Bool { writeFailure != nil || isFinished }

    private func openStream(_ id: UInt32, head: [HPACKHeaderField], endStream: Bool) {
        loop.metrics.process.http2Streams &+= 1
        let adapter = HTTP2StreamClient(id: id, connection: self)
        streams[id] = adapter
        noteStreamsChanged()
        adapter.open(head, endStream: endStream)
    }

    /// A stream adapter is done with its stream (response ended, or reset by us).
    func streamFinished(_ id: UInt32) {
        guard streams.removeValue(forKey: id) != nil else { return }
        noteStreamsChanged()
    }

    private func noteStreamsChanged() {
        if streams.isEmpty {
            idleSince = EventLoop.now()
            updateDeadline()
        }
    }

    /// The machine ended the connection (a connection error we answered with GOAWAY, a graceful drain that
    /// finished, or bytes that are not HTTP/2): the streams left lose their client, the socket closes politely.
    private func machineClosed(_ reason: HTTP2CloseReason) {
        if case .connectionError = reason {
            runtime.logger.warn("HTTP/2 client \(clientAddress): \(reason)")
            loop.metrics.process.http2ConnectionErrors &+= 1
        }
        let orphans = streams.values
        streams = [:]
        for adapter in orphans { adapter.connectionEnded(reason: "HTTP/2 connection closed: \(reason)") }
        closeGracefully()
    }

    // MARK: Deadlines

    /// The next time the connection wants to look: PING on silence, the PING's answer, idle close, closing.
    private var nextDeadline: UInt64 {
        if isClosing { return closingDeadline }
        var next = machine.isPingOutstanding ? lastPingAt &+ pingTimeoutNanos : lastReadAt &+ pingIntervalNanos
        if streams.isEmpty { next = min(next, idleSince &+ idleTimeoutNanos) }
        if let machineDeadline = machine.deadline { next = min(next, machineDeadline) }
        return next
    }
    private var lastPingAt: UInt64 = 0

    func updateDeadline() {
        guard !isFinished else { return }
        let deadline = nextDeadline
        guard deadline < scheduledDeadline else { return }
        scheduledDeadline = deadline
        loop.schedule(self, at: deadline)
    }

    func deadlineReached(_ entryDeadline: UInt64, now loopNow: UInt64) {
        scheduledDeadline = .max  // popped: out of the heap until scheduled again (one entry per target)
        guard !isFinished else { return }
        if let code = writeFailure, !performing {
            writeFailure = nil
            connectionGone(reason: "write to client failed: \(SocketError.message(errno: code))", errno: code)
            return
        }
        let now = max(loopNow, entryDeadline)
        if isClosing {
            if now >= closingDeadline { finish() } else { updateDeadline() }
            return
        }
        if let machineDeadline = machine.deadline, now >= machineDeadline {
            // Our SETTINGS unacknowledged too long (RFC 9113 §6.5.3): the machine answers SETTINGS_TIMEOUT.
            perform(machine.deadlineReached(now: now))
            guard !isFinished, !isClosing else { return }
        }
        if machine.isPingOutstanding, now &- lastPingAt >= pingTimeoutNanos, lastReadAt < lastPingAt {
            connectionGone(reason: "the client did not answer a PING within "
                + TimeAmount(nanoseconds: pingTimeoutNanos).formatted(.config), errno: ETIMEDOUT)
            return
        }
        if streams.isEmpty, now &- idleSince >= idleTimeoutNanos {
            perform(machine.goAway(code: .noError))
            if !isClosing { closeGracefully() }
            return
        }
        if !machine.isPingOutstanding, now &- lastReadAt >= pingIntervalNanos {
            lastPingAt = now
            perform(machine.ping(now: now))
        }
        updateDeadline()
    }

    // MARK: Endings

    /// The client closed, reset, or could not be written to: every stream loses its client (each drops its
    /// upstream at once, or rides through), then the connection finishes.
    func connectionGone(reason: String, errno code: Int32 = 0) {
        guard !isFinished else { return }
        if isClosing {
            finish()
            return
        }
        let vanished = SocketError.isPeerTimeout(errno: code) || code == ETIMEDOUT
        let orphans = streams.values
        streams = [:]
        for adapter in orphans {
            adapter.connectionEnded(reason: vanished ? "the client stopped acknowledging: \(reason)" : reason,
                                    end: vanished ? .clientDead : .clientClosed)
        }
        finish()
    }

    /// Ends the connection: the socket torn down, unregistered from the loop, the admission released.
    func finish() {
        guard !isFinished else { return }
        isFinished = true
        let orphans = streams.values
        streams = [:]
        for adapter in orphans { adapter.connectionEnded(reason: "connection closed") }
        client.abort()
        loop.endSession(self)
        runtime.release(host: clientHost)
    }

    /// Half-closes once what was written (GOAWAY included) is flushed, then waits a little for the client's close
    /// (not while the process drains: then it closes once flushed, and the drain can end).
    func closeGracefully() {
        guard !isFinished, !isClosing else { return }
        isClosing = true
        closingDeadline = EventLoop.now() &+ Self.lingerNanos
        client.resumeReading()
        client.shutdownWriteAfterFlush()
        if runtime.draining.load(ordering: .relaxed), client.pendingByteCount == 0 {
            finish()
            return
        }
        updateDeadline()
    }

    /// How long a closing connection waits for the client's close after its own.
    static let lingerNanos: UInt64 = 2_000_000_000

    // MARK: ClientConnection

    /// Draining: GOAWAY (no new streams), and each SSE stream gets its `retry:` at an event boundary at its turn
    /// (drawn per stream from `spread`) and its end; the connection closes when its last stream has ended.
    func drain(spread: DrainSpread) {
        guard !isFinished, !isClosing else { return }
        perform(machine.goAway(code: .noError))
        for adapter in Array(streams.values) {
            adapter.drain(ending: spread.ending(endJitter: .random(in: 0..<1), retryJitter: .random(in: 0..<1)))
        }
    }

    func streamRows(now: UInt64) -> [StreamRow] {
        streams.values.compactMap { $0.stream?.streamRow(now: now) }
    }
}

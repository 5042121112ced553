import SSEKeeperCore

/// One proxied request and its response: the upstream attempt (`UpstreamAttemptMachine`), the upstream connection,
/// the request body forwarder, and the `ResponseRelay` — joined to at most one client at a time through a
/// `StreamClient` adapter. The stream owns everything upstream of the client; the adapter owns the client
/// connection, so a stream can later outlive its client connection or be one of many on a connection.
///
/// Confinement: created on `loop.queue` and every method runs there (socket handlers, deadlines). It stays alive
/// through its client adapter (and its deadline entries) until it ends.
///
/// `init` counts it in its route's `active_requests`, the SSE head in `open_streams`, and its end (`markEnded`, or
/// `deinit` for a stream that never ended) takes both back and records the stream's duration, so no exit path can
/// leave a gauge behind. The files beside this one hold its parts: `+Upstream` (connecting, retries, the keep-alive pool),
/// `+Response` (head, body, heartbeats), `+Resume` (`upstream_resume`), `+Endings` (errors, drain, the access log).
///
/// Its stored properties are `@exclusivity(unchecked)`, as the loop's are (`ReadinessPoller`): they are used on
/// one queue, by loads, stores and mutations of core values (parsers, machines, buffers) that call back into
/// nothing, and handlers are called after a property is read, never inside an access to it. Keep it so: the runtime
/// does not check these for overlapping accesses (it cost about 75 instructions an access, ~130 per new stream).
final class ProxyStream: SocketChannelHandler, DeadlineTarget {
    /// Its place in the loop's deadline heap (`DeadlineTarget`).
    @exclusivity(unchecked) var deadlineSlot = -1
    let loop: EventLoop
    /// The configuration the request started with (a reload applies to the next request).
    let context: ProxyContext
    let runtime: ProxyRuntime
    /// The client adapter while attached. A strong reference (a weak load per event costs more): the cycle with the
    /// adapter's `stream` is broken on every end, since the stream lets go in `markEnded` and the adapter on
    /// `streamCompleted`, `streamAborted` and its own `finish`.
    @exclusivity(unchecked) private(set) var client: StreamClient?
    /// The client's address, kept for the access log after a detach (a reattached client's replaces it).
    @exclusivity(unchecked) var clientEndpoint: ClientAddress
    var clientAddress: String { clientEndpoint.description }
    /// The client's host, for `X-Forwarded-For`.
    var clientHost: String { clientEndpoint.host }
    /// The attached client's `clientProtocol`, for the `X-Forwarded-Proto` of a resumed request.
    @exclusivity(unchecked) var clientProtocol: String

    // The request.
    let startedAt: UInt64
    let method: String
    let path: String
    let clientVersion: HTTPVersion
    let route: Route
    /// The route's upstream in `context` (nil only when the configuration names none, which validation rejects).
    let upstreamTarget: UpstreamTarget?
    /// The route's figures on this loop.
    let metrics: RouteMetrics
    /// Whether the request's `Accept` lists `text/event-stream` (for `sse_unavailable`).
    let acceptsEventStream: Bool
    /// The request's `Last-Event-ID`, carried into ssekeeper's own error events.
    let lastEventID: String?
    /// The route's CORS fields for this request (`cors_allow_origin`), added to the response head unless the
    /// backend sends its own `Access-Control-Allow-Origin`; empty when the route does no CORS.
    let corsFields: [HTTPField]
    /// The client's request, kept on `upstream_resume` routes for requests without a body (to re-send it).
    let resumableRequest: RequestHead?
    /// Whether the client asked to keep its connection (false once draining or pipelining overflowed).
    @exclusivity(unchecked) var clientWantsKeepAlive: Bool

    // The upstream side.
    @exclusivity(unchecked) var attempt: UpstreamAttemptMachine
    @exclusivity(unchecked) var upstream: SocketChannel?
    /// The address of the current attempt's server, for messages and the access log.
    @exclusivity(unchecked) var server: String?
    /// The request head to send upstream; kept while a retry may send it again.
    @exclusivity(unchecked) var upstreamHead: [UInt8]
    /// The request body: decoded, counted against `max_body_size`, re-encoded for the upstream.
    @exclusivity(unchecked) var body: RequestBodyForwarder
    /// Body bytes ready for the upstream but not written yet (the connection is not up).
    @exclusivity(unchecked) var pendingUpstreamBody: [UInt8] = []
    /// Response head bytes received so far, and the parser of the next head (interim heads come first).
    @exclusivity(unchecked) var responseHeadBytes: [UInt8] = []
    @exclusivity(unchecked) var responseParser: HeadParser

    // The response.
    /// Set once the response head went to the client: everything between upstream bytes and client bytes.
    @exclusivity(unchecked) var relay: ResponseRelay?
    @exclusivity(unchecked) var status = 0
    /// Whether the connection may serve another request after this response.
    @exclusivity(unchecked) var keepAlive = false
    /// Whether the upstream's response lets its connection be reused (HTTP/1.1, no `close`, length or chunked).
    @exclusivity(unchecked) var upstreamAllowsReuse = false
    /// Set for any `text/event-stream` response.
    @exclusivity(unchecked) var isSSE = false
    /// Set when draining wants this SSE stream ended at its next event boundary: the `retry:` it gets then, in
    /// milliseconds (nil: not draining).
    @exclusivity(unchecked) var drainRetryMilliseconds: Int?
    /// Whether draining wants this SSE stream ended at its next event boundary.
    var drainRequested: Bool { drainRetryMilliseconds != nil }
    /// The request a resume in progress sends on every attempt.
    @exclusivity(unchecked) var resumeRequest: ResumeRequest?
    /// How many times the upstream response was resumed into this one.
    @exclusivity(unchecked) var resumeCount = 0
    /// Set when the stream ended: how (nil while it runs).
    @exclusivity(unchecked) private(set) var end: RequestEnd?
    /// Client ride-through (`client_resume_window`): set on such routes (see `ProxyStream+RideThrough`).
    let ride: RideThroughState?
    /// `stream_max_duration` passed while the client stood inside an event: its connection ends at the next boundary.
    @exclusivity(unchecked) var lifetimeEndPending = false

    // Figures.
    /// Bytes written to the client; every addition is counted in the route's bytes out at once.
    @exclusivity(unchecked) var bytesSent: UInt64 = 0 {
        didSet { metrics.counters.bytesOut &+= bytesSent &- oldValue }
    }
    /// Bytes read from the upstream (head and body); every addition is counted in the route's bytes in.
    @exclusivity(unchecked) var bytesReceived: UInt64 = 0 {
        didSet { metrics.counters.bytesIn &+= bytesReceived &- oldValue }
    }
    /// When the SSE response head went to the client (0: not an SSE stream).
    @exclusivity(unchecked) private(set) var streamStartedAt: UInt64 = 0
    /// When the upstream last sent body bytes (or the head), and the longest silence between them so far.
    @exclusivity(unchecked) var lastUpstreamBytesAt: UInt64 = 0
    @exclusivity(unchecked) var longestUpstreamGapNanos: UInt64 = 0
    /// When ssekeeper last found the upstream paused for a slow client: its silence does not count before that.
    @exclusivity(unchecked) var upstreamPausedSeenAt: UInt64 = 0
    /// `client_send_timeout`: whether the client still accepts what is written (set with the response head).
    @exclusivity(unchecked) var sendWatch: SendProgressWatch?
    /// When the send watch wants its next look (nil: nothing outstanding seen).
    @exclusivity(unchecked) var nextSendCheck: UInt64?

    /// The deadline this stream wants now (0: none), and the earliest one it has in the loop's heap.
    @exclusivity(unchecked) var deadline: UInt64 = 0
    @exclusivity(unchecked) private var scheduledDeadline: UInt64 = .max
    /// When the upstream connection's dead-host watch is to be turned on (0: none pending; see
    /// `watchUpstreamLater`). It shares the stream's heap entry with `deadline`.
    @exclusivity(unchecked) var deadHostWatchAt: UInt64 = 0

    var limits: Limits { context.config.limits }

    /// `upstreamRequest`: the request as the upstream gets it (on ride-through routes its `Last-Event-ID` is the
    /// backend's part of a stamped id: `RideThroughReconnect`), kept for `upstream_resume`. `reconnect`: the stamped
    /// id the request carried, when it may name a stream to attach to. `acceptsEventStream`:
    /// `UpstreamRequestBuilder.acceptsEventStream(head)`, found once by the caller for the upstream head too (the
    /// upstream request carries the client's `Accept` unchanged). `path`: `head.path`, and `corsFields`: the
    /// `responseFields` of the route's CORS decision for `head`, both found by the caller, which needs them first.
    init(head: RequestHead, path: String, upstreamRequest: RequestHead, route: Route, upstream: UpstreamTarget?,
         body: RequestBodyForwarder,
         upstreamHead: [UInt8], client: StreamClient, loop: EventLoop, context: ProxyContext, runtime: ProxyRuntime,
         reconnect: StampedEventID? = nil, acceptsEventStream: Bool, corsFields: [HTTPField]) {
        self.loop = loop
        self.context = context
        self.runtime = runtime
        self.client = client
        clientEndpoint = client.clientEndpoint
        clientProtocol = client.clientProtocol
        startedAt = EventLoop.now()
        method = head.method
        self.path = path
        clientVersion = head.version
        self.route = route
        upstreamTarget = upstream
        metrics = loop.routeMetrics(route)
        self.acceptsEventStream = acceptsEventStream
        lastEventID = head.headers.first("Last-Event-ID")
        self.corsFields = corsFields
        clientWantsKeepAlive = ClientResponseBuilder.clientWantsKeepAlive(head) && !runtime.draining.load(ordering: .relaxed)
        resumableRequest = route.settings.upstreamResume != .off && !body.hasBody ? upstreamRequest : nil
        ride = route.settings.clientResumeWindow.map { RideThroughState(window: TimeAmount($0), head: head, reconnect: reconnect) }
        attempt = UpstreamAttemptMachine(isRetryable: !body.hasBody && Self.isRetryable(method: head.method))
        self.upstreamHead = upstreamHead
        self.body = body
        responseParser = HeadParser(maxHeaderBytes: context.config.limits.maxHeaderBytes)
        metrics.counters.activeRequests += 1
        makeRideFingerprint()
    }

    deinit {
        if end == nil { releaseGauges() }
    }

    /// Whether a request with this method (and no body) may be sent again to another server: the safe methods a
    /// stream is opened with. A switch, not an array literal's `contains`, which allocates on every request.
    static func isRetryable(method: String) -> Bool {
        switch method {
        case "GET", "HEAD", "OPTIONS": true
        default: false
        }
    }

    /// Takes the request back from `active_requests` and the stream from `open_streams` (recording its duration):
    /// once, when it ends (a deadline entry may keep the object a little longer).
    private func releaseGauges() {
        metrics.counters.activeRequests -= 1
        if streamStartedAt != 0 {
            metrics.counters.openStreams -= 1
            metrics.counters.streamDuration.observe(nanos: EventLoop.now() &- streamStartedAt)
        }
    }

    /// Whether the stream has ended.
    var isEnded: Bool { end != nil }
    /// Whether the response head went to the client.
    var headSent: Bool { relay != nil }

    /// The SSE response head went out at `now`: the stream is an open stream until it ends.
    func beginStream(at now: UInt64) {
        guard streamStartedAt == 0 else { return }
        streamStartedAt = max(now, 1)
        metrics.counters.openStreams += 1
    }

    /// Marks the stream ended (`how`), drops the upstream and the deadline, and lets go of the client.
    func markEnded(_ how: RequestEnd) {
        guard end == nil else { return }
        end = how
        releaseGauges()
        releaseRideThrough()
        deadline = 0
        loop.cancelDeadline(self)
        dropUpstream()
        attempt.finish()
        client = nil
    }

    /// Ends the stream as `how` and tells the client adapter its response is complete: with `keepAlive` the
    /// connection serves another request, otherwise it closes politely.
    func endCompleted(_ how: RequestEnd, keepAlive: Bool = false) {
        let client = self.client
        markEnded(how)
        client?.streamCompleted(keepAlive: keepAlive)
    }

    /// Ends the stream as `how` and breaks the client connection, so the client knows the response is incomplete.
    func endAborted(_ how: RequestEnd) {
        let client = self.client
        markEnded(how)
        client?.streamAborted()
    }

    /// Forgets the client (see `detach`).
    func releaseClient() {
        client = nil
    }

    /// Takes `newClient` as the client (see `attach`).
    func adoptClient(_ newClient: StreamClient) {
        client = newClient
    }

    /// The connection may not serve another request after this one (pipelining overflowed, or draining).
    func forbidKeepAlive() {
        clientWantsKeepAlive = false
        keepAlive = false
    }

    // MARK: Deadlines

    /// Sets the deadline this stream wants; the heap gets a new entry only when it is earlier than the one it has.
    func setDeadline(_ newDeadline: UInt64) {
        deadline = newDeadline
        scheduleEntry(at: newDeadline)
    }

    /// Moves the stream's heap entry to `time` when that is earlier than the one it has (0: nothing).
    private func scheduleEntry(at time: UInt64) {
        guard time != 0, time < scheduledDeadline else { return }
        scheduledDeadline = time
        loop.schedule(self, at: time)
    }

    /// Turns on the upstream connection's dead-host watch (`upstream_dead_timeout`) a quarter of the timeout from
    /// now, unless the connection has it already: four system calls that a stream ending sooner (most requests, and
    /// every new stream that closes within seconds) never pays. The kernel's behaviour is the same as at connect:
    /// keepalive counts its idle time from the last byte received, however late it is turned on, and
    /// `TCP_USER_TIMEOUT` from the first unacknowledged retransmission; both lie at least half the timeout after
    /// the connect, later than this.
    func watchUpstreamLater(_ channel: SocketChannel) {
        deadHostWatchAt = 0
        guard let timeout = limits.upstreamDeadTimeout, !channel.watchesForDeadPeer else { return }
        deadHostWatchAt = EventLoop.now() &+ TimeAmount(timeout).nanoseconds / 4
        scheduleEntry(at: deadHostWatchAt)
    }

    /// The pop for `deadHostWatchAt`: turns the watch on for the upstream connection the stream has now.
    private func watchUpstreamNow() {
        deadHostWatchAt = 0
        guard let upstream, !upstream.watchesForDeadPeer, let timeout = limits.upstreamDeadTimeout else { return }
        upstream.watchesForDeadPeer = true
        Self.watchForDeadHost(upstream.fd, within: TimeAmount(timeout))
    }

    func deadlineReached(_ entryDeadline: UInt64, now loopNow: UInt64) {
        scheduledDeadline = .max  // popped: out of the heap until scheduled again (one entry per target)
        guard end == nil else { return }
        // The loop pops entries up to its slack early; an entry it pops counts as reached (see `DeadlineTarget`).
        let now = max(loopNow, entryDeadline)
        if deadHostWatchAt != 0, now >= deadHostWatchAt {
            watchUpstreamNow()
            // Popped for the watch alone: the stream's own deadline is still ahead.
            if deadline > now {
                setDeadline(deadline)
                return
            }
        }
        scheduleEntry(at: deadHostWatchAt)
        guard deadline != 0 else { return }
        if let windowEnd = rideWindowEnd {
            if now >= windowEnd {
                expireRideThrough()
                return
            }
            if ride?.pendingEnd != nil {
                setDeadline(windowEnd)
                return
            }
        }
        if let lifetime = lifetimeDeadline, now >= lifetime, !lifetimeEndPending {
            endClientConnectionAtLifetime()
            guard !isEnded else { return }
        }
        if attempt.isResuming {
            resumeTick(now: now)
            return
        }
        if isRelaying {
            // Every pop while relaying (at most about one per heartbeat interval, even on a busy stream whose
            // heartbeat keeps moving) is a chance for the send watch to look at the client.
            relayingDeadline(now: now)
            return
        }
        if deadline > now {
            setDeadline(deadline)
            return
        }
        switch attempt.state {
        case .connecting:
            upstreamConnectTimedOut()
        case .awaitingHead(let current):
            // A server that takes the request and never answers is as unavailable as one that refuses it.
            noteServerFailure(current.server)
            respondError(status: 504, detail: "upstream \(server ?? "") sent no response head within \(ConfigValue.formatDuration(limits.upstreamHeaderTimeout))", end: .timeout)
        case .idle, .relaying, .done, .resumeWaiting, .resumeAttempting:
            break
        }
    }

    // MARK: Upstream socket events

    func channelReadable(_ channel: SocketChannel) {
        guard channel === upstream else { return }
        upstreamReadable()
    }

    func channelConnected(_ channel: SocketChannel, error: Int32) {
        guard channel === upstream else { return }
        upstreamConnected(error: error)
    }

    func channelDrained(_ channel: SocketChannel) {
        guard channel === upstream, attempt.attempt != nil else { return }
        if case .connecting = attempt.state { return }
        client?.resumeClientReading()
    }

    func channelWriteFailed(_ channel: SocketChannel, error: Int32) {
        guard channel === upstream else { return }
        upstreamBroke(reason: "write to upstream failed: \(SocketError.message(errno: error))")
    }

    /// The client can take bytes again: the upstream may be read again.
    func clientDrained() {
        upstream?.resumeReading()
    }

    func dropUpstream() {
        upstream?.abort()
        upstream = nil
        deadHostWatchAt = 0
    }
}

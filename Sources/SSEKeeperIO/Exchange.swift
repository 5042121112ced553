import SSEKeeperCore

/// The state of one request/response exchange on a client connection (reset for every keep-alive request).
///
/// A class, not a struct, so the SSE tracker can be mutated while the write path updates the byte counters.
/// Confinement: owned by one `ProxySession`, used only on its loop's queue.
///
/// Its lifetime is the request's: `init` counts it in its route's `active_requests`, `beginStream(at:)` in
/// `open_streams`, and `deinit` takes both back and records the stream's duration, so no exit path (answer,
/// client gone, upstream broken, keep-alive reuse) can leave a gauge behind.
final class Exchange {
    /// Where the request body stands.
    enum RequestBodyState {
        case none
        case remaining(UInt64)
        case chunked(ChunkedDecoder)
        case done
    }

    /// Where the response body stands.
    enum ResponseBodyState {
        case none
        case remaining(UInt64)
        case chunked(ChunkedDecoder)
        case untilClose
    }

    let startedAt: UInt64
    let method: String
    let path: String
    let clientVersion: HTTPVersion
    var clientWantsKeepAlive: Bool
    let route: Route

    /// The request head to send upstream; kept until the response head arrives, so a request whose connection
    /// fails before any response byte can be sent again (a refused server, a stale pooled connection).
    var upstreamHead: [UInt8]
    /// Server indices of the upstream in the order to try them (`UpstreamPool.attemptOrder`).
    var attemptOrder: [Int]
    var attemptIndex = 0
    var lastConnectFailure: String?
    var connectTimedOut = false
    /// The address of the current attempt's server, for messages and the access log.
    var server: String?
    /// The index of the current attempt's server in its upstream.
    var serverIndex: Int?
    /// Whether the current upstream connection came from the keep-alive pool.
    var reusedConnection = false
    /// Set when a pooled connection failed and the same server is tried again on a fresh connection.
    var freshConnectionRequired = false
    /// Whether any response byte arrived on the current upstream connection.
    var receivedResponseBytes = false
    /// Whether the request may be sent again after its connection failed before any response byte: a safe
    /// method (GET, HEAD, OPTIONS; RFC 9110 §9.2.1) and no body (a body is streamed, not kept). nginx likewise
    /// never passes a non-idempotent request on once it was sent.
    let isRetryable: Bool
    /// Whether the upstream's response lets its connection be reused: HTTP/1.1, no `Connection: close`, and
    /// framed by length or chunks (not by the close).
    var upstreamAllowsReuse = false
    /// Set when the upstream sent bytes after the end of its response: the connection cannot be reused.
    var upstreamSentExtraBytes = false

    var requestBody: RequestBodyState
    /// Request body bytes seen so far (decoded, for chunked bodies), for `max_body_size`.
    var requestBodyBytes: UInt64 = 0
    /// Checks a chunked request body before anything is sent upstream (nil once the check is over).
    var bodyCheck: ChunkedDecoder?
    /// Decoded bytes the check has seen.
    var checkedBodyBytes: UInt64 = 0
    var responseHead: [UInt8] = []
    var responseParser: HeadParser
    var responseBody: ResponseBodyState = .none
    var clientFraming: ClientFraming = .none
    var keepAlive = false
    var status = 0
    var headSent = false
    /// Bytes written to the client; every addition is counted in the route's bytes out at once.
    var bytesSent: UInt64 = 0 {
        didSet { metrics.counters.bytesOut &+= bytesSent &- oldValue }
    }
    /// Bytes read from the upstream (head and body); every addition is counted in the route's bytes in.
    var bytesReceived: UInt64 = 0 {
        didSet { metrics.counters.bytesIn &+= bytesReceived &- oldValue }
    }
    /// The route's figures on this loop.
    let metrics: RouteMetrics
    /// When the SSE response head went to the client (0: not an SSE stream).
    private(set) var streamStartedAt: UInt64 = 0

    /// Set for SSE responses that take heartbeats (uncompressed `text/event-stream`).
    var tracker: SSEStreamTracker?
    var heartbeats: HeartbeatSchedule?
    /// Set for any `text/event-stream` response.
    var isSSE = false
    /// When the upstream last sent body bytes (or the head), and the longest silence between them so far.
    var lastUpstreamBytesAt: UInt64 = 0
    var longestUpstreamGapNanos: UInt64 = 0
    /// Whether the request's `Accept` lists `text/event-stream` (for `sse_unavailable`).
    let acceptsEventStream: Bool
    /// The request's `Last-Event-ID`, carried into ssekeeper's own error events.
    let lastEventID: String?
    /// Draining wants this SSE stream ended at its next event boundary.
    var drainRequested = false
    /// The client's request, kept on `upstream_resume` routes for requests without a body (to re-send it).
    var requestHead: RequestHead?
    /// On `upstream_resume` routes: holds a partial event so a break never leaves half of it at the client.
    var assembler: SSEEventAssembler?
    /// The resume in progress, if the upstream ended and ssekeeper is reconnecting.
    var resume: ResumeState?
    /// How many times the upstream response was resumed into this one.
    var resumeCount = 0
    /// When the last resume spliced its response in (0: never), and how many resumes in a row came within
    /// `resume_backoff`'s maximum of the previous splice: a backend that ends every stream at once is not
    /// reconnected to at once every time, the back-off goes on from where it was.
    var lastSpliceAt: UInt64 = 0
    var quickResumeStreak = 0

    init(startedAt: UInt64, head: RequestHead, route: Route, upstreamHead: [UInt8], attemptOrder: [Int],
         requestBody: RequestBodyState, maxHeaderBytes: Int, metrics: RouteMetrics) {
        self.startedAt = startedAt
        self.method = head.method
        self.path = head.path
        self.clientVersion = head.version
        self.clientWantsKeepAlive = ClientResponseBuilder.clientWantsKeepAlive(head)
        self.route = route
        self.acceptsEventStream = UpstreamRequestBuilder.acceptsEventStream(head)
        self.lastEventID = head.headers.first("Last-Event-ID")
        self.upstreamHead = upstreamHead
        self.attemptOrder = attemptOrder
        self.requestBody = requestBody
        if case .none = requestBody {
            isRetryable = ["GET", "HEAD", "OPTIONS"].contains(head.method)
        } else {
            isRetryable = false
        }
        self.responseParser = HeadParser(maxHeaderBytes: maxHeaderBytes)
        self.metrics = metrics
        metrics.counters.activeRequests += 1
    }

    deinit {
        metrics.counters.activeRequests -= 1
        if streamStartedAt != 0 {
            metrics.counters.openStreams -= 1
            metrics.counters.streamDuration.observe(nanos: EventLoop.now() &- streamStartedAt)
        }
    }

    /// The SSE response head went out at `now`: the exchange is an open stream until it ends.
    func beginStream(at now: UInt64) {
        guard streamStartedAt == 0 else { return }
        streamStartedAt = max(now, 1)
        metrics.counters.openStreams += 1
    }

    /// Whether the whole request body has been forwarded.
    var requestBodyDone: Bool {
        switch requestBody {
        case .none, .done: return true
        case .remaining, .chunked: return false
        }
    }
}

/// Every figure ssekeeper keeps about one route on one event loop: gauges, counters and histograms.
///
/// A value type so a scrape can copy it whole (`detachedCopy()`) and merge the loops' copies (`merge(_:)`); the
/// live one sits in a `RouteMetrics` box that the loop's sessions update in place. Durations are integer
/// nanoseconds. Counters wrap rather than trap.
public struct RouteCounters: Sendable, Equatable {
    /// Requests in progress on this route (from the parsed head until the exchange ends). Gauge.
    public var activeRequests = 0
    /// SSE responses (`text/event-stream`) streaming now. Gauge.
    public var openStreams = 0
    /// Finished requests by status class: index 0 for 1xx ... 4 for 5xx (see `countRequest(status:)`).
    public private(set) var requestsByClass = [UInt64](repeating: 0, count: 5)
    /// Bytes read from upstream servers (response heads and bodies).
    public var bytesIn: UInt64 = 0
    /// Bytes written to clients (heads, bodies, framing, heartbeats, ssekeeper's own error answers).
    public var bytesOut: UInt64 = 0
    /// Heartbeat comments written.
    public var heartbeatsSent: UInt64 = 0
    /// Heartbeats due while the client's parser was mid-line, so not sent.
    public var heartbeatsSkipped: UInt64 = 0
    /// Client-side closes of SSE streams that came after upstream quiet of at least one heartbeat interval.
    public var quietClientCloses: UInt64 = 0
    /// Failed upstream connects by `ConnectErrorKind.rawValue`.
    public private(set) var connectErrors = [UInt64](repeating: 0, count: ConnectErrorKind.allCases.count)
    /// Lifetimes of SSE streams, from the response head to the end.
    public var streamDuration = Histogram(boundsSeconds: HistogramBuckets.streamDuration)
    /// Gaps between upstream reads on SSE streams (head to first body read, then read to read).
    public var upstreamQuiet = Histogram(boundsSeconds: HistogramBuckets.upstreamQuiet)
    /// Stream age at each of `quietClientCloses`.
    public var quietCloseAge = Histogram(boundsSeconds: HistogramBuckets.quietCloseAge)
    /// Client close noticed → upstream socket shut down.
    public var teardown = Histogram(boundsSeconds: HistogramBuckets.teardown)
    /// Resumes started (`upstream_resume`): an SSE stream's upstream ended and ssekeeper kept the client.
    public var resumesAttempted: UInt64 = 0
    /// Resumes that spliced a new upstream response into the client's stream.
    public var resumesSucceeded: UInt64 = 0
    /// Resumes that ended the client's stream: the window passed, or the upstream answered something other
    /// than a `200 text/event-stream` (the rest of `resumesAttempted` ended with the client or a drain).
    public var resumesGivenUp: UInt64 = 0
    /// For each successful resume: from the break to the new response's head, while the client got no event.
    public var resumeGap = Histogram(boundsSeconds: HistogramBuckets.resumeGap)
    /// Client ride-through (`client_resume_window`): a client of a ridden-through stream left and the stream was
    /// kept, reading its upstream into the replay buffer, for a reconnect to attach to.
    public var resumeWindowsOpened: UInt64 = 0
    /// Reconnects attached to their kept stream (the replay and the live stream went on; the backend saw no request).
    public var resumeReattached: UInt64 = 0
    /// Kept streams whose window passed with no client back; their upstream was closed.
    public var resumeExpired: UInt64 = 0
    /// Kept (detached) streams ended because all replay buffers together reached `client_resume_memory`, oldest first.
    public var resumeEvicted: UInt64 = 0
    /// Events replayed to reattached clients (heartbeats are never replayed).
    public var resumeReplayedEvents: UInt64 = 0
    /// Bytes of those replayed events, as written to the clients' streams.
    public var resumeReplayedBytes: UInt64 = 0
    /// Reconnects that carried this route's stream id but did not match the original request (method, target, the
    /// `client_resume_match` headers, the body's SHA-256): each went to the backend as a new request, and the kept
    /// stream was not touched.
    public var resumeRefused: UInt64 = 0
    /// Reconnects whose stamped id could not be attached for another reason (no such stream on this process, its
    /// window over, the position no longer buffered): each went to the backend as a new request.
    public var resumeUnattachable: UInt64 = 0
    /// Ridden-through streams kept without a client now. Gauge.
    public var detachedStreams = 0
    /// Bytes held now in the replay buffers of this route's streams, attached or detached. Gauge.
    public var resumeBufferBytes = 0
    /// Requests ended because a peer was dead or stalled, in `deadPeerReasons` order.
    public private(set) var deadPeerEnds = [UInt64](repeating: 0, count: RouteCounters.deadPeerReasons.count)

    /// The ends `deadPeerEnds` counts: a stalled or vanished client, a vanished upstream host, an upstream that went
    /// silent (`upstream_read_timeout`, `sse_max_silence`).
    public static let deadPeerReasons: [RequestEnd] = [.clientStalled, .clientDead, .upstreamDead, .upstreamReadTimeout, .upstreamSilent]

    public init() {}

    /// Status class labels, in `requestsByClass` order.
    public static let statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"]

    /// Counts one finished request. Statuses outside 100...599 count as 5xx (ssekeeper never sends one).
    public mutating func countRequest(status: Int) {
        let index = (100...599).contains(status) ? status / 100 - 1 : 4
        requestsByClass[index] &+= 1
    }

    /// Counts a request that ended as `end` when it is one of `deadPeerReasons` (anything else is not counted here).
    public mutating func countDeadPeer(_ end: RequestEnd) {
        guard let index = Self.deadPeerReasons.firstIndex(of: end) else { return }
        deadPeerEnds[index] &+= 1
    }

    /// Counts one failed upstream connect.
    public mutating func countConnectError(_ kind: ConnectErrorKind) {
        connectErrors[kind.rawValue] &+= 1
    }

    /// Adds another loop's figures (gauges add too: each loop counts only its own connections).
    public mutating func merge(_ other: RouteCounters) {
        activeRequests += other.activeRequests
        openStreams += other.openStreams
        for index in requestsByClass.indices { requestsByClass[index] &+= other.requestsByClass[index] }
        bytesIn &+= other.bytesIn
        bytesOut &+= other.bytesOut
        heartbeatsSent &+= other.heartbeatsSent
        heartbeatsSkipped &+= other.heartbeatsSkipped
        quietClientCloses &+= other.quietClientCloses
        for index in connectErrors.indices { connectErrors[index] &+= other.connectErrors[index] }
        for index in deadPeerEnds.indices { deadPeerEnds[index] &+= other.deadPeerEnds[index] }
        streamDuration.merge(other.streamDuration)
        upstreamQuiet.merge(other.upstreamQuiet)
        quietCloseAge.merge(other.quietCloseAge)
        teardown.merge(other.teardown)
        resumesAttempted &+= other.resumesAttempted
        resumesSucceeded &+= other.resumesSucceeded
        resumesGivenUp &+= other.resumesGivenUp
        resumeGap.merge(other.resumeGap)
        resumeWindowsOpened &+= other.resumeWindowsOpened
        resumeReattached &+= other.resumeReattached
        resumeExpired &+= other.resumeExpired
        resumeEvicted &+= other.resumeEvicted
        resumeReplayedEvents &+= other.resumeReplayedEvents
        resumeReplayedBytes &+= other.resumeReplayedBytes
        resumeRefused &+= other.resumeRefused
        resumeUnattachable &+= other.resumeUnattachable
        detachedStreams += other.detachedStreams
        resumeBufferBytes += other.resumeBufferBytes
    }

    /// A copy sharing no array storage with `self` (see `Histogram.detachedCopy()`).
    public func detachedCopy() -> RouteCounters {
        var copy = self
        copy.requestsByClass = requestsByClass.map { $0 }
        copy.connectErrors = connectErrors.map { $0 }
        copy.deadPeerEnds = deadPeerEnds.map { $0 }
        copy.streamDuration = streamDuration.detachedCopy()
        copy.upstreamQuiet = upstreamQuiet.detachedCopy()
        copy.quietCloseAge = quietCloseAge.detachedCopy()
        copy.teardown = teardown.detachedCopy()
        copy.resumeGap = resumeGap.detachedCopy()
        return copy
    }
}

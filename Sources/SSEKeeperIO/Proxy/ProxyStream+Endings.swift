import SSEKeeperCore

/// How a stream ends other than by a complete response: an error answer, the client leaving, draining
/// (`SIGTERM`), `sse_unavailable` and `sse_upstream_error_event`; and what it tells the access log, the metrics and
/// `/streams`. Every update is a plain integer operation on the loop's own `LoopMetrics`, so none takes a lock.
extension ProxyStream {
    /// Answers with a short plain-text error and closes the connection (or, when the response head already went
    /// out, breaks the connection so the client knows the response is incomplete). During a resume, the failure is
    /// the attempt's: the next one is scheduled instead.
    func respondError(status errorStatus: Int, detail: String, end how: RequestEnd) {
        guard end == nil else { return }
        if attempt.isResuming {
            resumeAttemptFailed(detail)
            return
        }
        dropUpstream()
        if how == .rejected || errorStatus == 408 { loop.metrics.process.countRejection(RejectionReason(status: errorStatus)) }
        if headSent {
            logAccess(status: status, end: how, reason: detail)
            endAborted(how)
            return
        }
        answer(ErrorResponse.bytes(status: errorStatus, detail: detail), logging: errorStatus, end: how, reason: detail)
    }

    /// Writes an answer of ssekeeper's own (no response head went out yet), logs it as `logged`, ends the stream
    /// and closes the connection politely (a failed write shows on that close).
    private func answer(_ bytes: [UInt8], logging logged: Int, end how: RequestEnd, reason: String) {
        _ = client?.writeToClient(bytes)
        bytesSent += UInt64(bytes.count)
        logAccess(status: logged, end: how, reason: reason)
        endCompleted(how)
    }

    /// The client closed, reset, or could not be written to (`end`: `.clientClosed`, or `.clientDead` when its TCP
    /// stopped acknowledging): drop the upstream at once (timed, for `ssekeeper_teardown_seconds`), then log. The
    /// client adapter closes its connection itself.
    func clientGone(reason: String, end how: RequestEnd = .clientClosed) {
        guard end == nil else { return }
        if rideThroughDetach(reason: reason, end: how) { return }
        if upstream != nil {
            let noticed = EventLoop.now()
            dropUpstream()
            metrics.counters.teardown.observe(nanos: EventLoop.now() &- noticed)
        }
        if headSent, isSSE, how == .clientClosed { noteQuietClientClose() }
        if how != .clientClosed { context.logger.warn("route \(route.prefix): \(clientAddress): \(reason); upstream closed") }
        logAccess(status: headSent ? status : 499, end: how, reason: reason)
        markEnded(how)
    }

    /// The client accepted none of the bytes waiting for it for `client_send_timeout` (`stalledNanos`): it is
    /// closed and the upstream torn down, so the backend no longer works for nobody.
    func clientStalled(stalledNanos: UInt64) {
        guard end == nil else { return }
        let timeout = route.settings.clientSendTimeout.map { TimeAmount($0).formatted(.config) } ?? "-"
        let reason = "the client accepted no bytes for \(TimeAmount(nanoseconds: stalledNanos).formatted(.secondsToMilliseconds)) "
            + "(client_send_timeout \(timeout))"
        let client = self.client
        clientGone(reason: reason, end: .clientStalled)  // ends the stream, without telling the adapter
        client?.streamAborted()
    }

    /// A client-side close that comes while the upstream has been quiet for at least one heartbeat interval is
    /// counted, and worth a warning when it repeats: if such closes cluster at one stream age, something between
    /// the clients and ssekeeper cuts streams (an idle timeout shorter than `idle_timeout`, or one that heartbeats
    /// do not reset). A lone close (someone stopping `curl`) is counted only (see `QuietCloseAges`).
    private func noteQuietClientClose() {
        let now = EventLoop.now()
        let quiet = now &- lastUpstreamBytesAt
        let interval = route.heartbeatIntervalNanos
        guard quiet >= interval else { return }
        metrics.counters.quietClientCloses &+= 1
        metrics.counters.quietCloseAge.observe(nanos: now &- startedAt)
        guard loop.quietCloseAges.record(ageNanos: now &- startedAt) else { return }
        let prefix = route.prefix
        switch loop.quietCloseWarnings.take(now: now) {
        case .log(let suppressedBefore):
            let left = suppressedBefore == 0 ? "" : " (\(suppressedBefore) more such closes were not logged before this one)"
            context.logger.warn("route \(prefix): the client side closed a stream \(TimeAmount(nanoseconds: now &- startedAt).formatted(.secondsToMilliseconds)) "
                + "after it started, while the upstream had been quiet for \(TimeAmount(nanoseconds: quiet).formatted(.secondsToMilliseconds)) "
                + "(heartbeat interval \(TimeAmount(nanoseconds: interval).formatted(.secondsToMilliseconds)), \(relay?.heartbeatsSent ?? 0) heartbeats sent); "
                + "another such close came at about the same age: an intermediary may be cutting streams\(left)")
        case .suppressFirst(let until):
            context.logger.warn("route \(prefix): the client side closed a stream while the upstream was quiet, again; "
                + "further such warnings are left out for \(TimeAmount(nanoseconds: until &- now).formatted(.secondsToMilliseconds)) "
                + "(ssekeeper_quiet_client_closes_total counts them all)")
        case .suppress:
            break
        }
    }

    /// The process is draining: a request in flight finishes with `Connection: close` (decided at once), and an SSE
    /// stream is ended `ending.delayNanos` from now (`drain_spread`): `retry: <ending.retryMilliseconds>` at its next
    /// event boundary from then on, then a clean end. `drain_timeout` bounds the whole.
    func drain(ending: DrainSpread.Ending) {
        forbidKeepAlive()
        guard ending.delayNanos > 0, end == nil, isSSE || attempt.isResuming else {
            endForDrain(retryMilliseconds: ending.retryMilliseconds)
            return
        }
        let turn = StreamDrainTurn(stream: self, retryMilliseconds: ending.retryMilliseconds)
        loop.schedule(turn, at: TimeAmount(nanoseconds: ending.delayNanos).deadline(after: EventLoop.now()))
    }

    /// This stream's turn in the drain came: it ends with `retry: <retryMilliseconds>` at its next event boundary
    /// (a compressed stream, which cannot take a `retry:` line, ends at once; closing still makes the client
    /// reconnect).
    func endForDrain(retryMilliseconds: Int) {
        guard end == nil else { return }
        if drainResumingStream(retryMilliseconds: retryMilliseconds) { return }
        guard isRelaying, isSSE, let relay else { return }
        guard relay.takesHeartbeats else {
            logAccess(status: status, end: .draining, reason: "draining")
            endCompleted(.draining)
            return
        }
        drainRetryMilliseconds = retryMilliseconds
        endStreamIfDraining()
    }

    /// When draining asked for it and the client's parser is between events: `retry:`, the end of the response,
    /// and a graceful close. Otherwise the stream goes on until the upstream completes the event it is sending.
    func endStreamIfDraining() {
        guard let retry = drainRetryMilliseconds, end == nil, relay?.isAtEventBoundary == true else { return }
        loop.output.removeAll()
        _ = relay!.appendRetry(milliseconds: retry, into: &loop.output)
        relay!.endBody(into: &loop.output)
        guard writeOutputToClient(now: EventLoop.now()) else { return }
        logAccess(status: status, end: .draining, reason: "draining")
        endCompleted(.draining)
    }

    /// No upstream server took an SSE request: with `sse_unavailable reconnect`, a `200 text/event-stream` that
    /// tells the browser to retry; with `status`, the error status with `Retry-After`. False when the request is
    /// not an SSE request (the caller answers the plain error).
    func respondUnavailableToEventStream(status errorStatus: Int, detail: String, end how: RequestEnd) -> Bool {
        guard acceptsEventStream, !headSent, end == nil else { return false }
        let settings = route.settings
        let retry = settings.sseRetry ?? Self.unavailableRetry
        let bytes: [UInt8]
        let logged: Int
        let reason: String
        switch settings.sseUnavailable {
        case .reconnect:
            bytes = SSEErrorEvent.unavailableResponse(
                status: errorStatus, reason: detail, retryMilliseconds: Int(TimeAmount(retry).milliseconds),
                lastEventID: lastEventID, addedFields: corsFields)
            logged = 200
            reason = "\(errorStatus) answered as an SSE error event: \(detail)"
        case .status:
            let retrySeconds = Int(TimeAmount(retry).secondsRoundedUp)
            bytes = ErrorResponse.bytes(status: errorStatus, detail: detail, retryAfterSeconds: retrySeconds)
            logged = errorStatus
            reason = detail
        }
        dropUpstream()
        answer(bytes, logging: logged, end: how, reason: reason)
        return true
    }

    /// With `sse_upstream_error_event on`, an SSE stream whose upstream broke gets `event: error` with the reason
    /// when the client stands between events (never inside the upstream's unfinished event). Returns whether it
    /// was written.
    func sendUpstreamErrorEvent(reason: String) -> Bool {
        guard headSent, route.settings.sseUpstreamErrorEvent, relay != nil else { return false }
        // The `id:` keeps the client's last event ID only while its buffer still holds nothing the stream sent:
        // once the upstream dispatched an event, its own id stands, and the request's would rewind it.
        let carriesID = relay?.tracker?.boundaryDispatch == .clearsCarriedLastEventID
        let fields = SSEErrorEvent.fields(status: 502, reason: reason, lastEventID: carriesID ? lastEventID : nil)
        loop.output.removeAll()
        guard relay!.appendEvent(fields: fields, into: &loop.output) else { return false }
        return writeOutputToClient(now: EventLoop.now())
    }

    /// The reconnection delay sent with `sse_unavailable` when the route sets no `sse_retry`.
    static let unavailableRetry = Duration.seconds(5)

    // MARK: What the stream tells

    func logAccess(status logged: Int, end how: RequestEnd, reason: String?) {
        metrics.counters.countRequest(status: logged)
        metrics.counters.countDeadPeer(how)
        let accessLog = loop.context(of: runtime).accessLog
        guard !accessLog.isOff else { return }
        let now = EventLoop.now()
        // A ridden-through stream is logged per client connection: from its attach (or the last one's leaving).
        let since = ride.map { $0.detachedAt != 0 ? $0.detachedAt : $0.attachedAt } ?? 0
        var record = AccessLogRecord(
            client: clientAddress, method: method, path: path, status: logged,
            bytesSent: bytesSent &- (ride?.bytesSentAtAttach ?? 0), durationNanos: now &- (since != 0 ? since : startedAt),
            heartbeatsSent: relay?.heartbeatsSent ?? 0, heartbeatsSkipped: relay?.heartbeatsSkipped ?? 0,
            end: how, upstream: server, reason: reason,
            longestUpstreamGapNanos: isSSE ? max(longestUpstreamGapNanos, now &- lastUpstreamBytesAt) : nil,
            route: route.prefix,
            resumes: route.settings.upstreamResume != .off ? resumeCount : nil)
        if clientVersion == .http2 { record.protocolName = "h2" }
        accessLog.write(record)
    }

    /// This stream's row in `/streams`, when it is streaming an SSE response (a resume gap included).
    func streamRow(now: UInt64) -> StreamRow? {
        guard end == nil, isRelaying || attempt.isResuming, isSSE, streamStartedAt != 0 else { return nil }
        // A scrape asks the kernel once per open stream: cheap next to the scrape itself, and only on request.
        let progress = client?.clientSendProgress(knownAcked: sendWatch?.ackedBytes ?? 0)
        var lastAccepted: UInt64?
        if let progress, progress.outstandingBytes > 0, let watch = sendWatch, watch.lastProgressAt != 0 {
            lastAccepted = now &- watch.lastProgressAt
        }
        return StreamRow(
            route: route.prefix, path: path, client: clientAddress, upstream: server,
            ageNanos: now &- streamStartedAt, bytesIn: bytesReceived, bytesOut: bytesSent,
            lastActivityNanos: now &- lastUpstreamBytesAt, heartbeats: relay?.heartbeatsSent ?? 0,
            heartbeatsSkipped: relay?.heartbeatsSkipped ?? 0,
            clientBytesWaiting: progress?.outstandingBytes, clientLastAcceptedNanos: lastAccepted,
            detachedNanos: isDetachedForRideThrough ? now &- detachedSince : nil,
            replayBufferBytes: relay?.replayHeldBytes)
    }
}

/// One SSE stream's turn in a spread drain (`drain_spread`): a one-shot entry on the stream's loop that ends the
/// stream when its drawn delay has passed. Holds the stream weakly: a stream that ended meanwhile is let go.
private final class StreamDrainTurn: DeadlineTarget {
    /// Its place in the loop's deadline heap (`DeadlineTarget`).
    var deadlineSlot = -1
    private weak var stream: ProxyStream?
    private let retryMilliseconds: Int

    init(stream: ProxyStream, retryMilliseconds: Int) {
        self.stream = stream
        self.retryMilliseconds = retryMilliseconds
    }

    /// Runs on the stream's loop queue.
    func deadlineReached(_ deadline: UInt64, now: UInt64) {
        stream?.endForDrain(retryMilliseconds: retryMilliseconds)
    }
}

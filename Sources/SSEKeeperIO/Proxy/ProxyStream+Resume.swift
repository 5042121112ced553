import SSEKeeperCore

/// `upstream_resume`: when an SSE stream's upstream connection ends while the client is still there, keep the
/// client (heartbeats continue), reconnect with `Last-Event-ID` set to the last complete event's `id`, and splice
/// the new response's body into the client's stream.
///
/// On resume routes the relay assembles events, so the client only ever receives complete events and a break never
/// leaves half an event at it. The attempt machine schedules the attempts and the window; during a resume the
/// stream's one deadline is the earliest of the next heartbeat and the machine's `resumeDeadline`.
extension ProxyStream {
    /// The upstream ended (`clean`: its response completed) or broke: start a resume when the route asks for it
    /// and the stream can be resumed. True when resuming (the caller does nothing more).
    func resumeAfterUpstreamEnd(reason: String, clean: Bool) -> Bool {
        guard isRelaying, isSSE, let relay, relay.takesHeartbeats, let original = resumableRequest,
              route.settings.upstreamResume != .off, !attempt.isResuming
        else { return false }
        let mode = route.settings.upstreamResume
        guard mode == .always || (mode == .on && !clean) else { return false }
        guard !drainRequested, !runtime.draining.load(ordering: .relaxed) else { return false }
        guard relay.isResumable, let request = ResumePolicy.request(original, lastEventID: relay.lastEventID) else {
            context.logger.warn("route \(route.prefix): upstream \(server ?? ""): \(reason); not resumed "
                + "(an oversized event was cut, or its last id cannot be sent as Last-Event-ID)")
            return false
        }
        let now = EventLoop.now()
        dropUpstream()
        let lastEventID = request.headers.first("Last-Event-ID") ?? "-"
        let settings = route.settings
        resumeRequest = ResumeRequest(
            bytes: UpstreamRequestBuilder.build(request, framing: .none, clientAddress: clientHost, clientProtocol: clientProtocol),
            lastEventID: lastEventID)
        attempt.beginResume(now: now, windowNanos: TimeAmount(settings.resumeWindow).nanoseconds,
                            backoffMinNanos: TimeAmount(settings.resumeBackoffMin).nanoseconds,
                            backoffMaxNanos: TimeAmount(settings.resumeBackoffMax).nanoseconds, jitter: Double.random(in: 0..<1))
        metrics.counters.resumesAttempted &+= 1
        context.logger.warn("upstream \(server ?? ""): \(reason); resuming route \(route.prefix) "
            + "with Last-Event-ID \(lastEventID) (client kept, window \(ConfigValue.formatDuration(settings.resumeWindow)))")
        // The partial event is dropped; if the client stands just after a CR, an LF realigns it to a line start.
        loop.output.removeAll()
        self.relay!.breakForResume(into: &loop.output)
        guard writeOutputToClient(now: now) else { return true }
        resumeTick(now: now)
        return true
    }

    /// A deadline reached while resuming: the window, the attempt's timeout or start, and heartbeats.
    func resumeTick(now: UInt64) {
        guard attempt.isResuming else { return }
        switch attempt.resumeTick(now: now) {
        case .giveUp(let attempts, let lastFailure):
            let failure = lastFailure.map { " (last attempt: \($0))" } ?? ""
            endResumedStream(reason: "no upstream resumed the stream within resume_window "
                + "\(ConfigValue.formatDuration(route.settings.resumeWindow)) after \(attempts) attempts\(failure)",
                end: .upstreamError)
            return
        case .attemptTimedOut:
            let what = isConnecting ? "connect" : "response head"
            if isConnecting { metrics.counters.countConnectError(.timeout) }
            if let current = attempt.attempt, current.server >= 0 { noteServerFailure(current.server) }
            resumeAttemptFailed("\(what) from \(server ?? "upstream") timed out")
        case .startAttempt:
            guard let resumeRequest else { return }
            upstreamHead = resumeRequest.bytes
            responseHeadBytes = []
            responseParser = HeadParser(maxHeaderBytes: limits.maxHeaderBytes)
            perform(attempt.startResumeAttempt(
                now: now, connectTimeoutNanos: TimeAmount(limits.upstreamConnectTimeout).nanoseconds,
                order: upstreamTarget?.attemptOrder(now: now) ?? []))
        case .wait:
            break
        }
        guard end == nil, attempt.isResuming else { return }
        if let next = relay?.nextHeartbeatDeadline, next <= now {
            heartbeatDue(now: now)
            guard end == nil else { return }
        }
        updateResumeDeadline()
    }

    /// An attempt failed (no server took the connection, it closed or sent garbage before a head, it timed out):
    /// the machine schedules the next one.
    func resumeAttemptFailed(_ detail: String) {
        guard end == nil, attempt.isResuming else { return }
        dropUpstream()
        let settings = route.settings
        attempt.resumeAttemptFailed(detail, now: EventLoop.now(), backoffMinNanos: TimeAmount(settings.resumeBackoffMin).nanoseconds,
                                    backoffMaxNanos: TimeAmount(settings.resumeBackoffMax).nanoseconds, jitter: Double.random(in: 0..<1))
        updateResumeDeadline()
    }

    /// Sets the stream's deadline to the earliest thing the resume waits for.
    func updateResumeDeadline() {
        guard var next = attempt.resumeDeadline else { return }
        if client != nil, let heartbeat = relay?.nextHeartbeatDeadline { next = min(next, heartbeat) }
        if let windowEnd = rideWindowEnd { next = min(next, windowEnd) }
        setDeadline(next)
    }

    /// The resume's response head arrived: a `200 text/event-stream` (uncompressed, with a body) is spliced in —
    /// its head is not sent, its body framing replaces the old one's. A 5xx or 429 (a backend still warming up,
    /// RFC 9110 §15.6, RFC 6585 §4) is a failed attempt: the next one follows with back-off while `resume_window`
    /// lasts. Anything else (204, another 4xx, a 200 that is not an event stream) ends the client's stream
    /// cleanly, as the upstream meant it. False when the response is not spliced (the stream ended, or waits).
    func spliceResumedResponse(_ head: ResponseHead) -> Bool {
        guard let resume = attempt.resume else { return false }
        if head.status >= 500 || head.status == 429 {
            let detail = "upstream \(server ?? "") answered the resume with status \(head.status)"
            context.logger.warn("route \(route.prefix): \(detail); trying again within resume_window")
            resumeAttemptFailed(detail)
            return false
        }
        let framing = try? head.bodyFraming(requestMethod: method)
        guard head.status == 200, let framing, EventStreamKind(head, framing: framing) == .uncompressed else {
            let what = head.status == 200 ? "a 200 that is not an uncompressed event stream" : "status \(head.status)"
            endResumedStream(reason: "upstream \(server ?? "") answered the resume with \(what)", end: .completed)
            return false
        }
        let now = EventLoop.now()
        relay!.spliceResumed(upstreamFraming: framing)
        attempt.headArrived(now: now)
        resumeCount += 1
        metrics.counters.resumesSucceeded &+= 1
        metrics.counters.resumeGap.observe(nanos: now &- resume.brokeAt)
        longestUpstreamGapNanos = max(longestUpstreamGapNanos, now &- lastUpstreamBytesAt)
        lastUpstreamBytesAt = now
        context.logger.info("route \(route.prefix): resumed from upstream \(server ?? "") "
            + "after \(TimeAmount(nanoseconds: now &- resume.brokeAt).formatted(.secondsToMilliseconds)) and \(resume.attempts) attempts (Last-Event-ID \(resumeRequest?.lastEventID ?? "-"))")
        resumeRequest = nil
        scheduleRelayingDeadline()
        return true
    }

    /// Ends a resuming stream for the client: the end of the body (the stream ends cleanly; an EventSource
    /// reconnects by itself) and a graceful close. Counted as given up.
    func endResumedStream(reason: String, end how: RequestEnd) {
        dropUpstream()
        attempt.endResume()
        resumeRequest = nil
        metrics.counters.resumesGivenUp &+= 1
        if holdEndForRideThrough(.completed) {
            context.logger.warn("route \(route.prefix): \(reason); the stream ends for its client when it comes back")
            return
        }
        context.logger.warn("route \(route.prefix): \(reason); ending the client's stream")
        loop.output.removeAll()
        relay?.endBody(into: &loop.output)
        guard writeOutputToClient(now: EventLoop.now()) else { return }
        logAccess(status: status, end: how, reason: reason)
        endCompleted(how)
    }

    /// Draining while a resume waits: the stream ends the way draining ends every stream (`retry:`, then the end).
    func drainResumingStream(retryMilliseconds: Int) -> Bool {
        guard attempt.isResuming else { return false }
        dropUpstream()
        attempt.endResume()
        resumeRequest = nil
        drainRetryMilliseconds = retryMilliseconds
        endStreamIfDraining()
        return true
    }
}

/// The request a resume sends on every attempt.
struct ResumeRequest {
    /// The upstream request head (with the resumed `Last-Event-ID`).
    let bytes: [UInt8]
    /// The `Last-Event-ID` sent, for the log (`-` when none).
    let lastEventID: String
}

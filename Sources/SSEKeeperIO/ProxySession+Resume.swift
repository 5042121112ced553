import Glibc
import SSEKeeperCore

/// `upstream_resume`: when an SSE stream's upstream connection ends while the client is still there, keep the
/// client (heartbeats continue), reconnect through `connectNextServer()` with `Last-Event-ID` set to the last
/// complete event's `id`, and splice the new response's body into the client's stream.
///
/// On resume routes the body passes through an `SSEEventAssembler` before the `SSEStreamTracker`, so the client
/// only ever receives complete events and a break never leaves half an event at it. During a resume the session's
/// one deadline is the earliest of: the next heartbeat, the next attempt (or the attempt's timeout), and the end of
/// `resume_window`; `resumeTick(now:)` handles all three.
extension ProxySession {
    /// Creates the assembler for a new SSE stream when the route resumes and the request can be re-sent.
    func startAssembling(_ exchange: Exchange) {
        guard exchange.route.settings.upstreamResume != .off, exchange.requestHead != nil else { return }
        exchange.assembler = SSEEventAssembler(maxHeldBytes: limits.maxBufferedBytes)
    }

    /// Body bytes on a resume route: complete events go through the tracker to the client; a partial one is held.
    func assembleBody(_ data: UnsafeRawBufferPointer, exchange: Exchange) {
        let overflowsBefore = exchange.assembler!.overflowCount
        exchange.assembler!.feed(data) { slice in
            exchange.tracker!.forward(slice) { appendClientData($0, exchange: exchange) }
        }
        if exchange.assembler!.overflowCount != overflowsBefore, overflowsBefore == 0 {
            context.logger.warn("route \(exchange.route.prefix): an event from upstream \(exchange.server ?? "") is larger than "
                + "max_buffer_size \(limits.maxBufferedBytes); it is forwarded as it comes, and a break inside it is not resumed")
        }
    }

    /// The upstream ended (`clean`: its response completed) or broke: start a resume when the route asks for it
    /// and the stream can be resumed. True when resuming (the caller does nothing more).
    func resumeAfterUpstreamEnd(reason: String, clean: Bool) -> Bool {
        guard phase == .streaming, let exchange, exchange.isSSE, exchange.tracker != nil,
              exchange.assembler != nil, let original = exchange.requestHead, exchange.resume == nil
        else { return false }
        let mode = exchange.route.settings.upstreamResume
        guard mode == .always || (mode == .on && !clean) else { return false }
        guard !exchange.drainRequested, !runtime.draining.load(ordering: .relaxed) else { return false }
        guard exchange.assembler!.isResumable,
              let request = ResumePolicy.request(original, lastEventID: exchange.assembler!.lastEventID)
        else {
            context.logger.warn("route \(exchange.route.prefix): upstream \(exchange.server ?? ""): \(reason); not resumed "
                + "(an oversized event was cut, or its last id cannot be sent as Last-Event-ID)")
            return false
        }
        let now = EventLoop.now()
        dropUpstream()
        let lastEventID = request.headers.first("Last-Event-ID") ?? "-"
        exchange.resume = ResumeState(
            brokeAt: now, windowEnd: now + exchange.route.settings.resumeWindow.nanoseconds, reason: reason,
            requestBytes: UpstreamRequestBuilder.build(request, framing: .none, clientAddress: clientHost, clientProtocol: "http"),
            lastEventID: lastEventID)
        exchange.metrics.counters.resumesAttempted &+= 1
        context.logger.warn("upstream \(exchange.server ?? ""): \(reason); resuming route \(exchange.route.prefix) "
            + "with Last-Event-ID \(lastEventID) (client kept, window \(ConfigValue.formatDuration(exchange.route.settings.resumeWindow)))")
        // The partial event is dropped; if the client stands just after a CR, an LF realigns it to a line start.
        let realign = exchange.assembler!.beginResumedStream()
        if !realign.isEmpty {
            loop.outputScratch.removeAll(keepingCapacity: true)
            realign.withUnsafeBytes { bytes in
                exchange.tracker!.forward(bytes) { appendClientData($0, exchange: exchange) }
            }
            guard writeScratchToClient(exchange, now: now) else { return true }
        }
        let settings = exchange.route.settings
        let quick = exchange.lastSpliceAt != 0 && now &- exchange.lastSpliceAt < settings.resumeBackoffMax.nanoseconds
        exchange.quickResumeStreak = quick ? exchange.quickResumeStreak + 1 : 0
        guard exchange.quickResumeStreak > 0, let resume = exchange.resume else {
            startResumeAttempt(now: now)
            return true
        }
        // The last splice was moments ago: go on with the back-off instead of reconnecting at once again.
        resume.attempts = exchange.quickResumeStreak
        resume.retryAt = now + ResumePolicy.delayNanos(
            attempt: resume.attempts, minNanos: settings.resumeBackoffMin.nanoseconds,
            maxNanos: settings.resumeBackoffMax.nanoseconds, jitter: Double.random(in: 0..<1))
        updateResumeDeadline()
        return true
    }

    /// Starts one connect of the resume through the ordinary server rotation.
    private func startResumeAttempt(now: UInt64) {
        guard let exchange, let resume = exchange.resume else { return }
        resume.attempts += 1
        resume.retryAt = 0
        resume.attemptDeadline = now + limits.upstreamConnectTimeout.nanoseconds
        exchange.upstreamHead = resume.requestBytes
        exchange.attemptOrder = context.attemptOrder(for: exchange.route.upstreamName, now: now)
        exchange.attemptIndex = 0
        exchange.connectTimedOut = false
        exchange.lastConnectFailure = nil
        exchange.responseHead = []
        exchange.responseParser = HeadParser(maxHeaderBytes: limits.maxHeaderBytes)
        exchange.responseBody = .none
        connectNextServer()
        // A synchronous failure of every server already scheduled the next attempt (`resumeAttemptFailed`).
        if exchange.resume === resume, resume.retryAt == 0 { updateResumeDeadline() }
    }

    /// The attempt's connection is up and the request went out: it now waits for a response head.
    func noteResumeConnected() {
        guard let resume = exchange?.resume else { return }
        resume.attemptDeadline = EventLoop.now() + limits.upstreamHeaderTimeout.nanoseconds
        updateResumeDeadline()
    }

    /// An attempt failed (no server took the connection, it closed or sent garbage before a head, ...): schedule
    /// the next one. False when no resume is in progress (the caller answers as usual).
    func resumeAttemptFailed(_ detail: String) -> Bool {
        guard phase != .finished, let exchange, let resume = exchange.resume else { return false }
        dropUpstream()
        phase = .streaming
        resume.lastFailure = detail
        let now = EventLoop.now()
        let settings = exchange.route.settings
        resume.retryAt = now + ResumePolicy.delayNanos(
            attempt: resume.attempts, minNanos: settings.resumeBackoffMin.nanoseconds,
            maxNanos: settings.resumeBackoffMax.nanoseconds, jitter: Double.random(in: 0..<1))
        updateResumeDeadline()
        return true
    }

    /// A deadline reached while resuming: the window, the attempt's timeout or start, and heartbeats.
    func resumeTick(now: UInt64) {
        guard let exchange, let resume = exchange.resume else { return }
        if now >= resume.windowEnd {
            let failure = resume.lastFailure.map { " (last attempt: \($0))" } ?? ""
            endResumedStream(reason: "no upstream resumed the stream within resume_window "
                + "\(ConfigValue.formatDuration(exchange.route.settings.resumeWindow)) after \(resume.attempts) attempts\(failure)",
                end: .upstreamError)
            return
        }
        switch phase {
        case .connecting, .awaitingResponse:
            if now >= resume.attemptDeadline {
                let what = phase == .connecting ? "connect" : "response head"
                if phase == .connecting { exchange.metrics.counters.countConnectError(.timeout) }
                _ = resumeAttemptFailed("\(what) from \(exchange.server ?? "upstream") timed out")
            }
        case .streaming where resume.retryAt != 0 && now >= resume.retryAt:
            startResumeAttempt(now: now)
        default:
            break
        }
        guard phase != .finished, exchange.resume === resume else { return }
        if let schedule = exchange.heartbeats, schedule.nextDeadline <= now {
            heartbeatDue(now: now)
            guard phase != .finished else { return }
        }
        updateResumeDeadline()
    }

    /// Sets the session's deadline to the earliest thing the resume waits for.
    private func updateResumeDeadline() {
        guard let exchange, let resume = exchange.resume else { return }
        var next = min(resume.windowEnd, resume.retryAt != 0 ? resume.retryAt : resume.attemptDeadline)
        if let schedule = exchange.heartbeats { next = min(next, schedule.nextDeadline) }
        setDeadline(next)
    }

    /// The resume's response head arrived: a `200 text/event-stream` (uncompressed, with a body) is spliced in —
    /// its head is not sent, its body framing replaces the old one's; anything else ends the client's stream
    /// cleanly, as the upstream meant it.
    func spliceResumedResponse(_ head: ResponseHead, exchange: Exchange) {
        guard let resume = exchange.resume else { return }
        let framing = try? head.bodyFraming(requestMethod: exchange.method)
        let encoding = head.headers.first("Content-Encoding")?.lowercased() ?? "identity"
        guard head.status == 200, let framing, framing != .none, ClientResponseBuilder.isEventStream(head),
              encoding == "identity"
        else {
            let what = head.status == 200 ? "a 200 that is not an uncompressed event stream" : "status \(head.status)"
            endResumedStream(reason: "upstream \(exchange.server ?? "") answered the resume with \(what)", end: .completed)
            return
        }
        switch framing {
        case .none: exchange.responseBody = .none
        case .contentLength(let length): exchange.responseBody = length == 0 ? .none : .remaining(length)
        case .chunked: exchange.responseBody = .chunked(ChunkedDecoder())
        case .closeDelimited: exchange.responseBody = .untilClose
        }
        let now = EventLoop.now()
        exchange.resume = nil
        exchange.lastSpliceAt = now
        exchange.resumeCount += 1
        exchange.metrics.counters.resumesSucceeded &+= 1
        exchange.metrics.counters.resumeGap.observe(nanos: now &- resume.brokeAt)
        exchange.longestUpstreamGapNanos = max(exchange.longestUpstreamGapNanos, now &- exchange.lastUpstreamBytesAt)
        exchange.lastUpstreamBytesAt = now
        phase = .streaming
        context.logger.info("route \(exchange.route.prefix): resumed from upstream \(exchange.server ?? "") "
            + "after \(AccessLogRecord.seconds(now &- resume.brokeAt)) and \(resume.attempts) attempts (Last-Event-ID \(resume.lastEventID))")
        setDeadline(exchange.heartbeats?.nextDeadline ?? 0)
    }

    /// Ends a resuming stream for the client: the final chunk (the stream ends cleanly; an EventSource reconnects
    /// by itself) and a graceful close. Counted as given up.
    private func endResumedStream(reason: String, end: RequestEnd) {
        guard let exchange else { return }
        dropUpstream()
        exchange.resume = nil
        exchange.metrics.counters.resumesGivenUp &+= 1
        context.logger.warn("route \(exchange.route.prefix): \(reason); ending the client's stream")
        phase = .streaming
        loop.outputScratch.removeAll(keepingCapacity: true)
        if exchange.clientFraming == .chunked { loop.outputScratch.append(contentsOf: ChunkedEncoder.lastChunk) }
        guard writeScratchToClient(exchange, now: EventLoop.now()) else { return }
        logAccess(exchange, status: exchange.status, end: end, reason: reason)
        finishGracefully()
    }

    /// Draining while a resume waits: the stream ends the way draining ends every stream (`retry:`, then the end).
    func drainResumingStream() -> Bool {
        guard let exchange, exchange.resume != nil else { return false }
        dropUpstream()
        exchange.resume = nil
        phase = .streaming
        exchange.drainRequested = true
        endStreamIfDraining(exchange)
        return true
    }

    /// The upstream response completed: resume it with `upstream_resume always`, or else forward the partial event
    /// the assembler holds (the client discards it at the end of the stream anyway). True when the caller must
    /// stop (resuming, or the client is gone).
    func resumeOrFlushAtCleanEnd(_ exchange: Exchange) -> Bool {
        if resumeAfterUpstreamEnd(reason: "upstream ended the stream", clean: true) { return true }
        guard exchange.assembler != nil, exchange.tracker != nil else { return false }
        let held = exchange.assembler!.finish()
        guard !held.isEmpty else { return false }
        loop.outputScratch.removeAll(keepingCapacity: true)
        held.withUnsafeBytes { bytes in
            exchange.tracker!.forward(bytes) { appendClientData($0, exchange: exchange) }
        }
        return !writeScratchToClient(exchange, now: EventLoop.now())
    }
}

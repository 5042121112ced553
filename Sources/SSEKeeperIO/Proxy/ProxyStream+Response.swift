import SSEKeeperCore

/// The response: reading the upstream's head, sending the client's, relaying the body through the
/// `ResponseRelay` (one client write per upstream read), heartbeats, and the end of the response.
extension ProxyStream {
    func upstreamReadable() {
        guard let upstream else { return }
        while end == nil, self.upstream === upstream, !upstream.isReadingPaused {
            switch upstream.read() {
            case .bytes(let count):
                bytesReceived &+= UInt64(count)
                // More of a response is expected: ACK at once (see `SocketChannel.acknowledgeQuickly`). Not for the
                // head's read on a fresh connection (still in the kernel's initial quick-ACK mode), nor for SSE
                // bodies, left to the kernel's delayed ACKs to keep the per-event path one syscall shorter.
                if !isSSE, headSent || attempt.attempt?.reused == true { upstream.acknowledgeQuickly() }
                upstreamBytes(UnsafeRawBufferPointer(rebasing: loop.readBuffer[..<count]))
                if count < loop.readBuffer.count { return }
            case .wouldBlock:
                return
            case .endOfFile:
                upstreamEnded()
                return
            case .failed(let code):
                if SocketError.isPeerTimeout(errno: code) {
                    upstreamBroke(reason: "upstream \(server ?? "") stopped answering (upstream_dead_timeout): "
                        + SocketError.message(errno: code), end: .upstreamDead)
                } else {
                    upstreamBroke(reason: "upstream connection failed: \(SocketError.message(errno: code))")
                }
                return
            }
        }
    }

    private func upstreamBytes(_ bytes: UnsafeRawBufferPointer) {
        switch attempt.state {
        case .awaitingHead, .resumeAttempting:
            attempt.responseBytesArrived()
            if responseHeadBytes.isEmpty {
                // Most heads come whole in one read: parsed where they were read, without a copy.
                parseResponseHeads(freshBytes: bytes)
            } else {
                responseHeadBytes.append(contentsOf: bytes)
                parseResponseHeads()
            }
        case .relaying:
            relayBody(bytes)
        case .idle, .connecting, .resumeWaiting, .done:
            break
        }
    }

    /// Parses interim (1xx) heads and the final head out of the bytes received so far: those in
    /// `responseHeadBytes`, or, when it was empty, `freshBytes` where they were read (the loop's read buffer).
    /// Whatever of `freshBytes` no head or body takes (an incomplete head) is kept in `responseHeadBytes`.
    private func parseResponseHeads(freshBytes: UnsafeRawBufferPointer? = nil) {
        var fresh = freshBytes
        while end == nil, attempt.attempt != nil, !isRelaying {
            let result: HeadParseResult<ResponseHead>
            do {
                if let bytes = fresh {
                    result = try responseParser.parseResponse(bytes)
                } else {
                    result = try responseHeadBytes.withUnsafeBytes { try responseParser.parseResponse($0) }
                }
            } catch {
                respondError(status: 502, detail: "invalid response head from upstream \(server ?? ""): \(error)", end: .upstreamError)
                return
            }
            guard case .complete(let head, let consumed) = result else {
                // The parser has seen these bytes; kept, they are the start of the buffer its next call reads.
                if let bytes = fresh { responseHeadBytes.append(contentsOf: bytes) }
                return
            }
            if let bytes = fresh {
                fresh = UnsafeRawBufferPointer(rebasing: bytes[consumed...])
            } else {
                responseHeadBytes.removeFirst(consumed)
            }
            responseParser = HeadParser(maxHeaderBytes: limits.maxHeaderBytes)
            if (100..<200).contains(head.status) {
                if head.status == 101 {
                    respondError(status: 502, detail: "upstream switched protocols (101), which ssekeeper does not relay", end: .upstreamError)
                    return
                }
                if !headSent, let interim = ClientResponseBuilder.interim(head, clientVersion: clientVersion) {
                    guard let client else { return }
                    guard client.writeToClient(interim) else {
                        client.clientWriteFailed()
                        return
                    }
                    bytesSent += UInt64(interim.count)
                }
                continue
            }
            let buffered = responseHeadBytes
            responseHeadBytes = []
            loop.output.removeAll()
            if attempt.isResuming {
                guard spliceResumedResponse(head) else { return }
            } else {
                guard beginResponse(head) else { return }
            }
            // The body's first bytes, when they came with the head, go out in the same write as the head.
            // (`fresh` still holds them: nothing reads into the loop's buffer before they are relayed.)
            if let rest = fresh, !rest.isEmpty, isRelaying {
                relayBody(rest, inTheHeadsRead: true, outputStarted: true)
            } else if !buffered.isEmpty, isRelaying {
                buffered.withUnsafeBytes { relayBody($0, inTheHeadsRead: true, outputStarted: true) }
            } else if !loop.output.isEmpty {
                guard writeOutputToClient(now: EventLoop.now()) else { return }
                if relay?.hasNoBody == true { finishResponse() }
            }
            // A stream whose head came after the drain started was not among those the drain reached: it takes its
            // own turn now, or it would run until drain_timeout.
            if end == nil, isSSE, !attempt.isResuming, !drainRequested, runtime.draining.load(ordering: .relaxed) {
                let spread = DrainSpread(spread: limits.drainSpread, retry: limits.drainRetry)
                drain(ending: spread.ending(endJitter: .random(in: 0..<1), retryJitter: .random(in: 0..<1)))
            }
            return
        }
    }

    var isRelaying: Bool {
        if case .relaying = attempt.state { return true }
        return false
    }

    /// Builds the client's response head (plus `retry:` for SSE when configured) into the loop's output and sets
    /// up the relay. False when the response cannot go on (answered already).
    private func beginResponse(_ head: ResponseHead) -> Bool {
        let framing: BodyFraming
        do {
            framing = try head.bodyFraming(requestMethod: method)
        } catch {
            respondError(status: 502, detail: "upstream \(server ?? "") sent ambiguous framing: \(error)", end: .upstreamError)
            return false
        }
        let kind = EventStreamKind(head, framing: framing)
        isSSE = kind != .none
        let plan = ClientResponseBuilder.build(
            head, upstreamFraming: framing, requestMethod: method, clientVersion: clientVersion,
            clientWantsKeepAlive: clientWantsKeepAlive, isSSE: isSSE,
            addedFields: CORSPolicy.fields(corsFields, toAddTo: head))
        status = head.status
        upstreamHead = []
        upstreamAllowsReuse = head.allowsConnectionReuse && framing != .closeDelimited
        let now = EventLoop.now()
        if let index = attempt.attempt?.server {
            upstreamTarget?.noteResponse(server: index, now: now)
        }
        attempt.headArrived(now: now)
        keepAlive = plan.keepAlive
        deadline = 0
        lastUpstreamBytesAt = now
        // Made once, never changed: each assignment to an optional var of it was a destroy through the runtime.
        let sse: ResponseRelay.SSEOptions?
        if isSSE { beginStream(at: now) }
        switch kind {
        case .none:
            sse = nil
        case .compressed(let encoding):
            if context.firstCompressedStream(on: route.prefix) {
                context.logger.warn("route \(route.prefix): upstream sent a compressed (\(encoding)) SSE stream; it is forwarded without heartbeats")
            }
            sse = nil
        case .uncompressed:
            // Read field by field from the route (a class): a copy of all its settings costs ~30 reference counts.
            sse = ResponseRelay.SSEOptions(
                heartbeatIntervalNanos: route.heartbeatIntervalNanos,
                heartbeat: route.heartbeat,
                retryMilliseconds: route.settings.sseRetry.map { Int(TimeAmount($0).milliseconds) },
                assemblesEvents: route.settings.upstreamResume != .off && resumableRequest != nil,
                maxHeldBytes: limits.maxBufferedBytes,
                carriedLastEventID: lastEventID,
                rideThrough: beginRideThrough(head: head, framing: framing))
        }
        // Built in place: a local relay copied into the property costs a copy of all its parts.
        relay = ResponseRelay(upstreamFraming: framing, clientFraming: plan.framing, sse: sse, now: now)
        relay!.begin(head: plan.head, into: &loop.output)
        if let timeout = route.settings.clientSendTimeout {
            sendWatch = SendProgressWatch(timeoutNanos: TimeAmount(timeout).nanoseconds)
        }
        scheduleRelayingDeadline()
        return true
    }

    /// Relays one read of response body bytes and writes the result with one `send`. `inTheHeadsRead`: the bytes
    /// came in the same read as the response head, so there was no gap before them to observe. `outputStarted`:
    /// the loop's output already holds the head (sent in the same write).
    func relayBody(_ bytes: UnsafeRawBufferPointer, inTheHeadsRead: Bool = false, outputStarted: Bool = false) {
        guard relay != nil else { return }
        let now = EventLoop.now()
        let gap = now &- lastUpstreamBytesAt
        longestUpstreamGapNanos = max(longestUpstreamGapNanos, gap)
        if isSSE && !inTheHeadsRead { metrics.counters.upstreamQuiet.observe(nanos: gap) }
        lastUpstreamBytesAt = now
        if !outputStarted { loop.output.removeAll() }
        let overflowedBefore = relay!.assemblerOverflowed
        let outcome = relay!.relay(bytes, into: &loop.output)
        if ride != nil { noteReplayBufferChanged() }
        if !overflowedBefore, relay!.assemblerOverflowed {
            context.logger.warn("route \(route.prefix): an event from upstream \(server ?? "") is larger than "
                + "max_buffer_size \(limits.maxBufferedBytes); it is forwarded as it comes, and a break inside it is not resumed")
        }
        switch outcome {
        case .broken(let error):
            guard writeOutputToClient(now: now) else { return }
            upstreamBroke(reason: "invalid chunked body from upstream: \(error)")
        case .complete:
            guard writeOutputToClient(now: now) else { return }
            finishResponse()
        case .more:
            guard writeOutputToClient(now: now) else { return }
            if drainRequested {
                endStreamIfDraining()
            } else if lifetimeEndPending {
                endClientConnectionAtLifetime()
            } else if let client, client.pendingClientBytes > 0 {
                if client.pendingClientBytes > limits.maxBufferedBytes { upstream?.pauseReading() }
                noteClientBacklog(now: now)
            }
        }
    }

    /// Writes the loop's output to the client; false (and the stream is ended by the client adapter) when the client
    /// is gone.
    @discardableResult
    func writeOutputToClient(now: UInt64) -> Bool {
        guard !loop.output.isEmpty else { return true }
        guard let client else {
            // Kept without a client (ride-through): the ring has the events; the rest is not for anyone.
            loop.output.removeAll()
            return isDetachedForRideThrough
        }
        let count = loop.output.count
        let written = client.writeToClient(loop.output)
        loop.output.removeAll()
        guard written else {
            client.clientWriteFailed()
            return false
        }
        bytesSent += UInt64(count)
        relay?.noteClientWrite(at: now)
        return true
    }

    /// The upstream finished its response cleanly: end the client's response and keep the connection if we can.
    func finishResponse() {
        guard end == nil, relay != nil else { return }
        if resumeAfterUpstreamEnd(reason: "upstream ended the stream", clean: true) { return }
        if holdEndForRideThrough(.completed) { return }
        releaseUpstream()
        loop.output.removeAll()
        relay!.finish(into: &loop.output)
        guard writeOutputToClient(now: EventLoop.now()) else { return }
        // One last look: a client whose window is closed now (its last bytes wait in the kernel) keeps its hold on
        // the kernel's cut while the connection flushes (see `StreamClient.clientReadingPaused`).
        guard checkClientProgress(now: EventLoop.now()) else { return }
        logAccess(status: status, end: .completed, reason: nil)
        endCompleted(.completed, keepAlive: keepAlive && body.isComplete)
    }

    /// The upstream closed its side: the end of a close-delimited body, otherwise a broken response.
    func upstreamEnded() {
        switch attempt.state {
        case .awaitingHead:
            if retryAfterUpstreamFailure(reason: "closed the connection before sending a response head") { return }
            respondError(status: 502, detail: "upstream \(server ?? "") closed the connection before sending a response head", end: .upstreamError)
        case .relaying:
            if relay?.endsAtUpstreamClose == true {
                finishResponse()
            } else {
                upstreamBroke(reason: "upstream closed the connection before the response was complete", end: .upstreamClosed)
            }
        default:
            upstreamBroke(reason: "upstream closed the connection")
        }
    }

    /// The upstream failed mid-way: 502 if the client has no head yet, else break the client connection
    /// (no final chunk) so it knows the response is incomplete and reconnects.
    func upstreamBroke(reason: String, end how: RequestEnd = .upstreamError) {
        guard end == nil else { return }
        if case .awaitingHead = attempt.state, retryAfterUpstreamFailure(reason: reason) { return }
        if resumeAfterUpstreamEnd(reason: reason, clean: false) { return }
        context.logger.warn("upstream \(server ?? ""): \(reason)")
        if holdEndForRideThrough(.aborted(how, reason: reason)) { return }
        if isRelaying, sendUpstreamErrorEvent(reason: reason) {
            // The event must reach the client, so the close is graceful; without the final chunk the client still
            // knows the response is incomplete.
            logAccess(status: status, end: how, reason: reason)
            endCompleted(how)
            return
        }
        respondError(status: 502, detail: reason, end: how)
    }

    /// A heartbeat may be due: ask the relay, write it. The caller schedules the next deadline.
    func heartbeatDue(now: UInt64) {
        guard relay?.takesHeartbeats == true, let client else { return }
        loop.output.removeAll()
        switch relay!.heartbeat(now: now, wallClockMilliseconds: WallClock.milliseconds(),
                                clientBacklogged: client.pendingClientBytes > 0, into: &loop.output) {
        case .notYet:
            break
        case .skipped:
            metrics.counters.heartbeatsSkipped &+= 1
        case .sent:
            metrics.counters.heartbeatsSent &+= 1
            writeOutputToClient(now: now)
        }
    }
}

import Glibc
import SSEKeeperCore

/// The upstream side of a session once connected: reading the response head and streaming the body to the
/// client (connecting, retries and the keep-alive pool are in `ProxySession+UpstreamConnection.swift`).
extension ProxySession {
    /// A floor under `idle_timeout × heartbeat_fraction`, whatever the config says: heartbeats at most every 1 ms.
    static let minimumHeartbeatIntervalNanos: UInt64 = 1_000_000

    func upstreamReadable() {
        guard let upstream else { return }
        while phase != .finished, self.upstream === upstream, !upstream.isReadingPaused {
            switch upstream.read() {
            case .bytes(let count):
                exchange?.bytesReceived &+= UInt64(count)
                // More of a response is expected: ACK at once (see `SocketChannel.acknowledgeQuickly`). SSE
                // bodies are left to the kernel's delayed ACKs to keep the per-event path one syscall shorter.
                if exchange?.isSSE == false { upstream.acknowledgeQuickly() }
                upstreamBytes(UnsafeRawBufferPointer(rebasing: loop.readBuffer[..<count]))
                if count < loop.readBuffer.count { return }
            case .wouldBlock:
                return
            case .endOfFile:
                upstreamEnded()
                return
            case .failed(let code):
                upstreamBroke(reason: "upstream connection failed: \(String(cString: strerror(code)))")
                return
            }
        }
    }

    private func upstreamBytes(_ bytes: UnsafeRawBufferPointer) {
        switch phase {
        case .awaitingResponse:
            guard let exchange else { return }
            exchange.receivedResponseBytes = true
            exchange.responseHead.append(contentsOf: bytes)
            parseResponseHeads(exchange)
        case .streaming:
            streamResponseBody(bytes)
        default:
            break
        }
    }

    /// Parses interim (1xx) heads and the final head out of the bytes received so far.
    private func parseResponseHeads(_ exchange: Exchange) {
        while phase == .awaitingResponse {
            let result: HeadParseResult<ResponseHead>
            do {
                result = try exchange.responseHead.withUnsafeBytes { try exchange.responseParser.parseResponse($0) }
            } catch {
                respondError(status: 502, detail: "invalid response head from upstream \(exchange.server ?? ""): \(error)", end: .upstreamError)
                return
            }
            guard case .complete(let head, let consumed) = result else { return }
            exchange.responseHead.removeFirst(consumed)
            exchange.responseParser = HeadParser(maxHeaderBytes: limits.maxHeaderBytes)
            if (100..<200).contains(head.status) {
                if head.status == 101 {
                    respondError(status: 502, detail: "upstream switched protocols (101), which ssekeeper does not relay", end: .upstreamError)
                    return
                }
                if !exchange.headSent, let interim = ClientResponseBuilder.interim(head, clientVersion: exchange.clientVersion) {
                    _ = client.write(interim)
                    exchange.bytesSent += UInt64(interim.count)
                }
                continue
            }
            let rest = exchange.responseHead
            exchange.responseHead = []
            if exchange.resume != nil {
                spliceResumedResponse(head, exchange: exchange)
            } else {
                beginResponse(head, exchange: exchange, bytesAfterHead: rest.count)
            }
            if phase == .streaming, !rest.isEmpty {
                rest.withUnsafeBytes { streamResponseBody($0, inTheHeadsRead: true) }
            }
        }
    }

    /// Sends the client's response head (plus `retry:` for SSE when configured) and sets up body streaming.
    /// `bytesAfterHead` came with the head: the start of the body, or extra bytes when there is no body.
    private func beginResponse(_ head: ResponseHead, exchange: Exchange, bytesAfterHead: Int) {
        let framing: BodyFraming
        do {
            framing = try head.bodyFraming(requestMethod: exchange.method)
        } catch {
            respondError(status: 502, detail: "upstream \(exchange.server ?? "") sent ambiguous framing: \(error)", end: .upstreamError)
            return
        }
        let isSSE = framing != .none && ClientResponseBuilder.isEventStream(head)
        let plan = ClientResponseBuilder.build(
            head, upstreamFraming: framing, requestMethod: exchange.method, clientVersion: exchange.clientVersion,
            clientWantsKeepAlive: exchange.clientWantsKeepAlive, isSSE: isSSE)
        exchange.status = head.status
        exchange.upstreamHead = []
        exchange.upstreamAllowsReuse = head.allowsConnectionReuse && framing != .closeDelimited
        if let index = exchange.serverIndex {
            context.noteResponse(upstream: exchange.route.upstreamName, server: index, now: EventLoop.now())
        }
        exchange.clientFraming = plan.framing
        exchange.keepAlive = plan.keepAlive
        exchange.isSSE = isSSE
        switch framing {
        case .none: exchange.responseBody = .none
        case .contentLength(let length): exchange.responseBody = length == 0 ? .none : .remaining(length)
        case .chunked: exchange.responseBody = .chunked(ChunkedDecoder())
        case .closeDelimited: exchange.responseBody = .untilClose
        }
        phase = .streaming
        deadline = 0
        let now = EventLoop.now()
        exchange.lastUpstreamBytesAt = now
        loop.outputScratch.removeAll(keepingCapacity: true)
        loop.outputScratch.append(contentsOf: plan.head)
        if isSSE {
            exchange.beginStream(at: now)
            let encoding = head.headers.first("Content-Encoding")?.lowercased() ?? "identity"
            if encoding != "identity" {
                if context.firstCompressedStream(on: exchange.route.prefix) {
                    context.logger.warn("route \(exchange.route.prefix): upstream sent a compressed (\(encoding)) SSE stream; it is forwarded without heartbeats")
                }
            } else {
                let settings = exchange.route.settings
                var tracker = SSEStreamTracker()
                if let retry = settings.sseRetry {
                    appendClientData(tracker.retryPreamble(milliseconds: Int(retry.nanoseconds / 1_000_000)), exchange: exchange)
                }
                exchange.tracker = tracker
                startAssembling(exchange)
                let interval = max(settings.heartbeatInterval.nanoseconds, Self.minimumHeartbeatIntervalNanos)
                exchange.heartbeats = HeartbeatSchedule(intervalNanos: interval, startedAt: now)
                setDeadline(exchange.heartbeats!.nextDeadline)
            }
        }
        exchange.headSent = true
        guard writeScratchToClient(exchange, now: now) else { return }
        if case .none = exchange.responseBody {
            if bytesAfterHead > 0 { exchange.upstreamSentExtraBytes = true }
            finishResponse(exchange)
        }
    }

    /// Relays one read of response body bytes: decodes the upstream framing, runs SSE bytes through the tracker,
    /// encodes for the client, and writes it all with one `send`. `inTheHeadsRead`: the bytes came in the same
    /// read as the response head, so there was no gap before them to observe.
    func streamResponseBody(_ bytes: UnsafeRawBufferPointer, inTheHeadsRead: Bool = false) {
        guard let exchange else { return }
        let now = EventLoop.now()
        let gap = now &- exchange.lastUpstreamBytesAt
        exchange.longestUpstreamGapNanos = max(exchange.longestUpstreamGapNanos, gap)
        if exchange.isSSE && !inTheHeadsRead { exchange.metrics.counters.upstreamQuiet.observe(nanos: gap) }
        exchange.lastUpstreamBytesAt = now
        loop.outputScratch.removeAll(keepingCapacity: true)
        // Everything this read carries goes out as one client chunk (not one per upstream chunk): measured at
        // saturation, re-encoding each 100-byte event as its own chunk was a tenth of ssekeeper's user time.
        if exchange.clientFraming == .chunked { loop.outputChunkSlot = ChunkedEncoder.openChunk(in: &loop.outputScratch) }
        defer { loop.outputChunkSlot = nil }
        func closeChunk() {
            guard let slot = loop.outputChunkSlot else { return }
            loop.outputChunkSlot = nil
            loop.outputStart = ChunkedEncoder.closeChunk(openedAt: slot, in: &loop.outputScratch)
        }
        var complete = false
        switch exchange.responseBody {
        case .none:
            complete = true
            if !bytes.isEmpty { exchange.upstreamSentExtraBytes = true }
        case .remaining(let remaining):
            let take = Int(min(UInt64(bytes.count), remaining))
            emitBody(UnsafeRawBufferPointer(rebasing: bytes[..<take]), exchange: exchange)
            let left = remaining - UInt64(take)
            exchange.responseBody = .remaining(left)
            complete = left == 0
            if take < bytes.count { exchange.upstreamSentExtraBytes = true }
        case .chunked(var decoder):
            do {
                let (consumed, finished) = try decoder.decode(bytes) { emitBody($0, exchange: exchange) }
                exchange.responseBody = .chunked(decoder)
                complete = finished
                if finished, consumed < bytes.count { exchange.upstreamSentExtraBytes = true }
            } catch {
                closeChunk()
                _ = writeScratchToClient(exchange, now: now)
                upstreamBroke(reason: "invalid chunked body from upstream: \(error)")
                return
            }
        case .untilClose:
            emitBody(bytes, exchange: exchange)
        }
        closeChunk()
        guard writeScratchToClient(exchange, now: now) else { return }
        if complete {
            finishResponse(exchange)
        } else if exchange.drainRequested {
            endStreamIfDraining(exchange)
        } else if client.pendingByteCount > limits.maxBufferedBytes {
            upstream?.pauseReading()
        }
    }

    private func emitBody(_ data: UnsafeRawBufferPointer, exchange: Exchange) {
        guard !data.isEmpty else { return }
        if exchange.assembler != nil {
            assembleBody(data, exchange: exchange)
        } else if exchange.tracker != nil {
            exchange.tracker!.forward(data) { appendClientData($0, exchange: exchange) }
        } else {
            appendClientData(data, exchange: exchange)
        }
    }

    /// Appends body bytes to the output scratch in the client's framing.
    func appendClientData(_ data: UnsafeRawBufferPointer, exchange: Exchange) {
        guard !data.isEmpty else { return }
        if exchange.clientFraming == .chunked && loop.outputChunkSlot == nil {
            ChunkedEncoder.appendChunk(data, to: &loop.outputScratch)
        } else {
            loop.outputScratch.append(contentsOf: data)
        }
    }

    func appendClientData(_ data: [UInt8], exchange: Exchange) {
        data.withUnsafeBytes { appendClientData($0, exchange: exchange) }
    }

    /// Writes the output scratch to the client; false (and the session is torn down) when the client is gone.
    @discardableResult
    func writeScratchToClient(_ exchange: Exchange, now: UInt64) -> Bool {
        let start = loop.outputStart
        loop.outputStart = 0
        guard loop.outputScratch.count > start else {
            loop.outputScratch.removeAll(keepingCapacity: true)
            return true
        }
        let outcome = loop.outputScratch.withUnsafeBytes { client.write(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        exchange.bytesSent += UInt64(loop.outputScratch.count - start)
        loop.outputScratch.removeAll(keepingCapacity: true)
        if case .failed(let code) = outcome {
            clientGone(reason: "write to client failed: \(String(cString: strerror(code)))")
            return false
        }
        exchange.heartbeats?.noteWrite(at: now)
        return true
    }

    /// The upstream finished its response cleanly: end the client's response and keep the connection if we can.
    func finishResponse(_ exchange: Exchange) {
        if resumeOrFlushAtCleanEnd(exchange) { return }
        releaseUpstream(exchange)
        loop.outputScratch.removeAll(keepingCapacity: true)
        if let held = exchange.tracker?.finish(), !held.isEmpty {
            appendClientData(held, exchange: exchange)
        }
        if exchange.clientFraming == .chunked {
            loop.outputScratch.append(contentsOf: ChunkedEncoder.lastChunk)
        }
        guard writeScratchToClient(exchange, now: EventLoop.now()) else { return }
        logAccess(exchange, status: exchange.status, end: .completed, reason: nil)
        guard exchange.keepAlive, exchange.requestBodyDone else {
            finishGracefully()
            return
        }
        self.exchange = nil
        phase = .idle
        client.resumeReading()
        setDeadline(EventLoop.now() + limits.keepaliveTimeout.nanoseconds)
        processInbound()
    }

    /// The upstream closed its side: the end of a close-delimited body, otherwise a broken response.
    func upstreamEnded() {
        guard let exchange else { return }
        switch phase {
        case .awaitingResponse:
            let detail = "upstream \(exchange.server ?? "") closed the connection before sending a response head"
            if retryAfterUpstreamFailure(reason: "closed the connection before sending a response head") { return }
            respondError(status: 502, detail: detail, end: .upstreamError)
        case .streaming:
            if case .untilClose = exchange.responseBody {
                finishResponse(exchange)
            } else {
                upstreamBroke(reason: "upstream closed the connection before the response was complete", end: .upstreamClosed)
            }
        default:
            upstreamBroke(reason: "upstream closed the connection")
        }
    }

    /// The upstream failed mid-way: 502 if the client has no head yet, else break the client connection
    /// (no final chunk) so it knows the response is incomplete and reconnects.
    func upstreamBroke(reason: String, end: RequestEnd = .upstreamError) {
        guard phase != .finished else { return }
        if phase == .awaitingResponse, retryAfterUpstreamFailure(reason: reason) { return }
        if resumeAfterUpstreamEnd(reason: reason, clean: false) { return }
        context.logger.warn("upstream \(exchange?.server ?? ""): \(reason)")
        if phase == .streaming, let exchange, sendUpstreamErrorEvent(reason: reason) {
            // The event must reach the client, so the close is graceful; without the final chunk the client still
            // knows the response is incomplete.
            dropUpstream()
            logAccess(exchange, status: exchange.status, end: end, reason: reason)
            finishGracefully()
            return
        }
        respondError(status: 502, detail: reason, end: end)
    }

    /// A heartbeat may be due: ask the schedule, inject through the tracker, write it.
    func heartbeatDue(now: UInt64) {
        guard let exchange, var schedule = exchange.heartbeats, exchange.tracker != nil else { return }
        if client.pendingByteCount > 0 {
            // The client is not keeping up: bytes are still waiting, so the connection is not idle.
            schedule.noteWrite(at: now)
            exchange.heartbeats = schedule
            setDeadline(schedule.nextDeadline)
            return
        }
        let decision = schedule.poll(now: now, canInject: exchange.tracker!.isAtSafePoint)
        exchange.heartbeats = schedule
        switch decision {
        case .notYet(let until):
            setDeadline(until)
        case .skip:
            exchange.metrics.counters.heartbeatsSkipped &+= 1
            setDeadline(schedule.nextDeadline)
        case .send:
            exchange.metrics.counters.heartbeatsSent &+= 1
            loop.outputScratch.removeAll(keepingCapacity: true)
            if let bytes = exchange.tracker!.heartbeat(comment: exchange.route.settings.heartbeatComment) {
                appendClientData(bytes, exchange: exchange)
            }
            guard writeScratchToClient(exchange, now: now) else { return }
            setDeadline(exchange.heartbeats!.nextDeadline)
        }
    }
}

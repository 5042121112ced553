import SSEKeeperCore

/// How a session ends when the process drains (`SIGTERM`) and the SSE-specific endings: `sse_unavailable` and
/// `sse_upstream_error_event`.
extension ProxySession {
    /// Ends this connection politely because the process is draining: an idle kept-alive connection closes, a request in
    /// flight finishes with `Connection: close`, and an SSE stream gets `retry: <drain_retry>` at its next event
    /// boundary, then a clean end. Call on the loop queue.
    func drain() {
        exchange?.clientWantsKeepAlive = false
        exchange?.keepAlive = false
        if drainResumingStream() { return }
        switch phase {
        case .idle where requestCount == 0:
            // Accepted just now (the listener hands over its queue before closing): its request is coming and
            // is answered with `Connection: close`; `client_header_timeout` still bounds the wait.
            break
        case .idle, .probing:
            finishGracefully()
        case .streaming:
            guard let exchange, exchange.isSSE else { return }
            guard exchange.tracker != nil else {
                // A compressed stream cannot take a `retry:` line; closing still makes the client reconnect.
                logAccess(exchange, status: exchange.status, end: .draining, reason: "draining")
                finishGracefully()
                return
            }
            exchange.drainRequested = true
            endStreamIfDraining(exchange)
        case .readingHead, .receivingBody, .connecting, .awaitingResponse, .closing, .finished:
            break
        }
    }

    /// When draining asked for it and the client's parser is between events: `retry:`, the end of the response,
    /// and a graceful close. Otherwise the stream goes on until the upstream completes the event it is sending.
    func endStreamIfDraining(_ exchange: Exchange) {
        guard exchange.drainRequested, exchange.tracker?.isAtEventBoundary == true else { return }
        let retry = Int(context.config.limits.drainRetry.nanoseconds / 1_000_000)
        loop.outputScratch.removeAll(keepingCapacity: true)
        appendClientData(exchange.tracker!.retryPreamble(milliseconds: retry), exchange: exchange)
        if exchange.clientFraming == .chunked {
            loop.outputScratch.append(contentsOf: ChunkedEncoder.lastChunk)
        }
        guard writeScratchToClient(exchange, now: EventLoop.now()) else { return }
        logAccess(exchange, status: exchange.status, end: .draining, reason: "draining")
        finishGracefully()
    }

    /// No upstream server took an SSE request: with `sse_unavailable reconnect`, a `200 text/event-stream` that
    /// tells the browser to retry; with `status`, the error status with `Retry-After`. False when the request is
    /// not an SSE request (the caller answers the plain error).
    func respondUnavailableToEventStream(status: Int, detail: String, end: RequestEnd) -> Bool {
        guard let exchange, exchange.acceptsEventStream, !exchange.headSent else { return false }
        let settings = exchange.route.settings
        let retry = settings.sseRetry ?? Self.unavailableRetry
        switch settings.sseUnavailable {
        case .reconnect:
            dropUpstream()
            let bytes = SSEErrorEvent.unavailableResponse(
                status: status, reason: detail, retryMilliseconds: Int(retry.nanoseconds / 1_000_000),
                lastEventID: exchange.lastEventID)
            _ = client.write(bytes)
            exchange.bytesSent += UInt64(bytes.count)
            logAccess(exchange, status: 200, end: end, reason: "\(status) answered as an SSE error event: \(detail)")
            finishGracefully()
        case .status:
            dropUpstream()
            let retrySeconds = Int((retry.nanoseconds + 999_999_999) / 1_000_000_000)
            let bytes = ErrorResponse.bytes(status: status, detail: detail, retryAfterSeconds: retrySeconds)
            _ = client.write(bytes)
            exchange.bytesSent += UInt64(bytes.count)
            logAccess(exchange, status: status, end: end, reason: detail)
            finishGracefully()
        }
        return true
    }

    /// With `sse_upstream_error_event on`, an SSE stream whose upstream broke gets `event: error` with the reason
    /// when the client stands between events (never inside the upstream's unfinished event). Returns whether it
    /// was written.
    func sendUpstreamErrorEvent(reason: String) -> Bool {
        guard let exchange, exchange.headSent, exchange.route.settings.sseUpstreamErrorEvent,
              let fields = Optional(SSEErrorEvent.fields(status: 502, reason: reason, lastEventID: exchange.lastEventID)),
              let event = exchange.tracker?.event(fields: fields)
        else { return false }
        loop.outputScratch.removeAll(keepingCapacity: true)
        appendClientData(event, exchange: exchange)
        return writeScratchToClient(exchange, now: EventLoop.now())
    }

    /// The reconnection delay sent with `sse_unavailable` when the route sets no `sse_retry`.
    static let unavailableRetry = Duration.seconds(5)
}

import SSEKeeperCore

/// One probe response in flight (`probe_path`): what the session needs to end it and log it.
struct ProbeState {
    /// Where the response is in its schedule.
    enum Phase {
        /// Sending a comment every `ProbeResponse.busyTickInterval` until this time, then the silence begins.
        case busy(until: UInt64)
        /// Silent since this time (the last byte sent).
        case silent(since: UInt64)
    }

    let startedAt: UInt64
    let silenceNanos: UInt64
    var phase: Phase
    let method: String
    let path: String
    let chunked: Bool
    let keepAlive: Bool
    var bytesSent: UInt64 = 0
}

/// The probe endpoint, served by the connection itself: one event, silence without heartbeats, a final event.
extension HTTP1Connection {
    /// Serves `head` as a probe request.
    func startProbe(_ head: RequestHead) {
        guard head.method == "GET" else {
            respondError(status: 405, detail: "the probe answers GET only", end: .rejected, method: head.method, path: head.path)
            return
        }
        let silence: Duration
        let busy: Duration
        switch (ProbeResponse.silence(requestedIn: head.target, maxSilence: context.config.probe.maxSilence),
                ProbeResponse.busy(requestedIn: head.target, maxSilence: context.config.probe.maxSilence)) {
        case (.success(let asked), .success(let busyAsked)):
            silence = asked
            busy = busyAsked
        case (.failure(let error), _), (_, .failure(let error)):
            respondError(status: 400, detail: error.message, end: .rejected, method: head.method, path: head.path)
            return
        }
        let chunked = head.version >= .http1_1
        let keepAlive = chunked && ClientResponseBuilder.clientWantsKeepAlive(head)
        let now = EventLoop.now()
        let busyNanos = TimeAmount(busy).nanoseconds
        var state = ProbeState(startedAt: now, silenceNanos: TimeAmount(silence).nanoseconds,
                               phase: busyNanos > 0 ? .busy(until: now + busyNanos) : .silent(since: now),
                               method: head.method, path: head.path, chunked: chunked, keepAlive: keepAlive)
        var bytes = ProbeResponse.head(chunked: chunked, keepAlive: keepAlive)
        appendProbeData(ProbeResponse.startEvent(serverTimeMillis: WallClock.milliseconds(),
                                                 silenceMillis: Int64(TimeAmount(nanoseconds: state.silenceNanos).milliseconds),
                                                 busyMillis: Int64(TimeAmount(busy).milliseconds)),
                        chunked: chunked, to: &bytes)
        state.bytesSent = UInt64(bytes.count)
        probe = state
        machine.probing(until: nextProbeDeadline(state, now: now))
        updateDeadline()
        if case .failed(let code) = client.write(bytes) {
            clientGone(reason: "write to client failed: \(SocketError.message(errno: code))")
        }
    }

    /// When the probe's schedule next needs the connection: the next busy comment, or the end of the silence.
    private func nextProbeDeadline(_ state: ProbeState, now: UInt64) -> UInt64 {
        switch state.phase {
        case .busy(let until): return min(until, now + TimeAmount(ProbeResponse.busyTickInterval).nanoseconds)
        case .silent(let since): return since + state.silenceNanos
        }
    }

    /// The probe's deadline came: during the busy phase, a comment (the last one, at its end, starts the
    /// silence); after the silence, the final event, the end of the response, and the connection kept if it may be.
    func finishProbe(now: UInt64) {
        guard var state = probe else { return }
        var bytes: [UInt8] = []
        if case .busy(let until) = state.phase {
            appendProbeData(ProbeResponse.busyTick, chunked: state.chunked, to: &bytes)
            if now >= until { state.phase = .silent(since: now) }
            state.bytesSent += UInt64(bytes.count)
            probe = state
            machine.probing(until: nextProbeDeadline(state, now: now))
            updateDeadline()
            if case .failed(let code) = client.write(bytes) {
                clientGone(reason: "write to client failed: \(SocketError.message(errno: code))")
            }
            return
        }
        guard case .silent(let since) = state.phase else { return }
        appendProbeData(ProbeResponse.endEvent(serverTimeMillis: WallClock.milliseconds(),
                                               silentMillis: Int64(TimeAmount(nanoseconds: now &- since).milliseconds)),
                        chunked: state.chunked, to: &bytes)
        if state.chunked { bytes += ChunkedEncoder.lastChunk }
        state.bytesSent += UInt64(bytes.count)
        probe = nil
        if case .failed(let code) = client.write(bytes) {
            logProbe(state, end: .clientClosed, reason: "write to client failed: \(SocketError.message(errno: code))")
            finish()
            return
        }
        logProbe(state, end: .completed, reason: nil)
        guard machine.responseComplete(now: EventLoop.now(), keepAlive: state.keepAlive, pendingBytes: client.pendingByteCount) else {
            closeGracefully()
            return
        }
        updateDeadline()
        processInbound()
    }

    /// The client left during a probe's silence: this is the measurement (an intermediary that cut the stream
    /// closes the client side after its idle timeout), so it is logged as a warning with the silence that passed.
    func probeCut(reason: String) {
        guard let state = probe else { return }
        let now = EventLoop.now()
        let age = TimeAmount(nanoseconds: now &- state.startedAt).formatted(.secondsToMilliseconds)
        switch state.phase {
        case .silent(let since):
            let silent = TimeAmount(nanoseconds: now &- since).formatted(.secondsToMilliseconds)
            context.logger.warn("probe \(state.path) from \(clientAddress): cut after \(silent) of silence, \(age) after the request (\(reason))")
        case .busy:
            context.logger.warn("probe \(state.path) from \(clientAddress): cut while busy, \(age) after the request (\(reason))")
        }
        logProbe(state, end: .clientClosed, reason: reason)
        probe = nil
    }

    private func logProbe(_ state: ProbeState, end: RequestEnd, reason: String?) {
        writeAccess(AccessLogRecord(
            client: clientAddress, method: state.method, path: state.path, status: 200, bytesSent: state.bytesSent,
            durationNanos: EventLoop.now() &- state.startedAt, heartbeatsSent: 0, heartbeatsSkipped: 0, end: end,
            upstream: nil, reason: reason), counting: loop.metrics.unrouted)
    }

    private func appendProbeData(_ data: [UInt8], chunked: Bool, to bytes: inout [UInt8]) {
        if chunked {
            data.withUnsafeBytes { ChunkedEncoder.appendChunk($0, to: &bytes) }
        } else {
            bytes += data
        }
    }

}

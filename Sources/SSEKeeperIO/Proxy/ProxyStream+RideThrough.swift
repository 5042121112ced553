import SSEKeeperCore
import Synchronization

/// Client ride-through (`client_resume_window`, issue 15): when the client of an SSE stream goes away, the stream
/// keeps its upstream connection for the window and keeps reading it into its replay buffer (`StreamReplay`, in the
/// relay); a reconnect whose `Last-Event-ID` names this stream, and whose request matches the original one
/// (`ResumeFingerprint`), is attached to it: the events after its id are replayed, then the live stream goes on,
/// and the backend sees no new request.
///
/// While detached: nothing is written (the output of each read is dropped; the ring has the events), heartbeats
/// and the send watch wait, and once the ring holds `client_resume_buffer` the upstream is no longer read
/// (back-pressure, never silent loss). The one deadline is the earliest of the window's end and the silence limit.
/// An upstream that ends meanwhile leaves the stream waiting out the window with its events (`pendingEnd`).
extension ProxyStream {
    /// Whether the stream runs without a client, kept for a reconnect.
    var isDetachedForRideThrough: Bool { !isEnded && client == nil && (ride?.detachedAt ?? 0) != 0 }
    /// When the client left (0: attached, or not a ride-through stream).
    var detachedSince: UInt64 { ride?.detachedAt ?? 0 }

    /// When the window of a detached stream ends.
    var rideWindowEnd: UInt64? {
        guard let ride, ride.detachedAt != 0 else { return nil }
        return ride.window.deadline(after: ride.detachedAt)
    }

    /// The SSE response begins on a ride-through route: a token, the registry, and the relay's options.
    func beginRideThrough(head: ResponseHead, framing: BodyFraming) -> ResponseRelay.RideThroughOptions? {
        guard let ride else { return nil }
        var generator = SystemRandomNumberGenerator()
        let token = StreamToken(random: &generator)
        ride.token = token
        ride.responseHead = head
        ride.upstreamFraming = framing
        ride.attachedAt = startedAt
        loop.rideThrough.add(self, token: token)
        runtime.rideThroughLoops.add(token, on: loop)
        return ResponseRelay.RideThroughOptions(token: token.textBytes, bufferBytes: route.settings.clientResumeBuffer)
    }

    /// The request body is complete (or there is none): the fingerprint a reconnect must match can be made.
    func makeRideFingerprint() {
        guard let ride, ride.fingerprint == nil, body.isComplete else { return }
        ride.makeFingerprint(matching: route.settings.clientResumeMatch, bodyDigest: body.hasBody ? body.bodyDigest : nil)
    }

    // MARK: The client leaves

    /// The client left (`how`, `reason`): keep the stream for the window instead of ending it, when it rides
    /// through and is streaming. False when it does not (the caller ends it as before).
    func rideThroughDetach(reason: String, end how: RequestEnd) -> Bool {
        guard let ride, ride.token != nil, ride.detachedAt == 0, !isEnded, client != nil,
              relay?.ridesThrough == true, isRelaying || attempt.isResuming,
              !drainRequested, !runtime.draining.load(ordering: .relaxed)
        else { return false }
        let now = EventLoop.now()
        let window = ride.window.formatted(.config)
        metrics.counters.countDeadPeer(how)
        logAccess(status: status, end: .clientDetached, reason: "\(reason); stream kept for client_resume_window \(window)")
        releaseClient()
        ride.detachedAt = max(now, 1)
        ride.bytesSentAtAttach = bytesSent
        relay?.setClientAttached(false)
        nextSendCheck = nil
        sendWatch = sendWatch.map { SendProgressWatch(timeoutNanos: $0.timeoutNanos) }
        lifetimeEndPending = false
        metrics.counters.resumeWindowsOpened &+= 1
        metrics.counters.detachedStreams += 1
        // A stream paused for a slow client reads on into its ring (unless the ring is full already).
        if relay?.replayIsFull != true { upstream?.resumeReading() }
        if isRelaying { scheduleRelayingDeadline() } else { updateResumeDeadline() }
        return true
    }

    /// After each relayed read: the replay buffer's bytes are counted, `client_resume_memory` is enforced, and a
    /// detached stream whose ring is full stops reading its upstream.
    func noteReplayBufferChanged() {
        guard let ride, let held = relay?.replayHeldBytes else { return }
        let delta = held - ride.countedBytes
        var total = 0
        if delta != 0 {
            ride.countedBytes = held
            total = runtime.rideThroughHeldBytes.add(delta, ordering: .relaxed).newValue
            metrics.counters.resumeBufferBytes += delta
        }
        if delta > 0, total > limits.clientResumeMemory { enforceResumeMemory() }
        if client == nil, !isEnded, relay?.replayIsFull == true { upstream?.pauseReading() }
    }

    /// `client_resume_memory` is passed (by the process): the streams of this loop detached longest end first; if
    /// attached streams alone pass it, this stream's ring keeps less (its client can then be given fewer missed
    /// events). Each loop ends only its own streams, so with several loops "oldest first" is per loop.
    private func enforceResumeMemory() {
        let cap = limits.clientResumeMemory
        var total: Int { runtime.rideThroughHeldBytes.load(ordering: .relaxed) }
        for stream in loop.rideThrough.detachedOldestFirst where total > cap {
            stream.endDetached(.resumeEvicted, reason: "client_resume_memory \(ConfigValue.formatSize(cap)) reached; "
                + "the stream kept longest without a client is ended first")
            stream.metrics.counters.resumeEvicted &+= 1
        }
        guard total > cap, !isEnded, let ride else { return }
        relay?.evictReplay(downTo: max(0, ride.countedBytes - (total - cap)))
        noteReplayBufferChanged()
    }

    /// The window of a detached stream ended with nobody back.
    func expireRideThrough() {
        guard let ride else { return }
        metrics.counters.resumeExpired &+= 1
        endDetached(.resumeExpired, reason: "no client came back within client_resume_window \(ride.window.formatted(.config))")
    }

    /// Ends a stream kept without a client: the upstream closed, the access log told, the stream released.
    func endDetached(_ how: RequestEnd, reason: String) {
        guard !isEnded else { return }
        let upstreamSide = ride?.pendingEnd == nil ? "upstream closed" : "its response had ended already"
        context.logger.info("route \(route.prefix): \(reason); \(upstreamSide)")
        logAccess(status: status, end: how, reason: reason)
        markEnded(how)
    }

    /// The upstream's response ended (`pending`) while no client is attached: the stream waits out the window with
    /// its events, and the client that comes back gets them and then this end. False when a client is attached.
    func holdEndForRideThrough(_ pending: RideThroughState.PendingEnd) -> Bool {
        guard isDetachedForRideThrough, let ride, ride.pendingEnd == nil else { return false }
        if case .completed = pending { releaseUpstream() } else { dropUpstream() }
        // The end is the upstream's last sign: the wait for the client is not upstream silence.
        let now = EventLoop.now()
        longestUpstreamGapNanos = max(longestUpstreamGapNanos, now &- lastUpstreamBytesAt)
        lastUpstreamBytesAt = now
        // What the assembler and the stamper hold of an unfinished event is dropped: a client discards it too.
        ride.pendingEnd = pending
        setDeadline(rideWindowEnd ?? 0)
        return true
    }

    /// Releases the stream's place in the registry and its counted figures (from `markEnded`).
    func releaseRideThrough() {
        guard let ride, let token = ride.token else { return }
        loop.rideThrough.remove(token)
        runtime.rideThroughLoops.remove(token)
        runtime.rideThroughHeldBytes.subtract(ride.countedBytes, ordering: .relaxed)
        metrics.counters.resumeBufferBytes -= ride.countedBytes
        ride.countedBytes = 0
        if ride.detachedAt != 0 {
            metrics.counters.detachedStreams -= 1
            ride.detachedAt = 0
        }
        ride.token = nil
    }

    /// The process drains: a stream kept without a client ends now (its client would be sent elsewhere anyway).
    func drainDetached() {
        guard isDetachedForRideThrough else { return }
        endDetached(.draining, reason: "draining")
    }

    // MARK: A client comes back

    /// What became of a reconnect that named a stream (`candidate.ride.reconnect`).
    enum ReattachOutcome {
        /// It was attached to its stream: the candidate was discarded.
        case attached(ProxyStream)
        /// It goes to the backend as the new request it is.
        case newRequest
    }

    /// Tries to give `candidate`'s client (a reconnect, its body complete) the stream its `Last-Event-ID` names.
    /// On success the candidate, which never started, is discarded; otherwise it is served as a new request (its
    /// upstream `Last-Event-ID` is the backend's id already).
    static func reattach(_ candidate: ProxyStream, client newClient: StreamClient) -> ReattachOutcome {
        guard let stamped = candidate.ride?.reconnect else { return .newRequest }
        let metrics = candidate.metrics
        guard let old = candidate.loop.rideThrough.streams[stamped.token], !old.isEnded,
              old.route.prefix == candidate.route.prefix, let oldRide = old.ride
        else {
            metrics.counters.resumeUnattachable &+= 1
            return .newRequest
        }
        candidate.makeRideFingerprint()
        let names = old.route.settings.clientResumeMatch
        guard let wanted = oldRide.fingerprint, let offered = candidate.ride?.fingerprint(matching: names),
              wanted.matches(offered) else {
            metrics.counters.resumeRefused &+= 1
            // Never the values: only that they differ.
            candidate.context.logger.warn("route \(candidate.route.prefix): \(newClient.clientAddress) sent the id of a stream "
                + "its request does not match (method, target, client_resume_match headers or body); served as a new request")
            return .newRequest
        }
        guard old.takeOver(from: candidate, client: newClient, after: stamped.sequence) else {
            metrics.counters.resumeUnattachable &+= 1
            old.endDetachedOrAttached(.resumeLost, reason: "the client came back (\(newClient.clientAddress)) "
                + "for events no longer buffered (client_resume_buffer); it is served as a new request")
            return .newRequest
        }
        candidate.discardForReattach()
        return .attached(old)
    }

    /// Attaches `newClient` (whose request was `candidate`) with position `seq`; false when the position cannot be
    /// served (nothing changed).
    private func takeOver(from candidate: ProxyStream, client newClient: StreamClient, after seq: UInt64) -> Bool {
        guard let ride, let responseHead = ride.responseHead, var relay = self.relay else { return false }
        let now = EventLoop.now()
        let plan = ClientResponseBuilder.build(
            responseHead, upstreamFraming: ride.upstreamFraming, requestMethod: method,
            clientVersion: candidate.clientVersion, clientWantsKeepAlive: candidate.clientWantsKeepAlive, isSSE: true,
            addedFields: CORSPolicy.fields(candidate.corsFields, toAddTo: responseHead))
        loop.output.removeAll()
        guard let replayed = relay.reattach(head: plan.head, clientFraming: plan.framing,
                                            carriedLastEventID: candidate.lastEventID, after: seq, now: now,
                                            into: &loop.output)
        else {
            loop.output.removeAll()
            return false
        }
        self.relay = relay
        // One client per stream: a connection still attached (it vanished without a word, or a second tab) goes.
        if let previous = client {
            logAccess(status: status, end: .clientReplaced, reason: "another connection (\(newClient.clientAddress)) took the stream over")
            releaseClient()
            previous.streamTakenOver()
        }
        let wasDetachedFor = ride.detachedAt == 0 ? nil : now &- ride.detachedAt
        if ride.detachedAt != 0 {
            metrics.counters.detachedStreams -= 1
            ride.detachedAt = 0
        }
        ride.attachedAt = now
        ride.bytesSentAtAttach = bytesSent
        clientEndpoint = newClient.clientEndpoint
        clientProtocol = newClient.clientProtocol
        keepAlive = plan.keepAlive
        lifetimeEndPending = false
        adoptClient(newClient)
        sendWatch = sendWatch.map { SendProgressWatch(timeoutNanos: $0.timeoutNanos) }
        nextSendCheck = nil
        metrics.counters.resumeReattached &+= 1
        metrics.counters.resumeReplayedEvents &+= UInt64(replayed.events)
        metrics.counters.resumeReplayedBytes &+= UInt64(replayed.bytes)
        let away = wasDetachedFor.map { " after \(TimeAmount(nanoseconds: $0).formatted(.secondsToMilliseconds)) without a client" } ?? ""
        context.logger.info("route \(route.prefix): \(newClient.clientAddress) reattached to its stream\(away); "
            + "\(replayed.events) events replayed")
        if let pending = ride.pendingEnd {
            ride.pendingEnd = nil
            finishReattachedEnding(pending, now: now)
            return true
        }
        guard writeOutputToClient(now: now) else { return true }
        upstream?.resumeReading()
        noteReplayBufferChanged()
        if isRelaying { scheduleRelayingDeadline() } else { updateResumeDeadline() }
        return true
    }

    /// The upstream ended while the client was away: after the replay, the end it would have had.
    private func finishReattachedEnding(_ pending: RideThroughState.PendingEnd, now: UInt64) {
        switch pending {
        case .completed:
            relay?.endBody(into: &loop.output)
            guard writeOutputToClient(now: now) else { return }
            logAccess(status: status, end: .completed, reason: "ended while the client was away; replayed on its return")
            endCompleted(.completed, keepAlive: keepAlive && body.isComplete)
        case .aborted(let how, let reason):
            guard writeOutputToClient(now: now) else { return }
            logAccess(status: status, end: how, reason: reason)
            endAborted(how)
        }
    }

    /// Ends this stream whether or not a client is attached (a matching reconnect asked for events it no longer
    /// has: its old connection, if still open, is cut so it knows).
    private func endDetachedOrAttached(_ how: RequestEnd, reason: String) {
        guard !isEnded else { return }
        context.logger.warn("route \(route.prefix): \(reason)")
        logAccess(status: status, end: how, reason: reason)
        endAborted(how)
    }

    /// A candidate that was attached to the stream it named: it never started; it ends without a trace of its own
    /// (the stream it joined tells the access log).
    func discardForReattach() {
        markEnded(.completed)
    }

    // MARK: stream_max_duration

    /// When the attached client's connection reaches `stream_max_duration` (nil: off, or not streaming).
    var lifetimeDeadline: UInt64? {
        guard let limit = route.settings.streamMaxDuration, client != nil, isSSE, relay?.takesHeartbeats == true else { return nil }
        let since = ride?.attachedAt ?? 0
        return TimeAmount(limit).deadline(after: since != 0 ? since : startedAt)
    }

    /// The retry a client cut by `stream_max_duration` gets: short, since it comes straight back.
    static let lifetimeRetryMilliseconds = 500

    /// `stream_max_duration` passed: at the next event boundary the client gets `retry:` and the end of its
    /// response; on a ride-through route the stream is kept and the client rides through onto it.
    func endClientConnectionAtLifetime() {
        guard !isEnded, let client, relay?.isAtEventBoundary == true else {
            lifetimeEndPending = true
            return
        }
        lifetimeEndPending = false
        let now = EventLoop.now()
        loop.output.removeAll()
        _ = relay!.appendRetry(milliseconds: Self.lifetimeRetryMilliseconds, into: &loop.output)
        relay!.endBody(into: &loop.output)
        guard writeOutputToClient(now: now) else { return }
        let limit = route.settings.streamMaxDuration.map { TimeAmount($0).formatted(.config) } ?? "-"
        let reason = "stream_max_duration \(limit) reached"
        if rideThroughDetach(reason: reason, end: .completed) {
            client.streamDetached()
            return
        }
        logAccess(status: status, end: .completed, reason: reason)
        endCompleted(.completed)
    }
}

import SSEKeeperCore

/// Dead peers while the body flows: an upstream silent past `upstream_read_timeout` (other responses) or
/// `sse_max_silence` (event streams), and a client that accepts nothing for `client_send_timeout`. Both share the
/// stream's one deadline with the heartbeats (`scheduleRelayingDeadline`); the time of each upstream read is only
/// recorded, and the silence is judged lazily when the deadline fires, so the per-event path does no timer work.
extension ProxyStream {
    /// The upstream silence after which this response counts as broken, if any.
    var silenceLimit: (nanos: UInt64, end: RequestEnd, directive: String)? {
        if isSSE {
            return route.settings.sseMaxSilence.map { (TimeAmount($0).nanoseconds, .upstreamSilent, "sse_max_silence") }
        }
        return route.settings.upstreamReadTimeout.map { (TimeAmount($0).nanoseconds, .upstreamReadTimeout, "upstream_read_timeout") }
    }

    /// Sets the stream's deadline to the earliest of: the next heartbeat, the end of the allowed upstream silence,
    /// and the send watch's next look.
    func scheduleRelayingDeadline() {
        // Without a client (ride-through) no heartbeat is due: the window's end is.
        var next = client == nil ? .max : relay?.nextHeartbeatDeadline ?? .max
        if let windowEnd = rideWindowEnd { next = min(next, windowEnd) }
        if !lifetimeEndPending, let lifetime = lifetimeDeadline { next = min(next, lifetime) }
        if let limit = silenceLimit {
            next = min(next, TimeAmount(nanoseconds: limit.nanos).deadline(after: max(lastUpstreamBytesAt, upstreamPausedSeenAt)))
        }
        if let check = nextSendCheck { next = min(next, check) }
        setDeadline(next == .max ? 0 : next)
    }

    /// The stream's deadline while the body flows: silence, the send watch, then heartbeats.
    func relayingDeadline(now: UInt64) {
        if let limit = silenceLimit {
            if upstream?.isReadingPaused == true {
                // Paused because the client is slow: the upstream is not silent, ssekeeper is not asking.
                upstreamPausedSeenAt = now
            } else if now &- max(lastUpstreamBytesAt, upstreamPausedSeenAt) >= limit.nanos {
                let quiet = TimeAmount(nanoseconds: now &- lastUpstreamBytesAt).formatted(.secondsToMilliseconds)
                upstreamBroke(reason: "upstream \(server ?? "") sent nothing for \(quiet) (\(limit.directive) "
                    + "\(TimeAmount(nanoseconds: limit.nanos).formatted(.config)))", end: limit.end)
                return
            }
        }
        let heartbeatIsDue = relay?.nextHeartbeatDeadline.map { $0 <= now } ?? false
        let checkDue = nextSendCheck.map { $0 <= now } ?? false
        // The kernel's send buffer (megabytes on loopback) can hold everything a stalled reader was sent, so
        // ssekeeper's own queue stays empty: look at the client's acknowledgements at least once per pop.
        let lookedRecently = sendWatch.map { now &- $0.lastCheckAt < $0.checkIntervalNanos } ?? true
        if heartbeatIsDue || checkDue || !lookedRecently {
            guard checkClientProgress(now: now) else { return }
        }
        if heartbeatIsDue {
            heartbeatDue(now: now)
            guard end == nil else { return }
        }
        scheduleRelayingDeadline()
    }

    /// Asks the send watch whether the client still accepts bytes; false when it was stalled and is now closed.
    func checkClientProgress(now: UInt64) -> Bool {
        guard var watch = sendWatch, let client else { return true }
        guard let progress = client.clientSendProgress(knownAcked: watch.ackedBytes) else {
            // The transport cannot tell (a kernel older than 4.1): the watch is off for this stream.
            sendWatch = nil
            nextSendCheck = nil
            return true
        }
        let verdict = watch.check(now: now, outstandingBytes: progress.outstandingBytes, ackedBytes: progress.ackedBytes)
        sendWatch = watch
        // A closed window means the client is there but not reading: the send watch judges it, not the kernel.
        client.clientReadingPaused(progress.outstandingBytes > 0 && progress.peerWindowClosed == true,
                                   sendTimeout: route.settings.clientSendTimeout)
        switch verdict {
        case .idle:
            nextSendCheck = nil
        case .waiting(let checkAt):
            nextSendCheck = checkAt
        case .stalled(let since):
            clientStalled(stalledNanos: since)
            return false
        }
        return true
    }

    /// Bytes are left waiting for the client after a write: make sure the send watch looks again soon.
    func noteClientBacklog(now: UInt64) {
        guard let watch = sendWatch, nextSendCheck == nil else { return }
        nextSendCheck = now + watch.checkIntervalNanos
        scheduleRelayingDeadline()
    }
}

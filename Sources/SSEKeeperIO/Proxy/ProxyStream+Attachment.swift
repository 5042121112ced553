import SSEKeeperCore

/// A stream apart from its client connection: `detach` lets the client connection go while the stream, its upstream
/// connection and its relay stay; `attach` joins it to another client on the same loop, which takes it up where it
/// stood. While detached nothing is read from the upstream (so nothing is produced that could be lost: the bytes
/// wait in the upstream's socket, back-pressure as for a slow client), heartbeats and the send watch wait, and an
/// upstream paused this way is not counted as silent. Client ride-through builds on this.
extension ProxyStream {
    /// Whether the stream runs without a client.
    var isDetached: Bool { end == nil && client == nil }

    /// Lets go of the client without ending the stream. The caller (the client adapter) drops its reference.
    func detach() {
        guard end == nil, client != nil else { return }
        releaseClient()
        upstream?.pauseReading()
        nextSendCheck = nil
        sendWatch = sendWatch.map { SendProgressWatch(timeoutNanos: $0.timeoutNanos) }
    }

    /// Joins the stream to `newClient`: `preamble` (what the new connection needs before the stream's next bytes,
    /// e.g. a response head) goes out first, then reading the upstream resumes. False (and nothing changes) when the
    /// stream ended or has a client; false after the new client failed a write (it is then told, as for any write).
    @discardableResult
    func attach(_ newClient: StreamClient, preamble: [UInt8] = []) -> Bool {
        guard end == nil, client == nil else { return false }
        adoptClient(newClient)
        let now = EventLoop.now()
        if !preamble.isEmpty {
            guard newClient.writeToClient(preamble) else {
                newClient.clientWriteFailed()
                return false
            }
            bytesSent += UInt64(preamble.count)
        }
        relay?.noteClientWrite(at: now)
        upstream?.resumeReading()
        if isRelaying { scheduleRelayingDeadline() }
        return true
    }
}

/// What the proxy sends on a connection: response heads and bodies within flow control (RFC 9113 §6.9),
/// resets, GOAWAY, PING.
extension HTTP2ConnectionMachine {
    /// What `sendData` did.
    public struct SendDataResult: Hashable, Sendable {
        /// How many of the offered bytes went out now (as DATA in `actions`); the rest must wait for
        /// `.windowOpened(stream)` — the proxy pauses that stream's upstream meanwhile (back-pressure).
        public var accepted: Int
        /// The frames to write, and anything else the call produced.
        public var actions: [HTTP2ConnectionAction]
    }

    /// Field names a response must not carry in HTTP/2 (§8.2.2), dropped by `sendHeaders`.
    static let connectionSpecificResponseNames: Set<[UInt8]> =
        HTTP2RequestHeadValidator.connectionSpecificNames.union([Array("te".utf8)])

    /// Sends a response head on `stream` (§8.3.2): `:status` first, then `fields` with names lowercased and
    /// connection-specific fields (§8.2.2: connection, keep-alive, transfer-encoding, ...) dropped, as HEADERS
    /// and CONTINUATION frames at the client's SETTINGS_MAX_FRAME_SIZE. Not flow-controlled. `endStream` ends
    /// the response (§8.1). A stream that is gone (reset, or response ended) is ignored: nothing is written.
    public mutating func sendHeaders(stream: UInt32, status: Int, fields: [HPACKHeaderField], endStream: Bool) -> [Action] {
        guard phase != .closed, let state = streams[stream], state.serverMaySend else { return [] }
        var head = [HPACKHeaderField(":status", String(status))]
        head.reserveCapacity(fields.count + 1)
        for var field in fields {
            field.name = field.name.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
            if !Self.connectionSpecificResponseNames.contains(field.name) { head.append(field) }
        }
        let block = encoder.encode(head)
        block.withUnsafeBytes {
            HTTP2FrameWriter.appendHeaders(stream: stream, fieldBlock: $0, endStream: endStream,
                                           maxFrameSize: Int(peerSettings.maxFrameSize), to: &output)
        }
        if endStream { endResponse(stream) }
        return takeActions()
    }

    /// Sends as much of `bytes` as DATA on `stream` as the client's windows allow now (§6.9), END_STREAM with
    /// the last byte when `endStream` and everything fitted (an empty `bytes` with `endStream` always fits).
    ///
    /// When not everything fitted, the stream is blocked: the proxy keeps the rest, pauses the upstream, and
    /// calls again after `.windowOpened(stream)`. Fairness: while other streams wait for the connection
    /// window (blocked, with room in their own), one call takes at most an even share of what is left
    /// (window ÷ (waiting + 1), rounded up), and `.windowOpened` names waiting streams oldest first, a stream
    /// cut short going to the back: so with a 65,535-byte connection window and 50 busy streams each gets its
    /// turn. A round of shares uses at least ~63% (1 − 1/e) of the window, past the half after which clients
    /// (nghttp2, Chromium, Firefox) return it with WINDOW_UPDATE; the rest goes out in the next round. A stream
    /// that is gone (reset, or response ended) accepts nothing and writes nothing.
    public mutating func sendData(stream: UInt32, bytes: UnsafeRawBufferPointer, endStream: Bool) -> SendDataResult {
        // One hash lookup per call: the state is updated in place through its index.
        guard phase != .closed, let slot = streams.index(forKey: stream), streams.values[slot].serverMaySend else {
            return SendDataResult(accepted: 0, actions: [])
        }
        var allowance = min(bytes.count, max(0, streams.values[slot].sendWindow), max(0, connectionSendWindow))
        // Only streams that could use the connection window compete for it (not those stopped by their own).
        let othersWaiting = blockedStreams.reduce(0) { count, other in
            count + (other != stream && (streams[other]?.sendWindow ?? 0) > 0 ? 1 : 0)
        }
        if othersWaiting > 0 && allowance > 0 {
            allowance = min(allowance, (connectionSendWindow + othersWaiting) / (othersWaiting + 1))
        }
        let complete = allowance == bytes.count
        if allowance > 0 || (complete && endStream) {
            HTTP2FrameWriter.appendData(stream: stream, payload: UnsafeRawBufferPointer(rebasing: bytes[0..<allowance]),
                                        endStream: endStream && complete,
                                        maxFrameSize: Int(peerSettings.maxFrameSize), to: &output)
        }
        streams.values[slot].sendWindow -= allowance
        streams.values[slot].sendBlocked = !complete
        connectionSendWindow -= allowance
        if let index = blockedStreams.firstIndex(of: stream) { blockedStreams.remove(at: index) }
        if !complete { blockedStreams.append(stream) }
        if complete && endStream { endResponse(stream) }
        return SendDataResult(accepted: allowance, actions: takeActions())
    }

    /// `sendData` for bytes in an array.
    public mutating func sendData(stream: UInt32, bytes: [UInt8], endStream: Bool) -> SendDataResult {
        bytes.withUnsafeBytes { sendData(stream: stream, bytes: $0, endStream: endStream) }
    }

    /// Resets `stream` from our side (RST_STREAM, §6.4), e.g. when its upstream failed mid-response; no
    /// `.streamReset` follows (the proxy asked). A stream that is gone is ignored.
    public mutating func resetStream(stream: UInt32, code: HTTP2ErrorCode) -> [Action] {
        guard phase != .closed, streams[stream] != nil else { return [] }
        HTTP2FrameWriter.appendRSTStream(stream: stream, errorCode: code, to: &output)
        discardLaterFrames(stream)
        drop(stream)
        return takeActions()
    }

    /// Reports that the proxy is done with `count` bytes of `stream`'s request body (`.requestData`): handed on
    /// to the upstream, or dropped. Returns them to the stream's receive window (§6.9), with a WINDOW_UPDATE
    /// once the bytes consumed but not yet returned reach half of `configuration.initialWindowSize`.
    ///
    /// The shell must call it for every `.requestData` byte it has handed on or dropped, else the stream stalls
    /// once the client has sent one window: that is the back-pressure on a client uploading faster than the
    /// upstream reads, while the connection window (replenished on receipt) keeps other streams going. Padding is
    /// returned by the machine itself (the proxy never sees it). Streams that are gone or whose request ended
    /// (the client sends no more DATA) are ignored, and so is more than the client has sent.
    public mutating func bodyConsumed(stream: UInt32, count: Int) -> [Action] {
        guard phase != .closed, count > 0, let state = streams[stream], state.clientMaySend else { return [] }
        returnToStreamWindow(stream, count)
        return takeActions()
    }

    /// Adds `count` bytes to what `stream` (live, client still sending) may have back, at most what it has used,
    /// and writes a WINDOW_UPDATE once that reaches half the window (§6.9.1: an increment of at least 1).
    mutating func returnToStreamWindow(_ stream: UInt32, _ count: Int) {
        guard count > 0, var state = streams[stream] else { return }
        let used = configuration.initialWindowSize - state.receiveWindow - state.unreturnedBytes
        state.unreturnedBytes += min(count, max(0, used))
        if state.unreturnedBytes > 0 && state.unreturnedBytes >= configuration.initialWindowSize / 2 {
            HTTP2FrameWriter.appendWindowUpdate(stream: stream, increment: UInt32(state.unreturnedBytes), to: &output)
            state.receiveWindow += state.unreturnedBytes
            state.unreturnedBytes = 0
        }
        streams[stream] = state
    }

    /// Starts closing the connection (§6.8). With NO_ERROR, gracefully: GOAWAY naming the highest stream the
    /// client opened; later streams are ignored, live ones finish, and `.closeConnection(.drained)` follows
    /// when the last one closes (at once if none is live). With another code: GOAWAY and close now.
    public mutating func goAway(code: HTTP2ErrorCode) -> [Action] {
        guard phase != .closed else { return [] }
        guard code == .noError else {
            sendPrefaceIfNeeded(now: nil)
            failConnection(code, "goAway(\(code)) by the proxy")
            return takeActions()
        }
        sendPrefaceIfNeeded(now: nil)  // the server preface is our first frame (§3.4), even when it is all we send
        HTTP2FrameWriter.appendGoaway(lastStreamID: highestStreamID, errorCode: .noError, to: &output)
        phase = .draining(lastStreamID: highestStreamID)
        return takeActions()
    }

    /// Sends a PING (§6.7) carrying `now`, to learn whether a silent client is still there; its ACK yields
    /// `.pingAcknowledged`. At most one is outstanding: while it is, nothing is sent.
    public mutating func ping(now: UInt64) -> [Action] {
        guard phase != .closed, outstandingPing == nil else { return [] }
        noteTime(now)
        sendPrefaceIfNeeded(now: now)
        HTTP2FrameWriter.appendPing(opaqueData: now, to: &output)
        outstandingPing = (opaqueData: now, sentAt: now)
        return takeActions()
    }

    /// Whether our PING is still waiting for its ACK (the shell closes the connection when one waits too long).
    public var isPingOutstanding: Bool { outstandingPing != nil }

    /// We sent END_STREAM (§5.1): open → half-closed (local); half-closed (remote) → closed.
    mutating func endResponse(_ stream: UInt32) {
        if streams[stream]?.phase == .halfClosedRemote { drop(stream) } else { streams[stream]?.phase = .halfClosedLocal }
    }
}

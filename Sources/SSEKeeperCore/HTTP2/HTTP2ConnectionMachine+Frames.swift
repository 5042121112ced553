/// What each received frame does to the connection (RFC 9113 §5.1, §6).
extension HTTP2ConnectionMachine {
    /// Whether `stream` is idle (§5.1): an even identifier (a client never opens one, and we do not push,
    /// §5.1.1, §8.4) or above every stream the client opened.
    func isIdle(_ stream: UInt32) -> Bool { stream % 2 == 0 || stream > highestStreamID }

    /// Applies one received frame at `now`, gathering frames to write and actions.
    mutating func handle(_ frame: HTTP2Frame, now: UInt64) {
        switch frame {
        case .settings(let pairs):
            guard record(.settings, now) else { return }
            applySettings(pairs)
        case .settingsAck:
            if case .awaitingAck = ourSettings { ourSettings = .acknowledged }  // our SETTINGS took effect (§6.5.3)
        case .priority, .unknown:
            return  // PRIORITY is deprecated (§5.3.2); unknown types are ignored (§5.5)
        case .ping(let opaqueData):
            guard record(.ping, now) else { return }
            HTTP2FrameWriter.appendPingAck(opaqueData: opaqueData, to: &output)
        case .pingAck(let opaqueData):
            if let ping = outstandingPing, ping.opaqueData == opaqueData {
                outstandingPing = nil
                actions.append(.pingAcknowledged(roundTripNanoseconds: now &- ping.sentAt))
            }
        case .goaway(let lastStreamID, let errorCode, _):
            actions.append(.goawayReceived(lastStreamID: lastStreamID, errorCode))
            if case .draining = phase { return }
            phase = .draining(lastStreamID: highestStreamID)
        case .windowUpdate(let stream, let increment):
            windowUpdate(stream, Int(increment))
        case .rstStream(let stream, let errorCode):
            guard record(.resetStream, now) else { return }
            guard !isIdle(stream) else { return failConnection(.protocolError, "RST_STREAM on idle stream \(stream)") }
            if streams[stream] != nil {
                drop(stream)
                actions.append(.streamReset(stream, errorCode))
            }
        case .headers(let stream, let fragment, let endStream, let endHeaders, _, _):
            if endHeaders {
                fieldBlockComplete(stream, fragment, endStream: endStream)
            } else {
                pendingFieldBlock = PendingFieldBlock(stream: stream, bytes: fragment, endStream: endStream)
            }
        case .continuation(_, let fragment, let endHeaders):
            guard var block = pendingFieldBlock else { return }  // the parser only passes a continuing one
            block.bytes += fragment
            if endHeaders {
                pendingFieldBlock = nil
                fieldBlockComplete(block.stream, block.bytes, endStream: block.endStream)
            } else {
                pendingFieldBlock = block
            }
        case .data(let stream, let payload, let endStream, _):
            if payload.isEmpty && !endStream { guard record(.emptyData, now) else { return } }
            data(stream, payload, endStream: endStream, flowControlledLength: frame.flowControlledLength)
        }
    }

    /// Counts a flood-prone frame; past its budget the connection fails with ENHANCE_YOUR_CALM (§10.5).
    private mutating func record(_ event: HTTP2FloodGuard.Event, _ now: UInt64) -> Bool {
        guard case .enhanceYourCalm(let kind) = floodGuard.record(event, at: now) else { return true }
        failConnection(.enhanceYourCalm, "flood of \(kind)")
        return false
    }

    /// §6.5.3: apply in order, carry an INITIAL_WINDOW_SIZE change to every live stream (§6.9.2), acknowledge.
    private mutating func applySettings(_ pairs: [HTTP2Setting]) {
        var updated = peerSettings
        do throws(HTTP2FrameError) {
            try updated.apply(pairs)
        } catch {
            return failConnection(error.code, "\(error)")
        }
        let delta = Int(updated.initialWindowSize) - Int(peerSettings.initialWindowSize)
        if delta != 0 {
            for stream in Array(streams.keys) {
                streams[stream]!.sendWindow += delta
                if streams[stream]!.sendWindow > Int(HTTP2Settings.maxWindowSize) {
                    return failConnection(.flowControlError, "INITIAL_WINDOW_SIZE overflows stream \(stream)'s window")
                }
            }
            if delta > 0 { windowsGrew = true }
        }
        if updated.headerTableSize != peerSettings.headerTableSize {
            encoder.setPeerMaxTableSize(Int(updated.headerTableSize))
        }
        peerSettings = updated
        HTTP2FrameWriter.appendSettingsAck(to: &output)
    }

    /// §6.9: a window grows; past 2^31−1 it is FLOW_CONTROL_ERROR for the connection or the stream (§6.9.1).
    private mutating func windowUpdate(_ stream: UInt32, _ increment: Int) {
        let maxWindow = Int(HTTP2Settings.maxWindowSize)
        if stream == 0 {
            connectionSendWindow += increment
            guard connectionSendWindow <= maxWindow else {
                return failConnection(.flowControlError, "connection window above 2^31-1")
            }
            windowsGrew = true
            return
        }
        guard !isIdle(stream) else { return failConnection(.protocolError, "WINDOW_UPDATE on idle stream \(stream)") }
        guard streams[stream] != nil else { return }  // closed: ignored (§5.1)
        streams[stream]!.sendWindow += increment
        guard streams[stream]!.sendWindow <= maxWindow else { return sendReset(stream, .flowControlError) }
        windowsGrew = true
    }

    /// §6.1, §6.9, §8.1.1: a DATA frame counts against both receive windows, even on a closed stream. The
    /// connection window is replenished on receipt; the stream's only as the proxy consumes (`bodyConsumed`).
    private mutating func data(_ stream: UInt32, _ payload: [UInt8], endStream: Bool, flowControlledLength: Int) {
        guard flowControlledLength <= connectionReceiveWindow else {
            return failConnection(.flowControlError, "DATA beyond the connection window")
        }
        connectionReceiveWindow -= flowControlledLength
        if connectionReceiveWindow <= configuration.connectionWindowSize / 2 {
            let increment = configuration.connectionWindowSize - connectionReceiveWindow
            HTTP2FrameWriter.appendWindowUpdate(stream: 0, increment: UInt32(increment), to: &output)
            connectionReceiveWindow = configuration.connectionWindowSize
        }
        guard !isIdle(stream) else { return failConnection(.protocolError, "DATA on idle stream \(stream)") }
        if streams[stream] == nil && discardedStreams.contains(stream) { return }
        guard var state = streams[stream], state.clientMaySend else { return sendReset(stream, .streamClosed) }
        guard flowControlledLength <= state.receiveWindow else { return sendReset(stream, .flowControlError) }
        state.receiveWindow -= flowControlledLength
        state.receivedBodyBytes += payload.count
        if let declared = state.declaredContentLength,
           state.receivedBodyBytes > declared || (endStream && state.receivedBodyBytes != declared) {
            return sendReset(stream, .protocolError)
        }
        streams[stream] = state
        // The body goes back to the client's window when the proxy has passed it on (`bodyConsumed`); the
        // padding, which the proxy never sees, at once.
        if !endStream { returnToStreamWindow(stream, flowControlledLength - payload.count) }
        if endStream { endRequest(stream) }
        actions.append(.requestData(stream, payload, endStream: endStream))
    }

    /// The client sent END_STREAM (§5.1): open → half-closed (remote); half-closed (local) → closed.
    private mutating func endRequest(_ stream: UInt32) {
        if streams[stream]?.phase == .halfClosedLocal { drop(stream) } else { streams[stream]?.phase = .halfClosedRemote }
    }

    /// A whole field block (§4.3): decoded first, whatever happens to the stream, to keep HPACK in step; then
    /// a new request, trailers, or an error.
    private mutating func fieldBlockComplete(_ stream: UInt32, _ block: [UInt8], endStream: Bool) {
        var fields: [HPACKHeaderField] = []
        var listTooLarge = false
        do throws(HPACKError) {
            fields = try decoder.decode(block)
        } catch {
            guard error.scope == .stream else { return failConnection(.compressionError, "\(error)") }
            listTooLarge = true
        }
        guard stream % 2 == 1 else { return failConnection(.protocolError, "HEADERS on even stream \(stream)") }
        if let state = streams[stream] {
            // Trailers (§8.1): only after the body, only with END_STREAM, regular fields only.
            guard state.clientMaySend else { return sendReset(stream, .streamClosed) }
            guard endStream, !listTooLarge else { return sendReset(stream, .protocolError) }
            do throws(HTTP2RequestHeadError) {
                try HTTP2RequestHeadValidator.validateTrailers(fields)
            } catch {
                return sendReset(stream, .protocolError)
            }
            if let declared = state.declaredContentLength, declared != state.receivedBodyBytes {
                return sendReset(stream, .protocolError)
            }
            endRequest(stream)
            actions.append(.requestData(stream, [], endStream: true))
            return
        }
        guard stream > highestStreamID else {
            if discardedStreams.contains(stream) { return }  // sent before our RST_STREAM arrived (§5.1)
            return sendReset(stream, .streamClosed)  // closed (§5.1)
        }
        highestStreamID = stream
        if case .draining(let lastStreamID) = phase, stream > lastStreamID { return discardLaterFrames(stream) }  // §6.8
        guard !listTooLarge else { return refuseTooLarge(stream, endStream: endStream) }
        guard streams.count < configuration.maxConcurrentStreams else { return sendReset(stream, .refusedStream) }
        let summary: HTTP2RequestHeadValidator.Summary
        do throws(HTTP2RequestHeadError) {
            summary = try HTTP2RequestHeadValidator.validateRequest(fields)
        } catch {
            return sendReset(stream, .protocolError)
        }
        if endStream, let declared = summary.contentLength, declared != 0 { return sendReset(stream, .protocolError) }
        streams[stream] = HTTP2StreamState(
            phase: endStream ? .halfClosedRemote : .open,
            sendWindow: Int(peerSettings.initialWindowSize),
            receiveWindow: configuration.initialWindowSize,
            declaredContentLength: summary.contentLength)
        actions.append(.openStream(stream, requestHead: fields, endStream: endStream))
    }

    /// A header list over our SETTINGS_MAX_HEADER_LIST_SIZE: 431 and END_STREAM (RFC 9113 §10.5.1, RFC 6585
    /// §5), then RST_STREAM NO_ERROR if the request was still open (§8.1: stop sending, without error).
    private mutating func refuseTooLarge(_ stream: UInt32, endStream: Bool) {
        let block = encoder.encode([HPACKHeaderField(":status", "431")])
        block.withUnsafeBytes {
            HTTP2FrameWriter.appendHeaders(stream: stream, fieldBlock: $0, endStream: true,
                                           maxFrameSize: Int(peerSettings.maxFrameSize), to: &output)
        }
        if !endStream {
            HTTP2FrameWriter.appendRSTStream(stream: stream, errorCode: .noError, to: &output)
            discardLaterFrames(stream)
        }
    }
}

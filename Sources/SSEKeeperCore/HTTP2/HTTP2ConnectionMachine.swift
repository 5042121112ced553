/// The server side of one HTTP/2 connection (RFC 9113) as a pure state machine: bytes and time in, actions out.
///
/// The shell feeds every read to `receive(_:now:)` and carries out the returned `HTTP2ConnectionAction`s; the
/// proxy answers each `.openStream` with `sendHeaders`, `sendData` and `resetStream`, and asks for a graceful
/// shutdown with `goAway(code:)` and a liveness probe with `ping(now:)`. No sockets, no clock reads.
///
/// What it enforces, each with the code RFC 9113 gives it:
/// - §3.4 the preface and SETTINGS exchange: ours first (`start(now:)`, or on the client's preface), theirs
///   acknowledged and applied, INITIAL_WINDOW_SIZE deltas carried to open streams (§6.9.2); ours unacknowledged
///   after `settingsAckTimeoutNanos` is GOAWAY SETTINGS_TIMEOUT (§6.5.3) when the shell calls
///   `deadlineReached(now:)` at `deadline`.
/// - §5.1 stream states: client streams odd and increasing (else connection PROTOCOL_ERROR), frames other than
///   HEADERS and PRIORITY on idle streams (PROTOCOL_ERROR), HEADERS or DATA on closed or half-closed (remote)
///   streams (stream error STREAM_CLOSED); §5.1.2 SETTINGS_MAX_CONCURRENT_STREAMS (REFUSED_STREAM).
/// - §5.2, §6.9 flow control both ways: receive windows checked (FLOW_CONTROL_ERROR) and replenished with a
///   WINDOW_UPDATE once half is free again: the connection's on receipt, a stream's only as the proxy reports
///   its body consumed (`bodyConsumed`), so a client uploads at most one stream window ahead of the upstream;
///   the client's windows bound our DATA (`sendData` returns what fits) and, when the connection window is
///   short, streams waiting for it share it (see `sendData`).
/// - §8.1.1, §8.2, §8.3.1 malformed requests (`HTTP2RequestHeadValidator`): RST_STREAM PROTOCOL_ERROR.
/// - §4.3 HPACK decoding errors: GOAWAY COMPRESSION_ERROR; a header list over our limit: 431 (§10.5.1).
/// - §10.5 floods (`HTTP2FloodGuard`: PING, SETTINGS, RST_STREAM i.e. rapid reset, empty DATA) and the frame
///   parser's CONTINUATION limits: GOAWAY ENHANCE_YOUR_CALM.
/// Connection errors (§5.4.1) write GOAWAY with the highest stream we opened and then `.closeConnection`;
/// after it every call returns nothing. Stream errors (§5.4.2) write RST_STREAM, plus `.streamReset` when the
/// proxy had been told of that stream.
///
/// Memory: the receive buffer holds at most one incomplete frame (`9 + frameLimits.maxFrameSize` bytes) plus
/// one field block (`frameLimits.maxHeaderBlockBytes`); streams are at most `maxConcurrentStreams`.
public struct HTTP2ConnectionMachine: Sendable {
    /// What the machine asks for.
    public typealias Action = HTTP2ConnectionAction

    /// Where our SETTINGS is (§3.4, §6.5.3).
    enum OurSettings: Sendable, Equatable {
        /// Not sent yet.
        case unsent
        /// Sent at `sentAt` (monotonic nanoseconds; nil until a call brings the time, after `start()`), not yet
        /// acknowledged.
        case awaitingAck(sentAt: UInt64?)
        /// The client acknowledged it.
        case acknowledged
    }

    /// Where the connection is.
    enum Phase: Sendable, Equatable {
        /// Before the client's preface.
        case awaitingPreface
        /// Streams may open.
        case open
        /// GOAWAY sent or received (§6.8): streams above `lastStreamID` are ignored; the connection closes when
        /// no stream is left.
        case draining(lastStreamID: UInt32)
        /// Over: nothing more is read or written.
        case closed
    }

    /// A field block still waiting for CONTINUATION frames (§6.10).
    struct PendingFieldBlock: Sendable {
        /// The stream the HEADERS named.
        var stream: UInt32
        /// The fragments so far, concatenated.
        var bytes: [UInt8]
        /// Whether the HEADERS carried END_STREAM.
        var endStream: Bool
    }

    /// The limits and windows in force.
    public let configuration: HTTP2ConnectionConfiguration
    /// Where the connection is.
    var phase: Phase = .awaitingPreface
    /// Frames the client's bytes (§4), bounded by `configuration.frameLimits`.
    var parser: HTTP2FrameParser
    /// The client's HPACK context (request heads and trailers).
    var decoder: HPACKDecoder
    /// Our HPACK context (response heads).
    var encoder = HPACKEncoder()
    /// Counts flood-prone frames (§10.5).
    var floodGuard: HTTP2FloodGuard
    /// The client's settings, defaults until its SETTINGS arrives.
    public internal(set) var peerSettings = HTTP2Settings()
    /// Live streams (open or half-closed); closed ones are dropped.
    var streams: [UInt32: HTTP2StreamState] = [:]
    /// The highest stream identifier the client used for HEADERS (§5.1.1); every lower odd one is closed.
    public internal(set) var highestStreamID: UInt32 = 0
    /// Bytes of DATA we may still send on the connection (§6.9.1); starts at 65,535.
    public internal(set) var connectionSendWindow = Int(HTTP2Settings.defaultInitialWindowSize)
    /// Bytes of DATA the client may still send on the connection before our next WINDOW_UPDATE.
    var connectionReceiveWindow = Int(HTTP2Settings.defaultInitialWindowSize)
    /// Streams whose last `sendData` was cut short, oldest first: the round-robin order of `.windowOpened`.
    var blockedStreams: [UInt32] = []
    /// Whether a window grew during this call, so blocked streams may be told.
    var windowsGrew = false
    /// Whether our SETTINGS went out and was acknowledged (§3.4, §6.5.3).
    var ourSettings = OurSettings.unsent
    /// Received bytes not yet making a whole frame.
    var inbound: [UInt8] = []
    /// A HEADERS frame's block waiting for its CONTINUATIONs.
    var pendingFieldBlock: PendingFieldBlock?
    /// Streams whose later frames are dropped silently, oldest first, at most `discardedStreamsCapacity`: those
    /// we reset, as frames the client sent before it saw our RST_STREAM must be ignored (§5.1, "closed"), and
    /// those opened above our GOAWAY's last stream (§6.8).
    var discardedStreams: [UInt32] = []
    /// How many reset streams are remembered: one window of streams in flight.
    static let discardedStreamsCapacity = 64
    /// Our PING waiting for its ACK: its opaque data and when it was sent.
    var outstandingPing: (opaqueData: UInt64, sentAt: UInt64)?
    /// Frames to write, gathered during one call.
    var output: [UInt8] = []
    /// Actions gathered during one call.
    var actions: [Action] = []
    /// The frames and the action list the last call handed out, kept to be reused by the next call once the shell
    /// has let go of them (see `takeActions`): relaying an event then allocates neither.
    var handedOutOutput: [UInt8] = []
    var handedOutActions: [Action] = []
    /// The largest frame buffer kept for reuse: a connection keeps at most two of this size while idle (~4 KiB),
    /// and a bigger write allocates its own as before.
    static let reusedOutputCapacity = 2_048

    /// A machine for one accepted connection; nothing is sent until `start()` or the client's preface.
    public init(configuration: HTTP2ConnectionConfiguration = HTTP2ConnectionConfiguration()) {
        self.configuration = configuration
        parser = HTTP2FrameParser(limits: configuration.frameLimits, start: .clientPreface)
        decoder = HPACKDecoder(limits: configuration.headerLimits)
        floodGuard = HTTP2FloodGuard(budgets: configuration.floodBudgets)
    }

    /// Whether the connection is over (after `.closeConnection`).
    public var isClosed: Bool { phase == .closed }
    /// How many streams are open or half-closed.
    public var liveStreamCount: Int { streams.count }

    /// Bytes of DATA `stream` may send now: the smaller of its window and the connection's, 0 when it is not
    /// live or has ended its response.
    public func sendableBytes(stream: UInt32) -> Int {
        guard let state = streams[stream], state.serverMaySend else { return 0 }
        return max(0, min(state.sendWindow, connectionSendWindow))
    }

    /// Sends the server connection preface (RFC 9113 §3.4): our SETTINGS, then a WINDOW_UPDATE raising the
    /// connection window to `connectionWindowSize` (§6.9.2: SETTINGS cannot). Idempotent; `receive` calls it
    /// when the client's preface arrives first (an `h2c` listener only knows then). `now` (monotonic
    /// nanoseconds) starts the SETTINGS acknowledgement timeout (`deadline`). After `.closeConnection` (e.g. the
    /// bytes were not HTTP/2) it does nothing.
    public mutating func start(now: UInt64) -> [Action] {
        guard phase != .closed else { return [] }
        sendPrefaceIfNeeded(now: now)
        return takeActions()
    }

    /// `start(now:)` without the time: the acknowledgement timeout starts at the `now` of the next call that
    /// brings one (`receive`, `ping`, `deadlineReached`).
    public mutating func start() -> [Action] {
        guard phase != .closed else { return [] }
        sendPrefaceIfNeeded(now: nil)
        return takeActions()
    }

    /// Reads whatever bytes arrived from the client at `now` (monotonic nanoseconds, for the flood guard, PING
    /// round trips and the SETTINGS timeout) and returns what to do. Bytes are kept until they make a whole frame.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer, now: UInt64) -> [Action] {
        guard phase != .closed else { return [] }
        noteTime(now)
        inbound.append(contentsOf: bytes)
        var offset = 0
        do {
            let buffer = inbound
            while phase != .closed {
                let parsed = buffer.withUnsafeBytes { raw in
                    Result { () throws(HTTP2FrameError) in try parser.parse(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
                }
                switch parsed {
                case .failure(let error):
                    failConnection(error.code, "\(error)")
                case .success(.needMore):
                    break
                case .success(.notHTTP2):
                    close(.notHTTP2(received: inbound))
                case .success(.preface(let consumed)):
                    offset += consumed
                    if phase == .awaitingPreface { phase = .open }
                    sendPrefaceIfNeeded(now: now)
                    continue
                case .success(.frame(let frame, let consumed)):
                    offset += consumed
                    handle(frame, now: now)
                    continue
                case .success(.streamError(let error, let consumed)):
                    offset += consumed
                    if case .stream(let stream) = error.scope { sendReset(stream, error.code) }
                    continue
                }
                break
            }
        }
        if phase == .closed { inbound = [] } else { inbound.removeFirst(offset) }
        return takeActions()
    }

    /// `receive` for bytes in an array.
    public mutating func receive(_ bytes: [UInt8], now: UInt64) -> [Action] {
        bytes.withUnsafeBytes { receive($0, now: now) }
    }

    /// The earliest time (monotonic nanoseconds) at which the shell must call `deadlineReached(now:)`: while
    /// our SETTINGS waits for its ACK, when it was sent plus `configuration.settingsAckTimeoutNanos`
    /// (RFC 9113 §6.5.3). Nil when nothing is due (or the send time is not known yet, after `start()`). It
    /// changes only during calls of the machine, so the shell reads it after each one.
    public var deadline: UInt64? {
        guard phase != .closed, case .awaitingAck(let sentAt?) = ourSettings else { return nil }
        let (due, overflow) = sentAt.addingReportingOverflow(configuration.settingsAckTimeoutNanos)
        return overflow ? .max : due
    }

    /// The shell's call at or after `deadline`: if our SETTINGS is still unacknowledged
    /// `configuration.settingsAckTimeoutNanos` after it went out, the connection fails with GOAWAY
    /// SETTINGS_TIMEOUT (RFC 9113 §6.5.3) and `.closeConnection`; otherwise (early, or acknowledged meanwhile)
    /// nothing happens. Calling it at any time is harmless.
    public mutating func deadlineReached(now: UInt64) -> [Action] {
        guard phase != .closed else { return [] }
        noteTime(now)
        if let deadline, now >= deadline {
            failConnection(.settingsTimeout, "SETTINGS not acknowledged within \(configuration.settingsAckTimeoutNanos) ns")
        }
        return takeActions()
    }

    // MARK: - Shared steps

    /// Dates our SETTINGS at `now` when it went out during `start()`, which brought no time.
    mutating func noteTime(_ now: UInt64) {
        if ourSettings == .awaitingAck(sentAt: nil) { ourSettings = .awaitingAck(sentAt: now) }
    }

    /// Writes our SETTINGS and the connection WINDOW_UPDATE once (§3.4, §6.9.2), noting when (nil: not known).
    mutating func sendPrefaceIfNeeded(now: UInt64?) {
        guard ourSettings == .unsent else { return }
        ourSettings = .awaitingAck(sentAt: now)
        HTTP2FrameWriter.appendSettings(configuration.settings, to: &output)
        let raise = configuration.connectionWindowSize - Int(HTTP2Settings.defaultInitialWindowSize)
        if raise > 0 { HTTP2FrameWriter.appendWindowUpdate(stream: 0, increment: UInt32(raise), to: &output) }
        // A connection window can only grow (§6.9.2): below 65,535 it shrinks to the configured size as it is used.
        connectionReceiveWindow = max(configuration.connectionWindowSize, Int(HTTP2Settings.defaultInitialWindowSize))
    }

    /// A stream error (§5.4.2): RST_STREAM with `code`; if the stream was live it is dropped and the proxy told.
    mutating func sendReset(_ stream: UInt32, _ code: HTTP2ErrorCode) {
        HTTP2FrameWriter.appendRSTStream(stream: stream, errorCode: code, to: &output)
        discardLaterFrames(stream)
        if streams[stream] != nil {
            drop(stream)
            actions.append(.streamReset(stream, code))
        }
    }

    /// Drops `stream`'s later frames silently (we reset or ignored it), forgetting the oldest past
    /// `discardedStreamsCapacity`.
    mutating func discardLaterFrames(_ stream: UInt32) {
        if discardedStreams.count == Self.discardedStreamsCapacity { discardedStreams.removeFirst() }
        discardedStreams.append(stream)
    }

    /// Forgets a stream that is closed (§5.1).
    mutating func drop(_ stream: UInt32) {
        streams[stream] = nil
        if let index = blockedStreams.firstIndex(of: stream) { blockedStreams.remove(at: index) }
    }

    /// A connection error (§5.4.1): GOAWAY with `code` and the highest stream we opened, then close.
    mutating func failConnection(_ code: HTTP2ErrorCode, _ detail: String) {
        guard phase != .closed else { return }
        HTTP2FrameWriter.appendGoaway(lastStreamID: highestStreamID, errorCode: code, to: &output)
        close(.connectionError(code, detail: detail))
    }

    /// Ends the connection: pending bytes go out first, then `.closeConnection`.
    mutating func close(_ reason: HTTP2CloseReason) {
        flushOutput()
        actions.append(.closeConnection(reason))
        phase = .closed
        streams = [:]
        blockedStreams = []
        pendingFieldBlock = nil
    }

    /// Moves the gathered frames into one `.write`, leaving `output` empty. Its next buffer is the one the last call
    /// handed out: the shell has carried that call's actions out by now (unless it calls back while still doing
    /// so), so emptying that call's action list first leaves the buffer unshared, and it is reused without an
    /// allocation. Still shared, `removeAll(keepingCapacity:)` gives a fresh one, as before.
    mutating func flushOutput() {
        guard !output.isEmpty else { return }
        handedOutActions.removeAll(keepingCapacity: true)
        actions.append(.write(output))
        swap(&output, &handedOutOutput)
        output.removeAll(keepingCapacity: true)
    }

    /// The call's actions: `.windowOpened` for blocked streams that may send again (oldest first), a drained
    /// connection's close, and the gathered bytes.
    mutating func takeActions() -> [Action] {
        if windowsGrew && phase != .closed && connectionSendWindow > 0 {
            for stream in blockedStreams where (streams[stream]?.sendWindow ?? 0) > 0 {
                actions.append(.windowOpened(stream))
            }
        }
        windowsGrew = false
        if case .draining = phase, streams.isEmpty { close(.drained) }
        flushOutput()
        // The list goes out, and the machine keeps it to reuse as it reuses the frames (see `flushOutput`); lists
        // or frames past `reusedOutputCapacity` are left to the shell, so an idle connection holds little.
        let taken = actions
        swap(&actions, &handedOutActions)
        actions.removeAll(keepingCapacity: true)
        if handedOutOutput.capacity > Self.reusedOutputCapacity {
            handedOutOutput = []
            handedOutActions = []
        }
        return taken
    }
}

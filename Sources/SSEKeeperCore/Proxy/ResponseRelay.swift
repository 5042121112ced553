/// Everything between an upstream's response body bytes and the client's bytes, for one response.
///
/// It owns the upstream body framing (Content-Length, chunked, close-delimited), the event assembler on routes that
/// need complete events (`upstream_resume`), the `SSEStreamTracker` that decides where heartbeats and ssekeeper's
/// own events may go, the heartbeat schedule, and the client framing (through `RelayOutput`). Bytes and time in,
/// bytes and an outcome out; it never touches a socket or reads the clock, so every rule here is tested without
/// either (`ResponseRelayTests`).
///
/// Relaying one upstream read appends to the caller's `RelayOutput` (one chunk for the whole read, no allocation per
/// event); the caller sends it with one write and then calls `noteClientWrite(at:)`, from which the next heartbeat
/// is counted.
///
/// Heartbeats and injected events follow `SSEStreamTracker`'s rules: never mid-line, never between a CR and the LF
/// that may follow it, never a blank line inside an event, never in front of a leading byte-order mark (WHATWG HTML
/// "Server-sent events", §9.2.6).
public struct ResponseRelay: Sendable {
    /// How an SSE response that takes heartbeats is relayed.
    public struct SSEOptions: Sendable, Equatable {
        /// The silence after which a heartbeat is due (at least `HeartbeatSchedule.minimumInterval`).
        public var heartbeatIntervalNanos: UInt64
        /// What the heartbeats say (the route's, shared): the comment, and `heartbeat_event` / `heartbeat_data`.
        public var heartbeat: HeartbeatText
        /// `sse_retry`: a `retry:` line sent before the first upstream byte, when set.
        public var retryMilliseconds: Int?
        /// Hold partial events so a break of the upstream never leaves half an event at the client
        /// (`upstream_resume`); the limit is `maxHeldBytes` (an event larger than that passes through as it comes).
        public var assemblesEvents: Bool
        /// The most bytes of one partial event the assembler holds.
        public var maxHeldBytes: Int
        /// The request's `Last-Event-ID` (nil or empty: none): heartbeat events wait for the stream's first blank
        /// line when the client carried an ID over (`SSEStreamTracker.BoundaryDispatch`).
        public var carriedLastEventID: String?
        /// Client ride-through (`client_resume_window`): every event gets ssekeeper's id and is kept for replay.
        public var rideThrough: RideThroughOptions?

        /// Options as the route's settings give them; `heartbeat` is the route's (`Route.heartbeat`).
        public init(heartbeatIntervalNanos: UInt64, heartbeat: HeartbeatText, retryMilliseconds: Int?,
                    assemblesEvents: Bool, maxHeldBytes: Int, carriedLastEventID: String? = nil,
                    rideThrough: RideThroughOptions? = nil) {
            self.heartbeatIntervalNanos = heartbeatIntervalNanos
            self.heartbeat = heartbeat
            self.retryMilliseconds = retryMilliseconds
            self.assemblesEvents = assemblesEvents
            self.maxHeldBytes = maxHeldBytes
            self.carriedLastEventID = carriedLastEventID
            self.rideThrough = rideThrough
        }

        /// Options with the heartbeat's texts given one by one (a `HeartbeatText` of their own).
        public init(heartbeatIntervalNanos: UInt64, heartbeatComment: String, retryMilliseconds: Int?,
                    assemblesEvents: Bool, maxHeldBytes: Int, heartbeatEvent: String? = nil,
                    heartbeatData: String? = nil, carriedLastEventID: String? = nil,
                    rideThrough: RideThroughOptions? = nil) {
            self.init(heartbeatIntervalNanos: heartbeatIntervalNanos,
                      heartbeat: HeartbeatText(comment: heartbeatComment, event: heartbeatEvent, data: heartbeatData),
                      retryMilliseconds: retryMilliseconds, assemblesEvents: assemblesEvents, maxHeldBytes: maxHeldBytes,
                      carriedLastEventID: carriedLastEventID, rideThrough: rideThrough)
        }
    }

    /// How a ridden-through stream stamps and keeps its events (`StreamReplay`).
    public struct RideThroughOptions: Sendable, Equatable {
        /// The stream token's text (22 base64url characters).
        public var token: [UInt8]
        /// `client_resume_buffer`.
        public var bufferBytes: Int

        public init(token: [UInt8], bufferBytes: Int) {
            self.token = token
            self.bufferBytes = bufferBytes
        }
    }

    /// What relaying one read did.
    public enum Outcome: Sendable, Equatable {
        /// More of the body is expected.
        case more
        /// The upstream's body is complete: the caller calls `finish(into:)`.
        case complete
        /// The upstream's chunked framing is invalid: the response cannot go on.
        case broken(ChunkedDecodingError)
    }

    /// What `heartbeat(now:clientBacklogged:into:)` did; each carries the deadline to wait for next.
    public enum HeartbeatOutcome: Sendable, Equatable {
        /// Not due yet.
        case notYet(until: UInt64)
        /// Due, but the client's parser stood mid-line: counted as skipped.
        case skipped(next: UInt64)
        /// The heartbeat's bytes were appended: the caller writes them.
        case sent(next: UInt64)
    }

    /// Where the upstream body stands.
    enum UpstreamBody: Sendable {
        case none
        case remaining(UInt64)
        case chunked(ChunkedDecoder)
        case untilClose

        init(_ framing: BodyFraming) {
            switch framing {
            case .none: self = .none
            case .contentLength(let length): self = length == 0 ? .none : .remaining(length)
            case .chunked: self = .chunked(ChunkedDecoder())
            case .closeDelimited: self = .untilClose
            }
        }
    }

    private var body: UpstreamBody
    /// The client's framing (chunked, close-delimited, ...); a reattached client may have another.
    public private(set) var clientFraming: ClientFraming
    /// Set for uncompressed SSE responses: where the client's parser stands.
    public private(set) var tracker: SSEStreamTracker?
    /// Set on routes that need complete events.
    public private(set) var assembler: SSEEventAssembler?
    /// Set with the tracker.
    public private(set) var heartbeats: HeartbeatSchedule?
    /// Set on ridden-through streams: ids and the replay buffer, boxed so other streams pay one word for it.
    private var replayBox: StreamReplayBox?
    /// What the heartbeats say (the route's; nil without `sse`).
    private let heartbeatText: HeartbeatText?
    private let retryMilliseconds: Int?
    /// Whether the upstream sent bytes after its body ended (its connection cannot be reused).
    public private(set) var trailingBytes = false
    /// Whether an assembler held back an event larger than its limit (it then passes through), at least once.
    public var assemblerOverflowed: Bool { (assembler?.overflowCount ?? 0) > 0 }

    /// A relay for a response whose upstream body is framed by `upstreamFraming` and goes to the client in
    /// `clientFraming`. `sse`: set for an uncompressed event stream (heartbeats, `retry:`, events of ssekeeper's own);
    /// nil for everything else, which passes through unchanged. `now`: when the head goes out.
    public init(upstreamFraming: BodyFraming, clientFraming: ClientFraming, sse: SSEOptions?, now: UInt64) {
        body = UpstreamBody(upstreamFraming)
        self.clientFraming = clientFraming
        heartbeatText = sse?.heartbeat
        retryMilliseconds = sse?.retryMilliseconds
        guard let sse else { return }
        tracker = SSEStreamTracker(carriedLastEventID: sse.carriedLastEventID)
        if sse.assemblesEvents { assembler = SSEEventAssembler(maxHeldBytes: sse.maxHeldBytes) }
        if let ride = sse.rideThrough {
            let carried = sse.carriedLastEventID.map { Array($0.utf8) }
            replayBox = StreamReplayBox(StreamReplay(token: ride.token, bufferBytes: ride.bufferBytes, carriedLastEventID: carried))
        }
        let interval = max(sse.heartbeatIntervalNanos, HeartbeatSchedule.minimumInterval.nanoseconds)
        heartbeats = HeartbeatSchedule(intervalNanos: interval, startedAt: now)
    }

    /// Whether no upstream body is left to read: true for a response without a body (the caller finishes at once
    /// after the head), and after a body completed or broke for a resume.
    public var hasNoBody: Bool { if case .none = body { true } else { false } }
    /// Whether this response takes heartbeats and events of ssekeeper's own.
    public var takesHeartbeats: Bool { tracker != nil }
    /// Whether the client's parser stands between events: an event of ssekeeper's own (or the end) may go now.
    public var isAtEventBoundary: Bool { tracker?.isAtEventBoundary ?? false }
    /// When the next heartbeat is due, if this response takes heartbeats.
    public var nextHeartbeatDeadline: UInt64? { heartbeats?.nextDeadline }
    /// Heartbeats sent so far.
    public var heartbeatsSent: Int { heartbeats?.sent ?? 0 }
    /// Heartbeats skipped so far (due while the client's parser stood mid-line).
    public var heartbeatsSkipped: Int { heartbeats?.skipped ?? 0 }

    /// Appends the client's response head and the stream's preamble (`retry:` when `sse_retry` is set).
    public mutating func begin(head: [UInt8], into output: inout RelayOutput) {
        output.framing = clientFraming
        output.appendRaw(head)
        if let retryMilliseconds, tracker != nil {
            output.appendBody(tracker!.retryPreamble(milliseconds: retryMilliseconds))
        }
    }

    /// Relays one read of upstream body bytes: decodes the upstream framing, passes SSE bytes through the assembler
    /// and the tracker, and appends the result in the client's framing, as one chunk.
    public mutating func relay(_ bytes: UnsafeRawBufferPointer, into output: inout RelayOutput) -> Outcome {
        output.framing = clientFraming
        output.openChunk()
        defer { output.closeChunk() }
        switch body {
        case .none:
            if !bytes.isEmpty { trailingBytes = true }
            return .complete
        case .remaining(let remaining):
            let take = Int(min(UInt64(bytes.count), remaining))
            emit(UnsafeRawBufferPointer(rebasing: bytes[..<take]), into: &output)
            let left = remaining - UInt64(take)
            body = left == 0 ? .none : .remaining(left)
            if take < bytes.count { trailingBytes = true }
            return left == 0 ? .complete : .more
        case .chunked(var decoder):
            body = .none  // the decoder is out of `body` while it runs (no copy-on-write of its state)
            do {
                let (consumed, finished) = try decoder.decode(bytes) { emit($0, into: &output) }
                body = finished ? .none : .chunked(decoder)
                if finished, consumed < bytes.count { trailingBytes = true }
                return finished ? .complete : .more
            } catch let error as ChunkedDecodingError {
                body = .chunked(decoder)
                return .broken(error)
            } catch {
                body = .chunked(decoder)
                return .broken(.invalidChunkSize(offset: 0))
            }
        case .untilClose:
            emit(bytes, into: &output)
            return .more
        }
    }

    /// Whether the upstream ending its connection now completes the body (close-delimited framing).
    public var endsAtUpstreamClose: Bool { if case .untilClose = body { true } else { false } }

    private mutating func emit(_ data: UnsafeRawBufferPointer, into output: inout RelayOutput) {
        guard !data.isEmpty else { return }
        if replayBox != nil {
            let box = uniqueReplayBox()
            if assembler != nil {
                assembler!.feed(data) { slice in
                    box.replay.stamp(slice) { stamped in tracker!.forward(stamped) { output.appendBody($0) } }
                }
            } else {
                box.replay.stamp(data) { stamped in tracker!.forward(stamped) { output.appendBody($0) } }
            }
        } else if assembler != nil {
            assembler!.feed(data) { slice in
                tracker!.forward(slice) { output.appendBody($0) }
            }
        } else if tracker != nil {
            tracker!.forward(data) { output.appendBody($0) }
        } else {
            output.appendBody(data)
        }
    }

    /// Bytes were written to the client at `now`: the next heartbeat is due a full interval later.
    public mutating func noteClientWrite(at now: UInt64) {
        heartbeats?.noteWrite(at: now)
    }

    /// A heartbeat may be due at `now`. `clientBacklogged`: bytes are still waiting for the client, so the connection
    /// is not idle and the silence counts from now. When one is sent its bytes are appended to `output`: with
    /// `heartbeatEvent` set and the client between events, the whole heartbeat event (its data `heartbeatData`, or
    /// `wallClockMilliseconds`, the server's Unix time in milliseconds, in decimal), else the comment line.
    public mutating func heartbeat(now: UInt64, wallClockMilliseconds: Int64, clientBacklogged: Bool,
                                   into output: inout RelayOutput) -> HeartbeatOutcome {
        guard var schedule = heartbeats, tracker != nil, let text = heartbeatText else { return .notYet(until: .max) }
        defer { heartbeats = schedule }
        if clientBacklogged {
            schedule.noteWrite(at: now)
            return .notYet(until: schedule.nextDeadline)
        }
        switch schedule.poll(now: now, canInject: tracker!.isAtSafePoint) {
        case .notYet(let until):
            return .notYet(until: until)
        case .skip:
            return .skipped(next: schedule.nextDeadline)
        case .send:
            output.framing = clientFraming
            // The data is formatted only when the event goes (`takesHeartbeatEvent` first).
            if let event = text.event, tracker!.takesHeartbeatEvent,
               let bytes = tracker!.heartbeatEvent(type: event, data: text.data ?? String(wallClockMilliseconds)) {
                output.appendBody(bytes)
            } else if let bytes = tracker!.heartbeat(text) {
                output.appendBody(bytes)
            }
            return .sent(next: schedule.nextDeadline)
        }
    }

    /// The upstream's body is complete: appends what is still held (a partial event, a partial byte-order mark
    /// that was not one; the client discards a partial event at the end anyway) and the end of the client's body.
    public mutating func finish(into output: inout RelayOutput) {
        output.framing = clientFraming
        if assembler != nil, tracker != nil {
            let held = assembler!.finish()
            if !held.isEmpty { held.withUnsafeBytes { forwardAssembled($0, into: &output) } }
        }
        if let held = tracker?.finish(), !held.isEmpty { output.appendBody(held) }
        output.appendEndOfBody()
    }

    /// Ends the client's body as it stands (the last chunk when chunked), without anything held: a stream ssekeeper
    /// gives up on, or ends for draining after `appendRetry`.
    public func endBody(into output: inout RelayOutput) {
        output.framing = clientFraming
        output.appendEndOfBody()
    }

    /// Appends a whole event of ssekeeper's own (one `name: value` line per field, then the blank line), when the
    /// client stands between events; false (nothing appended) otherwise.
    public mutating func appendEvent(fields: [String], into output: inout RelayOutput) -> Bool {
        guard tracker != nil, let event = tracker!.event(fields: fields) else { return false }
        output.framing = clientFraming
        output.appendBody(event)
        return true
    }

    /// Appends `retry: <milliseconds>` when the client stands between events; false (nothing appended) otherwise.
    public mutating func appendRetry(milliseconds: Int, into output: inout RelayOutput) -> Bool {
        guard tracker != nil, tracker!.isAtEventBoundary else { return false }
        output.framing = clientFraming
        output.appendBody(tracker!.retryPreamble(milliseconds: milliseconds))
        return true
    }

    // MARK: Resuming the upstream (`upstream_resume`)

    /// Whether a broken upstream can be replaced by a new response spliced into this one: the route assembles
    /// events, no oversized event was cut, and the last event id can be sent as `Last-Event-ID`.
    public var isResumable: Bool { tracker != nil && (assembler?.isResumable ?? false) }
    /// The last complete event's id (WHATWG sense), for `Last-Event-ID` on a resume.
    public var lastEventID: SSEEventAssembler.EventID { assembler?.lastEventID ?? .unset }

    /// The upstream broke and a resume starts: drops the partial event the client never saw and appends what
    /// realigns the client's parser to a line start (an LF after a lone CR). Call only when `isResumable`.
    public mutating func breakForResume(into output: inout RelayOutput) {
        guard assembler != nil, tracker != nil else { return }
        let realign = assembler!.beginResumedStream()
        body = .none
        guard !realign.isEmpty else { return }
        output.framing = clientFraming
        realign.withUnsafeBytes { forwardAssembled($0, into: &output) }
    }

    /// Forwards bytes the assembler released: stamped first on a ridden-through stream.
    private mutating func forwardAssembled(_ bytes: UnsafeRawBufferPointer, into output: inout RelayOutput) {
        if replayBox != nil {
            let box = uniqueReplayBox()
            box.replay.stamp(bytes) { stamped in tracker!.forward(stamped) { output.appendBody($0) } }
        } else {
            tracker!.forward(bytes) { output.appendBody($0) }
        }
    }

    /// A resumed response's head arrived: its body, framed by `upstreamFraming`, continues this one.
    public mutating func spliceResumed(upstreamFraming: BodyFraming) {
        body = UpstreamBody(upstreamFraming)
        trailingBytes = false
    }
}

// MARK: Client ride-through (`client_resume_window`)

extension ResponseRelay {
    /// Whether this stream stamps its events and keeps them for a client that comes back.
    public var ridesThrough: Bool { replayBox != nil }
    /// The stream's replay state (ids, the ring), on a ridden-through stream (a copy: use the two below per event).
    public var replay: StreamReplay? { replayBox?.replay }
    /// The bytes held for replay, on a ridden-through stream (read in place).
    public var replayHeldBytes: Int? { replayBox?.replay.heldBytes }
    /// Whether the replay buffer is full (`StreamReplay.isFull`); false on other streams.
    public var replayIsFull: Bool { replayBox?.replay.isFull ?? false }

    /// Whether a client is attached (see `StreamReplay.clientAttached`); no effect on other streams.
    public mutating func setClientAttached(_ attached: Bool) {
        guard replayBox != nil else { return }
        uniqueReplayBox().replay.clientAttached = attached
    }

    /// Evicts held events down to `bytes` (`client_resume_memory`); no effect on other streams.
    public mutating func evictReplay(downTo bytes: Int) {
        guard replayBox != nil else { return }
        uniqueReplayBox().replay.evict(downTo: bytes)
    }

    /// A client came back with position `seq` and is given its stream: from now on the client's framing is
    /// `clientFraming` and its parser is a new connection's (`carriedLastEventID`: the `Last-Event-ID` it sent).
    /// Appends its response head, the `retry:` preamble (`sse_retry`), and the events after `seq` (through a new
    /// tracker, so heartbeats and ssekeeper's own events keep their rules on the new connection); heartbeats count
    /// from `now`. Returns how many events were replayed and their bytes, or nil (nothing appended, nothing
    /// changed) when the position cannot be served (`StreamReplay.lookup`).
    public mutating func reattach(head: [UInt8], clientFraming newFraming: ClientFraming, carriedLastEventID: String?,
                                  after seq: UInt64, now: UInt64, into output: inout RelayOutput) -> (events: Int, bytes: Int)? {
        guard let replay = replayBox?.replay, case .replay(let bytes, let count) = replay.lookup(after: seq) else {
            return nil
        }
        clientFraming = newFraming
        tracker = SSEStreamTracker(carriedLastEventID: carriedLastEventID)
        heartbeats?.noteWrite(at: now)
        output.framing = newFraming
        output.appendRaw(head)
        if let retryMilliseconds { output.appendBody(tracker!.retryPreamble(milliseconds: retryMilliseconds)) }
        if !bytes.isEmpty {
            output.openChunk()
            bytes.withUnsafeBytes { raw in tracker!.forward(raw) { output.appendBody($0) } }
            output.closeChunk()
        }
        setClientAttached(true)
        return (count, bytes.count)
    }

    /// The replay box, copied first if another relay shares it (copy on write).
    private mutating func uniqueReplayBox() -> StreamReplayBox {
        if !isKnownUniquelyReferenced(&replayBox!) { replayBox = StreamReplayBox(replayBox!.replay) }
        return replayBox!
    }
}

/// The storage of a `StreamReplay` inside a `ResponseRelay`: a reference, so that the relay of a stream that does
/// not ride through stays small. Copy on write keeps the relay a value: a shared box is copied before it changes
/// (`ResponseRelay.uniqueReplayBox`), and it is only ever changed on the relay's own queue.
final class StreamReplayBox: @unchecked Sendable {
    var replay: StreamReplay

    init(_ replay: StreamReplay) {
        self.replay = replay
    }
}

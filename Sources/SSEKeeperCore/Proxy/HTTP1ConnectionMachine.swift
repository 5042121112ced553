/// Where one HTTP/1.1 client connection stands, and what to do next: reading a head, checking a request body before
/// anything goes upstream, a response in flight (a stream attached), the probe's silence, keep-alive between
/// requests, and the polite close (flush, `shutdown(SHUT_WR)`, linger reading and discarding until the client closes,
/// so a client still sending does not turn the close into a reset that eats the response).
///
/// While the process drains (`stopLingering(now:)`), the linger is skipped: a response that is complete, flushed and
/// half-closed is all the client needs, so the connection closes at once and the drain can end (the kernel still
/// delivers what it holds, and the process exits anyway).
///
/// A pure machine (h11's "one machine per side"): the shell reports events with the time, and carries out the
/// returned action; every deadline lives in the state it belongs to. Times are monotonic nanoseconds.
public struct HTTP1ConnectionMachine: Sendable {
    /// The timeouts the machine applies, in nanoseconds.
    public struct Timeouts: Sendable, Equatable {
        /// `client_header_timeout`: for a request head, and for a chunked body checked before connecting.
        public var headerNanos: UInt64
        /// `keepalive_timeout`: between requests.
        public var keepaliveNanos: UInt64
        /// How long a closing connection may take to flush its last bytes to a slow client.
        public var closingFlushNanos: UInt64
        /// How long a closing connection lingers, once flushed, for the client to close its side.
        public var closingLingerNanos: UInt64

        /// Timeouts as configured.
        public init(headerNanos: UInt64, keepaliveNanos: UInt64, closingFlushNanos: UInt64 = 30_000_000_000,
                    closingLingerNanos: UInt64 = 5_000_000_000) {
            self.headerNanos = headerNanos
            self.keepaliveNanos = keepaliveNanos
            self.closingFlushNanos = closingFlushNanos
            self.closingLingerNanos = closingLingerNanos
        }
    }

    /// The connection's state; each waiting state carries its deadline.
    public enum State: Sendable, Equatable {
        /// Between requests (or before the first), no byte of the next one yet; closes at `until`.
        case idle(until: UInt64)
        /// Part of a request head has arrived; 408 at `until`.
        case readingHead(until: UInt64)
        /// A chunked request body is being checked before anything goes upstream; 408 at `until`.
        case receivingBody(until: UInt64)
        /// A request's stream is attached: the upstream side and the response are the stream's.
        case responding
        /// The probe's silence; its final event is due at `until`.
        case probing(until: UInt64)
        /// The last response is written and being flushed; the close is forced at `until`.
        case flushing(until: UInt64)
        /// Flushed and half-closed; reading and discarding until the client closes, or `until`.
        case lingering(until: UInt64)
        /// Closed.
        case finished
    }

    /// How a connection ends once its last response is flushed and half-closed.
    public enum Linger: Sendable, Equatable {
        /// Read and discard until the client closes, or `closingLingerNanos` passes (while running: a client that
        /// is still sending does not turn the close into a reset that eats the response).
        case untilClientCloses
        /// Close at once (draining: the process exits as soon as every response is complete and flushed).
        case skipped
    }

    /// What the shell does with client bytes that just arrived.
    public enum BytesAction: Sendable, Equatable {
        /// Append them to the inbound buffer and parse request heads (a new request may start: take the current
        /// configuration for it).
        case parseHead(newRequest: Bool)
        /// Feed them to the request body check.
        case checkBody
        /// Give them to the attached stream (its request body, then pipelined bytes).
        case toStream
        /// Keep them for after the response (pipelining).
        case keep
        /// Drop them (the connection is closing).
        case discard
    }

    /// What a deadline means.
    public enum DeadlineAction: Sendable, Equatable {
        /// Not due: wait for `until`.
        case wait(until: UInt64)
        /// Close the connection without a word (idle keep-alive expired, or the close lingered long enough).
        case close
        /// Answer 408: the head (`body` false) or the checked body (`body` true) did not arrive in time.
        case requestTimeout(body: Bool)
        /// End the probe's silence.
        case finishProbe
        /// Nothing for the connection to do (the stream keeps its own deadlines).
        case none
    }

    /// The state now.
    public private(set) var state: State
    /// The timeouts.
    public var timeouts: Timeouts
    /// Requests started on this connection.
    public private(set) var requestCount = 0
    /// How the connection ends once flushed: `.untilClientCloses` until `stopLingering(now:)`.
    public private(set) var linger = Linger.untilClientCloses

    /// A new connection at `now`: the first head must arrive within the header timeout.
    public init(now: UInt64, timeouts: Timeouts) {
        self.timeouts = timeouts
        // Nothing has arrived yet, but the head timeout already runs (a silent connection is not kept).
        state = .idle(until: TimeAmount(nanoseconds: timeouts.headerNanos).deadline(after: now))
    }

    /// The deadline of the state, if it has one.
    public var deadline: UInt64? {
        switch state {
        case .idle(let until), .readingHead(let until), .receivingBody(let until), .probing(let until),
             .flushing(let until), .lingering(let until):
            return until
        case .responding, .finished:
            return nil
        }
    }

    /// Whether the connection is between requests with nothing of the next one yet.
    public var isIdle: Bool { if case .idle = state { true } else { false } }
    /// Whether the connection is closing (flushing or lingering) or closed.
    public var isClosing: Bool {
        switch state {
        case .flushing, .lingering, .finished: return true
        default: return false
        }
    }
    /// Whether the connection is closed.
    public var isFinished: Bool { state == .finished }

    /// Client bytes arrived at `now`.
    public mutating func bytesArrived(now: UInt64) -> BytesAction {
        switch state {
        case .idle:
            state = .readingHead(until: TimeAmount(nanoseconds: timeouts.headerNanos).deadline(after: now))
            return .parseHead(newRequest: true)
        case .readingHead:
            return .parseHead(newRequest: false)
        case .receivingBody:
            return .checkBody
        case .responding:
            return .toStream
        case .probing:
            return .keep
        case .flushing, .lingering, .finished:
            return .discard
        }
    }

    /// Whether more heads may be parsed now (between requests, or a head in progress).
    public var parsesHeads: Bool {
        switch state {
        case .idle, .readingHead: return true
        default: return false
        }
    }

    /// A pipelined head is about to be parsed from bytes already buffered, at `now` (after a keep-alive response).
    public mutating func pipelinedBytesPending(now: UInt64) {
        guard case .idle = state else { return }
        state = .readingHead(until: TimeAmount(nanoseconds: timeouts.headerNanos).deadline(after: now))
    }

    /// A request head was parsed: it is counted; the shell routes it.
    public mutating func headParsed() {
        requestCount += 1
    }

    /// A chunked request body is checked before anything goes upstream (from `now`, within the header timeout).
    public mutating func checkingBody(now: UInt64) {
        state = .receivingBody(until: TimeAmount(nanoseconds: timeouts.headerNanos).deadline(after: now))
    }

    /// The request's stream is attached (connecting upstream, awaiting, streaming).
    public mutating func streamAttached() {
        state = .responding
    }

    /// The probe answers until `until`.
    public mutating func probing(until: UInt64) {
        state = .probing(until: until)
    }

    /// The response is complete at `now`. `keepAlive`: the connection serves another request (else it closes
    /// politely). Returns whether it is kept: never once its close began (closing or closed stays so).
    @discardableResult
    public mutating func responseComplete(now: UInt64, keepAlive: Bool, pendingBytes: Int) -> Bool {
        guard keepAlive, !isClosing else {
            close(now: now, pendingBytes: pendingBytes)
            return false
        }
        state = .idle(until: TimeAmount(nanoseconds: timeouts.keepaliveNanos).deadline(after: now))
        return true
    }

    /// Starts the polite close at `now`: flush (`pendingBytes` still unsent), then linger.
    public mutating func close(now: UInt64, pendingBytes: Int) {
        switch state {
        case .flushing, .lingering, .finished: return
        default: break
        }
        state = pendingBytes == 0
            ? .lingering(until: lingerDeadline(after: now))
            : .flushing(until: TimeAmount(nanoseconds: timeouts.closingFlushNanos).deadline(after: now))
    }

    /// Every byte was written: a flushing connection now lingers (or, draining, is due to close at `now`).
    public mutating func flushed(now: UInt64) {
        guard case .flushing = state else { return }
        state = .lingering(until: lingerDeadline(after: now))
    }

    /// The process drains from `now` on: a connection that is flushed and half-closed closes at once instead of
    /// lingering (`Linger.skipped`); one already lingering is due to close at `now`. Idempotent.
    public mutating func stopLingering(now: UInt64) {
        linger = .skipped
        if case .lingering(let until) = state, until > now { state = .lingering(until: now) }
    }

    /// When a linger that starts at `now` ends: at `now` itself once lingering is skipped.
    private func lingerDeadline(after now: UInt64) -> UInt64 {
        switch linger {
        case .untilClientCloses: return TimeAmount(nanoseconds: timeouts.closingLingerNanos).deadline(after: now)
        case .skipped: return now
        }
    }

    /// A deadline reached at `now`.
    public func deadlineReached(now: UInt64) -> DeadlineAction {
        guard let until = deadline else { return .none }
        guard now >= until else { return .wait(until: until) }
        switch state {
        case .idle, .flushing, .lingering: return .close
        case .readingHead: return .requestTimeout(body: false)
        case .receivingBody: return .requestTimeout(body: true)
        case .probing: return .finishProbe
        case .responding, .finished: return .none
        }
    }

    /// The connection is closed.
    public mutating func finish() {
        state = .finished
    }
}

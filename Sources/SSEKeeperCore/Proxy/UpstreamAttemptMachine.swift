/// Where one request's upstream side stands, and what to do next: which server to try, whether a failure before
/// the response head is retried (same server on a fresh connection, the next server, or not at all), and, on
/// `upstream_resume` routes, when the next reconnect of a broken stream starts and when the resume gives up.
///
/// A pure machine in the shape of swift-nio's and h11's: the shell reports what happened (`connectFailed`,
/// `requestSent`, `headArrived`, a deadline...) and gets back an `Action` to carry out. It holds no socket and reads
/// no clock; times are monotonic nanoseconds passed in (its deadlines saturate at `UInt64.max`), and resume jitter is
/// drawn by the caller.
///
/// Retry rules (as nginx's default `proxy_next_upstream error timeout`, and never for a request the upstream may have
/// acted on):
/// - A **pooled** connection that fails before any response byte was most likely closed by the upstream just as it
///   was reused: not the server's fault. A retryable request (GET, HEAD, OPTIONS without a body) is sent again, once,
///   on a fresh connection to the same server.
/// - A **fresh** connection's failure counts against the server; a retryable request that got no response byte
///   moves on to the next server of its attempt order.
public struct UpstreamAttemptMachine: Sendable {
    /// One try on one server.
    public struct Attempt: Sendable, Equatable {
        /// The server's index in its upstream.
        public var server: Int
        /// Whether the connection came from the keep-alive pool.
        public var reused: Bool
        /// Whether any response byte arrived on it.
        public var receivedResponseBytes: Bool
    }

    /// A resume in progress: the stream's upstream broke, the client is kept, reconnects go on with back-off.
    public struct Resume: Sendable, Equatable {
        /// When the upstream broke (the start of the gap the client sees).
        public var brokeAt: UInt64
        /// When the resume gives up.
        public var windowEnd: UInt64
        /// Connects started so far.
        public var attempts: Int
        /// When the next attempt starts (while `waiting`), or when the one in flight times out.
        public var nextAt: UInt64
        /// Why the last attempt failed, for the log when the resume gives up.
        public var lastFailure: String?
        /// Where the attempt in flight stands (while attempting).
        public var stage: Stage = .connecting

        /// Where a resume attempt stands.
        public enum Stage: Sendable, Equatable {
            /// Its connect is in flight.
            case connecting
            /// Its request went out; its head is awaited.
            case awaitingHead
        }
    }

    /// The machine's state.
    public enum State: Sendable, Equatable {
        /// No server chosen yet.
        case idle
        /// A fresh connect is in flight.
        case connecting(Attempt)
        /// Connected; the request went out; no final response head yet.
        case awaitingHead(Attempt)
        /// The final response head arrived; the body flows.
        case relaying(Attempt)
        /// A resume waits for its next attempt (`Resume.nextAt`).
        case resumeWaiting(Resume)
        /// A resume's attempt is in flight (connecting or awaiting its head), timing out at `Resume.nextAt`.
        case resumeAttempting(Resume, Attempt)
        /// No more attempts: the response is complete, failed, or was given up.
        case done
    }

    /// What the shell does next.
    public enum Action: Sendable, Equatable {
        /// Take an idle pooled connection to `server` when `mayReuse` and one is there, else start a fresh connect;
        /// report `connectStarted(reused:)`, or `connectFailed` when the connect fails at once.
        case connect(server: Int, mayReuse: Bool)
        /// No server is left: answer 504 when a connect timed out, else 502.
        case giveUp(timedOut: Bool, lastFailure: String?)
    }

    /// What a tick during a resume asks for.
    public enum ResumeTick: Sendable, Equatable {
        /// Nothing before `until` (the resume's own next moment; heartbeats are the caller's).
        case wait(until: UInt64)
        /// Start the next attempt (the shell sends the resume request through `startResumeAttempt`).
        case startAttempt
        /// The attempt in flight took too long: the shell drops its connection and reports `resumeAttemptFailed`.
        case attemptTimedOut
        /// `resume_window` passed: end the client's stream.
        case giveUp(attempts: Int, lastFailure: String?)
    }

    /// The state now.
    public private(set) var state: State = .idle
    /// Server indices in the order to try them (`UpstreamPool.attemptOrder`).
    public private(set) var attemptOrder: [Int] = []
    private var nextIndex = 0
    /// Whether the request may be sent again after its connection failed before any response byte.
    public let isRetryable: Bool
    /// Set once a connect timed out in this round (the answer is then 504).
    private var connectTimedOut = false
    /// Why the last attempt failed.
    public private(set) var lastFailure: String?
    private var freshConnectionRequired = false
    /// When the last resume spliced its response in (0: never), and how many resumes in a row came within the
    /// back-off maximum of the previous splice: a backend that ends every stream at once is not reconnected to at
    /// once every time.
    private var lastSpliceAt: UInt64 = 0
    private var quickResumeStreak = 0

    /// A machine for a request that may (`isRetryable`) or may not be sent again after a failure.
    public init(isRetryable: Bool) {
        self.isRetryable = isRetryable
    }

    /// The attempt in flight or relaying, if any. Inlinable: the shell reads it per stream, and a call copied the
    /// whole machine and the resume's payload first.
    @inlinable public var attempt: Attempt? {
        switch state {
        case .connecting(let attempt), .awaitingHead(let attempt), .relaying(let attempt), .resumeAttempting(_, let attempt):
            return attempt
        case .idle, .resumeWaiting, .done:
            return nil
        }
    }

    /// The resume in progress, if any.
    public var resume: Resume? {
        switch state {
        case .resumeWaiting(let resume), .resumeAttempting(let resume, _): return resume
        default: return nil
        }
    }

    /// Starts a round of attempts over `order` (a new request, or one resume attempt).
    public mutating func start(order: [Int]) -> Action {
        attemptOrder = order
        nextIndex = 0
        connectTimedOut = false
        lastFailure = nil
        freshConnectionRequired = false
        return nextServer()
    }

    /// The next server of the attempt order, or `giveUp` when none is left.
    private mutating func nextServer() -> Action {
        guard nextIndex < attemptOrder.count else {
            if case .resumeAttempting(let resume, _) = state { state = .resumeWaiting(resume) } else { state = .done }
            return .giveUp(timedOut: connectTimedOut, lastFailure: lastFailure)
        }
        let server = attemptOrder[nextIndex]
        nextIndex += 1
        let attempt = Attempt(server: server, reused: false, receivedResponseBytes: false)
        setAttempt(attempt, awaitingHead: false)
        let mayReuse = !freshConnectionRequired
        freshConnectionRequired = false
        return .connect(server: server, mayReuse: mayReuse)
    }

    private mutating func setAttempt(_ attempt: Attempt, awaitingHead: Bool) {
        switch state {
        case .resumeWaiting(let resume), .resumeAttempting(let resume, _):
            state = .resumeAttempting(resume, attempt)
        default:
            state = awaitingHead ? .awaitingHead(attempt) : .connecting(attempt)
        }
    }

    /// The shell took a pooled connection (`reused`) or started a fresh connect.
    public mutating func connectStarted(reused: Bool) {
        guard var attempt else { return }
        attempt.reused = reused
        setAttempt(attempt, awaitingHead: false)
    }

    /// A connect failed (at once, asynchronously, or by `upstream_connect_timeout` when `timedOut`): the next server.
    public mutating func connectFailed(reason: String, timedOut: Bool = false) -> Action {
        lastFailure = reason
        if timedOut { connectTimedOut = true }
        return nextServer()
    }

    /// The connection is up and the request head went out: a response head is awaited.
    public mutating func requestSent() {
        guard let attempt else { return }
        setAttempt(attempt, awaitingHead: true)
    }

    /// A response byte arrived on the attempt's connection (from then on the request is never sent again).
    public mutating func responseBytesArrived() {
        guard var attempt, !attempt.receivedResponseBytes else { return }
        attempt.receivedResponseBytes = true
        switch state {
        case .resumeAttempting(let resume, _): state = .resumeAttempting(resume, attempt)
        case .connecting, .awaitingHead: state = .awaitingHead(attempt)
        default: break
        }
    }

    /// The final response head arrived: the body flows (a resume's head is spliced in by the caller).
    public mutating func headArrived(now: UInt64) {
        guard let attempt else { return }
        if case .resumeAttempting = state {
            lastSpliceAt = max(now, 1)
        }
        state = .relaying(attempt)
    }

    /// What a failure of the connection before the final response head means.
    public enum FailureDecision: Sendable, Equatable {
        /// Try again (the action says where); `countsAgainstServer`: note it in the server's passive health.
        case retry(Action, countsAgainstServer: Bool)
        /// The request is not retried: answer the error. `countsAgainstServer` as above.
        case answer(countsAgainstServer: Bool)
    }

    /// The connection closed or failed before a complete response head (`reason` for the log).
    public mutating func failedBeforeHead(reason: String) -> FailureDecision {
        guard let attempt, !isResuming else { return .answer(countsAgainstServer: false) }
        if attempt.reused {
            guard !attempt.receivedResponseBytes, isRetryable else { return .answer(countsAgainstServer: false) }
            nextIndex -= 1
            freshConnectionRequired = true
            lastFailure = reason
            return .retry(nextServer(), countsAgainstServer: false)
        }
        guard !attempt.receivedResponseBytes, isRetryable, nextIndex < attemptOrder.count else {
            return .answer(countsAgainstServer: true)
        }
        lastFailure = reason
        return .retry(nextServer(), countsAgainstServer: true)
    }

    /// The response completed or the request ended: no more attempts.
    public mutating func finish() {
        state = .done
    }

    // MARK: Resume (`upstream_resume`)

    /// Whether a resume is in progress.
    /// Read by the shell several times per stream: inlinable, and the state's case only (`resume != nil` would copy
    /// the resume out, its failure text included, and the caller the whole machine first).
    @inlinable public var isResuming: Bool {
        switch state {
        case .resumeWaiting, .resumeAttempting: return true
        default: return false
        }
    }

    /// The stream's upstream broke at `now`: a resume starts, giving up at `now + windowNanos`. A resume that comes
    /// within `backoffMaxNanos` of the previous splice goes on with the back-off where it was (`jitter` in 0..<1).
    public mutating func beginResume(now: UInt64, windowNanos: UInt64, backoffMinNanos: UInt64, backoffMaxNanos: UInt64,
                                     jitter: Double) {
        let windowEnd = TimeAmount(nanoseconds: windowNanos).deadline(after: now)
        var resume = Resume(brokeAt: now, windowEnd: windowEnd, attempts: 0, nextAt: now, lastFailure: nil)
        let quick = lastSpliceAt != 0 && now &- lastSpliceAt < backoffMaxNanos
        quickResumeStreak = quick ? quickResumeStreak + 1 : 0
        if quickResumeStreak > 0 {
            resume.attempts = quickResumeStreak
            let delay = ResumePolicy.delayNanos(
                attempt: resume.attempts, minNanos: backoffMinNanos, maxNanos: backoffMaxNanos, jitter: jitter)
            resume.nextAt = TimeAmount(nanoseconds: delay).deadline(after: now)
        }
        state = .resumeWaiting(resume)
    }

    /// Starts one resume attempt at `now`, timing out after `connectTimeoutNanos`, over `order`.
    public mutating func startResumeAttempt(now: UInt64, connectTimeoutNanos: UInt64, order: [Int]) -> Action {
        guard var resume else { return .giveUp(timedOut: false, lastFailure: nil) }
        resume.attempts += 1
        resume.nextAt = TimeAmount(nanoseconds: connectTimeoutNanos).deadline(after: now)
        resume.stage = .connecting
        state = .resumeAttempting(resume, Attempt(server: -1, reused: false, receivedResponseBytes: false))
        return start(order: order)
    }

    /// The resume attempt's connection is up and its request went out: its head is awaited until `now + headerTimeout`.
    public mutating func resumeRequestSent(now: UInt64, headerTimeoutNanos: UInt64) {
        guard case .resumeAttempting(var resume, let attempt) = state else { return }
        resume.nextAt = TimeAmount(nanoseconds: headerTimeoutNanos).deadline(after: now)
        resume.stage = .awaitingHead
        state = .resumeAttempting(resume, attempt)
    }

    /// A resume attempt failed (`detail` for the log): the next one is scheduled with back-off.
    public mutating func resumeAttemptFailed(_ detail: String, now: UInt64, backoffMinNanos: UInt64, backoffMaxNanos: UInt64,
                                             jitter: Double) {
        guard var resume else { return }
        resume.lastFailure = detail
        let delay = ResumePolicy.delayNanos(
            attempt: resume.attempts, minNanos: backoffMinNanos, maxNanos: backoffMaxNanos, jitter: jitter)
        resume.nextAt = TimeAmount(nanoseconds: delay).deadline(after: now)
        state = .resumeWaiting(resume)
    }

    /// What the resume wants at `now`.
    public func resumeTick(now: UInt64) -> ResumeTick {
        guard let resume else { return .wait(until: .max) }
        if now >= resume.windowEnd { return .giveUp(attempts: resume.attempts, lastFailure: resume.lastFailure) }
        guard now >= resume.nextAt else { return .wait(until: min(resume.windowEnd, resume.nextAt)) }
        if case .resumeAttempting = state { return .attemptTimedOut }
        return .startAttempt
    }

    /// The resume's next moment (window end, next attempt, or the attempt's timeout).
    public var resumeDeadline: UInt64? {
        resume.map { min($0.windowEnd, $0.nextAt) }
    }

    /// The resume ended without a splice (given up, or drained): no more attempts.
    public mutating func endResume() {
        state = .done
    }
}

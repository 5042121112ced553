import SSEKeeperCore

/// One resume in progress (`upstream_resume`): an SSE stream's upstream ended, the client is kept, and ssekeeper
/// reconnects with back-off until a new `200 text/event-stream` is spliced in or `resume_window` passes.
///
/// Confinement: owned by one `Exchange`, used only on its loop's queue. Times are `EventLoop.now()` nanoseconds.
final class ResumeState {
    /// When the upstream broke: the start of the gap the client sees.
    let brokeAt: UInt64
    /// When the resume gives up.
    let windowEnd: UInt64
    /// Why the upstream ended, for the log.
    let reason: String
    /// The upstream request head to send on every attempt (with the resumed `Last-Event-ID`).
    let requestBytes: [UInt8]
    /// The `Last-Event-ID` sent, for the log (`-` when none).
    let lastEventID: String
    /// Connects started so far.
    var attempts = 0
    /// When the next attempt starts; 0 while an attempt is in flight.
    var retryAt: UInt64
    /// When the attempt in flight times out (connect, then response head).
    var attemptDeadline: UInt64 = 0
    /// Why the last attempt failed, for the log when the resume gives up.
    var lastFailure: String?

    init(brokeAt: UInt64, windowEnd: UInt64, reason: String, requestBytes: [UInt8], lastEventID: String) {
        self.brokeAt = brokeAt
        self.windowEnd = windowEnd
        self.reason = reason
        self.requestBytes = requestBytes
        self.lastEventID = lastEventID
        self.retryAt = brokeAt
    }
}

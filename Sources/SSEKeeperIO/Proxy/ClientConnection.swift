import SSEKeeperCore

/// A client connection as the server sees it from outside (draining, `/streams`), whatever protocol it speaks:
/// `HTTP1Connection` or `HTTP2Connection`, found in `EventLoop.sessions`.
///
/// Confinement: called on the connection's loop.
protocol ClientConnection: AnyObject {
    /// Ends the connection politely because the process is draining; each SSE stream's turn and `retry:` are
    /// drawn from `spread`.
    func drain(spread: DrainSpread)
    /// The rows of the connection's open SSE streams in `/streams`.
    func streamRows(now: UInt64) -> [StreamRow]
}

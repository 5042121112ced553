import SSEKeeperCore

/// The client side of a `ProxyStream`, as the stream sees it: one adapter per client protocol (HTTP/1.1 today,
/// each HTTP/2 stream later). A stream is attached to at most one client at a time; the adapter owns the client
/// connection, the stream owns the upstream attempt and the relay.
///
/// Confinement: called on the stream's loop only.
protocol StreamClient: AnyObject {
    /// The client's address and port (`clientAddress` formats them), for the access log, logs and `/streams`; its
    /// host (`clientHost`) for `X-Forwarded-For`.
    var clientEndpoint: ClientAddress { get }
    /// `http` or `https`: how the client reached ssekeeper, for `X-Forwarded-Proto`.
    var clientProtocol: String { get }
    /// Bytes written but not yet accepted by the client's socket.
    var pendingClientBytes: Int { get }
    /// Writes `output`'s bytes (queueing what the socket does not take yet); false when the client is gone, after
    /// which the stream calls `clientWriteFailed()` once it has let go of `output`.
    func writeToClient(_ output: borrowing RelayOutput) -> Bool
    /// Writes bytes ssekeeper made (an error answer, an interim head); false as above.
    func writeToClient(_ bytes: [UInt8]) -> Bool
    /// A write reported false: the adapter ends the stream as a client that left (`ProxyStream.clientGone`) and
    /// closes the connection.
    func clientWriteFailed()
    /// How far the client has read what was written: the bytes not yet acknowledged by its TCP (ssekeeper's queue
    /// and the kernel's), the running total it acknowledged (`knownAcked` when nothing is outstanding, so a
    /// healthy connection costs one system call), and whether its receive window is closed; nil when the transport
    /// cannot tell.
    func clientSendProgress(knownAcked: UInt64) -> SendProgress?
    /// The client is alive but has closed its receive window (`paused`), or reads again: while paused, the kernel's
    /// own cut (`client_ack_timeout`, which Linux also applies to a window that stays closed) is suspended, so a
    /// reader that pauses is judged by the send watch (`client_send_timeout`, `sendTimeout`) alone.
    func clientReadingPaused(_ paused: Bool, sendTimeout: Duration?)
    /// Stops reading the client (its request body cannot go anywhere yet).
    func pauseClientReading()
    /// Reads the client again.
    func resumeClientReading()
    /// The stream's response is complete and written: with `keepAlive` the connection serves its next request,
    /// otherwise it closes politely (flush, FIN, linger). The stream is detached.
    func streamCompleted(keepAlive: Bool)
    /// The response cannot be completed (the upstream broke after the head): the connection is cut so the client
    /// knows the response is incomplete. The stream is detached.
    func streamAborted()
    /// The stream goes on without this client (client ride-through: `stream_max_duration` ended this connection's
    /// response, which is complete and written): the connection closes politely.
    func streamDetached()
    /// Another connection took the stream over (a reconnect attached to it): this connection is closed.
    func streamTakenOver()
}

extension StreamClient {
    /// The client's address as logs show it (`host:port`), formatted now.
    var clientAddress: String { clientEndpoint.description }
    /// The client's host, under which the runtime admitted its connection: the `X-Forwarded-For` entry.
    var clientHost: String { clientEndpoint.host }
}

/// What `HTTP2ConnectionMachine` asks the shell and the proxy to do, in order.
///
/// Every call of the machine returns its actions; within one call the bytes to send are gathered into at most
/// one `.write`, placed before any `.closeConnection` so a GOAWAY goes out before the socket closes.
public enum HTTP2ConnectionAction: Hashable, Sendable {
    /// Frames to send, in order: write them to the client's socket.
    case write([UInt8])
    /// A client opened a stream with a well-formed request head (RFC 9113 §8.1, §8.3.1): pseudo-header fields
    /// first, names lowercase, no connection-specific fields. `endStream` means the request has no body.
    /// The proxy starts this stream's upstream request.
    case openStream(UInt32, requestHead: [HPACKHeaderField], endStream: Bool)
    /// Request body bytes of an open stream (RFC 9113 §6.1); `endStream` closes the request (an empty `bytes`
    /// with `endStream` is the end of a body, or trailers, which are checked and dropped).
    case requestData(UInt32, [UInt8], endStream: Bool)
    /// A stream the proxy was told about is gone, reset by the client (RST_STREAM, RFC 9113 §6.4) or by us for a
    /// stream error (§5.4.2): tear its upstream down at once. The connection and its other streams go on.
    case streamReset(UInt32, HTTP2ErrorCode)
    /// A stream whose last `sendData` was cut short by flow control may send again (RFC 9113 §6.9): resume
    /// reading its upstream and call `sendData` with what waits.
    case windowOpened(UInt32)
    /// The client acknowledged our PING (RFC 9113 §6.7) after `roundTripNanoseconds`: the connection is alive.
    case pingAcknowledged(roundTripNanoseconds: UInt64)
    /// The client sent GOAWAY (RFC 9113 §6.8): it opens no more streams; the ones up to `lastStreamID` go on.
    case goawayReceived(lastStreamID: UInt32, HTTP2ErrorCode)
    /// Close the socket: the connection is over (after the `.write` of this call, if any).
    case closeConnection(HTTP2CloseReason)
}

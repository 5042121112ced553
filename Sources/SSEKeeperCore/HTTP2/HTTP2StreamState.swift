/// One live stream of an `HTTP2ConnectionMachine`, from the server's side (RFC 9113 §5.1): its state, both
/// flow-control windows (§5.2, §6.9) and what its request declared.
///
/// A closed stream has no `HTTP2StreamState`: the machine drops it, and knows it was closed because its
/// identifier is at most the highest one the client opened (§5.1.1).
struct HTTP2StreamState: Sendable {
    /// §5.1 states a live stream can be in (idle and closed streams are not kept).
    enum Phase: Sendable, Equatable {
        /// Both sides may send.
        case open
        /// The client sent END_STREAM; we still send the response.
        case halfClosedRemote
        /// We sent END_STREAM; the client still sends its request body.
        case halfClosedLocal
    }

    /// Where the stream is in §5.1.
    var phase: Phase
    /// Bytes we may still send on this stream: the client's SETTINGS_INITIAL_WINDOW_SIZE plus its
    /// WINDOW_UPDATEs minus our DATA; may go negative after the client lowers the setting (§6.9.2).
    var sendWindow: Int
    /// Bytes the client may still send on this stream before our next WINDOW_UPDATE.
    var receiveWindow: Int
    /// Bytes of the stream's receive window used and done with (body the proxy reported with `bodyConsumed`,
    /// padding) but not yet returned to the client: a WINDOW_UPDATE goes out once they reach half the window.
    /// `receiveWindow + unreturnedBytes` never exceeds our SETTINGS_INITIAL_WINDOW_SIZE.
    var unreturnedBytes = 0
    /// The request's `content-length`, checked against DATA at END_STREAM (§8.1.1).
    var declaredContentLength: Int?
    /// DATA payload bytes received so far (padding excluded).
    var receivedBodyBytes = 0
    /// Whether the last `sendData` was cut short: the stream waits for `.windowOpened`.
    var sendBlocked = false

    /// Whether the client may still send DATA (open or half-closed local).
    var clientMaySend: Bool { phase != .halfClosedRemote }
    /// Whether we may still send (open or half-closed remote).
    var serverMaySend: Bool { phase != .halfClosedLocal }
}

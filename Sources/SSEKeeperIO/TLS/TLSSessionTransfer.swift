/// A `TLSSession` on its way from one event loop to another (a ride-through reconnect handed to its stream's loop,
/// `HTTP1Connection.handOverToStreamLoop`). A session is used on one thread at a time: the loop that hands it over
/// drops every reference (its channel is closed) before the other loop takes it, so the move is safe although the
/// session is not `Sendable`.
struct TLSSessionTransfer: @unchecked Sendable {
    let session: TLSSession
}

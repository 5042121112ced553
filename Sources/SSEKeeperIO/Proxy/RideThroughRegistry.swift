import SSEKeeperCore

/// The ridden-through streams of one event loop (`client_resume_window`), by token: a reconnect carrying a stamped
/// id finds its stream here (one accepted on another loop is handed here first: `RideThroughDirectory`), and
/// `client_resume_memory` ends this loop's longest-detached streams first.
///
/// Confinement: one per loop, used on the loop's queue only.
final class RideThroughRegistry {
    /// Every stream that rides through and has not ended, attached or not.
    private(set) var streams: [StreamToken: ProxyStream] = [:]

    func add(_ stream: ProxyStream, token: StreamToken) {
        streams[token] = stream
    }

    func remove(_ token: StreamToken) {
        streams[token] = nil
    }

    /// The streams without a client now, the longest detached first.
    var detachedOldestFirst: [ProxyStream] {
        streams.values.filter { $0.isDetachedForRideThrough }.sorted { $0.detachedSince < $1.detachedSince }
    }
}

/// What a stream on a ride-through route keeps beyond any other stream's state (`ProxyStream.ride`).
final class RideThroughState {
    /// The stream's token, once its SSE response began (the stream is registered under it).
    var token: StreamToken?
    /// `client_resume_window`.
    let window: TimeAmount
    /// The request's fingerprint, once its body is complete; a reconnect attaches only when it matches.
    var fingerprint: ResumeFingerprint?
    /// The request head, until the fingerprint is made (the body is still arriving); a reconnect keeps it, since
    /// it is matched with the names of the stream it names (a reload may have changed `client_resume_match`).
    var pendingHead: RequestHead?
    /// The body's digest, once complete (nil: no body).
    var bodyDigest: [UInt8]?
    /// The stamped id a reconnect carried (this stream is a candidate to be replaced by the stream it names).
    let reconnect: StampedEventID?
    /// The upstream's response head and framing, from which each reattached client's head is built.
    var responseHead: ResponseHead?
    var upstreamFraming: BodyFraming = .none
    /// When the client left (0: a client is attached).
    var detachedAt: UInt64 = 0
    /// When the attached client's connection took the stream (`stream_max_duration` counts from here).
    var attachedAt: UInt64 = 0
    /// The stream's bytes sent when the current client connection was attached (or the last one left): the access
    /// record of each connection counts from here.
    var bytesSentAtAttach: UInt64 = 0
    /// The bytes of this stream counted in the loop's and the route's replay-buffer figures.
    var countedBytes = 0
    /// The upstream's response ended while no client was attached: how the reattached client's response ends.
    var pendingEnd: PendingEnd?

    /// How a response whose upstream ended while detached is ended for the client that comes back.
    enum PendingEnd {
        /// The upstream completed it: the client gets the end of the body.
        case completed
        /// The upstream broke: the client's connection is cut after the replay, so it knows.
        case aborted(RequestEnd, reason: String)
    }

    init(window: TimeAmount, head: RequestHead, reconnect: StampedEventID?) {
        self.window = window
        pendingHead = head
        self.reconnect = reconnect
    }

    /// Makes the fingerprint from the kept head and the body's digest (nil: no body), and lets go of the head
    /// unless this is a reconnect.
    func makeFingerprint(matching names: [String], bodyDigest: [UInt8]?) {
        guard let head = pendingHead else { return }
        self.bodyDigest = bodyDigest
        fingerprint = ResumeFingerprint(head: head, matching: names, bodyDigest: bodyDigest)
        if reconnect == nil { pendingHead = nil }
    }

    /// This reconnect's fingerprint with the names `names` (those of the stream it names).
    func fingerprint(matching names: [String]) -> ResumeFingerprint? {
        guard fingerprint != nil, let head = pendingHead else { return nil }
        return ResumeFingerprint(head: head, matching: names, bodyDigest: bodyDigest)
    }
}

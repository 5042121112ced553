/// One ridden-through stream's ids and replay buffer (issue 15): the `EventIDStamper` that gives every event
/// ssekeeper's own id, and the `ReplayRing` that keeps the stamped events a reconnecting client may have missed.
///
/// `stamp(_:forward:)` takes the bytes the assembler releases (or the raw upstream bytes on a route without
/// `upstream_resume`) and hands on what the client gets, whole events at a time; each dispatched event is held in
/// the ring as the client got it, and an event too large to hold empties the ring (`ReplayRing.skip`).
///
/// While a client is attached the ring keeps the most recent events within `client_resume_buffer`; while none is
/// (`clientAttached = false`) it evicts nothing and the shell stops reading the upstream once `isFull` (see
/// `ReplayRing`). Memory while detached: the ring holds at most what it held before the last read, plus that read's
/// events (each with its `id:` line, at most 1,077 bytes each) and the event the stamper was holding (at most the
/// budget) — bounded, and checked exactly by `Fuzz/Targets/ride_through.swift`; plus the stamper's held event (at most
/// the budget).
public struct StreamReplay: Sendable {
    /// Gives ids and holds the event being read.
    public private(set) var stamper: EventIDStamper
    /// The stamped events kept for replay.
    public private(set) var ring: ReplayRing
    /// The stamper's output for one call, reused.
    private var stamped: [UInt8] = []

    /// A replay for a new stream. `token`: the stream token's text (22 base64url characters). `bufferBytes`:
    /// `client_resume_buffer`, which is also the largest event held whole. `carriedLastEventID`: the
    /// `Last-Event-ID` of the request that opened the stream (see `EventIDStamper`).
    public init(token: [UInt8], bufferBytes: Int, carriedLastEventID: [UInt8]?) {
        stamper = EventIDStamper(token: token, maxEventBytes: bufferBytes, carriedLastEventID: carriedLastEventID)
        ring = ReplayRing(budgetBytes: bufferBytes, retention: .evictOldest)
    }

    /// Stamps one piece of the stream, keeps its dispatched events, and calls `forward` with the bytes the client
    /// gets now (not called when there are none).
    public mutating func stamp(_ bytes: UnsafeRawBufferPointer, forward: (UnsafeRawBufferPointer) -> Void) {
        stamped.removeAll(keepingCapacity: true)
        var ring = ReplayRing(budgetBytes: 1)
        swap(&ring, &self.ring)
        stamper.stamp(bytes, into: &stamped) { event in
            switch event {
            case .held(let seq, let bytes): ring.append(seq: seq, bytes: bytes)
            case .passedThrough(let seq): ring.skip(seq: seq)
            }
        }
        swap(&ring, &self.ring)
        if !stamped.isEmpty { stamped.withUnsafeBytes(forward) }
        if stamped.capacity > 64 * 1024 { stamped = [] }
    }

    /// Whether a client is attached: the ring evicts its oldest events to stay within the budget; otherwise it
    /// keeps everything and the shell applies back-pressure.
    public var clientAttached: Bool {
        get { ring.retention == .evictOldest }
        set { ring.retention = newValue ? .evictOldest : .keepAll }
    }

    /// Whether the ring holds its budget or more: while no client is attached, the shell reads no more of the
    /// upstream.
    public var isFull: Bool { ring.heldBytes >= ring.budgetBytes }

    /// The bytes held for replay now.
    public var heldBytes: Int { ring.heldBytes }

    /// What a reconnect whose `Last-Event-ID` names position `seq` of this stream can be given: the events after
    /// it, or `.tooOld` when one of them is gone (evicted, too large to hold, or still passing through the stamper
    /// right now, so that a new client would get the tail of an event), or `.future`.
    /// Position 0 is never issued (the first event is `<seq>` 1): an id naming it is forged, and is answered
    /// `.future` (a client holding it would have its last event ID cleared by the stream's next blank line).
    public func lookup(after seq: UInt64) -> ReplayLookup {
        guard seq > 0 else { return .future }
        guard stamper.isAtEventBoundary else { return .tooOld }
        return ring.events(after: seq)
    }

    /// Evicts the oldest events until at most `bytes` are held (`client_resume_memory` is reached): a client that
    /// comes back can then only be given the newer ones.
    public mutating func evict(downTo bytes: Int) {
        ring.evict(downTo: bytes)
    }
}

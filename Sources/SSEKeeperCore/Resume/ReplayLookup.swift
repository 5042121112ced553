/// What `ReplayRing.events(after:)` found for the position a reconnecting client sent (the `<seq>` of its
/// `Last-Event-ID`, issue 15).
public enum ReplayLookup: Sendable, Equatable {
    /// Every event after the position is held: `bytes` are those events as the client gets them (whole stamped events,
    /// in order, each ending with its blank line), `eventCount` of them; empty when the client has them all.
    case replay(bytes: ArraySlice<UInt8>, eventCount: Int)
    /// Some event after the position is no longer held (evicted while a client was attached, or too large to hold):
    /// the client cannot be given its stream back.
    case tooOld
    /// The position is beyond the newest event: no id this stream issued.
    case future
}

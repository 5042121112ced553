/// The pure decisions of `upstream_resume`: how long to wait before each reconnect, and what request to send.
public enum ResumePolicy {
    /// The longest `Last-Event-ID` value sent on a resume (the client's own header is bounded by
    /// `max_header_size`; an upstream's `id` is bounded here).
    public static let maxLastEventIDBytes = 1024

    /// The delay before reconnect number `attempt` (0-based) of one resume: none for the first, then
    /// `min × 2^(attempt-1)` capped at `max`, of which a random half is taken away ("equal jitter": the delay is
    /// between half and all of that value) so that streams cut together do not reconnect in lockstep.
    /// `jitter` is a random number in 0..<1 that the caller draws.
    public static func delayNanos(attempt: Int, minNanos: UInt64, maxNanos: UInt64, jitter: Double) -> UInt64 {
        guard attempt > 0 else { return 0 }
        let shift = UInt64(min(attempt - 1, 40))
        let (scaled, overflow) = minNanos.multipliedReportingOverflow(by: 1 << shift)
        let base = overflow ? maxNanos : min(maxNanos, scaled)
        let fraction = 0.5 + 0.5 * min(max(jitter, 0), 1)
        let delay = Double(base) * fraction
        // Near `UInt64.max` the product rounds up to 2^64, which does not convert: the base is the delay then.
        return delay < Double(UInt64.max) ? UInt64(delay) : base
    }

    /// The request head for a resume: `original` with `Last-Event-ID` replaced by the stream's last complete
    /// event's `id` — or, when the upstream sent none yet, the client's own `Last-Event-ID` as it came. An empty
    /// `id` (the stream reset it) sends no `Last-Event-ID`, as a browser would (WHATWG HTML §9.2.4). Nil when the
    /// id cannot go into a header (a control character, or longer than `maxLastEventIDBytes`) or is unreadable:
    /// the stream is then not resumed.
    public static func request(_ original: RequestHead, lastEventID: SSEEventAssembler.EventID) -> RequestHead? {
        let id: [UInt8]
        switch lastEventID {
        case .unset: return original
        case .unreadable: return nil
        case .value(let bytes): id = bytes
        }
        guard id.count <= maxLastEventIDBytes, !id.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else {
            return nil
        }
        var head = original
        head.headers.remove(.lastEventID)
        if !id.isEmpty { head.headers.add("Last-Event-ID", String(decoding: id, as: UTF8.self)) }
        return head
    }
}

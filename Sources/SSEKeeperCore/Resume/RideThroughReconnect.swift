/// How a request on a ride-through route (`client_resume_window`) relates to the streams ssekeeper keeps: the
/// stamped id its `Last-Event-ID` carries, and the head the backend gets when it is served as a new request.
public enum RideThroughReconnect {
    /// The stamped id in `head`'s `Last-Event-ID` (its first line), or nil when there is none or it is not one of
    /// ssekeeper's (`StampedEventID(parsing:)` is strict).
    public static func stampedID(in head: RequestHead) -> StampedEventID? {
        guard let value = head.headers.first(.lastEventID) else { return nil }
        return StampedEventID(parsing: value)
    }

    /// The head to send upstream for a request carrying `stamped` (issue 15, "Ids"): its `Last-Event-ID` becomes
    /// the backend part of the stamped id, so a backend that resumes by itself still does, or is removed when the
    /// backend had set none. The backend never sees an id of ssekeeper's. Without `stamped`, `head` as it is.
    public static func upstreamHead(_ head: RequestHead, stamped: StampedEventID?) -> RequestHead {
        guard let stamped else { return head }
        var upstream = head
        upstream.headers.remove(.lastEventID)
        if !stamped.backendID.isEmpty {
            upstream.headers.add("Last-Event-ID", String(decoding: stamped.backendID, as: UTF8.self))
        }
        return upstream
    }
}

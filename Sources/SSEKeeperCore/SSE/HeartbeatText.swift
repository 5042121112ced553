/// What one route's heartbeats say (`heartbeat_comment`, `heartbeat_event`, `heartbeat_data`), worked out once per
/// route: every SSE stream of the route shares it by reference.
///
/// The comment line has only two forms (`SSEStreamTracker`'s table: at line start, or after a lone CR), so both
/// are built here, once, by the tracker's own rule (`SSEStreamTracker.heartbeat(comment:)`). A heartbeat then
/// hands out one of them (`SSEStreamTracker.heartbeat(_:)`): no array is made per heartbeat, and a stream's relay
/// holds one reference instead of three strings.
public final class HeartbeatText: Sendable, Equatable {
    /// The comment's text (`: <comment>`).
    public let comment: String
    /// `heartbeat_event`: between events the heartbeat is the whole event of this type; nil: always the comment.
    public let event: String?
    /// `heartbeat_data`: the heartbeat event's `data:`; nil: the server's Unix time in milliseconds.
    public let data: String?
    /// The comment line for a client parser at line start, and after a lone CR.
    let lineAtLineStart: [UInt8]
    let lineAfterCarriageReturn: [UInt8]

    public init(comment: String, event: String? = nil, data: String? = nil) {
        self.comment = comment
        self.event = event
        self.data = data
        var atLineStart = SSEStreamTracker()
        lineAtLineStart = atLineStart.heartbeat(comment: comment) ?? []
        var afterCarriageReturn = SSEStreamTracker()
        [SSELineEndScanner.carriageReturn].withUnsafeBytes { afterCarriageReturn.forward($0) { _ in } }
        lineAfterCarriageReturn = afterCarriageReturn.heartbeat(comment: comment) ?? []
    }

    /// Equal when the three texts are (the lines follow from them).
    public static func == (lhs: HeartbeatText, rhs: HeartbeatText) -> Bool {
        lhs === rhs || (lhs.comment == rhs.comment && lhs.event == rhs.event && lhs.data == rhs.data)
    }
}

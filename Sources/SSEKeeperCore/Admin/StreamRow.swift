/// One open SSE stream as `/streams` lists it.
public struct StreamRow: Sendable, Equatable {
    /// The route prefix.
    public var route: String
    /// The request path (without the query).
    public var path: String
    /// The client's address, `host:port`.
    public var client: String
    /// The upstream server, `host:port`.
    public var upstream: String?
    /// Time since the response head went to the client.
    public var ageNanos: UInt64
    /// Bytes read from the upstream so far (head and body).
    public var bytesIn: UInt64
    /// Bytes written to the client so far (head, body, framing, heartbeats).
    public var bytesOut: UInt64
    /// Time since the upstream last sent a byte.
    public var lastActivityNanos: UInt64
    /// Heartbeats sent and skipped on this stream.
    public var heartbeats: Int
    public var heartbeatsSkipped: Int
    /// Bytes waiting for the client: in ssekeeper's queue plus sent but not acknowledged by its TCP (nil: unknown).
    public var clientBytesWaiting: Int?
    /// Time since the client's TCP last acknowledged bytes, while bytes wait for it (nil: nothing waiting, or
    /// unknown).
    public var clientLastAcceptedNanos: UInt64?
    /// How long the stream has been kept without a client (`client_resume_window`); nil while a client is attached.
    /// A detached row has no client to measure: `json(_:)` writes its client send figures as `null` whatever they hold.
    public var detachedNanos: UInt64?
    /// Bytes held in the stream's replay buffer (`client_resume_buffer`); nil on streams that do not ride through.
    public var replayBufferBytes: Int?

    public init(route: String, path: String, client: String, upstream: String?, ageNanos: UInt64, bytesIn: UInt64,
                bytesOut: UInt64, lastActivityNanos: UInt64, heartbeats: Int, heartbeatsSkipped: Int,
                clientBytesWaiting: Int? = nil, clientLastAcceptedNanos: UInt64? = nil, detachedNanos: UInt64? = nil,
                replayBufferBytes: Int? = nil) {
        self.route = route
        self.path = path
        self.client = client
        self.upstream = upstream
        self.ageNanos = ageNanos
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.lastActivityNanos = lastActivityNanos
        self.heartbeats = heartbeats
        self.heartbeatsSkipped = heartbeatsSkipped
        self.clientBytesWaiting = clientBytesWaiting
        self.clientLastAcceptedNanos = clientLastAcceptedNanos
        self.detachedNanos = detachedNanos
        self.replayBufferBytes = replayBufferBytes
    }

    /// The `/streams` document: a JSON array of rows, oldest stream first, seconds with millisecond precision:
    /// `[{"route":"/","path":"/events","client":"127.0.0.1:50312","upstream":"127.0.0.1:9000","age_s":12.004,`
    /// `"bytes_in":812,"bytes_out":901,"last_activity_s":3.2,"heartbeats":1,"heartbeats_skipped":0,`
    /// `"client_bytes_waiting":0,"client_last_accepted_s":null,"detached_s":null,"replay_buffer_bytes":null}]`.
    /// `client_bytes_waiting` is `null` when the kernel cannot tell; `client_last_accepted_s` is `null` while nothing
    /// waits for the client (or unknown). `detached_s` is `null` while a client is attached, else the time the stream
    /// has been kept without one (client ride-through, issue 15); `replay_buffer_bytes` is `null` on streams that do
    /// not ride through. A detached row's `client_bytes_waiting` and `client_last_accepted_s` are `null` (no client
    /// to measure; `client` is the address the caller gives, such as the one that left). Every key is in every row.
    public static func json(_ rows: [StreamRow]) -> String {
        var writer = JSONWriter()
        writer.beginArray()
        for row in rows.sorted(by: { ($0.ageNanos, $0.client) > ($1.ageNanos, $1.client) }) {
            writer.beginObject()
            writer.member("route", row.route)
            writer.member("path", row.path)
            writer.member("client", row.client)
            writer.member("upstream", row.upstream)
            writer.key("age_s")
            writer.seconds(nanos: row.ageNanos)
            writer.member("bytes_in", row.bytesIn)
            writer.member("bytes_out", row.bytesOut)
            writer.key("last_activity_s")
            writer.seconds(nanos: row.lastActivityNanos)
            writer.member("heartbeats", row.heartbeats)
            writer.member("heartbeats_skipped", row.heartbeatsSkipped)
            let attached = row.detachedNanos == nil
            writer.key("client_bytes_waiting")
            if attached, let waiting = row.clientBytesWaiting { writer.integer(waiting) } else { writer.null() }
            writer.key("client_last_accepted_s")
            if attached, let accepted = row.clientLastAcceptedNanos { writer.seconds(nanos: accepted) } else { writer.null() }
            writer.key("detached_s")
            if let detached = row.detachedNanos { writer.seconds(nanos: detached) } else { writer.null() }
            writer.key("replay_buffer_bytes")
            if let buffered = row.replayBufferBytes { writer.integer(buffered) } else { writer.null() }
            writer.endObject()
        }
        writer.endArray()
        return writer.text + "\n"
    }
}

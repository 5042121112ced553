import Testing

@testable import SSEKeeperCore

/// Drives a `ResponseRelay` the way the shell does — one `RelayOutput`, reset before each client write, and
/// `noteClientWrite(at:)` after every write that sent bytes — and reads the writes back as the client would: the
/// head, then the body with the client's framing removed (a real `ChunkedDecoder` for chunked framing), fed to the
/// suite's WHATWG client (`SpecEventStreamParser`).
struct RelayDriver {
    /// The relay under test.
    var relay: ResponseRelay
    /// The output reused for every write, like the event loop's.
    var output = RelayOutput(capacity: 64)
    /// The manual clock, in monotonic nanoseconds.
    var now: UInt64
    /// The wall clock passed to heartbeats, in Unix milliseconds (the default data of a heartbeat event).
    var wallClockMilliseconds: Int64 = 1_700_000_000_000
    /// The head given to `begin()`; the client expects it in front of the first write.
    let head: [UInt8]
    /// Every write as sent, head and client framing included.
    private(set) var writes: [[UInt8]] = []
    /// The response body as the client has decoded it so far.
    private(set) var body: [UInt8] = []
    /// The client behind the proxy, fed `body` as it grows.
    var client: SpecEventStreamParser
    /// Whether the client has read the last chunk of a chunked body.
    private(set) var clientSawLastChunk = false
    /// What is wrong with the client's bytes (not the head first, bad chunked framing, bytes after the last chunk).
    private(set) var clientFramingProblem: String?
    private var clientDecoder = ChunkedDecoder()
    private var headBytesToCheck: Int

    /// A relay for one response; `now` is when its head goes out.
    init(upstream: BodyFraming, client clientFraming: ClientFraming, sse: ResponseRelay.SSEOptions?,
         now: UInt64 = 1_000, head: [UInt8] = Array("HTTP/1.1 200 OK\r\n\r\n".utf8), lastEventIdString: String = "") {
        relay = ResponseRelay(upstreamFraming: upstream, clientFraming: clientFraming, sse: sse, now: now)
        self.now = now
        self.head = head
        headBytesToCheck = head.count
        client = SpecEventStreamParser(lastEventIdString: lastEventIdString)
    }

    /// SSE options as given (heartbeat events off unless `heartbeatEvent` is set).
    static func sse(intervalNanos: UInt64 = 1_000_000_000, comment: String = "hb", retryMilliseconds: Int? = nil,
                    assemblesEvents: Bool = false, maxHeldBytes: Int = 64 * 1024, heartbeatEvent: String? = nil,
                    heartbeatData: String? = nil, carriedLastEventID: String? = nil) -> ResponseRelay.SSEOptions {
        ResponseRelay.SSEOptions(heartbeatIntervalNanos: intervalNanos, heartbeatComment: comment,
                                 retryMilliseconds: retryMilliseconds, assemblesEvents: assemblesEvents,
                                 maxHeldBytes: maxHeldBytes, heartbeatEvent: heartbeatEvent,
                                 heartbeatData: heartbeatData, carriedLastEventID: carriedLastEventID)
    }

    /// The body bytes of each write (the head removed from the first), client framing included.
    var bodyWrites: [[UInt8]] {
        guard let first = writes.first else { return [] }
        return [Array(first.dropFirst(head.count))].filter { !$0.isEmpty } + writes.dropFirst()
    }

    /// The body as text, for readable expectations.
    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Sends the head (and `retry:` when set).
    mutating func begin() {
        output.removeAll()
        relay.begin(head: head, into: &output)
        send()
    }

    /// Relays one read of upstream bytes and sends what it produced.
    @discardableResult
    mutating func relay<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> ResponseRelay.Outcome {
        output.removeAll()
        let outcome = Array(bytes).withUnsafeBytes { relay.relay($0, into: &output) }
        send()
        return outcome
    }

    /// Appends the head and relays the first read into the same output, sent as one write.
    @discardableResult
    mutating func beginAndRelay<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> ResponseRelay.Outcome {
        output.removeAll()
        relay.begin(head: head, into: &output)
        let outcome = Array(bytes).withUnsafeBytes { relay.relay($0, into: &output) }
        send()
        return outcome
    }

    /// Polls for a heartbeat at the driver's clock and sends it.
    @discardableResult
    mutating func heartbeat(clientBacklogged: Bool = false) -> ResponseRelay.HeartbeatOutcome {
        output.removeAll()
        let outcome = relay.heartbeat(now: now, wallClockMilliseconds: wallClockMilliseconds,
                                      clientBacklogged: clientBacklogged, into: &output)
        send()
        return outcome
    }

    /// Appends an event of ssekeeper's own and sends it; whether the relay took it.
    @discardableResult
    mutating func appendEvent(_ fields: [String]) -> Bool {
        output.removeAll()
        let taken = relay.appendEvent(fields: fields, into: &output)
        send()
        return taken
    }

    /// Appends `retry:` and sends it; whether the relay took it.
    @discardableResult
    mutating func appendRetry(milliseconds: Int) -> Bool {
        output.removeAll()
        let taken = relay.appendRetry(milliseconds: milliseconds, into: &output)
        send()
        return taken
    }

    /// The upstream broke: drop the partial event and realign, as a resume starts.
    mutating func breakForResume() {
        output.removeAll()
        relay.breakForResume(into: &output)
        send()
    }

    /// The upstream's body is complete: held bytes and the end of the client's body.
    mutating func finish() {
        output.removeAll()
        relay.finish(into: &output)
        send()
    }

    /// Ends the client's body as it stands.
    mutating func endBody() {
        output.removeAll()
        relay.endBody(into: &output)
        send()
    }

    /// Records the output as one write and reads it as the client does; a write that sent bytes resets the
    /// heartbeat silence, as in the shell.
    private mutating func send() {
        guard !output.isEmpty else { return }
        let bytes = output.withUnsafeBytes { Array($0) }
        writes.append(bytes)
        relay.noteClientWrite(at: now)
        var rest = bytes[...]
        if headBytesToCheck > 0 {
            let headPart = rest.prefix(headBytesToCheck)
            if !headPart.elementsEqual(head[(head.count - headBytesToCheck)...].prefix(headPart.count)) {
                clientFramingProblem = clientFramingProblem ?? "the first bytes written are not the head"
            }
            headBytesToCheck -= headPart.count
            rest = rest.dropFirst(headPart.count)
        }
        guard !rest.isEmpty else { return }
        let before = body.count
        if relay.clientFraming == .chunked {
            decodeChunked(rest)
        } else {
            body += rest
        }
        client.feed(body[before...])
    }

    private mutating func decodeChunked(_ bytes: ArraySlice<UInt8>) {
        guard !clientSawLastChunk else {
            clientFramingProblem = clientFramingProblem ?? "\(bytes.count) bytes written after the last chunk"
            return
        }
        do {
            let (consumed, finished) = try bytes.withUnsafeBytes { raw in
                try clientDecoder.decode(raw) { body.append(contentsOf: $0) }
            }
            clientSawLastChunk = finished
            if consumed < bytes.count {
                clientFramingProblem = clientFramingProblem ?? "\(bytes.count - consumed) bytes written after the last chunk"
            }
        } catch {
            clientFramingProblem = clientFramingProblem ?? "the client's chunked body is invalid: \(error)"
        }
    }
}

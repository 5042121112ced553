/// What a probe stream's response said, event by event, as read by `ProbeResponseReader`.
public enum ProbeStreamEvent: Sendable, Equatable {
    /// `event: probe-start` arrived: the server's silence begins, lasting `silence` (the asked silence, or less
    /// when the server caps it with `probe_max_silence`). `busy`: the busy phase before the silence, when the
    /// event names one (`busy_ms`); nil when it does not (no busy phase asked, or a server that ignores `busy`).
    case started(silence: Duration, serverTimeMillis: Int64? = nil, busy: Duration? = nil)
    /// `event: probe-end` arrived: the stream survived its whole silence.
    case ended
}

/// Why a probe response is not what the probe endpoint sends.
public enum ProbeResponseError: Error, Sendable, Equatable {
    /// A final status other than 200, with its reason phrase and `Location` (for a redirect), if any.
    case status(Int, reason: String, location: String?)
    /// A 200 whose Content-Type is not `text/event-stream` (nil: no Content-Type at all).
    case notEventStream(contentType: String?)
    /// An event stream whose first event is not `probe-start` (its type is given).
    case notProbe(firstEvent: String)
    /// Broken HTTP or SSE framing, or a `probe-start` without a readable `silence_ms`.
    case malformed(String)
}

/// An incremental reader of one probe response (what `ProbeResponse` in the proxy sends): the head, the body
/// (chunked, Content-Length or close-delimited, RFC 9112 §6.3, §7.1), and the events in it (WHATWG HTML §9.2.6).
///
/// Feed it whatever bytes arrived; it returns the probe events they completed. Interim 1xx heads are skipped.
/// The first event must be `probe-start`; events after `probe-end` are ignored. The end of the connection is
/// not its business: the caller knows whether `.ended` came before it.
///
/// Limits: `maxHeadBytes` for each head (the head is buffered until complete), the `ChunkedDecoder` defaults,
/// and `SSEEventReader`'s line and event limits; over any → `.malformed`.
public struct ProbeResponseReader: Sendable {
    /// Default for `maxHeadBytes`.
    public static let defaultMaxHeadBytes = 16 * 1024

    /// The largest response head accepted.
    public let maxHeadBytes: Int

    private enum State: Sendable {
        case head
        case chunked
        case contentLength(remaining: UInt64)
        case closeDelimited
        case done
    }

    private var state = State.head
    private var headBuffer: [UInt8] = []
    private var parser: HeadParser
    private var decoder = ChunkedDecoder()
    private var events = SSEEventReader()
    private var sawStart = false
    private var sawEnd = false
    private var failure: ProbeResponseError?

    /// Creates a reader for one response.
    public init(maxHeadBytes: Int = ProbeResponseReader.defaultMaxHeadBytes) {
        self.maxHeadBytes = maxHeadBytes
        parser = HeadParser(maxHeaderBytes: maxHeadBytes)
    }

    /// Whether the response head (a 200 event stream) has arrived.
    public var hasHead: Bool {
        if case .head = state { return false }
        return true
    }

    /// Consumes `bytes` and returns the probe events they completed. After an error the reader is spent: every
    /// later call throws the same error.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(ProbeResponseError) -> [ProbeStreamEvent] {
        if let failure { throw failure }
        do {
            return try consume(bytes)
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(ProbeResponseError) -> [ProbeStreamEvent] {
        var found: [ProbeStreamEvent] = []
        var input = bytes
        while !input.isEmpty {
            switch state {
            case .head:
                input = try readHead(input)
            case .chunked:
                var body: [UInt8] = []
                let result: (consumed: Int, finished: Bool)
                do {
                    result = try decoder.decode(input) { body.append(contentsOf: $0) }
                } catch {
                    // The data decoded before the bad framing came first: its own error (if any) is reported,
                    // as it would be had the bytes arrived in smaller reads.
                    _ = try body.withUnsafeBytes { body in Result { () throws(ProbeResponseError) in try readEvents(body) } }.get()
                    throw ProbeResponseError.malformed("bad chunked body: \(error)")
                }
                found += try body.withUnsafeBytes { body in Result { () throws(ProbeResponseError) in try readEvents(body) } }.get()
                input = UnsafeRawBufferPointer(rebasing: input[result.consumed...])
                if result.finished { state = .done }
            case .contentLength(let remaining):
                let take = Int(min(remaining, UInt64(input.count)))
                found += try readEvents(UnsafeRawBufferPointer(rebasing: input[..<take]))
                input = UnsafeRawBufferPointer(rebasing: input[take...])
                state = remaining == UInt64(take) ? .done : .contentLength(remaining: remaining - UInt64(take))
            case .closeDelimited:
                found += try readEvents(input)
                input = UnsafeRawBufferPointer(start: nil, count: 0)
            case .done:
                input = UnsafeRawBufferPointer(start: nil, count: 0)
            }
        }
        return found
    }

    /// Buffers head bytes until a head is complete; returns the bytes after it.
    private mutating func readHead(_ input: UnsafeRawBufferPointer) throws(ProbeResponseError) -> UnsafeRawBufferPointer {
        let before = headBuffer.count
        headBuffer.append(contentsOf: input)
        let result: HeadParseResult<ResponseHead>
        do throws(HTTPParseError) {
            result = try headBuffer.withUnsafeBytes { buffer in
                Result { () throws(HTTPParseError) in try parser.parseResponse(buffer) }
            }.get()
        } catch {
            throw .malformed("bad response head: \(error.kind)")
        }
        guard case .complete(let head, let consumed) = result else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let rest = UnsafeRawBufferPointer(rebasing: input[(consumed - before)...])
        headBuffer.removeAll()
        parser = HeadParser(maxHeaderBytes: maxHeadBytes)
        if head.isInterim { return rest }
        guard head.status == 200 else {
            throw .status(head.status, reason: head.reason, location: head.headers.first("Location"))
        }
        guard var contentType = head.headers.first(.contentType),
              contentType.withUTF8(HTTPSyntax.isEventStreamMediaType) else {
            throw .notEventStream(contentType: head.headers.first(.contentType))
        }
        switch try? head.bodyFraming(requestMethod: "GET") {
        case .chunked?: state = .chunked
        case .contentLength(let length)?: state = .contentLength(remaining: length)
        case .closeDelimited?: state = .closeDelimited
        case .none?, nil: throw .malformed("the response has an unusable body framing")
        }
        return rest
    }

    /// Reads events from body bytes; checks the first is `probe-start`.
    private mutating func readEvents(_ body: UnsafeRawBufferPointer) throws(ProbeResponseError) -> [ProbeStreamEvent] {
        guard !sawEnd else { return [] }
        let parsed: [SSEEvent]
        do throws(SSEReadError) {
            parsed = try events.feed(body)
        } catch {
            throw .malformed("bad event stream: \(error)")
        }
        var found: [ProbeStreamEvent] = []
        for event in parsed where !sawEnd {
            if !sawStart {
                guard event.type == "probe-start" else { throw .notProbe(firstEvent: String(event.type.prefix(80))) }
                guard let milliseconds = Self.integerField("silence_ms", in: event.data) else {
                    throw .malformed("probe-start without silence_ms")
                }
                sawStart = true
                found.append(.started(silence: .milliseconds(milliseconds),
                                      serverTimeMillis: Self.integerField("server_time_ms", in: event.data),
                                      busy: Self.integerField("busy_ms", in: event.data).map { .milliseconds($0) }))
            } else if event.type == "probe-end" {
                sawEnd = true
                found.append(.ended)
            }
        }
        return found
    }

    /// The non-negative integer value of `"name": 123` in a flat JSON object (what `ProbeResponse` writes);
    /// nil when absent or not a plain integer of at most 15 digits.
    static func integerField(_ name: String, in json: String) -> Int64? {
        guard let key = json.firstRange(of: "\"\(name)\"") else { return nil }
        var rest = json[key.upperBound...].drop { $0 == " " }
        guard rest.first == ":" else { return nil }
        rest = rest.dropFirst().drop { $0 == " " }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 15 else { return nil }
        return Int64(digits)
    }
}

/// Rewrites an event stream for client ride-through (issue 15) so that every event a client dispatches carries
/// ssekeeper's own id, `sk1.<token>.<seq>` or `sk1.<token>.<seq>.<backend-id>`, and a reconnecting client's
/// `Last-Event-ID` says exactly which events it has.
///
/// Input: the bytes an `SSEEventAssembler` releases (whole events, comment lines between events, the first stream's
/// leading BOM), in any split. Output, appended to a caller-owned `[UInt8]`, is what the client gets; it follows
/// WHATWG HTML §9.2.5 "Parsing an event stream" and §9.2.6 "Interpreting an event stream" line by line:
///
/// | input (a line, or the blank line ending an event)       | output                                            |
/// |---------------------------------------------------------|---------------------------------------------------|
/// | leading U+FEFF (EF BB BF)                               | dropped (the client's decoder would drop it)      |
/// | any line end (CRLF, LF, CR)                             | LF                                                |
/// | comment line between events                             | as is, at its line end (cut to `maxEventBytes`)   |
/// | `id` field                                              | dropped; tracked as the backend's last event ID   |
/// | a line starting with U+FEFF (an unknown field)          | dropped: first in a connection, it would be read  |
/// |                                                         | as a BOM and the rest as another field            |
/// | other lines of an event (`data`, `event`, `retry`, ...) | held in order until the event's blank line        |
/// | blank line of an event with data (a *dispatched* event) | its held lines, `id: <stamped id>`, blank line    |
/// | blank line of an event without data                     | only its `retry` lines, then `id: <current id>`   |
/// |                                                         | and a blank line; nothing when it had no `retry`  |
/// | blank line between events                               | dropped                                           |
///
/// `seq` counts dispatched events from 1. `backend-id` is the backend's last event ID buffer after the event's lines,
/// as a spec client of the backend would hold it: `id` sets it (an empty `id` empties it, a value with U+0000 is
/// ignored) and it persists across events; an empty buffer stamps no backend part. An event without data stamps
/// nothing, so an `id` it set shows in the next stamp only (a direct client's id would have moved at its blank line).
///
/// The invariant, for every client attached to the stream: its last event ID string is always the stamped id of
/// the last event it dispatched (before the first, what it carried in). A spec client sets that string on *every*
/// blank line, from a buffer that starts empty on each connection, so a blank line that dispatches nothing could
/// clear a reconnected client's id; such blank lines are therefore never forwarded, except to close an event whose
/// `retry` line went out (the client applies `retry` at once; §9.2.6), and then right after an `id:` line with the
/// client's current id (`currentClientID`), so the string stays. Dropping the other lines of an event without data
/// is invisible: a spec client clears its type and data buffers at that blank line and dispatches nothing. It also
/// keeps lax clients (httpx-sse, r3labs/sse: an empty event per blank line once an id was seen) quiet.
///
/// The client's parser is at a line start, between events, after every output unit, so a reconnected client can
/// be handed the replayed events (`ReplayRing`) and then the live output from any call boundary on.
///
/// Limit: an event is held up to `maxEventBytes` (its output bytes). A larger one is forwarded as it comes (its
/// `id` lines still dropped, its stamp still added before its blank line) and reported as `.passedThrough`: it
/// cannot be replayed. A backend `id` value longer than `maxBackendIDBytes` makes the backend id `.unreadable`:
/// stamps then carry no backend part until the next readable `id`. Memory: `maxEventBytes` plus one id value; no
/// allocation per event once the buffers have grown (a held buffer over 64 KiB is released after its event).
///
/// After `SSEEventAssembler.beginResumedStream()` (`upstream_resume`), feed the realignment bytes it returns through
/// `stamp` too: they end a CR's line end here as at the client.
public struct EventIDStamper: Sendable {
    /// What became of one dispatched event, reported by `stamp(_:into:onEvent:)` in order.
    public enum StampedEvent {
        /// The whole event as the client gets it, from its first held line to its blank line (with the `id:` line):
        /// the bytes to keep for replay, valid only during the callback. They are also appended to the output.
        case held(seq: UInt64, bytes: UnsafeRawBufferPointer)
        /// An event over `maxEventBytes`, forwarded as it came: it cannot be replayed.
        case passedThrough(seq: UInt64)
    }

    /// Default for `maxEventBytes`: the default `client_resume_buffer`, since a larger event cannot be replayed.
    public static let defaultMaxEventBytes = 1 << 20
    /// The longest backend `id` value carried in stamps.
    public static let maxBackendIDBytes = 1024
    /// Held buffers larger than this are released after their event rather than kept for the next.
    private static let retainedCapacity = 64 * 1024
    /// Every line the stamper writes ends with one LF.
    static let lineFeed = SSELineEndScanner.lineFeed

    /// The stream's token text, 22 base64url characters: the `<token>` of every stamped id.
    public let token: [UInt8]
    /// The most output bytes of one event held before it passes through.
    public let maxEventBytes: Int
    /// The `Last-Event-ID` the stream's first client carried, when it can be written as an `id:` value.
    private let carriedLastEventID: [UInt8]?

    /// Line ends and the leading BOM.
    private var lines = SSELineMachine()
    /// The line being read.
    private var line = SSEFieldLine()
    /// Whether the line being read starts with U+FEFF and is dropped (see the type's table).
    private var dropsLine = false
    /// Where the event being read stands.
    private var event: EventState = .betweenEvents
    /// The held lines of the event being read (`EventState.holding`), LF-terminated.
    private var held: [UInt8] = []
    /// The held event's `retry` lines, also in `held`: all it forwards when it dispatches nothing.
    private var heldRetryLines: [UInt8] = []
    /// The backend's last event ID buffer after the lines read so far (its bytes when `backendIDState` is readable).
    private var backendID: [UInt8] = []
    private var backendIDState: BackendIDState = .unset
    /// The `<seq>` of the last stamped event; 0 before the first.
    public private(set) var lastSeq: UInt64 = 0
    /// The last stamped id (without `id: `); empty before the first.
    public private(set) var lastStampedID: [UInt8] = []
    /// How many events passed through over `maxEventBytes`.
    public private(set) var passThroughCount = 0

    /// Where the event being read stands.
    private enum EventState: Sendable, Equatable {
        /// No field line since the last blank line.
        case betweenEvents
        /// Field lines are held in `held`; `hasData`: one was `data` (its blank line will dispatch).
        case holding(hasData: Bool)
        /// Over `maxEventBytes`: lines go to the output as they come.
        case passingThrough(hasData: Bool)
    }

    /// Where the bytes of the current line go.
    private enum Sink { case output, held, heldAndRetry, heldComment, nowhere }

    /// What the backend's `id` lines left in its last event ID buffer.
    private enum BackendIDState: Sendable { case unset, readable, unreadable }

    /// A stamper for a new stream. `token`: the stream's token text (22 base64url characters). `carriedLastEventID`:
    /// the `Last-Event-ID` of the request that opened the stream, if any (a reconnect that did not attach), kept as
    /// the client's id until the first stamp; ignored when it holds CR, LF or U+0000 (no `id:` line can carry it).
    public init(token: [UInt8], maxEventBytes: Int = EventIDStamper.defaultMaxEventBytes,
                carriedLastEventID: [UInt8]? = nil) {
        precondition(token.count == Self.tokenLength && token.allSatisfy(Self.isBase64URL), "not a stream token")
        self.token = token
        self.maxEventBytes = max(1, maxEventBytes)
        self.carriedLastEventID = carriedLastEventID.flatMap { Self.isWritableID($0) ? $0 : nil }
        lastStampedID.reserveCapacity(Self.idPrefix.count + Self.tokenLength + 24)
    }

    /// The backend's last event ID buffer after the lines read so far (§9.2.6), as a spec client of the backend
    /// would hold it; what a reconnect that cannot attach sends the backend as `Last-Event-ID`.
    public var backendLastEventID: SSEEventAssembler.EventID {
        switch backendIDState {
        case .unset: .unset
        case .readable: .value(backendID)
        case .unreadable: .unreadable
        }
    }

    /// The id a client attached now holds as its last event ID string: the last stamp, else the carried id, else
    /// empty.
    public var currentClientID: [UInt8] { lastSeq > 0 ? lastStampedID : carriedLastEventID ?? [] }

    /// Whether the client stands between events after the output so far (false only while an event passes through).
    public var isAtEventBoundary: Bool { if case .passingThrough = event { false } else { true } }

    /// Reads one piece of the stream and appends to `output` what the client gets now: whole output units only,
    /// except while an oversized event passes through. `onEvent` hears of each dispatched event before its bytes
    /// are appended; it must not touch `output`.
    public mutating func stamp(_ bytes: UnsafeRawBufferPointer, into output: inout [UInt8],
                               onEvent: (StampedEvent) -> Void) {
        guard !bytes.isEmpty else { return }
        switch lines.matchByteOrderMark(bytes) {
        case .decided:
            read(bytes, into: &output, onEvent: onEvent)
        case .held:
            return
        case .byteOrderMark(let end, _):
            // Dropped: the client's decoder strips it, and it would no longer be first after a replay.
            read(UnsafeRawBufferPointer(rebasing: bytes[end...]), into: &output, onEvent: onEvent)
        case .notByteOrderMark(let released):
            SSELineMachine.withByteOrderMarkPrefix(released) { read($0, into: &output, onEvent: onEvent) }
            read(bytes, into: &output, onEvent: onEvent)
        }
    }

    private mutating func read(_ bytes: UnsafeRawBufferPointer, into output: inout [UInt8],
                               onEvent: (StampedEvent) -> Void) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            switch lines.next(in: base, from: offset, to: bytes.count) {
            case .lineContinues(let content, _):
                append(UnsafeRawBufferPointer(rebasing: bytes[content]), into: &output)
                offset = content.upperBound
            case .lineEnd(let content, _):
                append(UnsafeRawBufferPointer(rebasing: bytes[content]), into: &output)
                endLine(into: &output)
                offset = content.upperBound + 1
            case .blankLine:
                endEvent(into: &output, onEvent: onEvent)
                offset += 1
            case .lineFeedAfterCarriageReturn:
                offset += 1
            }
        }
    }

    /// Adds bytes of the current line: classifies the line once its field name is known, then sends its bytes on
    /// (an `id` line's value is kept in `line` instead).
    private mutating func append(_ content: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        guard !content.isEmpty else { return }
        var rest = content
        if line.kind == nil {
            let used = line.classify(content)
            guard let kind = line.kind else { return }
            begin(kind, into: &output)
            rest = UnsafeRawBufferPointer(rebasing: content[used...])
        }
        if line.kind == .id {
            line.keep(rest, limit: Self.maxBackendIDBytes)
        } else {
            write(rest, into: &output)
        }
    }

    /// The current line's kind became known: the event's state follows, and the bytes read to learn it go on.
    private mutating func begin(_ kind: SSEFieldLine.Kind, into output: inout [UInt8]) {
        switch (kind, event) {
        case (.comment, _), (.id, _):
            break
        case (_, .betweenEvents):
            event = .holding(hasData: kind == .data)
        case (.data, .holding):
            event = .holding(hasData: true)
        case (.data, .passingThrough):
            event = .passingThrough(hasData: true)
        default:
            break
        }
        guard kind != .id else { return }
        dropsLine = line.startsWithByteOrderMark
        // The head is swapped out while it is written: `write` mutates `self`, which owns it.
        var head: [UInt8] = []
        swap(&head, &line.bytes)
        head.withUnsafeBytes { write($0, into: &output) }
        head.removeAll(keepingCapacity: true)
        swap(&head, &line.bytes)
    }

    /// Where the current line's bytes go (not called for `id` lines, which `line` keeps).
    private var sink: Sink {
        if dropsLine { return .nowhere }
        switch (line.kind, event) {
        case (_, .betweenEvents): return .heldComment  // between events: only comments
        case (_, .passingThrough): return .output
        case (.retry?, .holding): return .heldAndRetry
        case (_, .holding): return .held
        }
    }

    private mutating func write(_ bytes: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        switch sink {
        case .nowhere:
            return
        case .output:
            output.append(contentsOf: bytes)
        case .held:
            held.append(contentsOf: bytes)
            if held.count > maxEventBytes { beginPassThrough(into: &output) }
        case .heldAndRetry:
            heldRetryLines.append(contentsOf: bytes)
            held.append(contentsOf: bytes)
            if held.count > maxEventBytes { beginPassThrough(into: &output) }
        case .heldComment:
            // The client ignores a comment's text: past the limit it is cut short, not passed through.
            let room = max(0, maxEventBytes - held.count)
            held.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<min(room, bytes.count)]))
        }
    }

    private mutating func writeLineFeed(into output: inout [UInt8]) {
        if sink == .nowhere {
            return
        } else if sink == .heldComment {
            held.append(Self.lineFeed)  // even when the comment was cut short
        } else {
            withUnsafeBytes(of: Self.lineFeed) { write($0, into: &output) }
        }
    }

    /// The held event outgrew `maxEventBytes`: what is held goes out now and the rest follows as it comes.
    private mutating func beginPassThrough(into output: inout [UInt8]) {
        guard case .holding(let hasData) = event else { return }
        passThroughCount += 1
        output.append(contentsOf: held)
        release(&held)
        release(&heldRetryLines)
        event = .passingThrough(hasData: hasData)
    }

    /// §9.2.6: the current (non-blank) line ended.
    private mutating func endLine(into output: inout [UInt8]) {
        if line.kind == nil {
            line.classifyWholeLine()
            if let kind = line.kind { begin(kind, into: &output) }
        }
        if line.kind == .id {
            switch line.idValue(limit: Self.maxBackendIDBytes) {
            case .ignored:
                break
            case .value(let range):
                backendID.removeAll(keepingCapacity: true)
                backendID.append(contentsOf: line.bytes[range])
                backendIDState = .readable
            case .unreadable:
                backendID.removeAll(keepingCapacity: true)
                backendIDState = .unreadable
            }
        } else {
            writeLineFeed(into: &output)
        }
        if line.kind == .comment, event == .betweenEvents {
            output.append(contentsOf: held)
            release(&held)
        }
        line.reset()
        dropsLine = false
    }

    /// §9.2.6: a blank line. Dispatches a held event with its stamp, or forwards what an event without data keeps.
    private mutating func endEvent(into output: inout [UInt8], onEvent: (StampedEvent) -> Void) {
        defer { event = .betweenEvents }
        switch event {
        case .betweenEvents:
            return
        case .holding(hasData: true):
            renderNextStamp()
            appendIDLine(lastStampedID, to: &held)
            held.append(Self.lineFeed)
            held.withUnsafeBytes { onEvent(.held(seq: lastSeq, bytes: $0)) }
            output.append(contentsOf: held)
            release(&held)
            release(&heldRetryLines)
        case .holding(hasData: false):
            if !heldRetryLines.isEmpty {
                output.append(contentsOf: heldRetryLines)
                appendClosingBlankLine(to: &output)
            }
            release(&held)
            release(&heldRetryLines)
        case .passingThrough(hasData: true):
            renderNextStamp()
            appendIDLine(lastStampedID, to: &output)
            output.append(Self.lineFeed)
            onEvent(.passedThrough(seq: lastSeq))
        case .passingThrough(hasData: false):
            // Its `event` and other lines went out: a blank line must clear them, keeping the client's id.
            appendClosingBlankLine(to: &output)
        }
    }

    /// A blank line that dispatches nothing and leaves the client's last event ID string as it is (§9.2.6: the
    /// string becomes the buffer, which the `id:` line sets to the current id first).
    private func appendClosingBlankLine(to output: inout [UInt8]) {
        let current = currentClientID
        if !current.isEmpty { appendIDLine(current, to: &output) }
        output.append(Self.lineFeed)
    }

    /// Advances `lastSeq` and writes the stamped id into `lastStampedID`.
    private mutating func renderNextStamp() {
        lastSeq += 1
        lastStampedID.removeAll(keepingCapacity: true)
        lastStampedID.append(contentsOf: Self.idPrefix)
        lastStampedID.append(contentsOf: token)
        lastStampedID.append(Self.dot)
        Self.appendDecimal(lastSeq, to: &lastStampedID)
        if backendIDState == .readable, !backendID.isEmpty {
            lastStampedID.append(Self.dot)
            lastStampedID.append(contentsOf: backendID)
        }
    }

    /// Empties a buffer, keeping its storage unless it grew past `retainedCapacity`.
    private func release(_ buffer: inout [UInt8]) {
        if buffer.capacity > Self.retainedCapacity {
            buffer = []
        } else {
            buffer.removeAll(keepingCapacity: true)
        }
    }
}

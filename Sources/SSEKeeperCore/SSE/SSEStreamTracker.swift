/// Follows one upstream event stream byte by byte and says when, and in which form, the proxy may
/// inject bytes (heartbeat comments, a `retry:` preamble) without changing what the client sees.
///
/// The invariant (WHATWG HTML §9.2 "Server-sent events", §9.2.5 "Parsing an event stream" and
/// §9.2.6 "Interpreting an event stream"): a spec-compliant client dispatches the same events
/// (type, data, lastEventId), keeps the same last event ID string and sets the same reconnection
/// times with and without the injected bytes, however the upstream's bytes are split across reads
/// and pauses, whichever line ends (LF, CRLF, CR, mixed) it uses, with or without a leading BOM.
///
/// The tracker mirrors only what that requires, in O(1) state; it never buffers lines. Its `SSELineMachine`
/// (shared with `SSEEventAssembler` and `SSEEventReader`) knows where the client's parser stands in the current
/// line (`LinePosition`) and, at stream start, holds up to two bytes of a possible UTF-8 BOM.
///
/// Injected forms (`comment` is the heartbeat text, `␊` LF, `␍` CR):
///
/// | position            | injected            |
/// |---------------------|---------------------|
/// | line start          | `: comment␊`        |
/// | after a lone CR     | `␊: comment␍`       |
/// | mid-line            | nothing (`nil`)     |
///
/// With `heartbeat_event`, a heartbeat at an event boundary is instead the whole event
/// `event: <type>␊data: <data>␊␊` (after a lone CR: `␊event: <type>␍␊data: <data>␍␊␍`), never with an `id:` line;
/// see `heartbeatEvent(type:data:)` for when it may go.
///
/// No heartbeat comment or `retry:` line ever contains a blank line, wherever it lands. For a spec-compliant
/// client a blank line after a comment is a no-op between events, but widely used clients dispatch an event on
/// every blank line once an `id:` was seen (httpx-sse 0.4.3, r3labs/sse: an empty `message` event per
/// heartbeat, which breaks callers that parse `data` as JSON). A lone comment line is ignored by all.
///
/// Whole events of ssekeeper's own (`event(fields:)`, `heartbeatEvent(type:data:)`) end with the blank line that
/// dispatches them, so they go only where `isAtEventBoundary` holds. That blank line also sets the client's last
/// event ID string from the stream's last event ID buffer (§9.2.6 "dispatch the event"); `boundaryDispatch` says
/// whether that would change it (only before the stream's first blank line, when the client carried an ID over).
///
/// After a CR the client has already ended the line but would swallow a following LF as the
/// second half of CRLF (§9.2.6). The injection therefore starts with that LF (swallowed, exactly
/// as the upstream's own LF would have been) and ends with a CR of its own, so that an LF the
/// upstream sends next is again swallowed as the partner of our CR instead of ending an extra,
/// blank, line. Any other next byte simply starts a new line, as it did without the injection.
public struct SSEStreamTracker: Sendable {
    /// Where the client's line parser stands after the bytes it has received so far (§9.2.6). `midLine` means
    /// injecting anything would change that line: no safe point.
    public typealias LinePosition = SSELinePosition

    private static let colon: UInt8 = 0x3A
    private static let space: UInt8 = 0x20
    private static let emptyCommentPrefix: [UInt8] = [colon]
    private static let commentPrefix: [UInt8] = [colon, space]
    private static let eventFieldPrefix: [UInt8] = Array("event: ".utf8)
    private static let dataFieldPrefix: [UInt8] = Array("data: ".utf8)

    /// The client's line position over the forwarded bytes, and the leading-BOM decision. The tracker's own
    /// injections leave the position as it was (see `appendInjected(_:_:to:)`), so only upstream bytes are fed to it.
    private var lines = SSELineMachine()
    /// Whether a field line came after the last blank line: a blank line now would dispatch the upstream's
    /// unfinished event (only `event(fields:)` and `heartbeatEvent(type:data:)` write one, only when this is false).
    private(set) var fieldsPending = false
    /// How many lines the tracker has injected (heartbeats, `retry:` lines, the lines of its own events).
    public private(set) var injectionCount = 0
    /// Whether a leading BOM was dropped because the proxy had injected bytes before it.
    public private(set) var droppedByteOrderMark = false
    /// What a blank line at an event boundary would do to the client's last event ID string now.
    public private(set) var boundaryDispatch: BoundaryDispatch

    /// What a blank line written at an event boundary would do to the client's last event ID string.
    ///
    /// §9.2.6: a blank line sets the last event ID string from the stream's last event ID buffer, which starts
    /// empty in every new connection and changes only with an `id:` field. At an event boundary no field line is
    /// pending, so no `id:` came since the last blank line: after one blank line the buffer equals the string at
    /// every boundary; before the first, the buffer is still empty, which equals the string only when the client
    /// carried no ID over from an earlier connection (a browser sends a non-empty string as `Last-Event-ID`,
    /// §9.2.4, and sends no header for an empty one).
    public enum BoundaryDispatch: Sendable, Equatable {
        /// Nothing reached the client's parser as a blank line yet, and its request carried a non-empty
        /// `Last-Event-ID`: a blank line now would clear that ID (and with it the replay position of the next
        /// reconnect), unless an `id:` field carrying it came first.
        case clearsCarriedLastEventID
        /// A blank line reached the client already, or it carried no ID: a blank line at a boundary leaves its
        /// last event ID string as it is.
        case keepsLastEventID
    }

    /// Creates a tracker for a new stream, before its first byte. `carriedLastEventID`: the request's
    /// `Last-Event-ID`, the ID the client carried over from an earlier connection (nil or empty: none), which
    /// decides `boundaryDispatch` until the first blank line.
    public init(carriedLastEventID: String? = nil) {
        let carries = !(carriedLastEventID ?? "").isEmpty
        boundaryDispatch = carries ? .clearsCarriedLastEventID : .keepsLastEventID
    }

    /// Where the client's line parser stands now (§9.2.6).
    public var linePosition: LinePosition { lines.position }

    /// Whether `heartbeat(comment:)` would inject now (the client's parser is not mid-line).
    public var isAtSafePoint: Bool { linePosition != .midLine }

    /// Whether the client's parser stands between events: not mid-line, and no field line waiting for the blank
    /// line that dispatches it. Ending the stream here loses nothing the upstream completed.
    public var isAtEventBoundary: Bool { linePosition != .midLine && !fieldsPending }

    /// Whether `heartbeatEvent(type:data:)` would inject a whole event now: the client stands between events and
    /// the event's blank line keeps its last event ID string (`boundaryDispatch`).
    public var takesHeartbeatEvent: Bool { isAtEventBoundary && boundaryDispatch == .keepsLastEventID }

    /// How many leading bytes of a possible BOM are held back (0, 1 or 2); `finish()` flushes them.
    public var heldByteCount: Int { lines.heldByteCount }

    /// Scans one read of upstream bytes in order and passes on what must be forwarded now.
    ///
    /// `emit` receives, in order, zero-copy slices of `bytes` and, at stream start only, the
    /// held-back BOM prefix (static storage). Slices are valid only during the call. Bytes of a
    /// possible leading BOM (EF, EF BB) are held until a later read decides them: a complete BOM is
    /// forwarded if nothing was injected yet and dropped otherwise (after an injection it would no
    /// longer be first, and would become part of the first field name; §9.2.6). Runs on every
    /// forwarded byte: no allocation, and line ends are found eight bytes at a time.
    public mutating func forward(_ bytes: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        switch lines.matchByteOrderMark(bytes) {
        case .decided:
            break
        case .held:
            // Still a possible BOM prefix: held; the client has seen none of it.
            return
        case .byteOrderMark(let end, let heldBefore):
            // A complete BOM: the client's parser stays at line start either way. Every injection so far came
            // before it, so forwarding it now would make it part of the first field name.
            offset = end
            if injectionCount > 0 {
                droppedByteOrderMark = true
            } else {
                SSELineMachine.withByteOrderMarkPrefix(heldBefore, emit)
                emit(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
            }
        case .notByteOrderMark(let released):
            // Not a BOM: the held bytes and everything in this read are ordinary content.
            SSELineMachine.withByteOrderMarkPrefix(released) { prefix in
                scan(prefix.baseAddress!, count: prefix.count)
                emit(prefix)
            }
        }
        guard offset < bytes.count else { return }
        scan(base + offset, count: bytes.count - offset)
        emit(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
    }

    /// The bytes to inject for a heartbeat comment now, or nil when the client's parser is
    /// mid-line and there is no safe point (the caller skips this heartbeat and counts it).
    ///
    /// The result is one comment line (`:` then a space and `comment`), which §9.2.6 ignores, in the
    /// form the current state requires (see the type's table). CR and LF in `comment` are replaced
    /// by spaces so the comment can never end its line early.
    public mutating func heartbeat(comment: String) -> [UInt8]? {
        guard linePosition != .midLine else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(comment.utf8.count + 4)
        appendInjected(comment.isEmpty ? Self.emptyCommentPrefix : Self.commentPrefix, comment.utf8, to: &out)
        return out
    }

    /// `heartbeat(comment: text.comment)` without building it: the route's line in the form the position requires
    /// (`HeartbeatText` holds both), or nil mid-line. Shared storage: no allocation per heartbeat.
    public mutating func heartbeat(_ text: HeartbeatText) -> [UInt8]? {
        switch linePosition {
        case .midLine: return nil
        case .lineStart: injectionCount += 1; return text.lineAtLineStart
        case .afterCarriageReturn: injectionCount += 1; return text.lineAfterCarriageReturn
        }
    }

    /// A heartbeat the client's `EventSource` sees: the whole event `event: <type>`, `data: <data>` and the blank
    /// line that dispatches it, or nil unless `takesHeartbeatEvent` (the caller then sends `heartbeat(comment:)`).
    ///
    /// The rule (issue 14, `heartbeat_event`): between events the heartbeat is an event; inside an event (a field
    /// line pending) it stays a comment line; mid-line it is skipped. The event never carries an `id:` field, so
    /// its blank line must find the last event ID buffer equal to the client's string: it is therefore also
    /// refused (nil, a comment instead) before the stream's first blank line when the client carried a
    /// `Last-Event-ID` over (`BoundaryDispatch.clearsCarriedLastEventID`). The dispatched event's `lastEventId` is
    /// the client's current one, which it leaves as it was; so do the replay positions of `upstream_resume`.
    /// `type` `message` (or empty) reaches `onmessage`. CR and LF in `type` and `data` become spaces (one line
    /// each); `data` may be empty (§9.2.6 still dispatches: the data buffer holds an LF). One array per call.
    public mutating func heartbeatEvent(type: String, data: String) -> [UInt8]? {
        guard takesHeartbeatEvent else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(type.utf8.count + data.utf8.count + 20)
        appendInjected(Self.eventFieldPrefix, type.utf8, to: &out)
        appendInjected(Self.dataFieldPrefix, data.utf8, to: &out)
        appendInjected([], EmptyCollection(), to: &out)
        return out
    }

    /// A `retry: <milliseconds>` line for the very start of the stream, before any upstream byte.
    ///
    /// §9.2.6 applies the reconnection time as soon as the `retry` field is processed; no blank line
    /// is needed, and none is sent (see `appendInjected(_:_:to:)`: a blank line before the upstream's first
    /// would clear the last event ID carried over a reconnect). Counts as an injection (a leading BOM that
    /// arrives afterwards is dropped). Negative values are clamped to 0. If called after upstream
    /// bytes were forwarded, it is injected like a heartbeat, or is empty when the client is mid-line.
    public mutating func retryPreamble(milliseconds: Int) -> [UInt8] {
        guard linePosition != .midLine else { return [] }
        var out: [UInt8] = []
        appendInjected([], "retry: \(max(0, milliseconds))".utf8, to: &out)
        return out
    }

    /// A whole event of ssekeeper's own (`event: error` before a stream closes): one line per entry of `fields`
    /// (`name: value`, CR and LF replaced by spaces) and the blank line that dispatches it; nil unless
    /// `isAtEventBoundary`, since anything else would merge with the upstream's unfinished event.
    ///
    /// The blank line sets the client's last event ID string from its buffer (§9.2.6 "dispatch the event"):
    /// before the upstream's first blank line that buffer is this stream's, empty unless an `id:` came, so
    /// include an `id:` field (the request's `Last-Event-ID`) to keep what the client carried over. That is needed
    /// only while `boundaryDispatch` is `.clearsCarriedLastEventID`; later, the carried ID in an `id:` field
    /// would overwrite the one the upstream's events set since.
    public mutating func event(fields: [String]) -> [UInt8]? {
        guard isAtEventBoundary else { return nil }
        var out: [UInt8] = []
        for field in fields { appendInjected([], field.utf8, to: &out) }
        appendInjected([], EmptyCollection(), to: &out)
        return out
    }

    /// At the end of the upstream stream: the bytes still held back (a partial BOM prefix, EF or
    /// EF BB, that turned out not to be a BOM), to forward before closing. Usually empty.
    public mutating func finish() -> [UInt8] {
        var flushed: [UInt8] = []
        SSELineMachine.withByteOrderMarkPrefix(lines.finishByteOrderMark()) { prefix in
            scan(prefix.baseAddress!, count: prefix.count)
            flushed = Array(prefix)
        }
        return flushed
    }

    /// Appends the injection of one line, `prefix` then `text` (CR and LF in `text` replaced by spaces, so the
    /// line cannot end early), in the form the current position requires, and records it. An empty line is the
    /// blank line that dispatches (only `event(fields:)` and `heartbeatEvent(type:data:)` write one, at an event
    /// boundary; it makes `boundaryDispatch` `.keepsLastEventID`). Any other injected line is a comment or a
    /// field; comments and `retry` touch none of the data, event type or last event ID buffers, and no blank line
    /// follows them (a blank line would dispatch, or, before the upstream's first blank line, set the last event ID
    /// string to the new stream's empty buffer and so clear an ID carried over from the previous connection; lax
    /// clients dispatch on any blank line). `linePosition` is unchanged: the injection ends the way the client's
    /// parser stood before it (LF-terminated, or on a CR whose partner LF it swallows next).
    private mutating func appendInjected(_ prefix: [UInt8], _ text: some Collection<UInt8>, to out: inout [UInt8]) {
        let lf = SSELineEndScanner.lineFeed
        let cr = SSELineEndScanner.carriageReturn
        let afterCarriageReturn: Bool
        switch linePosition {
        case .lineStart: afterCarriageReturn = false
        case .afterCarriageReturn: afterCarriageReturn = true
        case .midLine: preconditionFailure("appendInjected called mid-line")
        }
        injectionCount += 1
        if prefix.isEmpty && text.isEmpty { boundaryDispatch = .keepsLastEventID }
        if afterCarriageReturn { out.append(lf) }
        out.append(contentsOf: prefix)
        // A text without line ends (every heartbeat comment) is copied whole; appending it byte by byte cost about
        // 60 instructions a byte (callgrind, 9 bytes per heartbeat).
        let copied = text.withContiguousStorageIfAvailable { bytes -> Bool in
            guard let base = bytes.baseAddress else { return true }
            guard SSELineEndScanner.firstLineEnd(in: base, from: 0, to: bytes.count) == bytes.count else { return false }
            out.append(contentsOf: bytes)
            return true
        } ?? false
        if !copied {
            for byte in text { out.append(byte == lf || byte == cr ? Self.space : byte) }
        }
        out.append(afterCarriageReturn ? cr : lf)
    }

    /// Advances the line state over `count` upstream bytes at `start` (§9.2.6 line splitting).
    /// Only the first byte of each line and the line ends are looked at; the rest of a line is skipped by
    /// `SSELineMachine` eight bytes at a time.
    private mutating func scan(_ start: UnsafeRawPointer, count: Int) {
        var machine = lines
        var pending = fieldsPending
        var sawBlankLine = false
        var offset = 0
        while offset < count {
            switch machine.next(in: start, from: offset, to: count) {
            case .blankLine:
                // Dispatches (§9.2.6): nothing pending any more, and the last event ID string equals the buffer.
                pending = false
                sawBlankLine = true
                offset &+= 1
            case .lineEnd(let content, let startsLine):
                if startsLine && Self.isFieldLine(at: start, content) { pending = true }
                offset = content.upperBound &+ 1
            case .lineContinues(let content, let startsLine):
                if startsLine && Self.isFieldLine(at: start, content) { pending = true }
                offset = content.upperBound
            case .lineFeedAfterCarriageReturn:
                offset &+= 1
            }
        }
        lines = machine
        fieldsPending = pending
        if sawBlankLine { boundaryDispatch = .keepsLastEventID }
    }

    /// Whether the non-empty line that starts at `content` is a field line (§9.2.6): any line but a comment (`:`
    /// first). Any field, known or not, counts as pending until the next blank line: conservative.
    @inline(__always)
    private static func isFieldLine(at base: UnsafeRawPointer, _ content: Range<Int>) -> Bool {
        base.load(fromByteOffset: content.lowerBound, as: UInt8.self) != colon
    }
}

/// Holds an upstream event stream's bytes until each event is complete, so that a stream cut in the middle of an
/// event never leaves half of it at the client, and remembers the last `id:` of a complete event (for
/// `upstream_resume`: the reconnect's `Last-Event-ID`).
///
/// Follows WHATWG HTML §9.2.5 "Parsing an event stream" and §9.2.6 "Interpreting an event stream": lines end with
/// LF, CR or CRLF (a CRLF may be split across reads), a blank line dispatches, a line starting with `:` is a
/// comment, `id` sets the last event ID buffer unless its value contains U+0000, and one leading U+FEFF (EF BB BF)
/// is stripped by the client's decoder.
///
/// What is forwarded: every byte, in order, but only up to an *event boundary* — a point where the client's
/// parser stands between lines with no field line waiting for the blank line that dispatches it (the same,
/// conservative, notion as `SSEStreamTracker.isAtEventBoundary`: any non-comment line counts as a field). So a
/// blank line releases its event; a comment line between events is released when its line ends. Bytes after the
/// last boundary are *held*.
///
/// Limit: at most `maxHeldBytes` are held. An event larger than that is forwarded as it comes (pass-through) until
/// the next boundary, and the stream is not resumable meanwhile (`isResumable` false): cutting it would leave half
/// an event at the client.
///
/// On a break the shell calls `beginResumedStream()`: the held partial event is dropped, the line state returns
/// to the client's, and the next stream's leading BOM is stripped (it would no longer be first at the client).
/// No allocation per byte; memory is bounded by `maxHeldBytes` plus one read, and `maxInspectedLineBytes` per line.
/// Line ends and the leading BOM are decided by `SSELineMachine`, shared with `SSEStreamTracker` and `SSEEventReader`.
public struct SSEEventAssembler: Sendable {
    /// Where a line parser stands (§9.2.6).
    public typealias LinePosition = SSELinePosition

    /// What the stream said about the last event ID.
    public enum EventID: Sendable, Equatable {
        /// No `id` field in any complete event yet.
        case unset
        /// The last event ID buffer at the last dispatch (may be empty: `id` with no value resets it).
        case value([UInt8])
        /// An `id` line longer than `maxInspectedLineBytes`: its value is unknown, so resuming is impossible.
        case unreadable
    }

    /// The longest line prefix kept to classify a line (field name, `id` value). An `id` line longer than this
    /// makes the ID `unreadable`.
    public static let maxInspectedLineBytes = 1024

    private static let colon: UInt8 = 0x3A
    private static let space: UInt8 = 0x20

    /// Bytes held back at most before the stream passes through as-is.
    public let maxHeldBytes: Int
    /// Bytes after the last event boundary, not forwarded yet.
    private var held: [UInt8] = []
    /// The line parser's position after every byte seen, and the current upstream stream's leading-BOM decision.
    private var lines = SSELineMachine()
    /// The position at the last event boundary: where the client's parser stands.
    public private(set) var clientPosition: LinePosition = .lineStart
    /// Whether a field line came after the last blank line.
    private var fieldsPending = false
    /// The first bytes of the current line (up to `maxInspectedLineBytes`) and its full length.
    private var linePrefix: [UInt8] = []
    private var lineLength = 0
    /// The last event ID buffer as of the bytes seen (committed to `lastEventID` at each blank line).
    private var idBuffer: EventID = .unset
    /// The last event ID buffer at the last dispatch: what the client's last event ID string is.
    public private(set) var lastEventID: EventID = .unset
    /// Whether this upstream stream's leading BOM is dropped (resumed streams) or forwarded (the first).
    private var stripsByteOrderMark = false
    /// Whether any byte was forwarded yet: until then the client's decoder still strips a leading BOM itself.
    private var hasForwarded = false
    /// An event outgrew `maxHeldBytes`: bytes pass through until the next boundary.
    public private(set) var isPassingThrough = false
    /// How many times an event outgrew the limit.
    public private(set) var overflowCount = 0

    /// An assembler for the first upstream stream of a response (its leading BOM, if any, is forwarded).
    public init(maxHeldBytes: Int) {
        self.maxHeldBytes = max(1, maxHeldBytes)
        held.reserveCapacity(256)
    }

    /// Bytes held back now (a partial event, or a partial BOM).
    public var heldByteCount: Int { held.count + lines.heldByteCount }

    /// Whether a break now could be resumed without the client seeing half an event or a wrong position:
    /// not passing an oversized event through, and the last event ID is known.
    public var isResumable: Bool { !isPassingThrough && lastEventID != .unreadable }

    /// Whether the client stands between events (always true unless an oversized event is passing through).
    public var isAtEventBoundary: Bool { !isPassingThrough }

    /// Scans one read of upstream body bytes and passes on, in order, what may be forwarded now: everything up to
    /// the last event boundary (held bytes from earlier reads first). `emit` gets slices valid only during the call.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void) {
        guard bytes.count > 0 else { return }
        var emitted = false
        assemble(bytes) { slice in
            guard !slice.isEmpty else { return }
            emitted = true
            emit(slice)
        }
        if emitted { hasForwarded = true }
    }

    private mutating func assemble(_ bytes: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void) {
        var offset = 0
        switch lines.matchByteOrderMark(bytes) {
        case .decided:
            break
        case .held:
            return
        case .byteOrderMark(let end, _):
            // Held without scanning: the client's parser stays at the line start.
            offset = end
            if !stripsByteOrderMark { SSELineMachine.withByteOrderMarkPrefix(3) { held.append(contentsOf: $0) } }
        case .notByteOrderMark(let released):
            // Not a BOM: the bytes matched so far (from earlier reads and this one) are content.
            SSELineMachine.withByteOrderMarkPrefix(released) { scanOwned($0) }
        }
        guard offset < bytes.count else { return }
        let body = UnsafeRawBufferPointer(rebasing: bytes[offset...])
        let boundaryEnd = scan(body)
        if isPassingThrough {
            // Still inside an oversized event: everything goes now.
            flushHeld(emit)
            emit(body)
            return
        }
        if let boundaryEnd {
            flushHeld(emit)
            emit(UnsafeRawBufferPointer(rebasing: body[0..<boundaryEnd]))
            held.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[boundaryEnd...]))
        } else {
            held.append(contentsOf: body)
        }
        if held.count > maxHeldBytes {
            overflowCount += 1
            isPassingThrough = true
            flushHeld(emit)
        }
    }

    /// The clean end of the upstream stream: the bytes still held (a partial event, which the client discards at
    /// the end of the stream anyway, or a partial BOM), to forward before the response ends.
    public mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        SSELineMachine.withByteOrderMarkPrefix(lines.finishByteOrderMark()) { scanOwned($0) }
        swap(&out, &held)
        return out
    }

    /// The upstream stream broke and a new one follows: drops the held partial event (the client never saw it),
    /// returns the parser to the client's state, and strips the new stream's leading BOM (once the client has
    /// received bytes: a BOM would no longer be first there).
    ///
    /// Returns bytes to forward first: an LF when the client stands just after a CR (it swallows that LF as the
    /// CR's partner, and then stands at a line start, so the new stream's first byte, even an LF, counts as the
    /// stream meant it). Call only when `isResumable`.
    public mutating func beginResumedStream() -> [UInt8] {
        held.removeAll(keepingCapacity: true)
        linePrefix.removeAll(keepingCapacity: true)
        lineLength = 0
        fieldsPending = false
        idBuffer = lastEventID
        isPassingThrough = false
        // Before the client got any byte, its decoder strips the new stream's leading BOM itself (or the tracker
        // drops it after an injection); stripping it here too would expose a second BOM as content.
        stripsByteOrderMark = hasForwarded
        let realign: [UInt8] = clientPosition == .afterCarriageReturn ? [SSELineEndScanner.lineFeed] : []
        lines = SSELineMachine()
        clientPosition = .lineStart
        return realign
    }

    /// Scans bytes that are content but do not come from the current read (a BOM prefix that was not one):
    /// they are appended to `held` and released with the next boundary.
    private mutating func scanOwned(_ bytes: UnsafeRawBufferPointer) {
        _ = scan(bytes)
        held.append(contentsOf: bytes)
    }

    private mutating func flushHeld(_ emit: (UnsafeRawBufferPointer) -> Void) {
        guard !held.isEmpty else { return }
        held.withUnsafeBytes { emit($0) }
        held.removeAll(keepingCapacity: true)
    }

    /// Advances the line state over `bytes`; returns the offset just past the last line end after which the client
    /// would stand at an event boundary, or nil when there is none in `bytes`.
    private mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        var boundaryEnd: Int?
        var offset = 0
        while offset < bytes.count {
            switch lines.next(in: base, from: offset, to: bytes.count) {
            case .lineContinues(let content, _):
                inspect(UnsafeRawBufferPointer(rebasing: bytes[content]))
                offset = content.upperBound
                continue
            case .lineEnd(let content, _):
                inspect(UnsafeRawBufferPointer(rebasing: bytes[content]))
                endLine()
                offset = content.upperBound + 1
            case .blankLine:
                endLine()
                offset += 1
            case .lineFeedAfterCarriageReturn:
                offset += 1
            }
            if atBoundary() { boundaryEnd = offset }
        }
        return boundaryEnd
    }

    /// Counts bytes of the current line, keeping the first `maxInspectedLineBytes` of it.
    private mutating func inspect(_ content: UnsafeRawBufferPointer) {
        let kept = min(content.count, Self.maxInspectedLineBytes - linePrefix.count)
        if kept > 0 { linePrefix.append(contentsOf: UnsafeRawBufferPointer(rebasing: content[0..<kept])) }
        lineLength += content.count
    }

    /// Whether the client would stand at an event boundary after the line end just scanned; if so, records its
    /// position there and ends a pass-through.
    private mutating func atBoundary() -> Bool {
        guard !fieldsPending else { return false }
        clientPosition = lines.position
        isPassingThrough = false
        return true
    }

    /// §9.2.6: processes the line that just ended.
    private mutating func endLine() {
        defer {
            linePrefix.removeAll(keepingCapacity: true)
            lineLength = 0
        }
        guard lineLength > 0 else {
            // A blank line dispatches: the client's last event ID string becomes the buffer.
            fieldsPending = false
            lastEventID = idBuffer
            return
        }
        guard linePrefix[0] != Self.colon else { return }
        fieldsPending = true
        guard linePrefix.count >= 2, linePrefix[0] == 0x69, linePrefix[1] == 0x64 else { return }  // "id"
        if linePrefix.count == 2 && lineLength == 2 {
            idBuffer = .value([])
            return
        }
        guard linePrefix.count >= 3, linePrefix[2] == Self.colon else { return }  // "idx: ..." is another field
        guard lineLength == linePrefix.count else {
            idBuffer = .unreadable
            return
        }
        var value = linePrefix[3...]
        if value.first == Self.space { value = value.dropFirst() }
        if value.contains(0) { return }
        idBuffer = .value(Array(value))
    }
}

/// The one place that splits an event stream into lines and decides its leading byte-order mark, for every piece
/// of the core that follows SSE lines (`SSEStreamTracker`, `SSEEventAssembler`, `SSEEventReader`).
///
/// The rules (WHATWG HTML §9.2.5 "Parsing an event stream", §9.2.6 "Interpreting an event stream"):
/// - a line ends with CRLF, a lone LF or a lone CR; a CR followed by an LF is one line end, even when the LF comes
///   in a later read (`SSELinePosition.afterCarriageReturn` remembers the CR);
/// - one U+FEFF (UTF-8 EF BB BF) at the very start of the stream is stripped by the client's UTF-8 decode; it may
///   arrive split across reads, so up to two leading bytes are held until a later read decides them. A BOM
///   anywhere else is content.
///
/// The machine only classifies; what is forwarded, held or dropped is the caller's decision. It holds O(1) state
/// and never allocates. `next(in:from:to:)` returns a whole run of line content at once, found eight bytes at a
/// time by `SSELineEndScanner`, so a caller's cost per byte is that of the scan. Calls are `@inline(__always)`:
/// callers loop over them on every forwarded byte.
struct SSELineMachine: Sendable {
    /// What `next(in:from:to:)` found from the offset it was given: a blank line, the rest of the current line as
    /// far as the read goes, or the LF of a split CRLF. `startsLine` says whether `content` begins its line (the
    /// position was not `midLine`).
    enum Step: Sendable, Equatable {
        /// A CR or an LF at the start of a line: an empty line, which dispatches the event (§9.2.6). One byte;
        /// the position is now `afterCarriageReturn` (CR) or `lineStart` (LF).
        case blankLine
        /// The line's bytes at `content` (no CR, no LF; not empty when `startsLine`, since that is `blankLine`),
        /// then its line end, a CR or an LF, at `content.upperBound`. The caller continues at
        /// `content.upperBound + 1`; the position is now `afterCarriageReturn` (CR) or `lineStart` (LF).
        case lineEnd(content: Range<Int>, startsLine: Bool)
        /// The line's bytes at `content` (at least one; no CR, no LF) up to the end of the read: the line goes on
        /// in the next read. The position is now `midLine`.
        case lineContinues(content: Range<Int>, startsLine: Bool)
        /// An LF right after a CR: the second half of a CRLF whose line already ended. One byte, no new line; the
        /// position is now `lineStart`.
        case lineFeedAfterCarriageReturn
    }

    /// The leading-BOM decision of a stream.
    enum StreamStart: Sendable, Equatable {
        /// No byte of the stream was decided yet; `heldBytes` (0, 1 or 2) leading bytes match EF BB BF so far.
        case undecided(heldBytes: Int)
        /// The leading BOM, if any, was found or ruled out; every further byte is content.
        case decided
    }

    /// What `matchByteOrderMark(_:)` made of the start of one read.
    enum ByteOrderMarkMatch: Sendable, Equatable {
        /// Decided by an earlier read: the whole read is content.
        case decided
        /// Every byte of the read continued a BOM prefix (also said of an empty read): the machine holds them
        /// (`heldByteCount`); nothing of the read is content yet.
        case held
        /// A complete leading BOM, ending at offset `end` of this read; `heldBefore` of its bytes came in earlier
        /// reads. The read's content starts at `end`.
        case byteOrderMark(end: Int, heldBefore: Int)
        /// Not a BOM: the `released` bytes held from earlier reads (the first bytes of EF BB BF, see
        /// `withByteOrderMarkPrefix(_:_:)`) are content, followed by the whole read from its first byte.
        case notByteOrderMark(released: Int)
    }

    /// The UTF-8 encoding of U+FEFF BYTE ORDER MARK.
    static let byteOrderMark: (UInt8, UInt8, UInt8) = (0xEF, 0xBB, 0xBF)

    /// Where the line parser stands after every byte passed to `next(in:from:to:)`.
    private(set) var position: SSELinePosition = .lineStart
    /// The leading-BOM decision.
    private(set) var streamStart: StreamStart = .undecided(heldBytes: 0)

    /// A machine for a new stream, before its first byte: at a line start, BOM undecided.
    init() {}

    /// How many leading bytes of a possible BOM are held (0, 1 or 2).
    var heldByteCount: Int {
        if case .undecided(let held) = streamStart { return held }
        return 0
    }

    /// Reads the bytes from `offset` in `base[offset..<end]` up to and including the next line end, or to `end`,
    /// and advances the position past them (§9.2.5). One call per line, however long: the line's bytes are
    /// skipped by `SSELineEndScanner` eight at a time.
    ///
    /// `offset < end` is required. `base` must be readable for `end` bytes and is only read during the call. Feed
    /// bytes only after `matchByteOrderMark(_:)` has declared them content.
    @inline(__always)
    mutating func next(in base: UnsafeRawPointer, from offset: Int, to end: Int) -> Step {
        let startsLine = position != .midLine
        var scanStart = offset
        if startsLine {
            // The first byte of a line is looked at alone: a blank line then costs no word scan.
            let first = base.load(fromByteOffset: offset, as: UInt8.self)
            if first == SSELineEndScanner.lineFeed {
                defer { position = .lineStart }
                return position == .lineStart ? .blankLine : .lineFeedAfterCarriageReturn
            }
            if first == SSELineEndScanner.carriageReturn {
                position = .afterCarriageReturn
                return .blankLine
            }
            scanStart = offset &+ 1
        }
        let stop = SSELineEndScanner.firstLineEnd(in: base, from: scanStart, to: end)
        guard stop < end else {
            position = .midLine
            return .lineContinues(content: Range(uncheckedBounds: (offset, end)), startsLine: startsLine)
        }
        let isLineFeed = base.load(fromByteOffset: stop, as: UInt8.self) == SSELineEndScanner.lineFeed
        position = isLineFeed ? .lineStart : .afterCarriageReturn
        return .lineEnd(content: Range(uncheckedBounds: (offset, stop)), startsLine: startsLine)
    }

    /// Matches the first bytes of one read against a leading BOM while the stream's start is undecided (§9.2.6:
    /// only a U+FEFF that is the first thing in the stream is stripped). Call once per read, before `next`.
    @inline(__always)
    mutating func matchByteOrderMark(_ bytes: UnsafeRawBufferPointer) -> ByteOrderMarkMatch {
        guard case .undecided(let held) = streamStart else { return .decided }
        var matched = held
        var offset = 0
        while matched < 3, offset < bytes.count, bytes[offset] == Self.byteOrderMarkByte(matched) {
            matched &+= 1
            offset &+= 1
        }
        if matched == 3 {
            streamStart = .decided
            return .byteOrderMark(end: offset, heldBefore: held)
        }
        if offset == bytes.count {
            streamStart = .undecided(heldBytes: matched)
            return .held
        }
        streamStart = .decided
        return .notByteOrderMark(released: held)
    }

    /// The end of the stream: the held bytes of a possible BOM, if any, turned out to be content. Returns how many
    /// (0, 1 or 2; see `withByteOrderMarkPrefix(_:_:)`) and decides the stream start.
    mutating func finishByteOrderMark() -> Int {
        let held = heldByteCount
        streamStart = .decided
        return held
    }

    /// Calls `body` with the first `count` bytes of EF BB BF (static storage, valid only during the call): the
    /// bytes a `ByteOrderMarkMatch` reports as held before or released. Does nothing when `count` is 0.
    @inline(__always)
    static func withByteOrderMarkPrefix<Failure: Error>(
        _ count: Int, _ body: (UnsafeRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure) {
        guard count > 0 else { return }
        try withUnsafeBytes(of: byteOrderMark) { (raw) throws(Failure) in
            try body(UnsafeRawBufferPointer(rebasing: raw[0..<min(count, 3)]))
        }
    }

    @inline(__always)
    private static func byteOrderMarkByte(_ index: Int) -> UInt8 {
        switch index {
        case 0: return byteOrderMark.0
        case 1: return byteOrderMark.1
        default: return byteOrderMark.2
        }
    }
}

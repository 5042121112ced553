/// One non-blank line of an event stream being read in pieces, classified by its field name (WHATWG HTML §9.2.6
/// "Interpreting an event stream") as soon as that name is known, so that a caller can pass the rest of the line on
/// without holding it.
///
/// The rules: a line starting with `:` is a comment; otherwise the field name is everything before the first `:`,
/// or the whole line when there is none. Names are compared byte for byte (`Data`, ` data` and `data ` are other
/// fields). No known name is longer than five bytes, so at most six bytes are held to classify a line. An `id`
/// line's bytes are kept whole (`keep(_:limit:)`, up to a limit) to read its value.
///
/// The caller feeds line content only (no CR, no LF; `SSELineMachine` finds the line ends) and calls `reset()` after
/// each line end. No allocation once `bytes` has grown.
struct SSEFieldLine: Sendable {
    /// What the line is, by its field name.
    enum Kind: Sendable, Equatable {
        /// `:` first: ignored by the client.
        case comment
        /// `data`: appends to the data buffer; an event with one dispatches.
        case data
        /// `event`: sets the event type buffer.
        case event
        /// `id`: sets the last event ID buffer unless the value holds U+0000.
        case id
        /// `retry`: sets the reconnection time when the value is ASCII digits.
        case retry
        /// Any other name: ignored by the client.
        case other
    }

    /// What an `id` line does to the last event ID buffer.
    enum IDValue: Sendable, Equatable {
        /// The value holds U+0000: the line is ignored.
        case ignored
        /// The buffer becomes `bytes[range]` (possibly empty).
        case value(Range<Int>)
        /// The value is longer than the limit: what it is, is not known.
        case unreadable
    }

    /// The longest field name told apart (`event`, `retry`).
    private static let longestKnownName = 5
    private static let colon: UInt8 = 0x3A
    private static let space: UInt8 = 0x20

    /// The line's kind once known; nil while its first bytes could still start several.
    private(set) var kind: Kind?
    /// The line's first bytes read while classifying (moved on by the caller after classification), and all of an
    /// `id` line's bytes up to the limit given to `keep(_:limit:)`.
    var bytes: [UInt8] = []
    /// Whether an `id` line had more bytes than were kept.
    private var truncated = false
    /// Whether the bytes of an `id` line that were not kept held U+0000.
    private var droppedNUL = false

    /// An empty line state.
    init() {
        bytes.reserveCapacity(16)
    }

    /// Reads line content while the kind is unknown; returns how many bytes of `content` went into `bytes` (all of
    /// them while the kind stays unknown). Call only while `kind` is nil.
    mutating func classify(_ content: UnsafeRawBufferPointer) -> Int {
        for (index, byte) in content.enumerated() {
            if bytes.isEmpty && byte == Self.colon {
                bytes.append(byte)
                kind = .comment
                return index + 1
            }
            if byte == Self.colon {
                kind = Self.kind(ofName: bytes)
                bytes.append(byte)
                return index + 1
            }
            bytes.append(byte)
            if bytes.count > Self.longestKnownName {
                kind = .other
                return index + 1
            }
        }
        return content.count
    }

    /// The line ended while its kind was unknown: the whole line is the field name (no `:` in it).
    mutating func classifyWholeLine() {
        guard kind == nil else { return }
        kind = bytes.isEmpty ? .other : Self.kind(ofName: bytes)
    }

    /// Keeps more of an `id` line, up to `limit` value bytes (plus `id: `); the rest only marks it truncated.
    mutating func keep(_ content: UnsafeRawBufferPointer, limit: Int) {
        let kept = min(max(0, limit + 4 - bytes.count), content.count)
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: content[0..<kept]))
        guard kept < content.count else { return }
        truncated = true
        if content[kept...].contains(0) { droppedNUL = true }
    }

    /// §9.2.6, the `id` field: the value after `id:` and one optional space, or empty for a bare `id`.
    func idValue(limit: Int) -> IDValue {
        var start = bytes.count
        if bytes.count > 2 {
            start = 3
            if start < bytes.count && bytes[start] == Self.space { start += 1 }
        }
        if droppedNUL || bytes[start...].contains(0) { return .ignored }
        if truncated || bytes.count - start > limit { return .unreadable }
        return .value(start..<bytes.count)
    }

    /// Whether the line starts with U+FEFF (EF BB BF): an unknown field here (names compare literally), which the
    /// client's decoder would strip instead were the line the first of a connection. Known once `kind` is.
    var startsWithByteOrderMark: Bool {
        bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF
    }

    /// Forgets the line that ended, keeping storage.
    mutating func reset() {
        kind = nil
        truncated = false
        droppedNUL = false
        bytes.removeAll(keepingCapacity: true)
    }

    private static func kind(ofName name: [UInt8]) -> Kind {
        switch name.count {
        case 2 where name[0] == 0x69 && name[1] == 0x64:
            return .id
        case 4 where name.elementsEqual("data".utf8):
            return .data
        case 5 where name.elementsEqual("event".utf8):
            return .event
        case 5 where name.elementsEqual("retry".utf8):
            return .retry
        default:
            return .other
        }
    }
}

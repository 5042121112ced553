/// One event dispatched by an event stream: its type (`message` when no `event:` field named one) and its data.
public struct SSEEvent: Sendable, Equatable {
    /// The `event:` field, or `message`.
    public var type: String
    /// The `data:` lines joined with LF.
    public var data: String

    /// Creates an event.
    public init(type: String, data: String) {
        self.type = type
        self.data = data
    }
}

/// An incremental reader of an event stream, as a client parses it (WHATWG HTML §9.2.6 "Interpreting an event
/// stream"): lines end with CRLF, LF or CR; a leading BOM is skipped; `:` starts a comment; `event` and `data`
/// are collected; an empty line dispatches the event when its data is not empty. `id` and `retry` are read and
/// ignored (the probe needs neither). Line ends and the leading BOM are decided by `SSELineMachine`, shared with the
/// proxy's `SSEStreamTracker` and `SSEEventAssembler`.
///
/// Limits: `maxLineBytes` per line (without its line end) and `maxDataBytes` of data per event; over either →
/// `SSEReadError`. Memory is bounded by them whatever the input.
public struct SSEEventReader: Sendable {
    /// Default for `maxLineBytes`.
    public static let defaultMaxLineBytes = 16 * 1024
    /// Default for `maxDataBytes`.
    public static let defaultMaxDataBytes = 64 * 1024

    /// The longest line accepted, in bytes without its line end.
    public let maxLineBytes: Int
    /// The most data bytes accepted in one event.
    public let maxDataBytes: Int

    private var line: [UInt8] = []
    /// Line ends (an LF right after a CR belongs to the same line end) and the leading BOM.
    private var lines = SSELineMachine()
    /// Bytes of the stream seen before this read, for error offsets.
    private var offset = 0
    private var eventType = ""
    private var data: [UInt8] = []
    private var hasData = false

    /// Creates a reader with the given limits.
    public init(maxLineBytes: Int = SSEEventReader.defaultMaxLineBytes,
                maxDataBytes: Int = SSEEventReader.defaultMaxDataBytes) {
        self.maxLineBytes = maxLineBytes
        self.maxDataBytes = maxDataBytes
    }

    /// Consumes all of `bytes` and returns the events they completed, in order. A partial line is kept for
    /// the next call. After an error the reader is spent: discard it.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(SSEReadError) -> [SSEEvent] {
        var events: [SSEEvent] = []
        defer { offset += bytes.count }
        switch lines.matchByteOrderMark(bytes) {
        case .decided:
            try read(bytes, streamOffset: offset, into: &events)
        case .held:
            break
        case .byteOrderMark(let end, _):
            try read(UnsafeRawBufferPointer(rebasing: bytes[end...]), streamOffset: offset + end, into: &events)
        case .notByteOrderMark(let released):
            // The held bytes were the stream's first: offsets 0 ..< released.
            try SSELineMachine.withByteOrderMarkPrefix(released) { (prefix) throws(SSEReadError) in
                try read(prefix, streamOffset: 0, into: &events)
            }
            try read(bytes, streamOffset: offset, into: &events)
        }
        return events
    }

    /// Reads content bytes (the BOM decided) that start at `streamOffset` in the stream, appending the events they
    /// complete.
    private mutating func read(_ bytes: UnsafeRawBufferPointer, streamOffset: Int,
                               into events: inout [SSEEvent]) throws(SSEReadError) {
        guard let base = bytes.baseAddress else { return }
        var index = 0
        while index < bytes.count {
            switch lines.next(in: base, from: index, to: bytes.count) {
            case .lineEnd(let content, _):
                try append(bytes, content, streamOffset: streamOffset)
                if let event = try endLine(at: streamOffset + content.upperBound) { events.append(event) }
                index = content.upperBound + 1
            case .blankLine:
                if let event = try endLine(at: streamOffset + index) { events.append(event) }
                index += 1
            case .lineContinues(let content, _):
                try append(bytes, content, streamOffset: streamOffset)
                index = content.upperBound
            case .lineFeedAfterCarriageReturn:
                index += 1
            }
        }
    }

    /// Adds `bytes[content]` to the current line, unless that makes it longer than `maxLineBytes`.
    private mutating func append(_ bytes: UnsafeRawBufferPointer, _ content: Range<Int>,
                                 streamOffset: Int) throws(SSEReadError) {
        guard line.count + content.count <= maxLineBytes else {
            throw SSEReadError.lineTooLong(offset: streamOffset + content.lowerBound + maxLineBytes - line.count)
        }
        line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[content]))
    }

    /// Processes the line that ended at stream offset `offset`; returns an event when it was an empty line ending
    /// one with data.
    private mutating func endLine(at offset: Int) throws(SSEReadError) -> SSEEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        guard !line.isEmpty else {
            defer { eventType = ""; data.removeAll(); hasData = false }
            guard hasData else { return nil }
            return SSEEvent(type: eventType.isEmpty ? "message" : eventType, data: String(decoding: data, as: UTF8.self))
        }
        if line[0] == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.count
        var valueStart = min(colon + 1, line.count)
        if valueStart < line.count && line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let name = line[..<colon]
        let value = line[valueStart...]
        if name.elementsEqual("event".utf8) {
            eventType = String(decoding: value, as: UTF8.self)
        } else if name.elementsEqual("data".utf8) {
            guard data.count + value.count + 1 <= maxDataBytes else { throw SSEReadError.eventTooLarge(offset: offset) }
            if hasData { data.append(SSELineEndScanner.lineFeed) }
            data += value
            hasData = true
        }
        return nil
    }
}

/// An event stream over the reader's limits.
public enum SSEReadError: Error, Sendable, Equatable {
    /// A line longer than `maxLineBytes`, at this stream offset.
    case lineTooLong(offset: Int)
    /// An event with more than `maxDataBytes` of data, at this stream offset.
    case eventTooLarge(offset: Int)
}

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
/// ignored (the probe needs neither).
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
    /// The previous byte was a CR: an LF right after it belongs to the same line end.
    private var afterCarriageReturn = false
    /// Bytes of the stream seen so far, for the BOM check and error offsets.
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
        for byte in bytes {
            defer { offset += 1 }
            if afterCarriageReturn {
                afterCarriageReturn = false
                if byte == SSELineEndScanner.lineFeed { continue }
            }
            switch byte {
            case SSELineEndScanner.lineFeed, SSELineEndScanner.carriageReturn:
                afterCarriageReturn = byte == SSELineEndScanner.carriageReturn
                if let event = try endLine() { events.append(event) }
            default:
                guard line.count < maxLineBytes else { throw SSEReadError.lineTooLong(offset: offset) }
                line.append(byte)
                if line.count == 3 && offset == 2 && line == [0xEF, 0xBB, 0xBF] { line.removeAll() }
            }
        }
        return events
    }

    /// Processes the line just ended; returns an event when it was an empty line ending one with data.
    private mutating func endLine() throws(SSEReadError) -> SSEEvent? {
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

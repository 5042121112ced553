/// A test-only event stream client that follows WHATWG HTML §9.2.5 "Parsing an event stream" and
/// §9.2.6 "Interpreting an event stream" literally, so tests can compare what a spec-compliant
/// client sees with and without the proxy's injected bytes.
///
/// - Decoding: the UTF-8 decode algorithm, which strips one leading BOM (EF BB BF) only when those
///   are the first three bytes of the stream. Lines are split on bytes (CR and LF never occur inside
///   a multi-byte sequence, and the decoder never consumes them as continuation bytes), then each
///   line is decoded with U+FFFD replacement; this equals decoding the whole stream first.
/// - Lines end with CRLF, lone LF or lone CR; a CR at the end of one chunk followed by an LF in the
///   next is one line end. A line is processed as soon as its end is seen.
/// - Per line: blank dispatches; leading `:` is a comment; otherwise the field name is everything
///   before the first `:` and the value everything after it, minus one leading U+0020; no colon
///   means the whole line is the name and the value is empty.
/// - Fields: `event` sets the event type buffer; `data` appends value + LF; `id` sets the last event
///   ID buffer unless the value contains U+0000; `retry` sets the reconnection time if the value is
///   only ASCII digits; anything else is ignored.
/// - Dispatch: set the last event ID string from the buffer (which is not reset); if the data buffer
///   is empty, clear data and type and stop; else strip one trailing LF, fire an event of type
///   `message` or the type buffer, with the last event ID string; clear data and type.
/// - End of stream: any pending data and an unterminated last line are discarded.
struct SpecEventStreamParser {
    /// One dispatched MessageEvent, as a page would observe it.
    struct Event: Equatable, CustomStringConvertible {
        var type: String
        var data: String
        var lastEventId: String

        var description: String { "\(type)|\(data.debugDescription)|id=\(lastEventId.debugDescription)" }

        /// Byte-exact equality (String's `==` would treat canonically equivalent text as equal).
        static func == (lhs: Event, rhs: Event) -> Bool {
            lhs.type.utf8.elementsEqual(rhs.type.utf8) && lhs.data.utf8.elementsEqual(rhs.data.utf8)
                && lhs.lastEventId.utf8.elementsEqual(rhs.lastEventId.utf8)
        }
    }

    /// Everything a page (or a reconnect) could observe, plus the buffers, for comparisons.
    struct Observation: Equatable, CustomStringConvertible {
        var events: [Event]
        var reconnectionTimes: [String]
        var lastEventIdString: String
        var dataBuffer: String
        var eventTypeBuffer: String
        var lastEventIdBuffer: String
        /// Blank lines processed. A compliant client ignores those that find an empty data buffer, but
        /// lax clients (httpx-sse 0.4.3, r3labs/sse) dispatch an empty event on each one once an `id:`
        /// was seen, so a proxy must never add one.
        var blankLines: Int

        var description: String {
            "events=\(events) retry=\(reconnectionTimes) lastEventId=\(lastEventIdString.debugDescription) "
                + "buffers(data=\(dataBuffer.debugDescription) type=\(eventTypeBuffer.debugDescription) "
                + "id=\(lastEventIdBuffer.debugDescription)) blankLines=\(blankLines)"
        }

        /// Byte-exact equality of every part.
        static func == (lhs: Observation, rhs: Observation) -> Bool {
            func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }
            return lhs.events == rhs.events && lhs.reconnectionTimes == rhs.reconnectionTimes
                && same(lhs.lastEventIdString, rhs.lastEventIdString) && same(lhs.dataBuffer, rhs.dataBuffer)
                && same(lhs.eventTypeBuffer, rhs.eventTypeBuffer) && same(lhs.lastEventIdBuffer, rhs.lastEventIdBuffer)
                && lhs.blankLines == rhs.blankLines
        }
    }

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Dispatched events, in order.
    private(set) var events: [Event] = []
    /// Every reconnection time set by a valid `retry` field, in order (ASCII digits, leading zeros
    /// removed, so arbitrarily large values compare exactly).
    private(set) var reconnectionTimes: [String] = []
    /// The EventSource's last event ID string (sent as `Last-Event-ID` on reconnect).
    private(set) var lastEventIdString: String
    private(set) var dataBuffer = ""
    private(set) var eventTypeBuffer = ""
    private(set) var lastEventIdBuffer = ""
    /// Blank lines processed so far (see `Observation.blankLines`).
    private(set) var blankLines = 0

    /// Leading bytes still being checked for a BOM; nil once decided.
    private var bomCheck: [UInt8]? = []
    /// Bytes of the current, unterminated line.
    private var line: [UInt8] = []
    /// The previous byte was a CR that ended a line: an LF now is its CRLF partner.
    private var swallowLineFeed = false
    /// Whether `finish()` was called.
    private(set) var isFinished = false

    /// A parser for a new stream. `lastEventIdString` is the EventSource's last event ID string
    /// carried from a previous connection (§9.2.3); the stream's last event ID buffer still starts
    /// empty (§9.2.6: "They must be initialized to the empty string").
    init(lastEventIdString: String = "") {
        self.lastEventIdString = lastEventIdString
    }

    /// Whether the client is at the start of a line: no partial line, no undecided BOM bytes.
    var isAtLineStart: Bool { line.isEmpty && (bomCheck?.isEmpty ?? true) }

    /// The observable state now.
    var observation: Observation {
        Observation(
            events: events, reconnectionTimes: reconnectionTimes, lastEventIdString: lastEventIdString,
            dataBuffer: dataBuffer, eventTypeBuffer: eventTypeBuffer, lastEventIdBuffer: lastEventIdBuffer,
            blankLines: blankLines)
    }

    /// Feeds the next bytes of the stream, in any split.
    mutating func feed<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        precondition(!isFinished, "feed after finish")
        for byte in bytes {
            if var pending = bomCheck {
                pending.append(byte)
                if pending == Self.byteOrderMark {
                    bomCheck = nil
                } else if Self.byteOrderMark.starts(with: pending) {
                    bomCheck = pending
                } else {
                    bomCheck = nil
                    for held in pending { consume(held) }
                }
                continue
            }
            consume(byte)
        }
    }

    /// Ends the stream: undecided BOM bytes are content; the partial line and pending event are
    /// discarded, as §9.2.6 requires.
    mutating func finish() {
        if let pending = bomCheck {
            bomCheck = nil
            for held in pending { consume(held) }
        }
        line.removeAll()
        dataBuffer = ""
        eventTypeBuffer = ""
        isFinished = true
    }

    private mutating func consume(_ byte: UInt8) {
        switch byte {
        case 0x0A:
            if swallowLineFeed {
                swallowLineFeed = false
            } else {
                endLine()
            }
        case 0x0D:
            endLine()
            swallowLineFeed = true
        default:
            swallowLineFeed = false
            line.append(byte)
        }
    }

    private mutating func endLine() {
        let text = String(decoding: line, as: UTF8.self)
        line.removeAll(keepingCapacity: true)
        process(line: text)
    }

    /// §9.2.6: "Lines must be processed, in the order they are received, as follows".
    mutating func process(line text: String) {
        if text.isEmpty {
            blankLines += 1
            dispatch()
        } else if text.unicodeScalars.first == ":" {
            return
        } else if let colon = text.unicodeScalars.firstIndex(of: ":") {
            let name = String(text.unicodeScalars[..<colon])
            var value = text.unicodeScalars[text.unicodeScalars.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
            processField(name: name, value: String(value))
        } else {
            processField(name: text, value: "")
        }
    }

    private mutating func processField(name: String, value: String) {
        // Field names are compared literally: compare scalars, not Characters (no normalization).
        switch Array(name.unicodeScalars) {
        case Array("event".unicodeScalars):
            eventTypeBuffer = value
        case Array("data".unicodeScalars):
            dataBuffer += value
            dataBuffer += "\n"
        case Array("id".unicodeScalars):
            if !value.unicodeScalars.contains("\u{0}") { lastEventIdBuffer = value }
        case Array("retry".unicodeScalars):
            let scalars = value.unicodeScalars
            if !scalars.isEmpty, scalars.allSatisfy({ $0.value >= 0x30 && $0.value <= 0x39 }) {
                let trimmed = String(scalars.drop(while: { $0 == "0" }))
                reconnectionTimes.append(trimmed.isEmpty ? "0" : trimmed)
            }
        default:
            break
        }
    }

    /// §9.2.6 "dispatch the event", for web browsers.
    private mutating func dispatch() {
        lastEventIdString = lastEventIdBuffer
        if dataBuffer.isEmpty {
            dataBuffer = ""
            eventTypeBuffer = ""
            return
        }
        var data = dataBuffer
        if data.unicodeScalars.last == "\n" { data.unicodeScalars.removeLast() }
        let type = eventTypeBuffer.isEmpty ? "message" : eventTypeBuffer
        events.append(Event(type: type, data: data, lastEventId: lastEventIdString))
        dataBuffer = ""
        eventTypeBuffer = ""
    }
}

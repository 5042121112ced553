// Fuzz target: SSEStreamTracker fed an upstream stream in fuzzer-chosen pieces, with heartbeats interleaved.
//
// Input: byte 0 flags (bit 0: a `retry:` preamble first, its value from bits 1-3; bit 4: the client carries a
// last event ID from an earlier connection); byte 1 mod 33 is the number K of operation bytes that follow: an
// operation byte with bit 7 set asks for a heartbeat (comment picked by bits 0-2), otherwise it forwards the next
// (byte & 0x7F) stream bytes (0: an empty read). The rest is the upstream stream; what the operations did not
// forward is forwarded at once, then one more heartbeat is asked for and the stream is finished.
//
// Checks: the forwarded bytes (emit slices plus `finish()`) equal the stream minus at most one leading BOM, and
// a BOM is dropped only after an injection; never more than 2 bytes held; a heartbeat is refused exactly when the
// client is mid-line; and a WHATWG event-stream client (below) observes the same events, last event ID string,
// reconnection times and buffers with and without the injections after every step.

private let comments = ["heartbeat", "", "a\rb\nc", "x: y", "keep-alive \u{2713}", "\r", "\n\n", "data: evil"]
private let retryValues = [0, 1500, 30_000, -5, 3, 1, 86_400_000, 250]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let input = fuzzBytes(data, size)
    let flags = input[0]
    let operationCount = min(Int(input[1]) % 33, input.count - 2)
    let operations = Array(input[2..<2 + operationCount])
    let upstream = Array(input[(2 + operationCount)...])
    let carried = flags & 0x10 != 0 ? "carried-7" : ""

    var original = SpecEventStreamParser(lastEventIdString: carried)
    var proxied = SpecEventStreamParser(lastEventIdString: carried)
    var tracker = SSEStreamTracker()
    var forwarded: [UInt8] = []
    var preambleRetry: [String] = []
    var injectedBeforeDecision = false
    var steps: [String] = []

    func fail(_ message: String) -> Never {
        invariantFailure("\(message)\n  upstream: \(escaped(upstream))\n  steps: \(steps.joined(separator: " "))")
    }
    func check(streamEnded: Bool = false) {
        var expected = original.observation
        expected.reconnectionTimes = preambleRetry + expected.reconnectionTimes
        let actual = proxied.observation
        if actual != expected { fail("client state differs\n  without proxy: \(expected)\n  with proxy:    \(actual)") }
        if !streamEnded && tracker.isAtSafePoint != proxied.isAtLineStart {
            fail("isAtSafePoint \(tracker.isAtSafePoint) but client at line start \(proxied.isAtLineStart)")
        }
        if tracker.heldByteCount < 0 || tracker.heldByteCount > 2 { fail("\(tracker.heldByteCount) bytes held") }
    }
    func heartbeat(_ selector: Int) {
        let clientAtLineStart = proxied.isAtLineStart
        let comment = comments[selector % comments.count]
        let injected = tracker.heartbeat(comment: comment)
        steps.append(injected == nil ? "hb(refused)" : "hb\(escaped(injected!))")
        if (injected != nil) != clientAtLineStart {
            fail("heartbeat \(injected == nil ? "refused" : "given") but client at line start \(clientAtLineStart)")
        }
        guard let bytes = injected else { return }
        if tracker.heldByteCount > 0 || forwarded.isEmpty { injectedBeforeDecision = true }
        proxied.feed(bytes)
        check()
    }
    func forward(_ chunk: ArraySlice<UInt8>) {
        steps.append("read(\(chunk.count))")
        original.feed(chunk)
        chunk.withUnsafeBytes { raw in
            tracker.forward(raw) { slice in
                forwarded.append(contentsOf: slice)
                proxied.feed(slice)
            }
        }
        check()
    }

    if flags & 1 != 0 {
        let milliseconds = retryValues[Int(flags >> 1 & 7)]
        let preamble = tracker.retryPreamble(milliseconds: milliseconds)
        steps.append("retry\(escaped(preamble))")
        proxied.feed(preamble)
        preambleRetry = [String(max(0, milliseconds))]
        injectedBeforeDecision = true
    }
    check()

    var offset = 0
    for operation in operations {
        if operation & 0x80 != 0 {
            heartbeat(Int(operation & 0x7F))
        } else {
            let end = min(upstream.count, offset + Int(operation))
            forward(upstream[offset..<end])
            offset = end
        }
    }
    if offset < upstream.count { forward(upstream[offset...]) }
    heartbeat(0)

    let flushed = tracker.finish()
    steps.append("finish\(escaped(flushed))")
    forwarded += flushed
    proxied.feed(flushed)
    original.finish()
    proxied.finish()
    check(streamEnded: true)
    require(tracker.heldByteCount == 0, "\(tracker.heldByteCount) bytes held after finish")

    // No upstream byte lost, duplicated or reordered; only a leading BOM, and only after an injection.
    let startsWithBOM = upstream.starts(with: [0xEF, 0xBB, 0xBF])
    if tracker.droppedByteOrderMark {
        require(startsWithBOM && injectedBeforeDecision, "BOM dropped without cause: \(escaped(upstream))")
        require(forwarded.elementsEqual(upstream.dropFirst(3)),
                "forwarded \(escaped(forwarded)) is not upstream minus its BOM \(escaped(upstream))")
    } else {
        require(forwarded == upstream, "forwarded \(escaped(forwarded)) differs from upstream \(escaped(upstream))")
    }
    return 0
}

/// An event stream client following WHATWG HTML §9.2.5-§9.2.6 literally (the same model as the test suite's
/// `SpecEventStreamParser`): UTF-8 decode stripping one leading BOM, lines ended by CRLF, LF or CR, fields
/// `event`, `data`, `id` (unless it holds NUL) and `retry` (ASCII digits only), dispatch on a blank line; at the
/// end of the stream the partial line and pending event are discarded.
struct SpecEventStreamParser {
    struct Event: Equatable, CustomStringConvertible {
        var type: String
        var data: String
        var lastEventId: String

        var description: String { "\(type)|\(data.debugDescription)|id=\(lastEventId.debugDescription)" }

        static func == (lhs: Event, rhs: Event) -> Bool {
            sameBytes(lhs.type, rhs.type) && sameBytes(lhs.data, rhs.data) && sameBytes(lhs.lastEventId, rhs.lastEventId)
        }
    }

    struct Observation: Equatable, CustomStringConvertible {
        var events: [Event]
        var reconnectionTimes: [String]
        var lastEventIdString: String
        var dataBuffer: String
        var eventTypeBuffer: String
        var lastEventIdBuffer: String

        var description: String {
            "events=\(events) retry=\(reconnectionTimes) lastEventId=\(lastEventIdString.debugDescription) "
                + "buffers(data=\(dataBuffer.debugDescription) type=\(eventTypeBuffer.debugDescription) "
                + "id=\(lastEventIdBuffer.debugDescription))"
        }

        static func == (lhs: Observation, rhs: Observation) -> Bool {
            lhs.events == rhs.events && lhs.reconnectionTimes == rhs.reconnectionTimes
                && sameBytes(lhs.lastEventIdString, rhs.lastEventIdString) && sameBytes(lhs.dataBuffer, rhs.dataBuffer)
                && sameBytes(lhs.eventTypeBuffer, rhs.eventTypeBuffer)
                && sameBytes(lhs.lastEventIdBuffer, rhs.lastEventIdBuffer)
        }
    }

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    private(set) var events: [Event] = []
    private(set) var reconnectionTimes: [String] = []
    private(set) var lastEventIdString: String
    private var dataBuffer = ""
    private var eventTypeBuffer = ""
    private var lastEventIdBuffer = ""
    /// Leading bytes still being checked for a BOM; nil once decided.
    private var bomCheck: [UInt8]? = []
    private var line: [UInt8] = []
    /// The previous byte was a CR: an LF now is its partner.
    private var swallowLineFeed = false

    init(lastEventIdString: String) {
        self.lastEventIdString = lastEventIdString
    }

    /// No partial line and no undecided BOM bytes.
    var isAtLineStart: Bool { line.isEmpty && (bomCheck?.isEmpty ?? true) }

    var observation: Observation {
        Observation(
            events: events, reconnectionTimes: reconnectionTimes, lastEventIdString: lastEventIdString,
            dataBuffer: dataBuffer, eventTypeBuffer: eventTypeBuffer, lastEventIdBuffer: lastEventIdBuffer)
    }

    mutating func feed<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
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

    mutating func finish() {
        if let pending = bomCheck {
            bomCheck = nil
            for held in pending { consume(held) }
        }
        line.removeAll()
        dataBuffer = ""
        eventTypeBuffer = ""
    }

    private mutating func consume(_ byte: UInt8) {
        switch byte {
        case 0x0A:
            if swallowLineFeed { swallowLineFeed = false } else { endLine() }
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
        if text.isEmpty {
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

    private mutating func dispatch() {
        lastEventIdString = lastEventIdBuffer
        if dataBuffer.isEmpty {
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

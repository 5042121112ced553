import Testing
@testable import SSEKeeperCore

/// Feeds probe responses three ways (whole, one byte at a time, with trailing bytes) and expects the same events.
struct ProbeResponseReaderTests {
    enum Outcome: Equatable {
        case events([ProbeStreamEvent])
        case failed(ProbeResponseError)
    }

    static func read(_ bytes: [UInt8], pieceSize: Int) -> Outcome {
        var reader = ProbeResponseReader()
        var events: [ProbeStreamEvent] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + pieceSize)
            do throws(ProbeResponseError) {
                events += try bytes[offset..<end].withUnsafeBytes { piece in
                    Result { () throws(ProbeResponseError) in try reader.feed(piece) }
                }.get()
            } catch {
                return .failed(error)
            }
            offset = end
        }
        return .events(events)
    }

    /// The outcome of `text`, checked to be the same fed whole and byte by byte, and, when the response ends
    /// by its framing (`framed`) or fails, followed by trailing bytes (another event, garbage).
    static func threeWays(_ text: String, framed: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) -> Outcome {
        let bytes = Array(text.utf8)
        let whole = read(bytes, pieceSize: max(1, bytes.count))
        #expect(read(bytes, pieceSize: 1) == whole, "byte by byte differs", sourceLocation: sourceLocation)
        if case .failed = whole {} else if !framed { return whole }
        let trailing = bytes + Array("event: probe-end\ndata: x\n\nGARBAGE\r\n".utf8)
        #expect(read(trailing, pieceSize: trailing.count) == whole, "trailing bytes differ", sourceLocation: sourceLocation)
        return whole
    }

    static let start = "event: probe-start\ndata: {\"server_time_ms\": 1700000000000, \"silence_ms\": 1500}\n\n"
    static let end = "event: probe-end\ndata: {\"server_time_ms\": 1700000001500, \"silent_ms\": 1500}\n\n"

    static func chunked(_ parts: [String]) -> String {
        parts.map { String($0.utf8.count, radix: 16) + "\r\n" + $0 + "\r\n" }.joined() + "0\r\n\r\n"
    }

    @Test func aChunkedProbe_givesStartedThenEnded() {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            + Self.chunked([Self.start, Self.end])
        #expect(Self.threeWays(text, framed: true) == .events([.started(silence: .milliseconds(1500), serverTimeMillis: 1_700_000_000_000), .ended]))
    }

    @Test func aBusyPhase_isNamedInTheStart_andItsCommentsAreNoEvents() {
        let start = String(decoding: ProbeResponse.startEvent(serverTimeMillis: 7, silenceMillis: 1500, busyMillis: 750), as: UTF8.self)
        let ticks = String(repeating: String(decoding: ProbeResponse.busyTick, as: UTF8.self), count: 3)
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            + Self.chunked([start, ticks, Self.end])
        #expect(Self.threeWays(text, framed: true)
            == .events([.started(silence: .milliseconds(1500), serverTimeMillis: 7, busy: .milliseconds(750)), .ended]))
    }

    @Test func aCloseDelimitedProbe_withCRLFLinesAndInterimHead_givesTheSameEvents() {
        let text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\ncontent-type: Text/Event-Stream; charset=utf-8\r\n\r\n"
            + Self.start.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n") + ": a comment\r" + Self.end
        #expect(Self.threeWays(text) == .events([.started(silence: .milliseconds(1500), serverTimeMillis: 1_700_000_000_000), .ended]))
    }

    @Test func aContentLengthProbe_stopsAtItsLength() {
        let body = "\u{FEFF}" + Self.start + Self.end
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        #expect(Self.threeWays(text, framed: true) == .events([.started(silence: .milliseconds(1500), serverTimeMillis: 1_700_000_000_000), .ended]))
    }

    @Test func bytesAfterTheContentLength_areNotRead() {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: \(Self.start.utf8.count)\r\n\r\n"
            + Self.start
        #expect(Self.threeWays(text, framed: true) == .events([.started(silence: .milliseconds(1500), serverTimeMillis: 1_700_000_000_000)]))
    }

    @Test func aProbeCutDuringItsSilence_hasStartedOnly() {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            + String(Self.start.utf8.count, radix: 16) + "\r\n" + Self.start + "\r\n"
        #expect(Self.threeWays(text) == .events([.started(silence: .milliseconds(1500), serverTimeMillis: 1_700_000_000_000)]))
    }

    @Test func aNotFound_isAStatusError() {
        let text = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        #expect(Self.threeWays(text) == .failed(.status(404, reason: "Not Found", location: nil)))
    }

    @Test func aRedirect_carriesItsLocation() {
        let text = "HTTP/1.1 301 Moved Permanently\r\nLocation: https://h/p\r\n\r\n"
        #expect(Self.threeWays(text) == .failed(.status(301, reason: "Moved Permanently", location: "https://h/p")))
    }

    @Test func aGatewayTimeout_isAStatusError() {
        let text = "HTTP/1.1 504 Gateway Time-out\r\nContent-Type: text/html\r\n\r\n<html>"
        #expect(Self.threeWays(text) == .failed(.status(504, reason: "Gateway Time-out", location: nil)))
    }

    @Test func anHTMLPage_isNotAnEventStream() {
        #expect(Self.threeWays("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>")
            == .failed(.notEventStream(contentType: "text/html")))
        #expect(Self.threeWays("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi") == .failed(.notEventStream(contentType: nil)))
    }

    @Test func anEventStreamStartingWithAnotherEvent_isNotAProbe() {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n: hi\n\ndata: hello\n\n"
        #expect(Self.threeWays(text) == .failed(.notProbe(firstEvent: "message")))
    }

    @Test func aProbeStartWithoutSilence_isMalformed() {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\nevent: probe-start\ndata: {}\n\n"
        #expect(Self.threeWays(text) == .failed(.malformed("probe-start without silence_ms")))
    }

    @Test func aBrokenHead_isMalformed() {
        guard case .failed(.malformed(let detail)) = Self.threeWays("HTTP/1.1 2OO OK\r\n\r\n") else {
            Issue.record("a broken status line was accepted")
            return
        }
        #expect(detail.hasPrefix("bad response head"))
    }

    @Test func anEndlessEventLine_hitsTheLineLimit() {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: "
            + String(repeating: "x", count: SSEEventReader.defaultMaxLineBytes)
        guard case .failed(.malformed(let detail)) = Self.threeWays(text) else {
            Issue.record("an over-long line was accepted")
            return
        }
        #expect(detail.contains("lineTooLong"))
    }

    @Test func integerField_readsOnlyPlainIntegers() {
        #expect(ProbeResponseReader.integerField("silence_ms", in: "{\"silence_ms\": 90000}") == 90000)
        #expect(ProbeResponseReader.integerField("silence_ms", in: "{\"silence_ms\":5}") == 5)
        #expect(ProbeResponseReader.integerField("silence_ms", in: "{\"silence_ms\": -5}") == nil)
        #expect(ProbeResponseReader.integerField("silence_ms", in: "{\"silence_ms\": 9999999999999999}") == nil)
        #expect(ProbeResponseReader.integerField("silence_ms", in: "{\"other\": 5}") == nil)
    }
}

struct SSEEventReaderTests {
    static func events(_ text: String, pieceSize: Int, reader: SSEEventReader = SSEEventReader()) -> [SSEEvent]? {
        var reader = reader
        let bytes = Array(text.utf8)
        var events: [SSEEvent] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + pieceSize)
            guard let found = bytes[offset..<end].withUnsafeBytes({ try? reader.feed($0) }) else { return nil }
            events += found
            offset = end
        }
        return events
    }

    @Test func lineEnds_LF_CR_CRLF_areAllLineEnds_evenSplitBetweenPieces() {
        let text = "event: a\r\ndata: 1\rdata: 2\n\r\nevent: b\ndata\n\n: comment\n\nid: 7\nretry: 5\n\n"
        let expected = [SSEEvent(type: "a", data: "1\n2"), SSEEvent(type: "b", data: "")]
        #expect(Self.events(text, pieceSize: text.utf8.count) == expected)
        #expect(Self.events(text, pieceSize: 1) == expected)
        #expect(Self.events(text + "data: unfinished", pieceSize: 3) == expected)
    }

    @Test func aLeadingBOM_isSkipped_onlyAtTheStart() {
        #expect(Self.events("\u{FEFF}data: x\n\n", pieceSize: 1) == [SSEEvent(type: "message", data: "x")])
        #expect(Self.events("data: x\n\n\u{FEFF}data: y\n\n", pieceSize: 1) == [SSEEvent(type: "message", data: "x")])
    }

    @Test func anEventOverTheDataLimit_fails() {
        let reader = SSEEventReader(maxLineBytes: 100, maxDataBytes: 10)
        #expect(Self.events("data: 12345\ndata: 67890\n\n", pieceSize: 4, reader: reader) == nil)
        #expect(Self.events("data: 1234\n\n", pieceSize: 4, reader: reader) == [SSEEvent(type: "message", data: "1234")])
    }
}

import Testing
@testable import SSEKeeperCore

/// Builds what an HTTP/2 client sends, with its own HPACK encoder (RFC 7541) and `HTTP2FrameWriter`.
struct HTTP2TestClient {
    var encoder = HPACKEncoder()
    var bytes: [UInt8] = []

    /// The connection preface and a SETTINGS frame (RFC 9113 §3.4).
    mutating func preface(_ settings: [HTTP2Setting] = []) {
        bytes += HTTP2FrameParser.clientPreface
        HTTP2FrameWriter.appendSettings(settings, to: &bytes)
    }

    /// A request head as HEADERS (and CONTINUATIONs past `maxFrameSize`).
    mutating func headers(_ stream: UInt32, _ fields: [(String, String)], endStream: Bool, maxFrameSize: Int = 16_384) {
        let block = encoder.encode(fields.map { HPACKHeaderField($0.0, $0.1) })
        block.withUnsafeBytes {
            HTTP2FrameWriter.appendHeaders(stream: stream, fieldBlock: $0, endStream: endStream, maxFrameSize: maxFrameSize,
                                           to: &bytes)
        }
    }

    /// A GET of `path` on `stream`, without body.
    mutating func get(_ stream: UInt32, _ path: String = "/events") {
        headers(stream, HTTP2TestClient.request("GET", path), endStream: true)
    }

    /// DATA frames.
    mutating func data(_ stream: UInt32, _ payload: [UInt8], endStream: Bool) {
        payload.withUnsafeBytes {
            HTTP2FrameWriter.appendData(stream: stream, payload: $0, endStream: endStream, maxFrameSize: 16_384, to: &bytes)
        }
    }

    /// Any frame.
    mutating func frame(_ frame: HTTP2Frame) { HTTP2FrameWriter.append(frame, to: &bytes) }

    /// The bytes built so far, emptied.
    mutating func take() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }

    /// The pseudo-header fields of a request (RFC 9113 §8.3.1).
    static func request(_ method: String, _ path: String) -> [(String, String)] {
        [(":method", method), (":scheme", "https"), (":path", path), (":authority", "example.com")]
    }
}

/// What a machine did, normalized: the frames it wrote (all writes concatenated and parsed) and its other
/// actions in order, `.windowOpened` left out (how often it is repeated depends on how reads were split).
struct HTTP2ConnectionOutcome: Equatable {
    var frames: [HTTP2Frame] = []
    var events: [HTTP2ConnectionAction] = []

    init(_ actions: [HTTP2ConnectionAction]) {
        var written: [UInt8] = []
        for action in actions {
            switch action {
            case .write(let bytes): written += bytes
            case .windowOpened: continue
            default: events.append(action)
            }
        }
        frames = HTTP2ConnectionFeeding.frames(written)
    }

    /// RST_STREAM frames written, as (stream, code).
    var resets: [UInt32: HTTP2ErrorCode] {
        var resets: [UInt32: HTTP2ErrorCode] = [:]
        for case .rstStream(let stream, let code) in frames { resets[stream] = code }
        return resets
    }

    /// The GOAWAY written, if any.
    var goaway: (lastStreamID: UInt32, code: HTTP2ErrorCode)? {
        for case .goaway(let last, let code, _) in frames { return (last, code) }
        return nil
    }

    /// The streams opened.
    var opened: [UInt32] {
        events.compactMap { if case .openStream(let stream, _, _) = $0 { return stream } else { return nil } }
    }
}

/// Drives `HTTP2ConnectionMachine`s: feeds client bytes whole, one byte at a time and in random pieces, and
/// expects the same outcome each way (STYLE.md habit 2).
enum HTTP2ConnectionFeeding {
    /// Feeds `bytes` to a copy of `machine` three ways; returns the whole-fed machine and its outcome.
    static func run(
        _ machine: HTTP2ConnectionMachine,
        _ bytes: [UInt8],
        now: UInt64 = 0,
        seed: UInt64 = 7,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> (HTTP2ConnectionMachine, HTTP2ConnectionOutcome) {
        var whole = machine
        let outcome = HTTP2ConnectionOutcome(whole.receive(bytes, now: now))
        var byteByByte = machine
        let single = HTTP2ConnectionOutcome(bytes.flatMap { byteByByte.receive([$0], now: now) })
        #expect(single == outcome, "one byte at a time differs from whole", sourceLocation: sourceLocation)
        var generator = SplitMix64(seed: seed)
        for _ in 0..<3 {
            var split = machine
            let pieces = HTTP2FrameFeeding.randomPieces(bytes, using: &generator)
            let splitOutcome = HTTP2ConnectionOutcome(pieces.flatMap { split.receive($0, now: now) })
            #expect(splitOutcome == outcome, "pieces \(pieces.map(\.count)) differ from whole", sourceLocation: sourceLocation)
        }
        return (whole, outcome)
    }

    /// Parses what the server wrote (no preface: the server starts with frames).
    static func frames(_ bytes: [UInt8]) -> [HTTP2Frame] {
        let run = HTTP2FrameFeeding.feed([bytes], parser: HTTP2FrameParser(limits: HTTP2FrameLimits(maxFrameSize: 1 << 20),
                                                                          start: .frames))
        #expect(run.error == nil && run.leftover == 0, "server output does not parse: \(run)")
        return run.frames
    }

    /// A machine past the preface and SETTINGS exchange (its output dropped), the client having sent `settings`.
    static func started(
        _ configuration: HTTP2ConnectionConfiguration = HTTP2ConnectionConfiguration(),
        clientSettings: [HTTP2Setting] = []
    ) -> HTTP2ConnectionMachine {
        var machine = HTTP2ConnectionMachine(configuration: configuration)
        var client = HTTP2TestClient()
        client.preface(clientSettings)
        _ = machine.receive(client.take(), now: 0)
        return machine
    }
}

// Fuzz target: HTTP2ConnectionMachine, the server side of one HTTP/2 connection, driven by a hostile client's
// bytes in fuzzer-chosen pieces interleaved with the proxy's calls.
//
// Input: byte 0 selects the configuration and the start (bits 0-1 maxConcurrentStreams 128/1/2/4; bit 2 small
// windows: 1,000-byte streams, an 8,000-byte connection; bit 3 small field blocks: 256 bytes, 2 CONTINUATIONs,
// header lists of 512 bytes; bit 4: the stream is prefixed with the client preface and an empty SETTINGS; bit 5:
// `start(now: 0)` before anything; bit 6: flood budgets of 8 per event; bit 7: a 3 s SETTINGS ACK timeout, else
// the default 10 s). Byte 1 mod 33 is the number K of steps; K records of 3 bytes follow, then the client's bytes.
// Step i: feed the next `length` client bytes (record byte 0: itself below 200, else (b − 199) × 512), then let the
// clock advance by (op >> 4) × 700 ms and make the proxy call op & 0xF with argument `arg` (record bytes 1, 2):
//   0 nothing          1 sendHeaders(200, small head)   2 sendData(arg × 37 bytes)   3 sendData(arg × 1,031 bytes)
//   4 resetStream      5 bodyConsumed(part of what is pending)   6 goAway (NO_ERROR unless arg % 4 == 0)
//   7 ping             8 deadlineReached            9 start(now:)   10 sendHeaders(large head: CONTINUATIONs)
//   11 sendData again on every stream told `.windowOpened`     12-15 bodyConsumed of all pending bytes everywhere
// The stream is arg's pick among streams the proxy was told of (bit 7 set: the raw odd id arg | 1 instead); the
// end of the response (endStream) is arg's bit 6. After the steps the rest of the client's bytes is fed whole.
//
// Checks: after `.closeConnection` (always the last action of its call) every call returns nothing and the
// machine is closed; `liveStreamCount` ≤ maxConcurrentStreams; the receive buffer holds less than one frame
// (9 + maxFrameSize, or the 24-byte preface) and a pending field block at most maxHeaderBlockBytes; every `.write`
// is whole frames that a client parses without error, SETTINGS first, none longer than the largest
// SETTINGS_MAX_FRAME_SIZE the client allowed; `sendData` accepts at most what was offered and `sendableBytes`
// said, writes exactly that much DATA, and the connection send window never goes negative; the proxy hears of a
// stream once (`.openStream`, odd, increasing), gets `.requestData` only for streams it knows and whose request
// has not ended, `.streamReset` and `.windowOpened` only for streams it knows; request bytes received but not
// yet reported consumed never exceed one stream window (the back-pressure of `bodyConsumed`); once a deadline has
// passed and `deadlineReached` was called, the connection is closed. Each opened stream's head, mapped to HTTP/1.1
// as the proxy maps it (`HTTP2RequestMapping`), is either refused or a well-formed request whose upstream form
// re-parses the same, framed as the HEADERS said (`checkMapping`).

private let smallHead = [HPACKHeaderField("content-type", "text/event-stream"), HPACKHeaderField("cache-control", "no-cache")]
private let largeHead = (0..<40).map { HPACKHeaderField("x-filler-\($0)", String(repeating: "v", count: 900)) }

private func configuration(_ selector: UInt8) -> HTTP2ConnectionConfiguration {
    let small = selector & 0x08 != 0
    let budget = selector & 0x40 != 0 ? 8 : nil
    return HTTP2ConnectionConfiguration(
        maxConcurrentStreams: [128, 1, 2, 4][Int(selector & 3)],
        initialWindowSize: selector & 0x04 != 0 ? 1_000 : HTTP2ConnectionConfiguration.defaultInitialWindowSize,
        connectionWindowSize: selector & 0x04 != 0 ? 8_000 : HTTP2ConnectionConfiguration.defaultConnectionWindowSize,
        headerLimits: small ? HPACKDecoder.Limits(maxHeaderListSize: 512) : HPACKDecoder.Limits(),
        frameLimits: small ? HTTP2FrameLimits(maxHeaderBlockBytes: 256, maxContinuationFrames: 2) : HTTP2FrameLimits(),
        floodBudgets: budget.map { HTTP2FloodGuard.Budgets(ping: $0, settings: $0, resetStream: $0, emptyData: $0) }
            ?? HTTP2FloodGuard.Budgets(),
        settingsAckTimeoutNanos: selector & 0x80 != 0 ? 3_000_000_000 : HTTP2ConnectionConfiguration.defaultSettingsAckTimeoutNanos)
}

/// What the proxy knows of one stream.
private struct KnownStream {
    var requestEnded: Bool
    /// Request bytes handed over in `.requestData` and not yet reported with `bodyConsumed`.
    var pending = 0
}

/// The harness: the machine, the proxy's view of it, and a client parsing everything the machine writes.
private struct Harness {
    var machine: HTTP2ConnectionMachine
    let configuration: HTTP2ConnectionConfiguration
    var now: UInt64 = 0
    var closed = false
    var known: [UInt32: KnownStream] = [:]
    var highestOpened: UInt32 = 0
    var windowOpened: Set<UInt32> = []
    /// The client's parser of our bytes: frames from the start, limits loose enough for any legal frame.
    var clientParser = HTTP2FrameParser(limits: HTTP2FrameLimits(maxFrameSize: 16_777_215, maxHeaderBlockBytes: .max,
                                                                 maxContinuationFrames: .max, maxSettingsPerFrame: 32),
                                        start: .frames)
    var framesSeen = 0
    var largestFrameAllowed = 16_384

    init(_ configuration: HTTP2ConnectionConfiguration) {
        self.configuration = configuration
        machine = HTTP2ConnectionMachine(configuration: configuration)
    }

    /// Checks one call's actions against the proxy's view, and the machine's state after it; returns the DATA
    /// payload bytes written.
    @discardableResult
    mutating func check(_ actions: [HTTP2ConnectionAction], _ call: String) -> Int {
        if closed { require(actions.isEmpty, "\(call) after .closeConnection returned \(actions)") }
        largestFrameAllowed = max(largestFrameAllowed, Int(machine.peerSettings.maxFrameSize))
        var dataBytes = 0
        for (index, action) in actions.enumerated() {
            switch action {
            case .write(let bytes):
                dataBytes += parseWritten(bytes, call)
            case .openStream(let stream, let fields, let endStream):
                require(stream % 2 == 1 && stream > highestOpened && known[stream] == nil, "\(call): open \(stream) after \(highestOpened)")
                checkMapping(fields, endStream: endStream)
                highestOpened = stream
                known[stream] = KnownStream(requestEnded: endStream)
            case .requestData(let stream, let bytes, let endStream):
                guard var state = known[stream], !state.requestEnded else {
                    invariantFailure("\(call): request data on stream \(stream) that is \(known[stream].map { "\($0)" } ?? "unknown")")
                }
                state.pending += bytes.count
                state.requestEnded = endStream
                require(state.pending <= configuration.initialWindowSize,
                        "\(call): stream \(stream) has \(state.pending) unconsumed request bytes, window \(configuration.initialWindowSize)")
                known[stream] = state
            case .streamReset(let stream, _):
                require(known.removeValue(forKey: stream) != nil, "\(call): reset of unknown stream \(stream)")
                windowOpened.remove(stream)
            case .windowOpened(let stream):
                require(known[stream] != nil, "\(call): window opened on unknown stream \(stream)")
                windowOpened.insert(stream)
            case .pingAcknowledged, .goawayReceived:
                break
            case .closeConnection:
                require(index == actions.count - 1, "\(call): actions after .closeConnection: \(actions)")
                closed = true
            }
        }
        require(machine.isClosed == closed, "\(call): isClosed \(machine.isClosed), closeConnection seen \(closed)")
        require(machine.liveStreamCount <= configuration.maxConcurrentStreams, "\(call): \(machine.liveStreamCount) live streams")
        require(machine.connectionSendWindow >= 0, "\(call): connection send window \(machine.connectionSendWindow)")
        let frameBound = max(HTTP2FrameParser.clientPreface.count, HTTP2FrameParser.frameHeaderLength + machine.parser.limits.maxFrameSize)
        require(machine.inbound.count < (machine.phase == .awaitingPreface ? HTTP2FrameParser.clientPreface.count : frameBound),
                "\(call): \(machine.inbound.count) bytes buffered in \(machine.phase), frame bound \(frameBound)")
        require((machine.pendingFieldBlock?.bytes.count ?? 0) <= configuration.frameLimits.maxHeaderBlockBytes,
                "\(call): field block of \(machine.pendingFieldBlock?.bytes.count ?? 0) bytes")
        return dataBytes
    }

    /// Parses one `.write` as the client: whole frames, valid, SETTINGS first, within the allowed frame size.
    mutating func parseWritten(_ bytes: [UInt8], _ call: String) -> Int {
        require(!bytes.isEmpty, "\(call): empty write")
        var offset = 0
        var dataBytes = 0
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                Result { () throws(HTTP2FrameError) in try clientParser.parse(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
            }
            switch result {
            case .success(.frame(let frame, let consumed)):
                require(consumed - HTTP2FrameParser.frameHeaderLength <= largestFrameAllowed,
                        "\(call): frame of \(consumed) bytes, client allows \(largestFrameAllowed)")
                if framesSeen == 0 {
                    guard case .settings = frame else { invariantFailure("\(call): first frame \(frame), not SETTINGS") }
                }
                if case .data(_, let payload, _, let padding) = frame {
                    require(padding == nil, "\(call): padded DATA")
                    dataBytes += payload.count
                }
                framesSeen += 1
                offset += consumed
            case .success(let other):
                invariantFailure("\(call): our bytes parse as \(other) at \(offset) of \(bytes.count): \(escaped(bytes[offset...], limit: 64))")
            case .failure(let error):
                invariantFailure("\(call): our bytes do not parse: \(error) at \(offset) of \(bytes.count)")
            }
        }
        return dataBytes
    }

    mutating func receive(_ bytes: ArraySlice<UInt8>) {
        let actions = bytes.withUnsafeBytes { machine.receive($0, now: now) }
        check(actions, "receive(\(bytes.count) bytes)")
    }

    mutating func sendData(_ stream: UInt32, count: Int, endStream: Bool) {
        let sendable = machine.sendableBytes(stream: stream)
        let result = machine.sendData(stream: stream, bytes: [UInt8](repeating: 0x61, count: count), endStream: endStream)
        let written = check(result.actions, "sendData(\(stream), \(count))")
        require(result.accepted >= 0 && result.accepted <= count && result.accepted <= sendable,
                "sendData(\(stream), \(count)) accepted \(result.accepted), sendable \(sendable)")
        require(written == result.accepted, "sendData(\(stream)) accepted \(result.accepted), wrote \(written) DATA bytes")
    }

    mutating func consume(_ stream: UInt32, count: Int) {
        let actions = machine.bodyConsumed(stream: stream, count: count)
        check(actions, "bodyConsumed(\(stream), \(count))")
        if let state = known[stream] { known[stream]!.pending = max(0, state.pending - count) }
    }

    /// The proxy's call `op` with `arg`.
    mutating func perform(_ op: UInt8, _ arg: UInt8) {
        let streams = known.keys.sorted()
        let stream: UInt32 = arg & 0x80 != 0 || streams.isEmpty ? UInt32(arg | 1) : streams[Int(arg) % streams.count]
        let endStream = arg & 0x40 != 0
        switch op & 0xF {
        case 0: break
        case 1: check(machine.sendHeaders(stream: stream, status: 200, fields: smallHead, endStream: endStream), "sendHeaders")
        case 2: sendData(stream, count: Int(arg & 0x3F) * 37, endStream: endStream)
        case 3: sendData(stream, count: Int(arg & 0x3F) * 1_031, endStream: endStream)
        case 4:
            check(machine.resetStream(stream: stream, code: .cancel), "resetStream(\(stream))")
            known[stream] = nil
            windowOpened.remove(stream)
        case 5: consume(stream, count: (known[stream]?.pending ?? Int(arg)) * Int(arg & 0x3F + 1) / 64 + 1)
        case 6: check(machine.goAway(code: arg % 4 == 0 ? .internalError : .noError), "goAway")
        case 7: check(machine.ping(now: now), "ping")
        case 8:
            let due = machine.deadline
            check(machine.deadlineReached(now: now), "deadlineReached(\(now))")
            if let due, now >= due { require(machine.isClosed, "deadline \(due) passed at \(now), still open") }
        case 9: check(machine.start(now: now), "start")
        case 10: check(machine.sendHeaders(stream: stream, status: 200, fields: largeHead, endStream: endStream), "large sendHeaders")
        case 11:
            for waiting in windowOpened.sorted() { sendData(waiting, count: Int(arg) * 97, endStream: endStream) }
            windowOpened = []
        default:
            for (id, state) in known.sorted(by: { $0.key < $1.key }) where state.pending > 0 { consume(id, count: state.pending) }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = fuzzBytes(data, size)
    guard input.count >= 2 else { return 0 }
    let selector = input[0]
    let stepCount = min(Int(input[1]) % 33, (input.count - 2) / 3)
    var client = Array(input[(2 + 3 * stepCount)...])
    if selector & 0x10 != 0 {
        var prefix = HTTP2FrameParser.clientPreface
        HTTP2FrameWriter.appendSettings([], to: &prefix)
        client = prefix + client
    }
    var harness = Harness(configuration(selector))
    if selector & 0x20 != 0 { harness.check(harness.machine.start(now: 0), "start") }
    var offset = 0
    for step in 0..<stepCount {
        let record = input[(2 + 3 * step)...]
        let lengthByte = Int(record[record.startIndex])
        let length = lengthByte < 200 ? lengthByte : (lengthByte - 199) * 512
        let end = min(client.count, offset + length)
        if end > offset { harness.receive(client[offset..<end]) }
        offset = end
        let op = record[record.startIndex + 1]
        harness.now += UInt64(op >> 4) * 700_000_000
        harness.perform(op, record[record.startIndex + 2])
    }
    if offset < client.count { harness.receive(client[offset...]) }
    harness.now += 1_000_000
    harness.check(harness.machine.deadlineReached(now: harness.now), "final deadlineReached")
    return 0
}

/// The proxy maps every opened stream's head to an HTTP/1.1 one (`HTTP2RequestMapping`): one it accepts must be a
/// well-formed request whose upstream form re-parses the same (the HTTP/1.1 checks of `request_head`), framed as
/// the HEADERS said (no body, or a length, or chunked).
private func checkMapping(_ fields: [HPACKHeaderField], endStream: Bool) {
    guard let head = try? HTTP2RequestMapping.requestHead(fields, hasBody: !endStream, maxHeaderBytes: 16_384) else { return }
    require(head.version == .http2, "mapped head says \(head.version)")
    var asHTTP1 = head
    asHTTP1.version = .http1_1
    checkRequestHead(asHTTP1)
    guard let framing = try? head.bodyFraming() else { return }
    require(endStream ? framing == .none || framing == .contentLength(0) : framing != .none,
            "a request \(endStream ? "without" : "with") a body mapped to framing \(framing)")
    checkUpstreamRequest(asHTTP1, framing: framing, clientAddress: "192.0.2.7", clientProtocol: "https")
}

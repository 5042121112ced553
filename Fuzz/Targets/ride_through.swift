// Fuzz target: the ride-through path of ResponseRelay (issue 15): a hostile backend's event stream stamped by
// EventIDStamper and kept in the ReplayRing, while the client leaves, comes back at any position, and the
// memory cap evicts.
//
// Input: byte 0 flags (bits 0-1 upstream framing: 0 close-delimited, 1 chunked by this target in chunks of byte 1's
// bits 6-7 (1, 7, 64 or 1000 bytes), 2 chunked as the input gives it (the rest is the raw chunked body), 3
// Content-Length of the rest; bit 2: the event assembler (`upstream_resume`); bit 3: heartbeat events
// (`heartbeat_event ping`) instead of comments; bit 4: `sse_retry 1500`; bit 5: the first client's framing is
// chunked (else close-delimited); bits 6-7: the Last-Event-ID that opened the stream: none, `42`, a stamped id of
// another stream, none). Byte 1: bits 0-2 `client_resume_buffer` 64 << n (64 B..8 KiB), bits 3-5 the assembler's
// limit 16 << n. Byte 2 mod 41 is the number K of operation bytes that follow:
//   0x00-0x7F  read the next (op & 0x3F) bytes, times 64 when bit 6 is set (0: an empty read); while no client is
//              attached the read waits, as the shell's does, until the ring is no longer full
//   0x80-0x9F  a heartbeat falls due
//   0xA0-0xAF  the client leaves (`setClientAttached(false)`)
//   0xB0-0xBF  the memory cap: `evictReplay(downTo: heldBytes * (op & 0xF) / 16)`
//   0xC0-0xFF  a client comes back (`reattach`) in chunked framing when bit 5 is set (else close-delimited), at the
//              position picked by bits 0-3: its real one, the oldest, the oldest - 1, the newest, the newest + 1,
//              UInt64.max, 0, the middle, then oldest + 0...7
// The rest is the backend's bytes. What the operations did not read is read at once at the end (a client that is
// away first comes back at its real position), and the stream finishes.
//
// Checks: `reattach` returns nil exactly when `StreamReplay.lookup(after:)` is not `.replay`, appending nothing,
// and otherwise reports that lookup's events and bytes; the replayed bytes are whole events (a fresh WHATWG client
// dispatches exactly that many, ending at a line start) numbered position + 1 ... newest; the stamper's last seq is
// the ring's newest; the ring's `heldBytes` keeps ReplayRing's bounds (at most the budget once an event was appended
// or skipped while a client is attached; while none is, one read past a ring that was not full grows it by at most
// that read, the stamper's and the assembler's held bytes, a partial byte-order mark and one `id:` line per new
// seq); every connection's bytes decode in its framing (chunked: no error, nothing left over, finished exactly at
// the end) and its SSE text carries only `id:` lines holding a stamped id of this stream (or, while the stream
// has stamped nothing, the Last-Event-ID that opened it), never decreasing; and a WHATWG client
// on each connection dispatches events numbered exactly position + 1, + 2, ... (a heartbeat event repeats the
// client's id).

private let token: [UInt8] = Array("AAECAwQFBgcICQoLDA0ODw".utf8)
private let streamToken = StreamToken(text: token)!
private let carriedChoices: [String?] = [nil, "42", "sk1._____________________w.57.b", nil]
private let chunkSizes = [1, 7, 64, 1000]
private let heartbeatType = "ping"
/// The longest `id:` line the stamper writes: `id: sk1.<token>.<20 digits>.<backend id>` and its LF.
private let maxIDLineBytes = EventIDStamper.idFieldPrefix.count + EventIDStamper.idPrefix.count
    + EventIDStamper.tokenLength + 1 + StampedEventID.maxSequenceDigits + 1 + EventIDStamper.maxBackendIDBytes + 1

/// One client connection: what it received, decoded and read as a WHATWG client does.
private struct Connection {
    let framing: ClientFraming
    /// The first connection carries the stream's opening Last-Event-ID; a reattached one its position's id.
    let carried: String
    /// The Last-Event-ID that opened the stream: the stamper's id for the client until its first stamp.
    let streamCarried: String
    var decoder = ChunkedDecoder()
    var bodyEnded = false
    var client: SpecEventStreamParser
    var checkedEvents = 0
    /// The seq the next event the client dispatches must carry.
    var nextSeq: UInt64
    /// The highest seq seen on an `id:` line.
    var lastIDLineSeq: UInt64 = 0
    var sawStampedIDLine = false
    /// The `id:` line scanner: the line so far (capped) and whether the last byte was a CR.
    var line: [UInt8] = []
    var lineTooLong = false
    var afterCR = false

    init(framing: ClientFraming, carried: String, streamCarried: String, position: UInt64) {
        self.framing = framing
        self.carried = carried
        self.streamCarried = streamCarried
        client = SpecEventStreamParser(lastEventIdString: carried)
        nextSeq = position &+ 1
    }

    /// Bytes the client received (after its head): decoded in the client's framing, then read.
    mutating func receive(_ bytes: ArraySlice<UInt8>, _ fail: (String) -> Never) {
        guard !bytes.isEmpty else { return }
        if bodyEnded { fail("\(bytes.count) bytes after the end of the body: \(escaped(bytes))") }
        guard framing == .chunked else { return read(bytes, fail) }
        var data: [UInt8] = []
        let result = bytes.withUnsafeBytes { raw in
            Result { try decoder.decode(raw) { data.append(contentsOf: $0) } }
        }
        switch result {
        case .failure(let error):
            fail("chunked body does not decode: \(error); bytes \(escaped(bytes))")
        case .success(let (consumed, finished)):
            if consumed != bytes.count { fail("chunked decoder consumed \(consumed) of \(bytes.count): \(escaped(bytes))") }
            bodyEnded = finished
        }
        read(data[...], fail)
    }

    private mutating func read(_ bytes: ArraySlice<UInt8>, _ fail: (String) -> Never) {
        for byte in bytes {
            if byte == 0x0A && afterCR {
                afterCR = false
                continue
            }
            afterCR = byte == 0x0D
            if byte == 0x0A || byte == 0x0D {
                checkLine(fail)
                line.removeAll(keepingCapacity: true)
                lineTooLong = false
            } else if line.count < 2048 {
                line.append(byte)
            } else {
                lineTooLong = true
            }
        }
        client.feed(bytes)
        checkEvents(fail)
    }

    /// An `id` field line (WHATWG §9.2.6: the name before the first colon, one leading space dropped from the value).
    private mutating func checkLine(_ fail: (String) -> Never) {
        let name = line.firstIndex(of: 0x3A).map { line[..<$0] } ?? line[...]
        guard name.elementsEqual("id".utf8) else { return }
        if lineTooLong { fail("an id line longer than 2048 bytes: \(escaped(line))") }
        var value = line[name.endIndex...].dropFirst()
        if value.first == 0x20 { value = value.dropFirst() }
        if keepsStreamCarried(value) { return }
        guard let id = StampedEventID(parsing: value) else { fail("id line is not a stamped id: \(escaped(line))") }
        if id.token != streamToken { fail("id line of another stream: \(escaped(line))") }
        if sawStampedIDLine && id.sequence < lastIDLineSeq {
            fail("id line seq \(id.sequence) after \(lastIDLineSeq): \(escaped(line))")
        }
        sawStampedIDLine = true
        lastIDLineSeq = id.sequence
    }

    /// Whether `id` is the stream's opening Last-Event-ID while nothing is stamped yet (the stamper closes an event
    /// without data with the client's current id, which is that one then; a client reattached at position 0 gets it
    /// too).
    private func keepsStreamCarried<Bytes: Sequence>(_ id: Bytes) -> Bool where Bytes.Element == UInt8 {
        nextSeq == 1 && !sawStampedIDLine && !streamCarried.isEmpty && id.elementsEqual(streamCarried.utf8)
    }

    /// Every event the client dispatched since the last check carries the next seq, or is a heartbeat event that
    /// keeps the client's id.
    mutating func checkEvents(_ fail: (String) -> Never) {
        let events = client.events
        while checkedEvents < events.count {
            let event = events[checkedEvents]
            let previous = checkedEvents == 0 ? carried : events[checkedEvents - 1].lastEventId
            checkedEvents += 1
            if let id = StampedEventID(parsing: event.lastEventId.utf8), id.token == streamToken,
               id.sequence == nextSeq {
                nextSeq &+= 1
            } else if event.type == heartbeatType
                        && (sameBytes(event.lastEventId, previous) || keepsStreamCarried(event.lastEventId.utf8)) {
                continue
            } else {
                fail("event \(event) dispatched; expected seq \(nextSeq) (previous id \(previous.debugDescription))")
            }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 3 else { return 0 }
    let input = fuzzBytes(data, size)
    let flags = input[0], sizes = input[1]
    let operationCount = min(Int(input[2]) % 41, input.count - 3)
    let operations = Array(input[3..<3 + operationCount])
    let text = Array(input[(3 + operationCount)...])

    let budget = 64 << Int(sizes & 7)
    let assemblerLimit = 16 << Int(sizes >> 3 & 7)
    let carried = carriedChoices[Int(flags >> 6)]
    var stream: [UInt8]
    let upstreamFraming: BodyFraming
    switch flags & 3 {
    case 0:
        stream = text
        upstreamFraming = .closeDelimited
    case 1:
        let chunk = chunkSizes[Int(sizes >> 6)]
        stream = []
        var offset = 0
        while offset < text.count {
            let end = min(text.count, offset + chunk)
            stream += Array(String(end - offset, radix: 16).utf8) + [0x0D, 0x0A] + text[offset..<end] + [0x0D, 0x0A]
            offset = end
        }
        stream += Array("0\r\n\r\n".utf8)
        upstreamFraming = .chunked
    case 2:
        stream = text
        upstreamFraming = .chunked
    default:
        stream = text
        upstreamFraming = .contentLength(UInt64(text.count))
    }
    let options = ResponseRelay.SSEOptions(
        heartbeatIntervalNanos: 1_000_000_000, heartbeatComment: "hb", retryMilliseconds: flags & 0x10 != 0 ? 1500 : nil,
        assemblesEvents: flags & 4 != 0, maxHeldBytes: assemblerLimit,
        heartbeatEvent: flags & 8 != 0 ? heartbeatType : nil, heartbeatData: "beat", carriedLastEventID: carried,
        rideThrough: .init(token: token, bufferBytes: budget))
    let firstFraming: ClientFraming = flags & 0x20 != 0 ? .chunked : .closeDelimited
    var now: UInt64 = 1_000_000_000
    var relay = ResponseRelay(upstreamFraming: upstreamFraming, clientFraming: firstFraming, sse: options, now: now)
    var output = RelayOutput()
    var steps: [String] = []
    var connection = Connection(framing: firstFraming, carried: carried ?? "", streamCarried: carried ?? "", position: 0)
    var attached = true
    var newestAtAttach: UInt64 = 0
    var ended = false

    func fail(_ message: String) -> Never {
        invariantFailure("\(message)\n  flags \(flags) budget \(budget) assembler \(assemblerLimit)"
            + "\n  stream: \(escaped(stream))\n  steps: \(steps.joined(separator: " "))")
    }
    var replay: StreamReplay { relay.replay! }
    func head(_ framing: ClientFraming) -> [UInt8] {
        Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\(framing == .chunked ? "Transfer-Encoding: chunked\r\n" : "")\r\n".utf8)
    }
    /// Hands what the relay appended to the attached client (a client that is away gets nothing).
    func deliver(head expectedHead: [UInt8] = []) {
        let bytes = output.withUnsafeBytes { Array($0) }
        output.removeAll()
        if !expectedHead.isEmpty {
            guard bytes.starts(with: expectedHead) else { fail("output does not start with the head: \(escaped(bytes))") }
        }
        if attached { connection.receive(bytes[expectedHead.count...], fail) }
    }
    func checkRing() {
        let ring = replay.ring
        if ring.newestSeq != replay.stamper.lastSeq {
            fail("ring's newest seq \(ring.newestSeq) is not the stamper's last \(replay.stamper.lastSeq)")
        }
        if attached && ring.newestSeq > newestAtAttach && ring.heldBytes > budget {
            fail("\(ring.heldBytes) bytes held over the budget \(budget) with a client attached")
        }
        if ring.oldestPosition > ring.newestSeq || ring.heldEventCount != Int(ring.newestSeq - ring.oldestPosition) {
            fail("ring holds \(ring.heldEventCount) events for positions \(ring.oldestPosition)...\(ring.newestSeq)")
        }
    }

    relay.begin(head: head(firstFraming), into: &output)
    deliver(head: head(firstFraming))
    checkRing()

    var offset = 0
    func read(_ count: Int) {
        guard !ended else { return }
        if !attached && replay.isFull {
            steps.append("read(\(count),full)")
            return
        }
        let end = min(stream.count, offset + count)
        let taken = end - offset
        steps.append("read(\(taken))")
        let heldBefore = replay.heldBytes, newestBefore = replay.ring.newestSeq
        let assemblerHeld = relay.assembler?.heldByteCount ?? 0
        let outcome = stream[offset..<end].withUnsafeBytes { relay.relay($0, into: &output) }
        offset = end
        switch outcome {
        case .more:
            break
        case .complete:
            relay.finish(into: &output)
            ended = true
        case .broken:
            relay.endBody(into: &output)
            ended = true
        }
        deliver()
        if !attached {
            let bound = heldBefore + taken + budget + assemblerHeld + 2
                + Int(replay.ring.newestSeq - newestBefore) * maxIDLineBytes
            if replay.heldBytes > bound {
                fail("\(replay.heldBytes) bytes held after one read of \(taken) without a client (before: \(heldBefore), "
                    + "bound \(bound))")
            }
        }
        checkRing()
    }
    func reattach(_ selector: UInt8) {
        guard !ended else { return }  // the stream is gone: a reconnect is a new request
        let ring = replay.ring
        let oldest = ring.oldestPosition, newest = ring.newestSeq
        let position: UInt64
        switch selector & 0xF {
        case 0: position = connection.nextSeq &- 1
        case 1: position = oldest
        case 2: position = oldest &- 1
        case 3: position = newest
        case 4: position = newest &+ 1
        case 5: position = .max
        case 6: position = 0
        case 7: position = oldest + (newest - oldest) / 2
        default: position = oldest &+ UInt64(selector & 7)
        }
        let framing: ClientFraming = selector & 0x20 != 0 ? .chunked : .closeDelimited
        let idText = StampedEventID(token: streamToken, sequence: position, backendID: [])!.text
        let lookup = replay.lookup(after: position)
        let newHead = head(framing)
        let result = relay.reattach(head: newHead, clientFraming: framing, carriedLastEventID: idText, after: position,
                                    now: now, into: &output)
        steps.append("reattach(\(position), \(framing))=\(result.map { "\($0)" } ?? "nil")")
        guard case .replay(let bytes, let count) = lookup else {
            if result != nil { fail("reattach at \(position) served although lookup says \(lookup)") }
            if !output.isEmpty { fail("a refused reattach appended \(escaped(output.withUnsafeBytes { Array($0) }))") }
            return
        }
        guard let result else { fail("reattach at \(position) refused although lookup has \(count) events") }
        if result.events != count || result.bytes != bytes.count {
            fail("reattach reports \(result) but lookup has \(count) events of \(bytes.count) bytes")
        }
        // The replay alone: whole events, position + 1 ... newest.
        var alone = Connection(framing: .closeDelimited, carried: idText, streamCarried: carried ?? "", position: position)
        alone.receive(bytes, fail)
        if alone.client.events.count != count || !alone.client.isAtLineStart || (count > 0) != !bytes.isEmpty
            || (!bytes.isEmpty && !bytes.suffix(2).elementsEqual([0x0A, 0x0A])) {
            fail("replayed bytes are not \(count) whole events: \(escaped(bytes))")
        }
        if alone.nextSeq != newest &+ 1 { fail("replay after \(position) ends before seq \(alone.nextSeq), newest \(newest)") }
        if position == oldest && (count != ring.heldEventCount || bytes.count != ring.heldBytes) {
            fail("replay from the oldest position is \(count) events of \(bytes.count) bytes, ring holds "
                + "\(ring.heldEventCount) of \(ring.heldBytes)")
        }
        attached = true
        newestAtAttach = newest
        connection = Connection(framing: framing, carried: idText, streamCarried: carried ?? "", position: position)
        deliver(head: newHead)
        checkRing()
    }

    for operation in operations {
        switch operation {
        case 0x00...0x7F:
            read(Int(operation & 0x3F) * (operation & 0x40 != 0 ? 64 : 1))
        case 0x80...0x9F where !ended:
            now = max(now, relay.nextHeartbeatDeadline ?? now)
            let outcome = relay.heartbeat(now: now, wallClockMilliseconds: 1_700_000_000_000, clientBacklogged: false,
                                          into: &output)
            steps.append("hb(\(outcome))")
            deliver()
        case 0x80...0x9F:
            steps.append("hb(ended)")
        case 0xA0...0xAF:
            steps.append("leave")
            relay.setClientAttached(false)
            attached = false
            checkRing()
        case 0xB0...0xBF:
            let cap = replay.heldBytes * Int(operation & 0xF) / 16
            steps.append("evict(\(cap))")
            relay.evictReplay(downTo: cap)
            if replay.heldBytes > cap { fail("\(replay.heldBytes) bytes held after evicting down to \(cap)") }
            checkRing()
        default:
            reattach(operation)
        }
    }
    if !attached { reattach(0) }
    if attached && !ended {
        read(stream.count - offset)
        if !ended {
            steps.append("finish")
            relay.finish(into: &output)
            ended = true
            deliver()
        }
    }
    if attached {
        if connection.framing == .chunked && !connection.bodyEnded { fail("chunked body without its last chunk") }
        connection.client.finish()
        connection.checkEvents(fail)
    }
    return 0
}

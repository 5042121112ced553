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

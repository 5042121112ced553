// Fuzz target: what `ssekeeper probe` reads from the network and the command line — ProbeResponseReader (a
// response from whatever sits on the path, hostile or broken) and ProbeURL.parse.
//
// Input: byte 0 mod 17 is the number K of piece lengths that follow (one byte each); the rest is the response,
// fed in those pieces and then the remainder. Checks: no crash, no hang; the events (or the error) are the same
// fed whole, in the chosen pieces and one byte at a time (up to 4 KiB; with an error, the error); at most one `started` and one `ended`,
// `ended` only after `started`; after an error every later feed throws. The same bytes, as UTF-8 text, go through
// ProbeURL.parse: a URL it accepts has a host and a path starting with "/".

private struct Run: Equatable {
    var events: [ProbeStreamEvent] = []
    var error: ProbeResponseError?

    /// Events that a feed found before it threw are not returned (the caller fails the stream either way), so
    /// with an error only the error must agree across splits.
    static func == (lhs: Run, rhs: Run) -> Bool {
        lhs.error == rhs.error && (lhs.error != nil || lhs.events == rhs.events)
    }
}

private func run(_ bytes: [UInt8], lengths: [Int]) -> Run {
    var reader = ProbeResponseReader()
    var result = Run()
    var offset = 0
    var pieces = lengths.map { min($0, bytes.count) }
    pieces.append(bytes.count)
    for length in pieces {
        let end = min(bytes.count, offset + length)
        let piece = Array(bytes[offset..<end])
        offset = end
        do {
            let found = try piece.withUnsafeBytes { raw in
                try Result { () throws(ProbeResponseError) in try reader.feed(raw) }.get()
            }
            require(result.error == nil, "feed succeeded after error \(result.error!)")
            result.events += found
        } catch let error as ProbeResponseError {
            if let earlier = result.error {
                require(error == earlier, "error \(error) after earlier error \(earlier)")
            }
            result.error = error
        } catch {
            invariantFailure("unexpected error type: \(error)")
        }
    }
    return result
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = fuzzBytes(data, size)
    guard let first = input.first else { return 0 }
    let count = Int(first % 17)
    let lengths = input.dropFirst().prefix(count).map(Int.init)
    let body = Array(input.dropFirst(1 + lengths.count))

    let whole = run(body, lengths: [])
    let starts = whole.events.filter { if case .started = $0 { return true } else { return false } }.count
    let ends = whole.events.filter { $0 == .ended }.count
    require(starts <= 1 && ends <= 1, "\(starts) starts and \(ends) ends: \(whole.events)")
    if ends == 1 {
        guard case .started = whole.events.first else { invariantFailure("ended before started: \(whole.events)") }
    }
    let pieces = run(body, lengths: lengths)
    require(pieces == whole, "pieces \(lengths) differ from whole: \(pieces.events) \(String(describing: pieces.error)) vs \(whole.events) \(String(describing: whole.error))\n  body: \(escaped(body))")
    if body.count <= 4096 {
        let bytewise = run(body, lengths: Array(repeating: 1, count: body.count))
        require(bytewise == whole, "one byte at a time differs: \(bytewise.events) \(String(describing: bytewise.error)) vs \(whole.events) \(String(describing: whole.error))\n  body: \(escaped(body))")
    }

    let text = String(decoding: body, as: UTF8.self)
    if let url = try? ProbeURL.parse(text) {
        require(!url.host.isEmpty, "accepted a URL without a host: \(text.debugDescription)")
        require(url.path.hasPrefix("/"), "path \(url.path.debugDescription) from \(text.debugDescription)")
    }
    return 0
}

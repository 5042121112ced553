// Fuzz target: RequestBodyForwarder, the request-smuggling surface of the request body, fed in fuzzer-chosen pieces.
//
// Input: byte 0 selects the framing (bits 0-1: none / Content-Length / chunked / close-delimited), bit 2 a
// max_body_size, bit 3 a huge Content-Length (UInt64.max - N instead of N); bytes 1-2 are N (big-endian), bytes 3-4
// the limit L (big-endian, used when bit 2 is set); byte 5 mod 17 is the number K of piece lengths that follow (one
// byte each, 0 meaning an empty call); the rest is the client's byte stream, fed in those pieces and then the
// remainder at once.
//
// Checks, against a model (a Content-Length body is the first N bytes; a chunked body is what one ChunkedDecoder
// reads of the whole stream, too large as soon as its data passes L): the outcome (needMore, where the body ends,
// or which rejection) is the model's fed whole, in the chosen pieces and one byte at a time (up to 4 KiB). Per call:
// a Content-Length body never forwards more than N bytes, and exactly the stream's bytes; `complete` consumed at
// most the piece; after `complete` or `rejected` every call answers the same and appends nothing, and the rejecting
// call appends nothing either; bytes already in the upstream buffer are left alone; bodyBytes never passes L. The
// chunked output is always well formed and decodes to the model's data (a prefix of it, without the last chunk,
// when rejected), with nothing after its last chunk.

private struct Model {
    var outcome: RequestBodyForwarder.Outcome
    /// What the upstream should read as the body (for a rejected chunked body: at most this, and never the end).
    var data: [UInt8]
}

private struct Run: Equatable, CustomStringConvertible {
    /// The last answer, `complete` counted from the start of the stream.
    var outcome: RequestBodyForwarder.Outcome = .needMore
    /// What was appended to the upstream buffer, after the pending marker.
    var upstream: [UInt8] = []
    var bodyBytes: UInt64 = 0

    var description: String {
        "\(outcome) bodyBytes \(bodyBytes) upstream \(escaped(upstream, limit: 200))"
    }
}

/// Bytes the shell may already hold for the upstream (the request head, an earlier pending body); never touched.
private let pendingMarker: [UInt8] = Array("PENDING".utf8)

/// Feeds `stream` in pieces of `lengths` (then the rest) to a copy of `template`, checking the per-call contract.
private func run(_ stream: [UInt8], lengths: [Int], template: RequestBodyForwarder, framing: BodyFraming, limit: UInt64?) -> Run {
    var forwarder = template
    var upstream = pendingMarker
    var result = Run()
    if forwarder.isComplete { result.outcome = .complete(consumed: 0) }
    var offset = 0
    var pieces = lengths
    pieces.append(stream.count)
    pieces.append(0)
    for length in pieces {
        let end = min(stream.count, offset + length)
        let piece = stream[offset..<end]
        let before = upstream.count
        let bodyBytesBefore = forwarder.bodyBytes
        let outcome = piece.withUnsafeBytes { forwarder.feed($0, into: &upstream) }
        require(upstream.count >= before, "upstream shrank from \(before) to \(upstream.count)")
        require(forwarder.bodyBytes >= bodyBytesBefore, "bodyBytes went down")
        require(forwarder.bodyBytes <= limit ?? .max, "bodyBytes \(forwarder.bodyBytes) above the limit \(limit!)")
        if case .contentLength(let length) = framing {
            require(UInt64(upstream.count - pendingMarker.count) <= length,
                    "forwarded \(upstream.count - pendingMarker.count) bytes of a \(length)-byte body")
        }
        switch result.outcome {
        case .needMore:
            switch outcome {
            case .needMore:
                require(!forwarder.isComplete, "needMore but complete")
            case .complete(let consumed):
                require(consumed >= 0 && consumed <= piece.count, "consumed \(consumed) of \(piece.count)")
                require(forwarder.isComplete, "complete but isComplete false")
                result.outcome = .complete(consumed: offset + consumed)
            case .rejected:
                require(upstream.count == before, "the rejecting call appended \(upstream.count - before) bytes")
                require(forwarder.bodyBytes == bodyBytesBefore, "the rejecting call counted body bytes")
                result.outcome = outcome
            }
        case .complete:
            require(outcome == .complete(consumed: 0), "after complete, a call answered \(outcome)")
            require(upstream.count == before, "after complete, a call appended \(upstream.count - before) bytes")
        case .rejected:
            require(outcome == result.outcome, "after \(result.outcome), a call answered \(outcome)")
            require(upstream.count == before, "after rejection, a call appended \(upstream.count - before) bytes")
        }
        offset = end
    }
    require(upstream.starts(with: pendingMarker), "bytes already in the upstream buffer were changed")
    result.upstream = Array(upstream[pendingMarker.count...])
    result.bodyBytes = forwarder.bodyBytes
    return result
}

/// What the upstream reads of a chunked output: data, and whether the body ended. The output must be well formed
/// and hold nothing after its last chunk, whatever the client sent.
private func readChunked(_ upstream: [UInt8]) -> (data: [UInt8], finished: Bool) {
    var decoder = ChunkedDecoder()
    var data: [UInt8] = []
    do {
        let (consumed, finished) = try upstream.withUnsafeBytes { try decoder.decode($0) { data += $0 } }
        require(consumed == upstream.count, "\(upstream.count - consumed) bytes after the last chunk: \(escaped(upstream))")
        return (data, finished)
    } catch {
        invariantFailure("upstream output is not valid chunked (\(error)): \(escaped(upstream))")
    }
}

private func model(_ stream: [UInt8], framing: BodyFraming, limit: UInt64?) -> Model {
    switch framing {
    case .none, .closeDelimited:
        return Model(outcome: .complete(consumed: 0), data: [])
    case .contentLength(let length):
        guard UInt64(stream.count) >= length else { return Model(outcome: .needMore, data: stream) }
        return Model(outcome: .complete(consumed: Int(length)), data: Array(stream[..<Int(length)]))
    case .chunked:
        var decoder = ChunkedDecoder()
        var data: [UInt8] = []
        var outcome = RequestBodyForwarder.Outcome.needMore
        do {
            let (consumed, finished) = try stream.withUnsafeBytes { try decoder.decode($0) { data += $0 } }
            if finished { outcome = .complete(consumed: consumed) }
        } catch let error as ChunkedDecodingError {
            outcome = .rejected(.invalidChunked(error))
        } catch {
            invariantFailure("unexpected error \(error)")
        }
        // Data comes before any later framing error, so passing the limit wins.
        if let limit, UInt64(data.count) > limit { outcome = .rejected(.tooLarge(limit: limit)) }
        return Model(outcome: outcome, data: data)
    }
}

/// Checks one run against the model.
private func check(_ run: Run, _ how: String, model: Model, framing: BodyFraming, limit: UInt64?, stream: [UInt8]) {
    let context = "\(how), framing \(framing), limit \(limit.map(String.init) ?? "none")\n  run: \(run)\n"
        + "  expected: \(model.outcome), data \(escaped(model.data, limit: 200))\n  stream: \(escaped(stream))"
    require(run.outcome == model.outcome, "outcome differs: \(context)")
    switch framing {
    case .none, .closeDelimited:
        require(run.upstream.isEmpty && run.bodyBytes == 0, "a body-less request forwarded bytes: \(context)")
    case .contentLength:
        require(run.upstream == model.data, "Content-Length bytes differ: \(context)")
        require(run.bodyBytes == UInt64(run.upstream.count), "bodyBytes: \(context)")
    case .chunked:
        let (data, finished) = readChunked(run.upstream)
        require(run.bodyBytes == UInt64(data.count), "bodyBytes \(run.bodyBytes), upstream data \(data.count): \(context)")
        switch run.outcome {
        case .rejected:
            require(!finished, "a rejected body ended at the upstream: \(context)")
            require(model.data.starts(with: data), "rejected body forwarded other data: \(context)")
        case .complete:
            require(finished && data == model.data, "complete body reads back differently: \(context)")
            require(run.upstream.suffix(5).elementsEqual(ChunkedEncoder.lastChunk), "no clean last chunk: \(context)")
        case .needMore:
            require(!finished && data == model.data, "unfinished body reads back differently: \(context)")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 6 else { return 0 }
    let input = fuzzBytes(data, size)
    let number = UInt64(input[1]) << 8 | UInt64(input[2])
    let limit: UInt64? = input[0] & 4 == 0 ? nil : UInt64(input[3]) << 8 | UInt64(input[4])
    let framing: BodyFraming
    switch input[0] & 3 {
    case 0: framing = .none
    case 1: framing = .contentLength(input[0] & 8 == 0 ? number : UInt64.max - number)
    case 2: framing = .chunked
    default: framing = .closeDelimited
    }
    let count = min(Int(input[5]) % 17, input.count - 6)
    let lengths = input[6..<6 + count].map(Int.init)
    let stream = Array(input[(6 + count)...])

    let template: RequestBodyForwarder
    do {
        template = try RequestBodyForwarder(framing: framing, maxBodyBytes: limit)
    } catch {
        guard case .contentLength(let length) = framing, let limit, length > limit else {
            invariantFailure("\(framing) refused up front with limit \(limit.map(String.init) ?? "none"): \(error)")
        }
        require(error == .tooLarge(limit: limit) && error.status == 413, "Content-Length \(length) refused with \(error)")
        return 0
    }
    if case .contentLength(let length) = framing, let limit {
        require(length <= limit, "Content-Length \(length) accepted over the limit \(limit)")
    }
    let hasBody: Bool
    switch framing {
    case .none, .closeDelimited, .contentLength(0): hasBody = false
    case .contentLength, .chunked: hasBody = true
    }
    require(template.hasBody == hasBody && template.isComplete == !hasBody, "\(framing): hasBody \(template.hasBody)")

    let expected = model(stream, framing: framing, limit: limit)
    if case .rejected(let error) = expected.outcome {
        require(error.status == 400 || error.status == 413, "status \(error.status) for \(error)")
    }
    let whole = run(stream, lengths: [], template: template, framing: framing, limit: limit)
    check(whole, "whole", model: expected, framing: framing, limit: limit, stream: stream)
    let pieces = run(stream, lengths: lengths, template: template, framing: framing, limit: limit)
    check(pieces, "pieces \(lengths)", model: expected, framing: framing, limit: limit, stream: stream)
    if stream.count <= 4096 {
        let bytewise = run(stream, lengths: Array(repeating: 1, count: stream.count), template: template, framing: framing, limit: limit)
        check(bytewise, "one byte at a time", model: expected, framing: framing, limit: limit, stream: stream)
    }
    return 0
}

// Fuzz target: ChunkedDecoder.decode fed in fuzzer-chosen pieces.
//
// Input: byte 0 selects the limits (bits 0-1 size digits 16/4/1/20, bits 2-3 extension bytes 4096/8/0/1,
// bits 4-5 trailer bytes 16384/16/0/3); byte 1 mod 17 is the number K of piece lengths that follow (one byte
// each, 0 meaning an empty call); the rest is the body, fed in those pieces and then the remainder at once.
//
// Checks, as the proxy feeds the decoder: consumed <= piece; every byte is consumed until the end; once
// finished it stays finished (later calls consume nothing); after an error every later call throws the same
// error. The decoded data, consumed total, finish and error (offsets count from the body start) are the same
// fed whole, in the chosen pieces and one byte at a time (up to 4 KiB). A decoded body re-encoded with
// ChunkedEncoder decodes to the same data.

private struct Run: Equatable, CustomStringConvertible {
    var data: [UInt8] = []
    var consumed = 0
    var finished = false
    var error: ChunkedDecodingError?

    var description: String {
        "data \(escaped(data, limit: 200)) consumed \(consumed) finished \(finished) error \(error.map { "\($0)" } ?? "none")"
    }
}

private func decoder(_ selector: UInt8) -> ChunkedDecoder {
    ChunkedDecoder(
        maxChunkSizeDigits: [16, 4, 1, 20][Int(selector & 3)],
        maxExtensionBytes: [4096, 8, 0, 1][Int(selector >> 2 & 3)],
        maxTrailerBytes: [16384, 16, 0, 3][Int(selector >> 4 & 3)])
}

/// Feeds `body` in pieces of `lengths` (then the rest) to a fresh decoder, checking the per-call contract.
private func run(_ body: [UInt8], lengths: [Int], selector: UInt8) -> Run {
    var decoder = decoder(selector)
    var result = Run()
    var offset = 0
    var pieces = lengths.map { min($0, body.count) }
    pieces.append(body.count)
    for length in pieces {
        let end = min(body.count, offset + length)
        let piece = body[offset..<end]
        let wasFinished = decoder.isFinished
        do {
            let (consumed, finished) = try piece.withUnsafeBytes { raw in
                try decoder.decode(raw) { run in
                    require(run.count > 0, "empty data run")
                    result.data.append(contentsOf: run)
                }
            }
            require(result.error == nil, "decode succeeded after error \(result.error!)")
            require(consumed >= 0 && consumed <= piece.count, "consumed \(consumed) of \(piece.count)")
            require(finished == decoder.isFinished, "finished \(finished) but isFinished \(decoder.isFinished)")
            if wasFinished { require(finished && consumed == 0, "finished decoder consumed \(consumed), finished \(finished)") }
            if !finished { require(consumed == piece.count, "unfinished decoder consumed \(consumed) of \(piece.count)") }
            result.consumed += consumed
            result.finished = finished
            offset = finished ? body.count : end  // the bytes after the body belong to the next message
        } catch let error as ChunkedDecodingError {
            if let earlier = result.error {
                require(error == earlier, "error \(error) after earlier error \(earlier)")
            } else {
                require(error.offset >= result.consumed && error.offset < result.consumed + piece.count,
                        "error \(error) outside the piece at \(result.consumed)..<\(result.consumed + piece.count)")
                result.error = error
                result.consumed = -1  // how much was consumed before the failing call depends on the split
            }
            offset = end
        } catch {
            invariantFailure("unexpected error \(error)")
        }
    }
    // More bytes after the end (or after an error) change nothing.
    guard result.finished || result.error != nil else { return result }
    let extra: [UInt8] = Array("0\r\n\r\n".utf8)
    do {
        let (consumed, finished) = try extra.withUnsafeBytes { raw in
            try decoder.decode(raw) { _ in invariantFailure("data after the end") }
        }
        require(result.error == nil, "decode succeeded after error")
        if result.finished { require(consumed == 0 && finished, "finished decoder took more bytes: \(consumed)") }
    } catch let error as ChunkedDecodingError {
        require(result.error == error, "late error \(error), earlier \(result.error.map { "\($0)" } ?? "none")")
    } catch {
        invariantFailure("unexpected error \(error)")
    }
    return result
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let (selector, lengths, bodyBytes) = selectorPiecesAndStream(fuzzBytes(data, size)) else { return 0 }
    let body = bodyBytes

    let whole = run(body, lengths: [], selector: selector)
    let pieces = run(body, lengths: lengths, selector: selector)
    require(pieces == whole, "pieces \(lengths) differ from whole\n  whole: \(whole)\n  pieces: \(pieces)\n  body: \(escaped(body))")
    if body.count <= 4096 {
        let bytewise = run(body, lengths: Array(repeating: 1, count: body.count), selector: selector)
        require(bytewise == whole, "one byte at a time differs\n  whole: \(whole)\n  bytes: \(bytewise)\n  body: \(escaped(body))")
    }
    if whole.error == nil {
        require(whole.data.count <= whole.consumed, "\(whole.data.count) data bytes from \(whole.consumed) consumed")
    }
    if whole.finished {
        require(whole.consumed <= body.count && whole.error == nil, "finished with \(whole)")
    }

    // Round trip: the proxy re-encodes what it decoded.
    if !whole.data.isEmpty || whole.finished {
        var encoded: [UInt8] = []
        whole.data.withUnsafeBytes { ChunkedEncoder.appendChunk($0, to: &encoded) }
        encoded += ChunkedEncoder.lastChunk
        let again = run(encoded, lengths: [], selector: 0)
        require(again.finished && again.error == nil && again.data == whole.data && again.consumed == encoded.count,
                "re-encoded body does not decode back: \(again)")
    }
    return 0
}

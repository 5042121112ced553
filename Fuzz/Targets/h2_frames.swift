// Fuzz target: HTTP2FrameParser fed a client's byte stream in fuzzer-chosen pieces, and HTTP2FrameWriter.
//
// Input: byte 0 selects the limits and the start (bits 0-1 maxHeaderBlockBytes 32768/64/0/1000, bits 2-3
// maxContinuationFrames 16/0/1/3, bit 5 maxFrameSize 16384/64, bit 6 maxSettingsPerFrame 32/2; bit 4 set:
// the stream is prefixed with the client preface and the parser expects it; bit 4 clear and bit 7 set: the
// parser expects the preface and gets the stream as is (HTTP/1.1 fallback, broken prefaces); both clear: the
// parser starts with frames); byte 1 mod 17 is the number K of piece lengths that follow (one byte each); the
// rest is the stream, fed in those pieces, then the remainder, through a growing receive buffer.
//
// Checks: no crash; the same results, error and leftover whole, in the pieces and one byte at a time (up to
// 4 KiB); memory bounded: the parser never asks for more once the buffer holds a whole frame of maxFrameSize
// (9 + maxFrameSize bytes), every frame consumed at most that, every payload at most maxFrameSize, every field
// block within maxHeaderBlockBytes and maxContinuationFrames; after HEADERS without END_HEADERS only
// CONTINUATIONs of its stream; errors carry the scope their result says (thrown: connection, returned: a
// non-zero stream); the frames re-serialize with HTTP2FrameWriter.append and re-parse equal, and DATA payloads
// and whole field blocks written with appendData/appendHeaders (split at maxFrameSize) re-parse to the same bytes.

private struct Run: Equatable, CustomStringConvertible {
    var results: [HTTP2FrameParseResult] = []
    var error: HTTP2FrameError?
    var leftover = 0

    var description: String {
        "results \(results.count) \(results.prefix(8)) error \(error.map { "\($0)" } ?? "none") leftover \(leftover)"
    }
}

private func limits(_ selector: UInt8) -> HTTP2FrameLimits {
    HTTP2FrameLimits(
        maxFrameSize: selector & 0x20 == 0 ? 16_384 : 64,
        maxHeaderBlockBytes: [32_768, 64, 0, 1_000][Int(selector & 3)],
        maxContinuationFrames: [16, 0, 1, 3][Int(selector >> 2 & 3)],
        maxSettingsPerFrame: selector & 0x40 == 0 ? 32 : 2)
}

private func step(_ parser: inout HTTP2FrameParser, _ buffer: [UInt8]) -> Result<HTTP2FrameParseResult, HTTP2FrameError> {
    buffer.withUnsafeBytes { bytes in
        do throws(HTTP2FrameError) {
            return .success(try parser.parse(bytes))
        } catch {
            return .failure(error)
        }
    }
}

/// Feeds `stream` in `lengths` pieces (then the rest) to a copy of `template`, checking the per-call contract.
private func run(_ stream: [UInt8], lengths: [Int], parser template: HTTP2FrameParser) -> Run {
    var parser = template
    let maxFrame = 9 + parser.limits.maxFrameSize
    var buffer: [UInt8] = []
    var result = Run()
    var offset = 0
    var pieces = lengths
    pieces.append(stream.count)
    for length in pieces {
        let end = min(stream.count, offset + length)
        buffer += stream[offset..<end]
        offset = end
        parsing: while true {
            switch step(&parser, buffer) {
            case .success(.needMore):
                require(buffer.count < maxFrame, "needs more with \(buffer.count) bytes buffered (max frame \(maxFrame))")
                break parsing
            case .success(.notHTTP2):
                result.results.append(.notHTTP2)
                return result
            case .success(let outcome):
                let consumed: Int
                switch outcome {
                case .preface(let count): consumed = count
                case .frame(_, let count): consumed = count
                case .streamError(let error, let count):
                    guard case .stream(let id) = error.scope, id != 0 else { invariantFailure("stream error \(error)") }
                    consumed = count
                case .needMore, .notHTTP2: invariantFailure("unreachable")
                }
                require(consumed > 0 && consumed <= buffer.count && consumed <= max(maxFrame, 24),
                        "consumed \(consumed) of \(buffer.count)")
                result.results.append(outcome)
                buffer.removeFirst(consumed)
            case .failure(let error):
                require(error.scope == .connection, "thrown error with scope \(error.scope)")
                require(step(&parser, buffer) == .failure(error), "parser not spent after \(error)")
                result.error = error
                return result
            }
        }
    }
    result.leftover = buffer.count
    return result
}

/// Field-block and memory rules over the frames of a run.
private func checkFrames(_ frames: [HTTP2Frame], limits: HTTP2FrameLimits) {
    var open: (stream: UInt32, bytes: Int, continuations: Int)?
    for frame in frames {
        switch frame {
        case .data(_, let payload, _, _), .continuation(_, let payload, _), .headers(_, let payload, _, _, _, _),
             .goaway(_, _, let payload):
            require(payload.count <= limits.maxFrameSize, "payload of \(payload.count) bytes")
        case .unknown(_, _, _, let length):
            require(length <= limits.maxFrameSize, "unknown frame of \(length) bytes")
        default:
            break
        }
        if let block = open {
            guard case .continuation(let stream, let fragment, let endHeaders) = frame, stream == block.stream else {
                invariantFailure("\(frame) inside the field block of stream \(block.stream)")
            }
            let bytes = block.bytes + fragment.count
            require(bytes <= limits.maxHeaderBlockBytes && block.continuations < limits.maxContinuationFrames,
                    "field block of \(bytes) bytes, \(block.continuations + 1) continuations")
            open = endHeaders ? nil : (stream, bytes, block.continuations + 1)
        } else if case .headers(let stream, let fragment, _, let endHeaders, let priority, _) = frame {
            require(stream != 0 && priority?.dependency != stream, "headers \(frame)")
            require(fragment.count <= limits.maxHeaderBlockBytes, "fragment of \(fragment.count) bytes")
            if !endHeaders { open = (stream, fragment.count, 0) }
        } else if case .continuation = frame {
            invariantFailure("continuation outside a field block")
        }
        if case .windowUpdate(_, let increment) = frame { require(increment != 0, "zero increment") }
        if case .settings(let settings) = frame {
            require(settings.count <= limits.maxSettingsPerFrame, "\(settings.count) settings")
            for setting in settings { require((try? HTTP2Settings.validate(setting)) != nil, "invalid \(setting)") }
        }
    }
}

/// Writes the frames back and parses them again: the same frames. Then DATA payloads and whole field blocks
/// through the splitting writers.
private func checkRoundTrip(_ frames: [HTTP2Frame], limits: HTTP2FrameLimits) {
    var bytes: [UInt8] = []
    for frame in frames { HTTP2FrameWriter.append(frame, to: &bytes) }
    let again = run(bytes, lengths: [], parser: HTTP2FrameParser(limits: limits, start: .frames))
    let reparsed = again.results.compactMap { result -> HTTP2Frame? in
        if case .frame(let frame, _) = result { return frame } else { return nil }
    }
    require(again.error == nil && again.leftover == 0 && reparsed == frames,
            "re-serialized frames parse to \(again)\n  frames \(frames.prefix(8))")

    var block: [UInt8] = []
    let loose = HTTP2FrameLimits(maxFrameSize: limits.maxFrameSize, maxHeaderBlockBytes: Int.max,
                                 maxContinuationFrames: Int.max, maxSettingsPerFrame: limits.maxSettingsPerFrame)
    for frame in frames {
        var written: [UInt8] = []
        var expected: [UInt8] = []
        var blockStream: UInt32 = 0
        switch frame {
        case .data(let stream, let payload, let endStream, _):
            payload.withUnsafeBytes {
                HTTP2FrameWriter.appendData(stream: stream, payload: $0, endStream: endStream,
                                            maxFrameSize: loose.maxFrameSize, to: &written)
            }
            expected = payload
            blockStream = stream
        case .headers(_, let fragment, _, let endHeaders, _, _), .continuation(_, let fragment, let endHeaders):
            block += fragment
            guard endHeaders else { continue }
            blockStream = frame.stream
            block.withUnsafeBytes {
                HTTP2FrameWriter.appendHeaders(stream: blockStream, fieldBlock: $0, endStream: false,
                                               maxFrameSize: loose.maxFrameSize, to: &written)
            }
            expected = block
            block = []
        default:
            continue
        }
        let split = run(written, lengths: [], parser: HTTP2FrameParser(limits: loose, start: .frames))
        var joined: [UInt8] = []
        for case .frame(let part, _) in split.results {
            require(part.stream == blockStream, "split frame on stream \(part.stream), not \(blockStream)")
            switch part {
            case .data(_, let payload, _, _), .headers(_, let payload, _, _, _, _), .continuation(_, let payload, _):
                joined += payload
            default:
                invariantFailure("split writer produced \(part)")
            }
        }
        require(split.error == nil && split.leftover == 0 && joined == expected,
                "split writing does not re-parse: \(split), \(joined.count) of \(expected.count) bytes")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let (selector, lengths, streamBytes) = selectorPiecesAndStream(fuzzBytes(data, size)) else { return 0 }
    var stream = streamBytes
    let limits = limits(selector)
    let start: HTTP2FrameParser.Start
    if selector & 0x10 != 0 {
        stream = HTTP2FrameParser.clientPreface + stream
        start = .clientPreface
    } else {
        start = selector & 0x80 != 0 ? .clientPreface : .frames
    }
    let parser = HTTP2FrameParser(limits: limits, start: start)

    let whole = run(stream, lengths: [], parser: parser)
    let pieces = run(stream, lengths: lengths, parser: parser)
    require(pieces.results == whole.results && pieces.error == whole.error
            && (pieces.leftover == whole.leftover || whole.error != nil),
            "pieces \(lengths) differ from whole\n  whole: \(whole)\n  pieces: \(pieces)")
    if stream.count <= 4096 {
        let bytewise = run(stream, lengths: Array(repeating: 1, count: stream.count), parser: parser)
        require(bytewise.results == whole.results && bytewise.error == whole.error,
                "one byte at a time differs\n  whole: \(whole)\n  bytes: \(bytewise)")
    }
    if whole.results.first == .notHTTP2 {
        require(start == .clientPreface && !stream.starts(with: HTTP2FrameParser.clientPreface), "notHTTP2 for a preface")
    }
    let frames = whole.results.compactMap { result -> HTTP2Frame? in
        if case .frame(let frame, _) = result { return frame } else { return nil }
    }
    checkFrames(frames, limits: limits)
    checkRoundTrip(frames, limits: limits)
    return 0
}

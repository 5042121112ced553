import Testing
@testable import SSEKeeperCore

/// Everything an `HTTP2FrameParser` made of a byte stream: its results in order (`.needMore` left out), the
/// connection error that stopped it if any, and the bytes left unconsumed at the end (0 after `.notHTTP2` or an
/// error).
struct HTTP2FrameRun: Equatable, CustomStringConvertible {
    var results: [HTTP2FrameParseResult] = []
    var error: HTTP2FrameError?
    var leftover = 0

    /// The frames among the results.
    var frames: [HTTP2Frame] {
        results.compactMap { if case .frame(let frame, _) = $0 { return frame } else { return nil } }
    }

    /// The stream errors among the results.
    var streamErrors: [HTTP2FrameError] {
        results.compactMap { if case .streamError(let error, _) = $0 { return error } else { return nil } }
    }

    var description: String { "results \(results) error \(error.map { "\($0)" } ?? "none") leftover \(leftover)" }
}

/// Feeds byte streams to fresh `HTTP2FrameParser`s three ways (STYLE.md habit 2): whole, one byte at a time into
/// a growing buffer (as the shell accumulates reads), and in random pieces; expects the same run each way, and
/// that trailing bytes after a complete stream change nothing before them.
enum HTTP2FrameFeeding {
    /// Frame-layer defaults with the parser expecting frames directly (no preface).
    static let framesOnly = HTTP2FrameParser(start: .frames)

    /// The connection preface followed by an empty SETTINGS frame, as every client starts.
    static let prefaceAndSettings = HTTP2FrameParser.clientPreface + [0, 0, 0, 4, 0, 0, 0, 0, 0]

    /// Parses `bytes` the three ways (plus trailing bytes) and returns the whole-input run.
    static func run(
        _ bytes: [UInt8],
        parser: HTTP2FrameParser = framesOnly,
        seed: UInt64 = 1,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> HTTP2FrameRun {
        let whole = feed([bytes], parser: parser)
        let byteByByte = feed(bytes.map { [$0] }, parser: parser)
        #expect(byteByByte == whole, "one byte at a time differs from whole", sourceLocation: sourceLocation)
        var generator = SplitMix64(seed: seed)
        for _ in 0..<4 {
            let pieces = randomPieces(bytes, using: &generator)
            let split = feed(pieces, parser: parser)
            #expect(split == whole, "pieces \(pieces.map(\.count)) differ from whole", sourceLocation: sourceLocation)
        }
        if (whole.error != nil || whole.leftover == 0) && !whole.results.contains(.notHTTP2) {
            // Trailing bytes: the 9-byte header of a PING whose payload has not arrived. What came before is
            // unchanged, and so is an error that stopped the parser.
            let trailing = feed([bytes + [0, 0, 8, 6, 0, 0, 0, 0, 0]], parser: parser)
            #expect(Array(trailing.results.prefix(whole.results.count)) == whole.results,
                    "with trailing bytes differs from whole", sourceLocation: sourceLocation)
            if whole.error != nil {
                #expect(trailing.error == whole.error, "with trailing bytes: \(trailing)", sourceLocation: sourceLocation)
            }
        }
        return whole
    }

    /// Splits `bytes` at random points into 1 to 8 pieces (some possibly empty).
    static func randomPieces(_ bytes: [UInt8], using generator: inout SplitMix64) -> [[UInt8]] {
        var cuts = (0..<generator.int(0...7)).map { _ in generator.int(0...bytes.count) }
        cuts.sort()
        var pieces: [[UInt8]] = []
        var start = 0
        for cut in cuts + [bytes.count] {
            pieces.append(Array(bytes[start..<cut]))
            start = cut
        }
        return pieces
    }

    /// Feeds `pieces` in order into one parser through a growing receive buffer, parsing after each piece until
    /// it needs more; stops at `.notHTTP2` or a connection error.
    static func feed(_ pieces: [[UInt8]], parser template: HTTP2FrameParser) -> HTTP2FrameRun {
        var parser = template
        var buffer: [UInt8] = []
        var run = HTTP2FrameRun()
        for piece in pieces {
            buffer += piece
            while true {
                switch parse(&parser, buffer) {
                case .success(.needMore):
                    break
                case .success(.notHTTP2):
                    run.results.append(.notHTTP2)  // the bytes go to the HTTP/1.1 parser: none are left over
                    return run
                case .success(let result):
                    run.results.append(result)
                    switch result {
                    case .preface(let consumed), .frame(_, let consumed), .streamError(_, let consumed):
                        buffer.removeFirst(consumed)
                    case .needMore, .notHTTP2:
                        break
                    }
                    continue
                case .failure(let error):
                    run.error = error
                    #expect(parse(&parser, buffer) == .failure(error), "the parser is spent: the same error again")
                    return run  // the connection closes: how many bytes had arrived depends on the split
                }
                break
            }
        }
        run.leftover = buffer.count
        return run
    }

    /// One call of `parse` on `buffer`.
    static func parse(_ parser: inout HTTP2FrameParser, _ buffer: [UInt8]) -> Result<HTTP2FrameParseResult, HTTP2FrameError> {
        buffer.withUnsafeBytes { bytes in
            do throws(HTTP2FrameError) {
                return .success(try parser.parse(bytes))
            } catch {
                return .failure(error)
            }
        }
    }

    /// A frame as raw bytes: the 9-byte header of RFC 9113 §4.1 and `payload`, with any length, type, flags.
    static func frame(type: UInt8, flags: UInt8 = 0, stream: UInt32 = 0, payload: [UInt8] = [], length: Int? = nil) -> [UInt8] {
        let length = length ?? payload.count
        return [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type, flags,
                UInt8(stream >> 24), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)] + payload
    }

    /// The whole-input result when `bytes` hold exactly one frame: that frame.
    static func single(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> HTTP2Frame? {
        let run = run(bytes, sourceLocation: sourceLocation)
        #expect(run.error == nil && run.leftover == 0 && run.results.count == 1, "\(run)", sourceLocation: sourceLocation)
        guard case .frame(let frame, bytes.count)? = run.results.first else { return nil }
        return frame
    }

    /// The connection error the whole input ends with.
    static func connectionError(_ bytes: [UInt8], parser: HTTP2FrameParser = framesOnly,
                                sourceLocation: SourceLocation = #_sourceLocation) -> HTTP2FrameError? {
        let run = run(bytes, parser: parser, sourceLocation: sourceLocation)
        #expect(run.error?.scope == .connection, "\(run)", sourceLocation: sourceLocation)
        return run.error
    }
}

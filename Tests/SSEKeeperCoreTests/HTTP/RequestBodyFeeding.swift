import Testing
@testable import SSEKeeperCore

/// What a `RequestBodyForwarder` made of a client's byte stream, comparable across ways of splitting it.
struct ForwardedBody: Equatable, CustomStringConvertible {
    /// The last answer; `complete(consumed:)` counts from the start of the whole stream, not of the last piece.
    var outcome: RequestBodyForwarder.Outcome
    /// What the upstream would read as the body: the bytes for Content-Length, the decoded data for chunked.
    var data: [UInt8]
    /// Whether the upstream would see the body end: all of a Content-Length body, or a chunked body with its last
    /// chunk (and nothing after it).
    var upstreamSawTheEnd: Bool
    var bodyBytes: UInt64
    var isComplete: Bool
    /// Everything appended for the upstream; how chunks are cut depends on the split, so it is not compared.
    var upstream: [UInt8] = []

    var dataText: String { String(decoding: data, as: UTF8.self) }
    var upstreamText: String { String(decoding: upstream, as: UTF8.self) }

    var description: String {
        "\(outcome), data \(dataText.debugDescription), end \(upstreamSawTheEnd), bodyBytes \(bodyBytes), "
            + "complete \(isComplete), upstream \(upstreamText.debugDescription)"
    }

    static func == (lhs: ForwardedBody, rhs: ForwardedBody) -> Bool {
        lhs.outcome == rhs.outcome && lhs.data == rhs.data && lhs.upstreamSawTheEnd == rhs.upstreamSawTheEnd
            && lhs.bodyBytes == rhs.bodyBytes && lhs.isComplete == rhs.isComplete
    }
}

/// Feeds a client's bytes to fresh `RequestBodyForwarder`s three ways (STYLE.md habit 2): whole, one byte at a
/// time, and in random pieces (some empty) from seeded generators; expects the same outcome each way, and checks
/// the per-call contract on every call.
enum RequestBodyFeeding {
    /// A pipelined request that follows a body in some tests.
    static let nextRequest = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"

    /// Seeds of the random splits; a failure names its seed.
    static let seeds: [UInt64] = [1, 2, 3, 42, 2024]

    /// Feeds `text` the three ways to forwarders made for `framing` and `maxBodyBytes`; records an issue where
    /// they disagree and returns the whole-input result.
    static func forward(
        _ text: String,
        framing: BodyFraming,
        maxBodyBytes: UInt64? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> ForwardedBody {
        forward(Array(text.utf8), framing: framing, maxBodyBytes: maxBodyBytes, sourceLocation: sourceLocation)
    }

    static func forward(
        _ bytes: [UInt8],
        framing: BodyFraming,
        maxBodyBytes: UInt64? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> ForwardedBody {
        let forwarder: RequestBodyForwarder
        do {
            forwarder = try RequestBodyForwarder(framing: framing, maxBodyBytes: maxBodyBytes)
        } catch {
            Issue.record("forwarder refused \(framing) up front: \(error)", sourceLocation: sourceLocation)
            return ForwardedBody(outcome: .rejected(error), data: [], upstreamSawTheEnd: false, bodyBytes: 0, isComplete: false)
        }
        let whole = feed(bytes, pieces: [bytes.count], forwarder: forwarder, framing: framing, sourceLocation: sourceLocation)
        var ways = [("one byte at a time", Array(repeating: 1, count: bytes.count))]
        for seed in seeds {
            var rng = SplitMix64(seed: seed)
            ways.append(("random pieces, seed \(seed)", randomPieces(count: bytes.count, using: &rng)))
        }
        for (how, pieces) in ways {
            let other = feed(bytes, pieces: pieces, forwarder: forwarder, framing: framing, sourceLocation: sourceLocation)
            if case .rejected = whole.outcome {
                // A rejected body forwards what came before the rejecting call, which depends on the split; it
                // must never end at the upstream.
                #expect(other.outcome == whole.outcome, "\(how): \(other)\n  whole: \(whole)", sourceLocation: sourceLocation)
                #expect(!other.upstreamSawTheEnd, "\(how): rejected body ended at the upstream", sourceLocation: sourceLocation)
            } else {
                #expect(other == whole, "\(how): \(other)\n  whole: \(whole)", sourceLocation: sourceLocation)
            }
            if case .contentLength = framing {
                #expect(other.upstream == whole.upstream, "\(how): Content-Length bytes changed", sourceLocation: sourceLocation)
            }
        }
        return whole
    }

    /// Piece lengths adding up to `count`: mostly short, sometimes empty, sometimes long.
    static func randomPieces(count: Int, using rng: inout SplitMix64) -> [Int] {
        var pieces: [Int] = []
        var left = count
        while left > 0 {
            let short = rng.int(1...17), long = rng.int(1...count)
            let length = min(left, rng.pick([0, 1, 2, 3, short, long]))
            pieces.append(length)
            left -= length
        }
        return pieces
    }

    /// Feeds `bytes` in `pieces` to a copy of `forwarder`, then feeds a pipelined request once more to check that a
    /// finished or rejected forwarder takes nothing and appends nothing.
    static func feed(
        _ bytes: [UInt8],
        pieces: [Int],
        forwarder template: RequestBodyForwarder,
        framing: BodyFraming,
        sourceLocation: SourceLocation
    ) -> ForwardedBody {
        var forwarder = template
        var upstream: [UInt8] = []
        var outcome = forwarder.isComplete ? RequestBodyForwarder.Outcome.complete(consumed: 0) : .needMore
        var offset = 0
        for length in pieces where outcome == .needMore {
            let piece = bytes[offset..<offset + length]
            let step = piece.withUnsafeBytes { forwarder.feed($0, into: &upstream) }
            switch step {
            case .needMore:
                #expect(!forwarder.isComplete, sourceLocation: sourceLocation)
                outcome = .needMore
            case .complete(let consumed):
                #expect(consumed >= 0 && consumed <= length, "consumed \(consumed) of \(length)", sourceLocation: sourceLocation)
                #expect(forwarder.isComplete, sourceLocation: sourceLocation)
                outcome = .complete(consumed: offset + consumed)
            case .rejected:
                outcome = step
            }
            offset += length
        }
        // Once complete or rejected, nothing more is taken or appended.
        if outcome != .needMore {
            let before = upstream
            let again = Array(nextRequest.utf8).withUnsafeBytes { forwarder.feed($0, into: &upstream) }
            if case .rejected = outcome {
                #expect(again == outcome, "later call answered \(again)", sourceLocation: sourceLocation)
            } else {
                #expect(again == .complete(consumed: 0), "later call answered \(again)", sourceLocation: sourceLocation)
            }
            #expect(upstream == before, "a later call appended bytes", sourceLocation: sourceLocation)
        }
        let (data, sawTheEnd) = read(upstream, framing: framing, sourceLocation: sourceLocation)
        #expect(forwarder.bodyBytes == UInt64(data.count), "bodyBytes \(forwarder.bodyBytes), upstream data \(data.count)",
                sourceLocation: sourceLocation)
        return ForwardedBody(outcome: outcome, data: data, upstreamSawTheEnd: sawTheEnd,
                             bodyBytes: forwarder.bodyBytes, isComplete: forwarder.isComplete, upstream: upstream)
    }

    /// Reads the upstream output as the upstream would: the body data and whether the body ended there. A chunked
    /// output must always be well formed (whatever the client sent) and hold nothing after its last chunk.
    static func read(
        _ upstream: [UInt8],
        framing: BodyFraming,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> (data: [UInt8], sawTheEnd: Bool) {
        switch framing {
        case .none, .closeDelimited:
            #expect(upstream.isEmpty, "a body-less request forwarded bytes", sourceLocation: sourceLocation)
            return ([], true)
        case .contentLength(let length):
            #expect(UInt64(upstream.count) <= length, "forwarded \(upstream.count) of \(length) bytes", sourceLocation: sourceLocation)
            return (upstream, UInt64(upstream.count) == length)
        case .chunked:
            var decoder = ChunkedDecoder()
            var data: [UInt8] = []
            do {
                let (consumed, finished) = try upstream.withUnsafeBytes { try decoder.decode($0) { data += $0 } }
                #expect(consumed == upstream.count, "bytes after the last chunk", sourceLocation: sourceLocation)
                return (data, finished)
            } catch {
                Issue.record("upstream output is not valid chunked: \(error)", sourceLocation: sourceLocation)
                return (data, false)
            }
        }
    }
}

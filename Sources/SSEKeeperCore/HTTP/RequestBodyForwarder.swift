/// Why a request body was refused, with the status to answer.
public enum RequestBodyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The body is larger than `max_body_size` (413, RFC 9110 §15.5.14): a Content-Length above the limit, or a
    /// chunked body whose decoded data passes it.
    case tooLarge(limit: UInt64)
    /// The chunked framing is malformed (400, RFC 9112 §7.1); the decoder's error says what and where.
    case invalidChunked(ChunkedDecodingError)

    /// The status to answer the client with: 413 or 400.
    public var status: Int {
        switch self {
        case .tooLarge: return 413
        case .invalidChunked: return 400
        }
    }

    /// `request body is larger than max_body_size 1024`, or
    /// `invalid chunked request body: chunked body error: invalidChunkSize(offset: 3)`.
    public var description: String {
        switch self {
        case .tooLarge(let limit): return "request body is larger than max_body_size \(limit)"
        case .invalidChunked(let error): return "invalid chunked request body: \(error)"
        }
    }
}

/// Reads a request body from the client's bytes and writes what the upstream must receive: the one place that
/// decodes a chunked request body and counts it against `max_body_size`.
///
/// Content-Length bodies (RFC 9112 §6.2) pass through unchanged, never more than the declared length. Chunked
/// bodies (RFC 9112 §7.1) are decoded by one `ChunkedDecoder` and re-encoded as clean chunks, without extensions
/// or trailers (§7.1.1 and §7.1.2 let a proxy drop them), so the upstream never sees framing the proxy read
/// differently; `ChunkedEncoder.lastChunk` follows only a body that ended well. The framing itself comes from
/// `RequestHead.bodyFraming()`, which already refused Transfer-Encoding together with Content-Length.
///
/// The shell uses one forwarder per request: first to check a chunked body before connecting upstream (its
/// output then waits in a pending buffer), then to forward the bytes that come later. Pure: no I/O.
public struct RequestBodyForwarder: Sendable {
    /// What one `feed` did.
    public enum Outcome: Sendable, Equatable {
        /// Every input byte was consumed; more body is expected.
        case needMore
        /// The body ended after `consumed` input bytes; bytes after them belong to the next request (pipelining).
        case complete(consumed: Int)
        /// The body is invalid or too large; the caller answers `error.status` and never lets the upstream act on
        /// a complete request (it aborts the upstream connection if one exists).
        case rejected(RequestBodyError)
    }

    private enum State: Sendable {
        /// The whole body has been consumed (and, when chunked, the last chunk written).
        case complete
        /// Inside a Content-Length body, `remaining` bytes to go.
        case contentLength(remaining: UInt64)
        /// Inside a chunked body.
        case chunked(ChunkedDecoder)
        /// Refused; every later `feed` answers the same.
        case rejected(RequestBodyError)
    }

    /// Thrown from the decoder's data callback to stop at the byte that passes the limit.
    private struct LimitExceeded: Error {}

    private var state: State
    private let maxBodyBytes: UInt64
    /// The SHA-256 of the decoded body so far, when asked for (`digestsBody`).
    private var digest: SHA256?

    /// Checks the framing against the limit up front: a Content-Length above `maxBodyBytes` throws `.tooLarge`.
    /// `.none`/`.closeDelimited` (requests have no close-delimited body) and `.contentLength(0)` are complete at once.
    ///
    /// `maxBodyBytes` is `max_body_size` (nil: no limit); a body of exactly that many bytes is accepted. A chunked
    /// body is counted on its decoded data, as it arrives.
    ///
    /// `digestsBody`: also hash the decoded body (SHA-256), for `bodyDigest` (client ride-through matches a
    /// reconnect's body against the original request's).
    public init(framing: BodyFraming, maxBodyBytes: UInt64?, digestsBody: Bool = false) throws(RequestBodyError) {
        self.maxBodyBytes = maxBodyBytes ?? .max
        if digestsBody { digest = SHA256() }
        switch framing {
        case .none, .closeDelimited, .contentLength(0):
            state = .complete
            hasBody = false
        case .contentLength(let length):
            if let limit = maxBodyBytes, length > limit { throw .tooLarge(limit: limit) }
            state = .contentLength(remaining: length)
            hasBody = true
        case .chunked:
            state = .chunked(ChunkedDecoder())
            hasBody = true
        }
    }

    /// Whether the whole body has been consumed (always true for a body-less request).
    public var isComplete: Bool {
        if case .complete = state { return true }
        return false
    }

    /// Whether the request has a body at all (false for `.none` and `.contentLength(0)`).
    public let hasBody: Bool

    /// The SHA-256 of the decoded body, once it is complete and the forwarder was made with `digestsBody`; nil
    /// otherwise. For a request without a body it is the digest of no bytes.
    public var bodyDigest: [UInt8]? {
        guard isComplete, let digest else { return nil }
        return digest.finalize()
    }

    /// Decoded body bytes seen so far (for chunked: the data, not the framing).
    ///
    /// Never above `maxBodyBytes`: a `feed` that rejects leaves it as it was.
    public private(set) var bodyBytes: UInt64 = 0

    /// Consumes client bytes and appends what the upstream must receive to `upstream`: Content-Length bodies pass
    /// through unchanged (never more than the declared length); chunked bodies are decoded, counted against
    /// `max_body_size`, and re-encoded as clean chunks (`ChunkedEncoder.appendChunk`, extensions and trailers
    /// dropped), with `ChunkedEncoder.lastChunk` appended once the body ends. After `.rejected`, every later call
    /// returns the same rejection and appends nothing.
    ///
    /// The call that rejects appends nothing either (it takes back what it had appended), so the upstream output
    /// of a rejected body is a strict prefix of a valid chunked body: it never holds the last chunk. A chunked body
    /// is rejected at its first offending byte, whichever way the input is split: data past the limit gives
    /// `.tooLarge`, a framing error before it `.invalidChunked`. Once complete, every call returns
    /// `.complete(consumed: 0)` and appends nothing. `upstream` may already hold bytes; they are left alone.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, into upstream: inout [UInt8]) -> Outcome {
        switch state {
        case .complete:
            return .complete(consumed: 0)
        case .rejected(let error):
            return .rejected(error)
        case .contentLength(let remaining):
            let take = Int(min(UInt64(bytes.count), remaining))
            let data = UnsafeRawBufferPointer(rebasing: bytes[..<take])
            upstream.append(contentsOf: data)
            if digest != nil { digest!.update(data) }
            bodyBytes += UInt64(take)
            guard UInt64(take) < remaining else {
                state = .complete
                return .complete(consumed: take)
            }
            state = .contentLength(remaining: remaining - UInt64(take))
            return .needMore
        case .chunked(var decoder):
            return feedChunked(bytes, decoder: &decoder, into: &upstream)
        }
    }

    /// `feed` for a chunked body: one output chunk per run of data the decoder hands out.
    private mutating func feedChunked(
        _ bytes: UnsafeRawBufferPointer,
        decoder: inout ChunkedDecoder,
        into upstream: inout [UInt8]
    ) -> Outcome {
        let start = upstream.count
        let limit = maxBodyBytes
        var decoded = bodyBytes
        var digest = self.digest
        let result: (consumed: Int, finished: Bool)
        do {
            result = try decoder.decode(bytes) { data in
                // `decoded <= limit` holds throughout, so the subtraction cannot wrap.
                guard UInt64(data.count) <= limit - decoded else { throw LimitExceeded() }
                decoded += UInt64(data.count)
                if digest != nil { digest!.update(data) }
                ChunkedEncoder.appendChunk(data, to: &upstream)
            }
        } catch let error as ChunkedDecodingError {
            return reject(.invalidChunked(error), appendedFrom: start, in: &upstream)
        } catch {
            return reject(.tooLarge(limit: limit), appendedFrom: start, in: &upstream)
        }
        bodyBytes = decoded
        self.digest = digest
        guard result.finished else {
            state = .chunked(decoder)
            return .needMore
        }
        upstream.append(contentsOf: ChunkedEncoder.lastChunk)
        state = .complete
        return .complete(consumed: result.consumed)
    }

    /// Records the rejection and removes what this call appended from `start` on.
    private mutating func reject(
        _ error: RequestBodyError,
        appendedFrom start: Int,
        in upstream: inout [UInt8]
    ) -> Outcome {
        upstream.removeSubrange(start...)
        state = .rejected(error)
        return .rejected(error)
    }
}

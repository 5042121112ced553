/// A resumable decoder of the chunked transfer coding (RFC 9112 §7.1), like nginx's `ngx_http_parse_chunked`:
/// the caller owns this small struct and feeds it whatever bytes arrived.
///
/// Body bytes are handed out as slices of the input (zero-copy). Extensions are skipped, trailer fields are
/// skipped (RFC 9112 §7.1.2 lets a recipient discard them). Unlike the head, the chunked framing requires CRLF
/// everywhere: lenient chunk parsing (bare LF, stray bytes) is a known request-smuggling vector when the proxy
/// and the upstream disagree, and the proxy re-encodes the body anyway.
///
/// Limits: `maxChunkSizeDigits` hex digits per size (16 fit a `UInt64`), `maxExtensionBytes` of whitespace and
/// extensions per size line, `maxTrailerBytes` for the whole trailer section including its line ends.
public struct ChunkedDecoder: Sendable {
    /// Default for `maxChunkSizeDigits`: 16 hex digits, the most a `UInt64` holds.
    public static let defaultMaxChunkSizeDigits = 16
    /// Default for `maxExtensionBytes`.
    public static let defaultMaxExtensionBytes = 4096
    /// Default for `maxTrailerBytes`.
    public static let defaultMaxTrailerBytes = 16384

    /// The most hex digits accepted in one chunk size.
    public let maxChunkSizeDigits: Int
    /// The most bytes of whitespace and extensions accepted after one chunk size.
    public let maxExtensionBytes: Int
    /// The most bytes accepted in the trailer section.
    public let maxTrailerBytes: Int

    private enum State: Sendable, Equatable {
        /// Reading hex digits: `digits` so far, making `size`.
        case size(digits: Int, size: UInt64)
        /// After the digits: BWS before `;`, or the extensions themselves, `bytes` of them so far.
        case sizeSuffix(size: UInt64, bytes: Int, inExtension: Bool)
        /// After the CR of the size line.
        case sizeLineFeed(size: UInt64)
        /// Inside chunk data, `remaining` bytes to go.
        case data(remaining: UInt64)
        /// After chunk data: expecting CR, then LF.
        case dataCarriageReturn
        case dataLineFeed
        /// After the last chunk: at the start of a trailer line (or of the final empty line).
        case trailerLineStart(bytes: Int)
        case trailerLine(bytes: Int)
        case trailerLineFeed(bytes: Int)
        case finalLineFeed(bytes: Int)
        case finished
        case failed(ChunkedDecodingError)
    }

    private var state = State.size(digits: 0, size: 0)
    /// Bytes consumed by earlier calls, for error offsets.
    private var consumedBefore = 0

    /// Creates a decoder for one chunked body.
    public init(
        maxChunkSizeDigits: Int = ChunkedDecoder.defaultMaxChunkSizeDigits,
        maxExtensionBytes: Int = ChunkedDecoder.defaultMaxExtensionBytes,
        maxTrailerBytes: Int = ChunkedDecoder.defaultMaxTrailerBytes
    ) {
        self.maxChunkSizeDigits = maxChunkSizeDigits
        self.maxExtensionBytes = maxExtensionBytes
        self.maxTrailerBytes = maxTrailerBytes
    }

    /// Whether the last chunk and the trailer section have been read.
    public var isFinished: Bool { state == .finished }

    /// Consumes as much of `input` as it can, calling `onData` with each run of body bytes (slices of `input`,
    /// valid only during the call).
    ///
    /// Returns how many bytes were consumed and whether the body is finished. Before the end every byte is
    /// consumed (a partial size line is remembered in the state); once finished, the bytes after the final
    /// CRLF belong to the next message and are not consumed, and later calls consume nothing.
    /// - Throws: `ChunkedDecodingError`, or whatever `onData` throws. After a decoding error the decoder is
    ///   spent: every later call throws the same error. After an error from `onData`, discard the decoder.
    public mutating func decode(
        _ input: UnsafeRawBufferPointer,
        onData: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> (consumed: Int, finished: Bool) {
        if case .failed(let error) = state { throw error }
        var index = 0
        let count = input.count
        while index < count {
            // The common framing whole in this read (`64\r\n` before data, CRLF after it): one pass, no state per
            // byte. Anything else (an extension, a line the read cuts, a bad byte) goes byte by byte from the same
            // place, so errors and their offsets are the per-byte path's.
            if case .size(digits: 0, size: 0) = state, let (size, next) = plainSizeLine(input, from: index) {
                // The whole chunk in this read, data and its CRLF (an event per chunk, nearly always): delivered
                // at once, the state left as it is (the next size line). Otherwise the states take it from here.
                if size > 0, count - next >= 2, size <= UInt64(count - next - 2) {
                    let end = next + Int(size)
                    if input[end] == HTTPSyntax.cr, input[end + 1] == HTTPSyntax.lf {
                        index = end + 2
                        try onData(UnsafeRawBufferPointer(rebasing: input[next..<end]))
                        continue
                    }
                }
                state = size == 0 ? .trailerLineStart(bytes: 0) : .data(remaining: size)
                index = next
                continue
            }
            if case .dataCarriageReturn = state, count - index >= 2, input[index] == HTTPSyntax.cr,
               input[index + 1] == HTTPSyntax.lf {
                state = .size(digits: 0, size: 0)
                index += 2
                continue
            }
            switch state {
            case .data(let remaining):
                let take = Int(min(remaining, UInt64(count - index)))
                let run = UnsafeRawBufferPointer(rebasing: input[index..<index + take])
                index += take
                state = remaining == UInt64(take) ? .dataCarriageReturn : .data(remaining: remaining - UInt64(take))
                try onData(run)
            case .finished:
                consumedBefore += index
                return (index, true)
            default:
                try step(input[index], at: consumedBefore + index)
                index += 1
            }
        }
        consumedBefore += index
        return (index, state == .finished)
    }

    /// A size line of hex digits and CRLF only, all within `input` from `start`: its size and the offset after its
    /// LF. Nil for anything `step` must judge (no digit, more than `maxChunkSizeDigits`, extensions, whitespace, a
    /// line the read cuts): the per-byte path then decides it exactly as if this had not looked.
    @inline(__always)
    private func plainSizeLine(_ input: UnsafeRawBufferPointer, from start: Int) -> (UInt64, Int)? {
        var index = start
        var size: UInt64 = 0
        // At most 16 digits here (a UInt64's worth); a longer size is left to `step`, which rejects it.
        let digitsEnd = min(input.count, start + min(maxChunkSizeDigits, 16))
        while index < digitsEnd, let digit = HTTPSyntax.hexValue(input[index]) {
            size = size << 4 | UInt64(digit)
            index += 1
        }
        guard index > start, input.count - index >= 2, input[index] == HTTPSyntax.cr,
              input[index + 1] == HTTPSyntax.lf else { return nil }
        return (size, index + 2)
    }

    /// Advances the state by one framing byte at body offset `offset`.
    private mutating func step(_ byte: UInt8, at offset: Int) throws(ChunkedDecodingError) {
        switch state {
        case .size(let digits, let size):
            if let digit = HTTPSyntax.hexValue(byte) {
                guard digits < maxChunkSizeDigits, size <= UInt64.max >> 4 else { throw fail(.chunkSizeTooLong(offset: offset)) }
                state = .size(digits: digits + 1, size: size << 4 | UInt64(digit))
                return
            }
            guard digits > 0 else { throw fail(.invalidChunkSize(offset: offset)) }
            state = .sizeSuffix(size: size, bytes: 0, inExtension: false)
            try step(byte, at: offset)
        case .sizeSuffix(let size, let bytes, let inExtension):
            switch byte {
            case HTTPSyntax.cr:
                state = .sizeLineFeed(size: size)
                return
            case HTTPSyntax.lf:
                throw fail(.missingCRLFAfterChunkSize(offset: offset))
            case HTTPSyntax.semicolon:
                break
            case _ where HTTPSyntax.isWhitespace(byte):
                break
            case _ where inExtension:
                guard HTTPSyntax.isFieldValueByte(byte) else { throw fail(.invalidChunkExtension(offset: offset)) }
            default:
                throw fail(.invalidChunkSize(offset: offset))
            }
            guard bytes < maxExtensionBytes else { throw fail(.chunkExtensionTooLong(offset: offset)) }
            state = .sizeSuffix(size: size, bytes: bytes + 1, inExtension: inExtension || byte == HTTPSyntax.semicolon)
        case .sizeLineFeed(let size):
            guard byte == HTTPSyntax.lf else { throw fail(.missingCRLFAfterChunkSize(offset: offset)) }
            state = size == 0 ? .trailerLineStart(bytes: 0) : .data(remaining: size)
        case .dataCarriageReturn:
            guard byte == HTTPSyntax.cr else { throw fail(.missingCRLFAfterChunkData(offset: offset)) }
            state = .dataLineFeed
        case .dataLineFeed:
            guard byte == HTTPSyntax.lf else { throw fail(.missingCRLFAfterChunkData(offset: offset)) }
            state = .size(digits: 0, size: 0)
        case .trailerLineStart(let bytes):
            try checkTrailerLimit(bytes, at: offset)
            state = byte == HTTPSyntax.cr ? .finalLineFeed(bytes: bytes + 1) : .trailerLine(bytes: bytes)
            if byte != HTTPSyntax.cr { try step(byte, at: offset) }
        case .trailerLine(let bytes):
            try checkTrailerLimit(bytes, at: offset)
            if byte == HTTPSyntax.cr {
                state = .trailerLineFeed(bytes: bytes + 1)
            } else {
                guard HTTPSyntax.isFieldValueByte(byte) else { throw fail(.invalidTrailer(offset: offset)) }
                state = .trailerLine(bytes: bytes + 1)
            }
        case .trailerLineFeed(let bytes):
            try checkTrailerLimit(bytes, at: offset)
            guard byte == HTTPSyntax.lf else { throw fail(.invalidTrailer(offset: offset)) }
            state = .trailerLineStart(bytes: bytes + 1)
        case .finalLineFeed(let bytes):
            try checkTrailerLimit(bytes, at: offset)
            guard byte == HTTPSyntax.lf else { throw fail(.invalidTrailer(offset: offset)) }
            state = .finished
        case .data, .finished, .failed:
            preconditionFailure("ChunkedDecoder.step called in state \(state)")
        }
    }

    private mutating func checkTrailerLimit(_ bytes: Int, at offset: Int) throws(ChunkedDecodingError) {
        if bytes >= maxTrailerBytes { throw fail(.trailersTooLong(offset: offset)) }
    }

    /// Records `error` so later calls rethrow it, and returns it for throwing.
    private mutating func fail(_ error: ChunkedDecodingError) -> ChunkedDecodingError {
        state = .failed(error)
        return error
    }
}

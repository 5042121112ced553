/// The `id` ssekeeper gives every event of a ridden-through stream (issue 15, "Ids"): `sk1.<token>.<seq>`, or
/// `sk1.<token>.<seq>.<backend-id>` when the backend's own last-event-id buffer (WHATWG HTML §9.2.6) is not empty.
///
/// - `sk1`: the format's name and version.
/// - `<token>`: the stream's `StreamToken`, 22 base64url characters.
/// - `<seq>`: the event's sequence number in the stream, decimal, without leading zeros ("0" is the only text
///   that starts with 0), at most 20 digits and at most `UInt64.max`.
/// - `<backend-id>`: everything after the third dot, kept byte for byte; may hold dots; never empty (an empty
///   buffer is written without the part), never CR, LF or NUL (none can come from an SSE `id:` field: CR and LF
///   end the line, and WHATWG ignores an id holding NUL).
///
/// Parsing is strict: every accepted text is exactly what `bytes` renders for the parsed value, so a client's
/// `Last-Event-ID` maps to one stream position and back. A text that does not parse is not ours (or is damaged),
/// and the reconnect is a new request.
public struct StampedEventID: Hashable, Sendable {
    /// The first part, the format's name and version.
    public static let formatName: [UInt8] = Array("sk1".utf8)
    /// The most digits `<seq>` may have (`UInt64.max` has 20).
    public static let maxSequenceDigits = 20

    /// The stream the event belongs to.
    public let token: StreamToken
    /// The event's sequence number in the stream.
    public let sequence: UInt64
    /// The backend's last event ID as it stood after this event, or empty when the backend's buffer was empty.
    public let backendID: [UInt8]

    private static let dot = UInt8(ascii: ".")

    /// The id of event `sequence` of stream `token`, carrying `backendID` (empty: none). Nil when `backendID`
    /// holds CR, LF or NUL, which cannot be written into an `id:` field.
    public init?(token: StreamToken, sequence: UInt64, backendID: [UInt8]) {
        guard Self.isValidBackendID(backendID[...]) else { return nil }
        self.token = token
        self.sequence = sequence
        self.backendID = backendID
    }

    /// Parses `text` (for example a `Last-Event-ID` header value); nil unless it is exactly a rendered id.
    public init?(parsing text: String) {
        self.init(parsing: text.utf8)
    }

    /// Parses the bytes `input` (for example a `Last-Event-ID` header value); nil unless they are exactly a
    /// rendered id (see the type's contract). Reads each byte at most twice; no limit on the backend id's length
    /// beyond the caller's (a header value is bounded by `max_header_size`).
    public init?<Input: Collection>(parsing input: Input) where Input.Element == UInt8 {
        let parsed = input.withContiguousStorageIfAvailable(Self.parse)
            ?? Array(input).withUnsafeBufferPointer(Self.parse)
        guard let parsed else { return nil }
        self = parsed
    }

    private init(validToken token: StreamToken, sequence: UInt64, validBackendID backendID: [UInt8]) {
        self.token = token
        self.sequence = sequence
        self.backendID = backendID
    }

    private static func parse(_ input: UnsafeBufferPointer<UInt8>) -> StampedEventID? {
        let tokenStart = formatName.count + 1
        let tokenEnd = tokenStart + StreamToken.textCount
        // "sk1." token "." and one digit at least.
        guard input.count >= tokenEnd + 2,
              input.starts(with: formatName), input[formatName.count] == dot, input[tokenEnd] == dot,
              let token = StreamToken(text: input[tokenStart..<tokenEnd]) else { return nil }

        let sequenceStart = tokenEnd + 1
        var index = sequenceStart
        var sequence: UInt64 = 0
        while index < input.count, index - sequenceStart < maxSequenceDigits + 1,
              let digit = decimalValue(input[index]) {
            let (scaled, overflowScaling) = sequence.multipliedReportingOverflow(by: 10)
            let (sum, overflowAdding) = scaled.addingReportingOverflow(digit)
            guard !overflowScaling, !overflowAdding else { return nil }
            sequence = sum
            index += 1
        }
        let digits = index - sequenceStart
        guard digits >= 1, digits <= maxSequenceDigits, digits == 1 || input[sequenceStart] != UInt8(ascii: "0") else {
            return nil
        }
        if index == input.count {
            return StampedEventID(validToken: token, sequence: sequence, validBackendID: [])
        }
        guard input[index] == dot, index + 1 < input.count else { return nil }
        let backendID = input[(index + 1)...]
        guard isValidBackendID(backendID) else { return nil }
        return StampedEventID(validToken: token, sequence: sequence, validBackendID: Array(backendID))
    }

    @inline(__always)
    private static func decimalValue(_ byte: UInt8) -> UInt64? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? UInt64(byte - UInt8(ascii: "0")) : nil
    }

    private static func isValidBackendID<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        !bytes.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }
    }

    /// The id as written after `id: `: `sk1.<token>.<seq>` or `sk1.<token>.<seq>.<backend-id>`.
    public var bytes: [UInt8] {
        var out = Self.formatName
        out.reserveCapacity(Self.formatName.count + StreamToken.textCount + Self.maxSequenceDigits + 3 + backendID.count)
        out.append(Self.dot)
        out += token.textBytes
        out.append(Self.dot)
        out += String(sequence).utf8
        if !backendID.isEmpty {
            out.append(Self.dot)
            out += backendID
        }
        return out
    }

    /// The id as text; exact when the backend id is valid UTF-8 (any other backend id is shown with U+FFFD, so
    /// `bytes` is what goes on the wire).
    public var text: String {
        String(decoding: bytes, as: UTF8.self)
    }
}

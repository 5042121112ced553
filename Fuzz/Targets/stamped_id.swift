// Fuzz target: StampedEventID, StreamToken, Base64URL (the parsers of a client's Last-Event-ID on a ride-through
// route), with ConstantTime.equal and SHA256 on the side.
//
// Input: the whole input is parsed as a stamped id, as a stream token and as base64url; the same bytes also build
// an id (bytes 0-15 the token, 16-23 the sequence, big-endian, the rest the backend id) and are split at byte 0's
// value for the comparison and the hash.
//
// Checks: whatever parses renders back to exactly the input (the formats are strict, one text per value), and
// re-parses to the same value; base64url encodings decode back; an id built from parts is refused exactly when its
// backend id holds CR, LF or NUL, and otherwise round-trips; ConstantTime.equal agrees with ==; SHA-256 of the
// input is the same fed whole and in two pieces.

/// Hands out the input's bytes as big-endian words (zero past the end), so a token's bits come from the input.
private struct InputWords: RandomNumberGenerator {
    let bytes: [UInt8]
    var offset = 0

    mutating func next() -> UInt64 {
        var word: UInt64 = 0
        for index in offset..<offset + 8 {
            word = word << 8 | UInt64(index < bytes.count ? bytes[index] : 0)
        }
        offset += 8
        return word
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = fuzzBytes(data, size)

    if let id = StampedEventID(parsing: input) {
        require(id.bytes == input, "parsed \(escaped(input)) renders as \(escaped(id.bytes))")
        require(StampedEventID(parsing: id.bytes) == id, "\(escaped(input)) does not re-parse to the same id")
        require(id.backendID.isEmpty || input.starts(with: StampedEventID.formatName), "backend id without a prefix")
        require(!id.backendID.contains(0x0A) && !id.backendID.contains(0x0D) && !id.backendID.contains(0),
                "backend id with CR, LF or NUL from \(escaped(input))")
    }
    require(StampedEventID(parsing: input[...]) == StampedEventID(parsing: input), "slice and array disagree")

    if let token = StreamToken(text: input) {
        require(token.textBytes == input, "token \(escaped(input)) renders as \(escaped(token.textBytes))")
        require(StreamToken(text: token.text) == token, "token \(escaped(input)) does not re-parse")
    }

    if let decoded = Base64URL.decode(input) {
        require(Base64URL.encodedBytes(decoded) == input, "base64url \(escaped(input)) is not canonical")
    }
    let encoded = Base64URL.encodedBytes(input)
    require(encoded.count == Base64URL.encodedCount(byteCount: input.count), "encoded length of \(input.count) bytes")
    require(Base64URL.decode(encoded) == input, "\(escaped(input)) does not round-trip through base64url")

    var words = InputWords(bytes: input)
    let token = StreamToken(random: &words)
    let sequence = words.next()
    let backendID = Array(input.dropFirst(24))
    let writable = !backendID.contains(0x0A) && !backendID.contains(0x0D) && !backendID.contains(0)
    let built = StampedEventID(token: token, sequence: sequence, backendID: backendID)
    require((built != nil) == writable, "built id \(built == nil ? "refused" : "accepted") for \(escaped(backendID))")
    if let built {
        let rendered = built.bytes
        require(StampedEventID(parsing: rendered) == built, "built id \(escaped(rendered)) does not parse back")
        require(StreamToken(text: token.textBytes) == token, "token from the input does not round-trip")
    }

    let split = input.isEmpty ? 0 : min(Int(input[0]), input.count)
    let first = Array(input[..<split]), second = Array(input[split...])
    require(ConstantTime.equal(first, second) == (first == second), "ConstantTime.equal disagrees with ==")
    require(ConstantTime.equal(input, input), "ConstantTime.equal says the input differs from itself")
    var hasher = SHA256()
    hasher.update(first)
    hasher.update(second)
    require(hasher.finalize() == SHA256.hash(input), "SHA-256 differs split at \(split) of \(input.count)")
    return 0
}

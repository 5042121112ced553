/// base64url without padding (RFC 4648 §5, with §3.2's padding left out): the alphabet `A-Z a-z 0-9 - _`, safe in
/// URLs, header values and SSE `id:` fields.
///
/// Decoding is strict, so that every byte string has exactly one accepted text (`encode(decode(text)) == text`
/// whenever `decode` succeeds): it returns nil for any byte outside the alphabet (`=`, `+`, `/`, whitespace,
/// non-ASCII), for a length of 4n + 1 characters (no byte string encodes to that), and for non-canonical trailing
/// bits (RFC 4648 §3.5: the unused low bits of the last character must be zero).
public enum Base64URL {
    /// The 64 characters, in value order (RFC 4648 §5, Table 2).
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// The number of characters `encode` writes for `byteCount` bytes: ⌈4 × byteCount / 3⌉.
    public static func encodedCount(byteCount: Int) -> Int {
        let tail = byteCount % 3
        return (byteCount / 3) * 4 + (tail == 0 ? 0 : tail + 1)
    }

    /// `bytes` in base64url without padding, as ASCII bytes.
    public static func encodedBytes(_ bytes: [UInt8]) -> [UInt8] {
        let count = encodedCount(byteCount: bytes.count)
        return alphabet.withUnsafeBufferPointer { alphabet in
            bytes.withUnsafeBufferPointer { input in
                [UInt8](unsafeUninitializedCapacity: count) { output, initialized in
                    var read = 0
                    var written = 0
                    while read + 3 <= input.count {
                        let group = UInt32(input[read]) << 16 | UInt32(input[read + 1]) << 8 | UInt32(input[read + 2])
                        output[written] = alphabet[Int(group >> 18)]
                        output[written + 1] = alphabet[Int(group >> 12 & 0x3F)]
                        output[written + 2] = alphabet[Int(group >> 6 & 0x3F)]
                        output[written + 3] = alphabet[Int(group & 0x3F)]
                        read += 3
                        written += 4
                    }
                    switch input.count - read {
                    case 1:
                        let group = UInt32(input[read]) << 16
                        output[written] = alphabet[Int(group >> 18)]
                        output[written + 1] = alphabet[Int(group >> 12 & 0x3F)]
                        written += 2
                    case 2:
                        let group = UInt32(input[read]) << 16 | UInt32(input[read + 1]) << 8
                        output[written] = alphabet[Int(group >> 18)]
                        output[written + 1] = alphabet[Int(group >> 12 & 0x3F)]
                        output[written + 2] = alphabet[Int(group >> 6 & 0x3F)]
                        written += 3
                    default:
                        break
                    }
                    initialized = written
                }
            }
        }
    }

    /// `bytes` in base64url without padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        String(decoding: encodedBytes(bytes), as: UTF8.self)
    }

    /// The bytes `text` encodes, or nil when it is not strict unpadded base64url (see the type's contract).
    public static func decode(_ text: String) -> [UInt8]? {
        decode(text.utf8)
    }

    /// The bytes the ASCII characters `encoded` encode, or nil when they are not strict unpadded base64url (see
    /// the type's contract).
    public static func decode<Encoded: Collection>(_ encoded: Encoded) -> [UInt8]? where Encoded.Element == UInt8 {
        if let decoded = encoded.withContiguousStorageIfAvailable(decode(contiguous:)) { return decoded }
        return Array(encoded).withUnsafeBufferPointer(decode(contiguous:))
    }

    private static func decode(contiguous input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let remainder = input.count % 4
        guard remainder != 1 else { return nil }
        let count = (input.count / 4) * 3 + (remainder == 0 ? 0 : remainder - 1)
        var valid = true
        let output = [UInt8](unsafeUninitializedCapacity: count) { output, initialized in
            var read = 0
            var written = 0
            while read + 4 <= input.count {
                guard let a = value(of: input[read]), let b = value(of: input[read + 1]),
                      let c = value(of: input[read + 2]), let d = value(of: input[read + 3]) else {
                    valid = false
                    break
                }
                let group = a << 18 | b << 12 | c << 6 | d
                output[written] = UInt8(truncatingIfNeeded: group >> 16)
                output[written + 1] = UInt8(truncatingIfNeeded: group >> 8)
                output[written + 2] = UInt8(truncatingIfNeeded: group)
                read += 4
                written += 3
            }
            if valid && remainder >= 2 {
                if let a = value(of: input[read]), let b = value(of: input[read + 1]) {
                    output[written] = UInt8(truncatingIfNeeded: a << 2 | b >> 4)
                    written += 1
                    if remainder == 3 {
                        if let c = value(of: input[read + 2]), c & 0x03 == 0 {
                            output[written] = UInt8(truncatingIfNeeded: b << 4 | c >> 2)
                            written += 1
                        } else {
                            valid = false
                        }
                    } else if b & 0x0F != 0 {
                        valid = false
                    }
                } else {
                    valid = false
                }
            }
            initialized = written
        }
        return valid ? output : nil
    }

    /// The 6-bit value of one base64url character, or nil for any other byte.
    @inline(__always)
    private static func value(of character: UInt8) -> UInt32? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(character - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(character - UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(character - UInt8(ascii: "0")) + 52
        case UInt8(ascii: "-"): return 62
        case UInt8(ascii: "_"): return 63
        default: return nil
        }
    }
}

/// The random name of one ridden-through stream: 128 bits, written as 22 base64url characters (issue 15, "Ids").
///
/// A token names a stream; it is not a credential. A reconnect that carries it attaches only when its request
/// also matches the original one (method, target, the `client_resume_match` headers, the body's SHA-256), so a
/// leaked token lets nobody read or end another client's stream. Tokens are unguessable all the same (128 bits
/// from the caller's generator), so that streams cannot be enumerated.
///
/// Equality and hashing are ordinary (not constant time): a token is looked up in a table, and the secrets are
/// compared elsewhere, with `ConstantTime`.
public struct StreamToken: Hashable, Sendable {
    /// The token's length in bytes (128 bits).
    public static let byteCount = 16
    /// The token's length in base64url characters: ⌈16 × 4 / 3⌉ = 22, the last one carrying 2 bits that are zero.
    public static let textCount = 22

    /// The first 64 bits, big-endian in `bytes`.
    private let high: UInt64
    /// The last 64 bits, big-endian in `bytes`.
    private let low: UInt64

    /// A new token of 128 bits drawn from `generator` (two calls to `next()`: the first gives `bytes[0..<8]`, the
    /// second `bytes[8..<16]`, each big-endian). Production passes a `SystemRandomNumberGenerator`, whose bits
    /// come from the kernel (`getrandom`); tests pass a seeded one.
    public init(random generator: inout some RandomNumberGenerator) {
        high = generator.next()
        low = generator.next()
    }

    /// The token written as `text`, or nil unless `text` is exactly 22 base64url characters with canonical
    /// trailing bits (see `Base64URL`).
    public init?(text: String) {
        self.init(text: text.utf8)
    }

    /// The token written as the ASCII characters `text`, or nil unless they are exactly 22 base64url characters
    /// with canonical trailing bits (see `Base64URL`).
    public init?<Text: Collection>(text: Text) where Text.Element == UInt8 {
        guard text.count == Self.textCount, let bytes = Base64URL.decode(text), bytes.count == Self.byteCount else {
            return nil
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 {
            high = high << 8 | UInt64(bytes[index])
            low = low << 8 | UInt64(bytes[index + 8])
        }
        self.high = high
        self.low = low
    }

    /// The token's 16 bytes.
    public var bytes: [UInt8] {
        (0..<Self.byteCount).map { index in
            let word = index < 8 ? high : low
            return UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64(index % 8)))
        }
    }

    /// The token as 22 base64url characters (ASCII bytes).
    public var textBytes: [UInt8] {
        Base64URL.encodedBytes(bytes)
    }

    /// The token as 22 base64url characters.
    public var text: String {
        Base64URL.encode(bytes)
    }
}

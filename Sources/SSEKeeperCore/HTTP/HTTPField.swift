/// One field line of a message head, `name: value` (RFC 9112 §5).
///
/// The name keeps the case it arrived in (names compare case-insensitively, RFC 9110 §5.1); the value has its
/// leading and trailing whitespace already trimmed (RFC 9112 §5.1).
public struct HTTPField: Sendable, Equatable, Hashable {
    /// The field name as received, a token (RFC 9110 §5.6.2).
    public var name: String
    /// The field value without surrounding optional whitespace.
    public var value: String

    /// Creates a field; the caller guarantees a token name and a value free of CR, LF and NUL.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// One field line of a message head, `name: value` (RFC 9112 §5).
///
/// The name keeps the case it arrived in (names compare case-insensitively, RFC 9110 §5.1); the value has its
/// leading and trailing whitespace already trimmed (RFC 9112 §5.1).
public struct HTTPField: Sendable, Equatable, Hashable {
    /// The field name as received, a token (RFC 9110 §5.6.2).
    public var name: String {
        didSet { known = KnownFieldName(name) }
    }
    /// The field value without surrounding optional whitespace.
    public var value: String
    /// The name the proxy acts on that `name` spells in any case, or nil: recognized once, when the field is made
    /// or renamed, so lookups compare this instead of the name's bytes.
    private(set) var known: KnownFieldName?

    /// Creates a field; the caller guarantees a token name and a value free of CR, LF and NUL.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
        known = KnownFieldName(name)
    }

    /// A field whose name the parser already recognized (`known` must be `KnownFieldName(name)`).
    init(name: String, value: String, known: KnownFieldName?) {
        self.name = name
        self.value = value
        self.known = known
    }
}

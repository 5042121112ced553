/// One header field as HPACK carries it (RFC 7541 §1.3): name and value octets, and whether it may be indexed.
///
/// Names and values are raw octets; HPACK does not constrain them. HTTP/2 does (RFC 9113 §8.2.1: names lowercase,
/// no CR, LF or NUL in values), and those checks belong to the caller; `nameHasUppercase` helps with the first.
public struct HPACKHeaderField: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Whether intermediaries may put the field into a dynamic table (§6.2.3, §7.1.3).
    public enum Indexing: Sendable, Equatable, Hashable {
        /// Ordinary: the encoder chooses the representation.
        case allowed
        /// Sensitive: sent, and to be re-sent by any intermediary, as a never-indexed literal (§6.2.3).
        case never
    }

    /// The field name's octets.
    public var name: [UInt8]
    /// The field value's octets.
    public var value: [UInt8]
    /// Whether the field may be indexed; decoding yields `.never` exactly for never-indexed literals.
    public var indexing: Indexing

    /// Creates a field from octets.
    public init(name: [UInt8], value: [UInt8], indexing: Indexing = .allowed) {
        self.name = name
        self.value = value
        self.indexing = indexing
    }

    /// Creates a field from strings (their UTF-8 octets).
    public init(_ name: String, _ value: String, indexing: Indexing = .allowed) {
        self.init(name: Array(name.utf8), value: Array(value.utf8), indexing: indexing)
    }

    /// The size HTTP/2 counts for SETTINGS_MAX_HEADER_LIST_SIZE and HPACK for the dynamic table: name + value + 32
    /// octets (RFC 9113 §6.5.2, RFC 7541 §4.1).
    public var size: Int { name.count + value.count + HPACKDynamicTable.entryOverhead }

    /// Whether the name holds an ASCII uppercase letter, which makes an HTTP/2 message malformed
    /// (RFC 9113 §8.2.1); HPACK itself accepts it.
    public var nameHasUppercase: Bool { name.contains { $0 >= 0x41 && $0 <= 0x5A } }

    /// `name: value`, with `(never indexed)` for sensitive fields.
    public var description: String {
        String(decoding: name, as: UTF8.self) + ": " + String(decoding: value, as: UTF8.self)
            + (indexing == .never ? " (never indexed)" : "")
    }
}

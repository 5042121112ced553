/// The field lines of a message head, in the order received and with the names' original case (RFC 9112 §5).
///
/// Lookups compare names case-insensitively (RFC 9110 §5.1). Order matters when forwarding: the builders emit
/// end-to-end fields exactly as they came, so repeated fields keep their relative order (RFC 9110 §5.3).
public struct HTTPHeaders: Sendable, Equatable, Hashable, ExpressibleByDictionaryLiteral {
    /// Every field line, in order.
    public var fields: [HTTPField]

    /// Creates headers from field lines, in order.
    public init(_ fields: [HTTPField] = []) {
        self.fields = fields
    }

    /// Creates headers from `name: value` pairs in order; names may repeat: `["Accept": "a", "Accept": "b"]`.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.fields = elements.map { HTTPField(name: $0.0, value: $0.1) }
    }

    /// The number of field lines.
    public var count: Int { fields.count }

    /// Whether `field` is named `name` (any case), `name` being recognized as `known`: a known name matches by the
    /// fields' recognized names, so no bytes are compared; another name only fields no known name matched.
    @inline(__always)
    private static func matches(_ field: HTTPField, _ name: String, known: KnownFieldName?) -> Bool {
        if let known { return field.known == known }
        return field.known == nil && HTTPSyntax.equalsIgnoringCase(field.name, name)
    }

    /// The value of the first field named `name` (any case), or nil.
    public func first(_ name: String) -> String? {
        let known = KnownFieldName(name)
        return fields.firstIndex { Self.matches($0, name, known: known) }.map { fields[$0].value }
    }

    /// The value of the first field named `name`, or nil.
    ///
    /// The lookups go through closures, which borrow each field: a `for field in fields` loop copied every field
    /// it passed, retaining and releasing its name and value.
    func first(_ name: KnownFieldName) -> String? {
        fields.firstIndex { $0.known == name }.map { fields[$0].value }
    }

    /// The values of every field named `name` (any case), in order.
    public func values(_ name: String) -> [String] {
        let known = KnownFieldName(name)
        return fields.compactMap { Self.matches($0, name, known: known) ? $0.value : nil }
    }

    /// The values of every field named `name`, in order.
    func values(_ name: KnownFieldName) -> [String] {
        fields.compactMap { $0.known == name ? $0.value : nil }
    }

    /// Whether a field named `name` (any case) is present.
    public func contains(_ name: String) -> Bool {
        let known = KnownFieldName(name)
        return fields.contains { Self.matches($0, name, known: known) }
    }

    /// Whether a field named `name` is present.
    func contains(_ name: KnownFieldName) -> Bool {
        fields.contains { $0.known == name }
    }

    /// How many field lines are named `name` (any case).
    public func count(of name: String) -> Int {
        let known = KnownFieldName(name)
        return fields.reduce(0) { Self.matches($1, name, known: known) ? $0 + 1 : $0 }
    }

    /// How many field lines are named `name`.
    func count(of name: KnownFieldName) -> Int {
        fields.reduce(0) { $1.known == name ? $0 + 1 : $0 }
    }

    /// Whether any field named `name` (any case) holds `token` as an element of its comma-separated list, ignoring
    /// case and whitespace (RFC 9110 §5.6.1): `containsToken("upgrade", in: .connection)` for
    /// `Connection: keep-alive, Upgrade`.
    public func containsToken(_ token: String, in name: String) -> Bool {
        let known = KnownFieldName(name)
        return fields.contains { Self.matches($0, name, known: known) && HTTPSyntax.listContains($0.value, token: token) }
    }

    /// Whether any field named `name` holds `token` as an element of its comma-separated list (see above).
    func containsToken(_ token: String, in name: KnownFieldName) -> Bool {
        fields.contains { $0.known == name && HTTPSyntax.listContains($0.value, token: token) }
    }

    /// Removes every field named `name` (any case).
    public mutating func remove(_ name: String) {
        let known = KnownFieldName(name)
        fields.removeAll { Self.matches($0, name, known: known) }
    }

    /// Removes every field named `name`.
    mutating func remove(_ name: KnownFieldName) {
        fields.removeAll { $0.known == name }
    }

    /// Appends the field line `name: value` after the existing ones.
    public mutating func add(_ name: String, _ value: String) {
        fields.append(HTTPField(name: name, value: value))
    }

    /// Replaces the value of the first field named `name` (keeping its position), removes the other fields of
    /// that name, or appends the field when absent.
    public mutating func set(_ name: String, _ value: String) {
        let known = KnownFieldName(name)
        guard let index = fields.firstIndex(where: { Self.matches($0, name, known: known) }) else {
            add(name, value)
            return
        }
        fields[index].value = value
        let rest = fields[(index + 1)...].filter { !Self.matches($0, name, known: known) }
        fields.replaceSubrange((index + 1)..., with: rest)
    }
}

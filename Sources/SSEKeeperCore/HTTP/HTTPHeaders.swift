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

    /// The value of the first field named `name` (any case), or nil.
    public func first(_ name: String) -> String? {
        for field in fields where HTTPSyntax.equalsIgnoringCase(field.name, name) {
            return field.value
        }
        return nil
    }

    /// The values of every field named `name` (any case), in order.
    public func values(_ name: String) -> [String] {
        fields.compactMap { HTTPSyntax.equalsIgnoringCase($0.name, name) ? $0.value : nil }
    }

    /// Whether a field named `name` (any case) is present.
    public func contains(_ name: String) -> Bool {
        fields.contains { HTTPSyntax.equalsIgnoringCase($0.name, name) }
    }

    /// How many field lines are named `name` (any case).
    public func count(of name: String) -> Int {
        var result = 0
        for field in fields where HTTPSyntax.equalsIgnoringCase(field.name, name) {
            result += 1
        }
        return result
    }

    /// Whether any field named `name` holds `token` as an element of its comma-separated list, ignoring case and
    /// whitespace (RFC 9110 §5.6.1): `containsToken("upgrade", in: "Connection")` for `Connection: keep-alive, Upgrade`.
    public func containsToken(_ token: String, in name: String) -> Bool {
        for field in fields where HTTPSyntax.equalsIgnoringCase(field.name, name) {
            if HTTPSyntax.listContains(field.value, token: token) { return true }
        }
        return false
    }

    /// Removes every field named `name` (any case).
    public mutating func remove(_ name: String) {
        fields.removeAll { HTTPSyntax.equalsIgnoringCase($0.name, name) }
    }

    /// Appends the field line `name: value` after the existing ones.
    public mutating func add(_ name: String, _ value: String) {
        fields.append(HTTPField(name: name, value: value))
    }

    /// Replaces the value of the first field named `name` (keeping its position), removes the other fields of
    /// that name, or appends the field when absent.
    public mutating func set(_ name: String, _ value: String) {
        guard let index = fields.firstIndex(where: { HTTPSyntax.equalsIgnoringCase($0.name, name) }) else {
            add(name, value)
            return
        }
        fields[index].value = value
        let rest = fields[(index + 1)...].filter { !HTTPSyntax.equalsIgnoringCase($0.name, name) }
        fields.replaceSubrange((index + 1)..., with: rest)
    }
}

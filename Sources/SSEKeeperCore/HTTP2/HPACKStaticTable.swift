/// The 61-entry static table of HPACK (RFC 7541 §2.3.1, Appendix A), with lookups for the encoder.
///
/// Indices 1...61 address it; the dynamic table follows at 62 (§2.3.3).
public enum HPACKStaticTable {
    /// The number of entries: 61. Index `count + 1` is the newest dynamic-table entry.
    public static let count = 61

    /// The entries in index order (Appendix A): `entries[0]` is index 1, `:authority`.
    public static let entries: [(name: [UInt8], value: [UInt8])] = [
        (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"), (":path", "/index.html"),
        (":scheme", "http"), (":scheme", "https"), (":status", "200"), (":status", "204"), (":status", "206"),
        (":status", "304"), (":status", "400"), (":status", "404"), (":status", "500"), ("accept-charset", ""),
        ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""), ("accept", ""),
        ("access-control-allow-origin", ""), ("age", ""), ("allow", ""), ("authorization", ""),
        ("cache-control", ""), ("content-disposition", ""), ("content-encoding", ""), ("content-language", ""),
        ("content-length", ""), ("content-location", ""), ("content-range", ""), ("content-type", ""),
        ("cookie", ""), ("date", ""), ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),
        ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""),
        ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""), ("location", ""), ("max-forwards", ""),
        ("proxy-authenticate", ""), ("proxy-authorization", ""), ("range", ""), ("referer", ""), ("refresh", ""),
        ("retry-after", ""), ("server", ""), ("set-cookie", ""), ("strict-transport-security", ""),
        ("transfer-encoding", ""), ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
    ].map { (name: Array($0.0.utf8), value: Array($0.1.utf8)) }

    /// The entry at `index` (1...61), or nil outside the table.
    public static func entry(at index: Int) -> (name: [UInt8], value: [UInt8])? {
        guard index >= 1 && index <= count else { return nil }
        return entries[index - 1]
    }

    /// The lowest index whose name and value both equal the field's, if any (§2.3.3).
    public static func index(name: [UInt8], value: [UInt8]) -> Int? {
        byNameAndValue[NameValue(name: name, value: value)]
    }

    /// The lowest index whose name equals `name`, if any.
    public static func index(name: [UInt8]) -> Int? {
        byName[name]
    }

    private struct NameValue: Hashable {
        var name: [UInt8]
        var value: [UInt8]
    }

    private static let byName: [[UInt8]: Int] = {
        var map: [[UInt8]: Int] = [:]
        for (offset, entry) in entries.enumerated() where map[entry.name] == nil { map[entry.name] = offset + 1 }
        return map
    }()

    private static let byNameAndValue: [NameValue: Int] = {
        var map: [NameValue: Int] = [:]
        for (offset, entry) in entries.enumerated() {
            let key = NameValue(name: entry.name, value: entry.value)
            if map[key] == nil { map[key] = offset + 1 }
        }
        return map
    }()
}

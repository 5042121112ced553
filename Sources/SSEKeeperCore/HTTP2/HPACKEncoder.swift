/// Encodes header lists into HTTP/2 header blocks (RFC 7541 §3, §6): the sending side of one HPACK context.
///
/// Meant for the proxy's response heads (`:status` first, names already lowercase, RFC 9113 §8.2.1, §8.3.2); it
/// encodes whatever octets it is given and never changes them. Per field, in order of preference:
/// - a field marked `.never` → literal never indexed (§6.2.3), its name indexed when a table holds it;
/// - an exact static-table match, or an exact dynamic-table match → indexed field (§6.1);
/// - with `Indexing.incremental` → literal with incremental indexing (§6.2.1), added to our dynamic table,
///   unless it is larger than the table; otherwise → literal without indexing (§6.2.2);
///   either way with the name indexed when a table holds it.
/// Strings are Huffman-encoded when that is shorter (§5.2).
///
/// The dynamic table is bounded by the smaller of `maxTableSizeCap` (our own memory bound) and the peer's
/// SETTINGS_HEADER_TABLE_SIZE (`setPeerMaxTableSize(_:)`, RFC 9113 §6.5.2); a change is signalled by a dynamic
/// table size update at the start of the next block (§4.2, §6.3), the smallest size first when it went down and
/// up again in between.
public struct HPACKEncoder: Sendable {
    /// Whether literals may enter the dynamic table.
    public enum Indexing: Sendable, Equatable {
        /// Literals without indexing: no dynamic table state at all (the default; a table of size 0 is implied
        /// for our side, though the peer's size is still tracked).
        case withoutIndexing
        /// Literals with incremental indexing, reused by later fields and blocks.
        case incremental
    }

    /// Whether strings may be Huffman-encoded.
    public enum Huffman: Sendable, Equatable {
        /// Huffman-encode a string when that makes it shorter.
        case whenShorter
        /// Never Huffman-encode (for tests and debugging).
        case never
    }

    /// The peer's initial SETTINGS_HEADER_TABLE_SIZE: 4096 octets (RFC 9113 §6.5.2).
    public static let defaultPeerMaxTableSize = 4096

    /// How literals are represented.
    public let indexing: Indexing
    /// Whether strings may be Huffman-encoded.
    public let huffman: Huffman
    /// The most octets our dynamic table may use, whatever the peer allows.
    public let maxTableSizeCap: Int
    /// Our dynamic table (the peer's decoder mirrors it).
    public private(set) var table: HPACKDynamicTable
    /// Size updates still to send at the start of the next block (smallest first, then the final one).
    private var pendingSizeUpdates: [Int] = []

    /// Creates an encoder; the table starts at the peer's initial 4096 octets, capped by `maxTableSizeCap`.
    public init(indexing: Indexing = .withoutIndexing, huffman: Huffman = .whenShorter, maxTableSizeCap: Int = 4096) {
        precondition(maxTableSizeCap >= 0, "negative HPACK table size")
        self.indexing = indexing
        self.huffman = huffman
        self.maxTableSizeCap = maxTableSizeCap
        let initial = min(HPACKEncoder.defaultPeerMaxTableSize, maxTableSizeCap)
        table = HPACKDynamicTable(maxSize: initial, slotCapacityBytes: maxTableSizeCap)
        // The peer's decoder starts at 4096: announce a smaller cap before the first field.
        if initial != HPACKEncoder.defaultPeerMaxTableSize { pendingSizeUpdates = [initial] }
    }

    /// Applies the peer's SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2): the table's maximum size becomes the
    /// smaller of it and `maxTableSizeCap`, and the next block starts with the size update(s) announcing it.
    public mutating func setPeerMaxTableSize(_ peerSize: Int) {
        let newSize = min(max(0, peerSize), maxTableSizeCap)
        guard newSize != table.maxSize || !pendingSizeUpdates.isEmpty else { return }
        let smallest = min(pendingSizeUpdates.min() ?? newSize, newSize)
        table.setMaxSize(newSize)
        pendingSizeUpdates = smallest < newSize ? [smallest, newSize] : [newSize]
    }

    /// Encodes `fields` as one header block.
    public mutating func encode(_ fields: [HPACKHeaderField]) -> [UInt8] {
        var block: [UInt8] = []
        encode(fields, into: &block)
        return block
    }

    /// Appends one header block encoding `fields` to `block`.
    public mutating func encode(_ fields: [HPACKHeaderField], into block: inout [UInt8]) {
        for size in pendingSizeUpdates { HPACKInteger.encode(size, prefixBits: 5, flags: 0x20, into: &block) }
        pendingSizeUpdates = []
        for field in fields { encode(field, into: &block) }
    }

    private mutating func encode(_ field: HPACKHeaderField, into block: inout [UInt8]) {
        if field.indexing == .never {
            literal(field, nameIndex: nameIndex(field.name), prefixBits: 4, flags: 0x10, into: &block)
            return
        }
        let match = find(field)
        if let match, match.valueMatches {
            HPACKInteger.encode(match.index, prefixBits: 7, flags: 0x80, into: &block)
            return
        }
        if indexing == .incremental && field.size <= table.maxSize {
            literal(field, nameIndex: match?.index, prefixBits: 6, flags: 0x40, into: &block)
            table.add(name: field.name, value: field.value)
        } else {
            literal(field, nameIndex: match?.index, prefixBits: 4, flags: 0x00, into: &block)
        }
    }

    /// The best index for `field`: an exact match in the static then the dynamic table, else a name match.
    private func find(_ field: HPACKHeaderField) -> (index: Int, valueMatches: Bool)? {
        if let index = HPACKStaticTable.index(name: field.name, value: field.value) { return (index, true) }
        let dynamic = table.count > 0 ? table.search(name: field.name, value: field.value) : nil
        if let dynamic, dynamic.valueMatches { return (HPACKStaticTable.count + 1 + dynamic.position, true) }
        if let index = HPACKStaticTable.index(name: field.name) { return (index, false) }
        return dynamic.map { (HPACKStaticTable.count + 1 + $0.position, false) }
    }

    /// An index for `name` alone: the static table's, else the newest dynamic entry's.
    private func nameIndex(_ name: [UInt8]) -> Int? {
        if let index = HPACKStaticTable.index(name: name) { return index }
        guard table.count > 0, let dynamic = table.search(name: name, value: []) else { return nil }
        return HPACKStaticTable.count + 1 + dynamic.position
    }

    private func literal(
        _ field: HPACKHeaderField, nameIndex: Int?, prefixBits: Int, flags: UInt8, into block: inout [UInt8]
    ) {
        HPACKInteger.encode(nameIndex ?? 0, prefixBits: prefixBits, flags: flags, into: &block)
        if nameIndex == nil { string(field.name, into: &block) }
        string(field.value, into: &block)
    }

    /// Appends a string literal (§5.2), Huffman-encoded when that is shorter and allowed.
    private func string(_ octets: [UInt8], into block: inout [UInt8]) {
        let huffmanLength = huffman == .whenShorter ? HPACKHuffman.encodedLength(of: octets) : octets.count
        if huffmanLength < octets.count {
            HPACKInteger.encode(huffmanLength, prefixBits: 7, flags: 0x80, into: &block)
            HPACKHuffman.encode(octets, into: &block)
        } else {
            HPACKInteger.encode(octets.count, prefixBits: 7, flags: 0x00, into: &block)
            block.append(contentsOf: octets)
        }
    }
}

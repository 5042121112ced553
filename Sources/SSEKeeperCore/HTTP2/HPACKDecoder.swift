/// Decodes HTTP/2 header blocks (RFC 7541 §3, §6) for one connection: the receiving side of one HPACK context.
///
/// The caller concatenates a HEADERS (or PUSH_PROMISE) frame's fragment with its CONTINUATION fragments and passes
/// the complete block to `decode(_:)`; blocks must be decoded in the order they arrived on the connection, since
/// each may change the dynamic table the next one refers to (RFC 9113 §4.3).
///
/// Limits (`Limits`): `maxHeaderListSize` (what we advertise as SETTINGS_MAX_HEADER_LIST_SIZE, counting name +
/// value + 32 octets per field, RFC 9113 §6.5.2), `maxFieldCount`, `maxStringLength` (each name or value, before
/// and after Huffman decoding), and the dynamic table's size limit (what we advertise as
/// SETTINGS_HEADER_TABLE_SIZE, §6.5.2; the peer may lower the table size below it with size updates, §6.3).
/// Memory held is bounded by them: the returned fields by `maxHeaderListSize`, the table by its size limit, each
/// string being decoded by `maxStringLength`.
///
/// Errors are `HPACKError`. A decoding error (`scope == .connection`) leaves the table in an unknown state: the
/// connection must end with COMPRESSION_ERROR and the decoder must not be used again. `headerListTooLarge` and
/// `tooManyFields` are thrown after the whole block was processed, the table in step with the peer's, so the
/// connection goes on and only that stream is refused.
///
/// Upper-case names, pseudo-header rules and field-value validity (RFC 9113 §8.2, §8.3) are the caller's checks.
public struct HPACKDecoder: Sendable {
    /// The decoder's limits, each in octets except `maxFieldCount`.
    public struct Limits: Sendable, Equatable {
        /// Default `maxHeaderListSize`: 64 KiB.
        public static let defaultMaxHeaderListSize = 65_536
        /// Default `maxFieldCount`: 100, as for HTTP/1.1 heads.
        public static let defaultMaxFieldCount = 100
        /// Default `maxStringLength`: 16 KiB.
        public static let defaultMaxStringLength = 16_384

        /// The most octets of fields per block, counting name + value + 32 per field (RFC 9113 §6.5.2).
        public var maxHeaderListSize: Int
        /// The most fields per block.
        public var maxFieldCount: Int
        /// The longest name or value, on the wire and decoded.
        public var maxStringLength: Int

        /// Creates limits; the defaults suit a proxy's request heads.
        public init(
            maxHeaderListSize: Int = Limits.defaultMaxHeaderListSize,
            maxFieldCount: Int = Limits.defaultMaxFieldCount,
            maxStringLength: Int = Limits.defaultMaxStringLength
        ) {
            self.maxHeaderListSize = maxHeaderListSize
            self.maxFieldCount = maxFieldCount
            self.maxStringLength = maxStringLength
        }
    }

    /// The default SETTINGS_HEADER_TABLE_SIZE, and the table's initial size: 4096 octets (RFC 9113 §6.5.2).
    public static let defaultMaxTableSize = 4096

    /// The limits every block is decoded under.
    public let limits: Limits
    /// The dynamic table, as the blocks decoded so far left it.
    public private(set) var table: HPACKDynamicTable
    /// The largest table size the peer may set: the SETTINGS_HEADER_TABLE_SIZE we advertised (§4.2).
    public private(set) var maxTableSizeLimit: Int
    /// Whether the next block must start with a size update (we lowered the limit below the table's size).
    private var tableSizeUpdateRequired = false

    /// Creates a decoder whose table starts at, and may grow to, `maxTableSizeLimit` octets: the state once both
    /// sides agree on the size. A connection starts with HTTP/2's initial 4096 (RFC 9113 §6.5.2), the default, and
    /// calls `setMaxTableSizeLimit(_:)` when the peer acknowledges a different SETTINGS_HEADER_TABLE_SIZE.
    public init(maxTableSizeLimit: Int = HPACKDecoder.defaultMaxTableSize, limits: Limits = Limits()) {
        precondition(maxTableSizeLimit >= 0, "negative HPACK table size")
        self.limits = limits
        self.maxTableSizeLimit = maxTableSizeLimit
        table = HPACKDynamicTable(maxSize: maxTableSizeLimit)
    }

    /// Applies a new SETTINGS_HEADER_TABLE_SIZE of ours once the peer acknowledged it (RFC 9113 §6.5.3).
    ///
    /// When it is below the table's current maximum size, the peer's next block must start with a size update to
    /// at most the new limit (§4.2), else `decode` throws `missingTableSizeUpdate`.
    public mutating func setMaxTableSizeLimit(_ limit: Int) {
        precondition(limit >= 0, "negative HPACK table size")
        maxTableSizeLimit = limit
        if limit < table.maxSize { tableSizeUpdateRequired = true }
    }

    /// Decodes one complete header block into its fields, in order, updating the dynamic table.
    public mutating func decode(_ block: [UInt8]) throws(HPACKError) -> [HPACKHeaderField] {
        try decode(block[...])
    }

    /// Decodes one complete header block; error offsets count from `block.startIndex`.
    public mutating func decode(_ block: ArraySlice<UInt8>) throws(HPACKError) -> [HPACKHeaderField] {
        var fields: [HPACKHeaderField] = []
        var listSize = 0
        var overLimit: HPACKError?
        var position = block.startIndex
        var atStart = true
        while position < block.endIndex {
            let first = block[position]
            let offset = position - block.startIndex
            if first & 0xE0 == 0x20 {
                // Dynamic table size update (§6.3).
                guard atStart else { throw .tableSizeUpdateNotAtStart(offset: offset) }
                let size = try HPACKInteger.decode(block, at: &position, prefixBits: 5)
                guard size <= maxTableSizeLimit else {
                    throw .tableSizeUpdateAboveLimit(size: size, limit: maxTableSizeLimit, offset: offset)
                }
                table.setMaxSize(size)
                tableSizeUpdateRequired = false
                continue
            }
            if tableSizeUpdateRequired { throw .missingTableSizeUpdate(offset: offset) }
            atStart = false
            let field: HPACKHeaderField
            if first & 0x80 != 0 {
                // Indexed header field (§6.1).
                let index = try HPACKInteger.decode(block, at: &position, prefixBits: 7)
                let entry = try lookup(index, offset: offset)
                field = HPACKHeaderField(name: entry.name, value: entry.value)
            } else {
                // Literal with incremental indexing (§6.2.1), without indexing (§6.2.2), never indexed (§6.2.3).
                let incremental = first & 0xC0 == 0x40
                let index = try HPACKInteger.decode(block, at: &position, prefixBits: incremental ? 6 : 4)
                let name = index == 0 ? try string(block, at: &position) : try lookup(index, offset: offset).name
                let value = try string(block, at: &position)
                if incremental { table.add(name: name, value: value) }
                field = HPACKHeaderField(name: name, value: value, indexing: first & 0xF0 == 0x10 ? .never : .allowed)
            }
            guard overLimit == nil else { continue }
            if fields.count == limits.maxFieldCount {
                overLimit = .tooManyFields(limit: limits.maxFieldCount)
            } else if listSize + field.size > limits.maxHeaderListSize {
                overLimit = .headerListTooLarge(size: listSize + field.size, limit: limits.maxHeaderListSize)
            } else {
                listSize += field.size
                fields.append(field)
            }
        }
        if tableSizeUpdateRequired { throw .missingTableSizeUpdate(offset: block.count) }
        if let overLimit {
            throw overLimit
        }
        return fields
    }

    /// The static (1...61) or dynamic (62...) entry at `index` (§2.3.3).
    private func lookup(_ index: Int, offset: Int) throws(HPACKError) -> (name: [UInt8], value: [UInt8]) {
        if let entry = HPACKStaticTable.entry(at: index) { return entry }
        if index > HPACKStaticTable.count, let entry = table.entry(at: index - HPACKStaticTable.count - 1) {
            return entry
        }
        throw .invalidIndex(index, offset: offset)
    }

    /// Reads a string literal (§5.2) at `position`, Huffman-decoding it when its H bit is set.
    private func string(_ block: ArraySlice<UInt8>, at position: inout Int) throws(HPACKError) -> [UInt8] {
        let offset = position - block.startIndex
        guard position < block.endIndex else { throw .truncated(offset: offset) }
        let huffman = block[position] & 0x80 != 0
        let length = try HPACKInteger.decode(block, at: &position, prefixBits: 7)
        guard length <= limits.maxStringLength else {
            throw .stringTooLong(length: length, limit: limits.maxStringLength, offset: offset)
        }
        guard length <= block.endIndex - position else { throw .truncated(offset: block.count) }
        let octets = block[position..<position + length]
        position += length
        guard huffman else { return Array(octets) }
        do {
            return try HPACKHuffman.decode(octets, maxLength: limits.maxStringLength)
        } catch .decodedTooLong {
            throw .stringTooLong(length: length, limit: limits.maxStringLength, offset: offset)
        } catch {
            throw .invalidHuffman(error, offset: offset)
        }
    }
}

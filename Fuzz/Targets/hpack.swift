// Fuzz target: HPACKDecoder over a sequence of header blocks on one connection, with small limits, and the
// HPACKEncoder → HPACKDecoder round trip of whatever decodes.
//
// Input: byte 0 selects the decoder's limits (bits 0-1 maxHeaderListSize 4096/256/64/65536, bits 2-3
// maxFieldCount 100/8/2/0, bits 4-5 maxStringLength 16384/64/8/0, bits 6-7 the table size limit we advertise
// 4096/256/64/0); byte 1 selects the re-encoder (bit 0 incremental indexing, bit 1 Huffman never, bits 2-3 its
// table cap 4096/256/64/0, bits 4-5 the decoder's limit as SETTINGS_HEADER_TABLE_SIZE acknowledged before the
// first block: none/32/8192/0); byte 2 mod 5 is the number K of block lengths that follow (one byte each); the
// rest is split into K blocks of those lengths and a last block with what remains.
//
// Checks, block after block as a connection would decode them: no crash; a decoded list never exceeds
// maxFieldCount or maxHeaderListSize (name + value + 32 per field), literal strings never exceed maxStringLength
// (static-table strings are at most 27 octets); the dynamic table stays within its maximum size, itself within
// the advertised limit once a block decoded (before, within HTTP/2's initial 4096); a stream-scoped error (list size, field count) leaves the decoder usable, and decoding
// goes on; a connection-scoped error ends the sequence. Every decoded list, re-encoded by an encoder that keeps
// its own context across the blocks, decodes back to the same list (sensitivity included) by a decoder paired
// with it, and the two tables agree entry for entry.

private let longestStaticString = HPACKStaticTable.entries.map { max($0.name.count, $0.value.count) }.max()!

private func limits(_ selector: UInt8) -> HPACKDecoder.Limits {
    HPACKDecoder.Limits(
        maxHeaderListSize: [4096, 256, 64, 65_536][Int(selector & 3)],
        maxFieldCount: [100, 8, 2, 0][Int(selector >> 2 & 3)],
        maxStringLength: [16_384, 64, 8, 0][Int(selector >> 4 & 3)])
}

private func describe(_ table: HPACKDynamicTable) -> String {
    table.entries.map { escaped($0.name, limit: 40) + ": " + escaped($0.value, limit: 40) }.joined(separator: ", ")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 3 else { return 0 }
    let input = fuzzBytes(data, size)
    let limits = limits(input[0])
    let advertised = [4096, 256, 64, 0][Int(input[0] >> 6)]
    let reencoding = input[1]
    let count = min(Int(input[2]) % 5, input.count - 3)
    var blocks: [ArraySlice<UInt8>] = []
    var offset = 3 + count
    for index in 0..<count {
        let end = min(input.count, offset + Int(input[3 + index]))
        blocks.append(input[offset..<end])
        offset = end
    }
    blocks.append(input[offset...])

    var decoder = HPACKDecoder(limits: limits)
    if advertised != HPACKDecoder.defaultMaxTableSize { decoder.setMaxTableSizeLimit(advertised) }
    var encoder = HPACKEncoder(
        indexing: reencoding & 1 != 0 ? .incremental : .withoutIndexing,
        huffman: reencoding & 2 != 0 ? .never : .whenShorter,
        maxTableSizeCap: [4096, 256, 64, 0][Int(reencoding >> 2 & 3)])
    var mirror = HPACKDecoder(limits: .init(maxHeaderListSize: .max, maxFieldCount: .max, maxStringLength: .max))
    let mirrorLimit = [HPACKDecoder.defaultMaxTableSize, 32, 8192, 0][Int(reencoding >> 4 & 3)]
    mirror.setMaxTableSizeLimit(mirrorLimit)
    encoder.setPeerMaxTableSize(mirrorLimit)

    for (number, block) in blocks.enumerated() {
        let fields: [HPACKHeaderField]
        do {
            fields = try decoder.decode(block)
        } catch {
            switch error {
            case .headerListTooLarge(_, let limit):
                require(limit == limits.maxHeaderListSize, "\(error) with limit \(limits.maxHeaderListSize)")
            case .tooManyFields(let limit):
                require(limit == limits.maxFieldCount, "\(error) with limit \(limits.maxFieldCount)")
            default:
                require(error.scope == .connection && error.connectionErrorCode == 0xB, "\(error) scope")
            }
            checkTable(decoder, maxSizeBound: max(advertised, HPACKDecoder.defaultMaxTableSize))
            if error.scope == .connection { return 0 }
            continue
        }
        let context = "block \(number) \(escaped(block, limit: 300))"
        require(fields.count <= limits.maxFieldCount, "\(fields.count) fields, limit \(limits.maxFieldCount): \(context)")
        let listSize = fields.reduce(0) { $0 + $1.name.count + $1.value.count + 32 }
        require(listSize <= limits.maxHeaderListSize, "list size \(listSize), limit \(limits.maxHeaderListSize): \(context)")
        let stringLimit = max(limits.maxStringLength, longestStaticString)
        for field in fields {
            require(field.name.count <= stringLimit && field.value.count <= stringLimit,
                    "field \(field) over the string limit \(limits.maxStringLength): \(context)")
        }
        // A block decoded: any size update the lowered limit asked for came first, so the limit holds.
        checkTable(decoder, maxSizeBound: advertised)

        let reencoded = encoder.encode(fields)
        let again: [HPACKHeaderField]
        do {
            again = try mirror.decode(reencoded)
        } catch {
            invariantFailure("re-encoded \(escaped(reencoded, limit: 300)) does not decode: \(error); \(context)")
        }
        require(again == fields, "re-encoded list differs\n  decoded: \(fields)\n  again: \(again)\n  \(context)")
        require(mirror.table.maxSize == encoder.table.maxSize && mirror.table.size == encoder.table.size
                && mirror.table.entries.map(\.name) == encoder.table.entries.map(\.name)
                && mirror.table.entries.map(\.value) == encoder.table.entries.map(\.value),
                "tables differ\n  encoder: \(describe(encoder.table))\n  decoder: \(describe(mirror.table))\n  \(context)")
    }
    return 0
}

private func checkTable(_ decoder: HPACKDecoder, maxSizeBound: Int) {
    let table = decoder.table
    require(table.size <= table.maxSize, "table size \(table.size) over its maximum \(table.maxSize)")
    require(table.maxSize <= maxSizeBound, "table maximum \(table.maxSize) over \(maxSizeBound)")
    let sum = table.entries.reduce(0) { $0 + $1.name.count + $1.value.count + 32 }
    require(sum == table.size, "table size \(table.size), entries add up to \(sum)")
}

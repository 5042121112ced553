import Testing
@testable import SSEKeeperCore

/// `HPACKDecoder`: representations, errors with offsets, limits, and hostile blocks.
@Suite struct HPACKDecoderTests {
    private func literal(_ name: String, _ value: String, flags: UInt8 = 0x00) -> [UInt8] {
        var block: [UInt8] = [flags]
        HPACKInteger.encode(name.utf8.count, prefixBits: 7, flags: 0, into: &block)
        block += Array(name.utf8)
        HPACKInteger.encode(value.utf8.count, prefixBits: 7, flags: 0, into: &block)
        return block + Array(value.utf8)
    }

    private func sizeUpdate(_ size: Int) -> [UInt8] {
        var block: [UInt8] = []
        HPACKInteger.encode(size, prefixBits: 5, flags: 0x20, into: &block)
        return block
    }

    @Test func indexZero_andIndicesPastTheTables_areInvalid() {
        var decoder = HPACKDecoder()
        #expect(throws: HPACKError.invalidIndex(0, offset: 0)) { try decoder.decode([0x80]) }
        var fresh = HPACKDecoder()
        #expect(throws: HPACKError.invalidIndex(62, offset: 1)) { try fresh.decode([0x82, 0xBE]) }
        var named = HPACKDecoder()
        #expect(throws: HPACKError.invalidIndex(62, offset: 0)) { try named.decode([0x7E, 0x01, 0x61]) }  // literal, name 62
    }

    @Test func dynamicEntries_areIndexedFrom62_newestFirst() throws {
        var decoder = HPACKDecoder()
        _ = try decoder.decode(literal("a", "1", flags: 0x40) + literal("b", "2", flags: 0x40))
        #expect(try decoder.decode([0xBE, 0xBF]) == [HPACKHeaderField("b", "2"), HPACKHeaderField("a", "1")])
        #expect(throws: HPACKError.invalidIndex(64, offset: 0)) { try decoder.decode([0xC0]) }
    }

    @Test func neverIndexedLiteral_withAnIndexedName_keepsItsSensitivity() throws {
        var decoder = HPACKDecoder()
        let fields = try decoder.decode([0x1F, 0x08, 0x03] + Array("abc".utf8))  // name index 23 (authorization)
        #expect(fields == [HPACKHeaderField("authorization", "abc", indexing: .never)])
        #expect(decoder.table.count == 0)
    }

    @Test func uppercaseNames_areDecoded_andReported() throws {
        var decoder = HPACKDecoder()
        let fields = try decoder.decode(literal("X-Up", "v") + literal("x-low", "v"))
        #expect(fields.map(\.nameHasUppercase) == [true, false])
    }

    @Test func sizeUpdates_atTheStart_resizeTheTable_evictingEntries() throws {
        var decoder = HPACKDecoder()
        _ = try decoder.decode(literal("a", "1", flags: 0x40) + literal("b", "2", flags: 0x40))
        // Two updates in a row are allowed at the start (§4.2): shrink to 0, then back to 4096.
        let fields = try decoder.decode(sizeUpdate(0) + sizeUpdate(4096) + [0x82])
        #expect(fields == [HPACKHeaderField(":method", "GET")])
        #expect(decoder.table.count == 0 && decoder.table.maxSize == 4096)
        #expect(try decoder.decode(sizeUpdate(100)) == [])
        #expect(decoder.table.maxSize == 100)
    }

    @Test func sizeUpdate_afterAField_isRejected() {
        var decoder = HPACKDecoder()
        #expect(throws: HPACKError.tableSizeUpdateNotAtStart(offset: 1)) { try decoder.decode([0x82] + sizeUpdate(0)) }
    }

    @Test func sizeUpdate_aboveTheAdvertisedLimit_isRejected() {
        var decoder = HPACKDecoder(maxTableSizeLimit: 256)
        #expect(throws: HPACKError.tableSizeUpdateAboveLimit(size: 257, limit: 256, offset: 0)) {
            try decoder.decode(sizeUpdate(257))
        }
        var huge = HPACKDecoder()
        #expect(throws: HPACKError.integerOverflow(offset: 0)) { try huge.decode([0x3F, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]) }
    }

    @Test func loweredLimit_requiresASizeUpdate_atTheNextBlockStart() throws {
        var decoder = HPACKDecoder()
        _ = try decoder.decode(literal("a", "1", flags: 0x40))
        decoder.setMaxTableSizeLimit(64)
        #expect(throws: HPACKError.missingTableSizeUpdate(offset: 0)) { try decoder.decode([0x82]) }
        var second = HPACKDecoder()
        second.setMaxTableSizeLimit(64)
        #expect(throws: HPACKError.tableSizeUpdateAboveLimit(size: 4096, limit: 64, offset: 0)) {
            try second.decode(sizeUpdate(4096))
        }
        var third = HPACKDecoder()
        _ = try third.decode(literal("a", "1", flags: 0x40))
        third.setMaxTableSizeLimit(64)
        #expect(try third.decode(sizeUpdate(64) + [0xBE]) == [HPACKHeaderField("a", "1")])
        #expect(try third.decode([0x82]) == [HPACKHeaderField(":method", "GET")])
        // Raising the limit asks for nothing.
        third.setMaxTableSizeLimit(8192)
        #expect(try third.decode([0x82]).count == 1)
    }

    @Test func headerListSize_countsNamePlusValuePlus32_andOverflowIsAStreamError() throws {
        // ":method: GET" counts 7 + 3 + 32 = 42.
        var exact = HPACKDecoder(limits: .init(maxHeaderListSize: 84))
        #expect(try exact.decode([0x82, 0x82]).count == 2)
        var over = HPACKDecoder(limits: .init(maxHeaderListSize: 83))
        let block = [0x82, 0x82] + literal("x", "1", flags: 0x40)
        #expect(throws: HPACKError.headerListTooLarge(size: 84, limit: 83)) { try over.decode(block) }
        // The whole block was processed: the table holds the literal after it, and the connection goes on.
        #expect(HPACKFixture.entries(over.table) == ["x: 1"])
        #expect(HPACKError.headerListTooLarge(size: 84, limit: 83).scope == .stream)
        #expect(try over.decode([0xBE]) == [HPACKHeaderField("x", "1")])
    }

    @Test func fieldCount_overTheLimit_isAStreamError_afterTheWholeBlock() throws {
        var decoder = HPACKDecoder(limits: .init(maxFieldCount: 2))
        #expect(try decoder.decode([0x82, 0x84]).count == 2)
        #expect(throws: HPACKError.tooManyFields(limit: 2)) { try decoder.decode([0x82, 0x84, 0x86] + literal("y", "2", flags: 0x40)) }
        #expect(HPACKFixture.entries(decoder.table) == ["y: 2"])
        #expect(HPACKError.tooManyFields(limit: 2).connectionErrorCode == nil)
    }

    @Test func stringLength_overTheLimit_isRejected_onTheWireAndDecoded() {
        var decoder = HPACKDecoder(limits: .init(maxStringLength: 4))
        #expect(throws: HPACKError.stringTooLong(length: 5, limit: 4, offset: 1)) { try decoder.decode(literal("abcde", "")) }
        var value = HPACKDecoder(limits: .init(maxStringLength: 4))
        #expect(throws: HPACKError.stringTooLong(length: 5, limit: 4, offset: 3)) { try value.decode(literal("a", "12345")) }
        // "00000" Huffman-encodes into 4 octets (5 bits each) but decodes into 5.
        var huffman = HPACKDecoder(limits: .init(maxStringLength: 4))
        let encoded = HPACKHuffman.encode(Array("00000".utf8))
        #expect(encoded.count == 4)
        #expect(throws: HPACKError.stringTooLong(length: 4, limit: 4, offset: 3)) {
            try huffman.decode([0x00, 0x01, 0x61, 0x84] + encoded)
        }
        // A length claiming 2^32 octets is refused before anything is read or allocated.
        var claim = HPACKDecoder()
        #expect(throws: HPACKError.stringTooLong(length: HPACKInteger.maxValue, limit: 16_384, offset: 1)) {
            try claim.decode([0x00, 0x7F, 0x80, 0xFF, 0xFF, 0xFF, 0x0F])
        }
    }

    @Test func invalidHuffman_isAConnectionError_atTheStringsOffset() {
        var decoder = HPACKDecoder()
        let error = HPACKError.invalidHuffman(.paddingNotAllOnes, offset: 3)
        #expect(throws: error) { try decoder.decode([0x00, 0x01, 0x61, 0x81, 0x18]) }
        #expect(error.scope == .connection && error.connectionErrorCode == 0xB)
    }

    @Test func stringsRunningPastTheEnd_areTruncated() {
        var decoder = HPACKDecoder()
        #expect(throws: HPACKError.truncated(offset: 5)) { try decoder.decode([0x00, 0x01, 0x61, 0x05, 0x62]) }
        var noValue = HPACKDecoder()
        #expect(throws: HPACKError.truncated(offset: 3)) { try noValue.decode([0x00, 0x01, 0x61]) }
    }

    @Test func emptyBlock_decodesToNoFields() throws {
        var decoder = HPACKDecoder()
        #expect(try decoder.decode([]) == [])
    }

    @Test func sliceOffsets_countFromTheSlicesStart() {
        var decoder = HPACKDecoder()
        let bytes: [UInt8] = [0xFF, 0xFF, 0x82, 0x80]
        #expect(throws: HPACKError.invalidIndex(0, offset: 1)) { try decoder.decode(bytes[2...]) }
    }

    /// Blocks from the Appendix C sequences, which we know decode.
    static let validSequences: [(table: Int, blocks: [String])] = [
        (4096, ["8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", "8286 84be 5808 6e6f 2d63 6163 6865",
                "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"]),
        (256, ["4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad"
               + "1718 63c7 8f0b 97c8 e9ae 82ae 43d3", "4883 640e ffc1 c0bf",
               "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2"
               + "e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07"]),
    ]

    @Test func everyTruncation_ofTheLastBlock_errorsOrDecodesAPrefix_neverCrashes() {
        for sequence in Self.validSequences {
            let blocks = sequence.blocks.map(HPACKFixture.hex)
            var decoder = HPACKDecoder(maxTableSizeLimit: sequence.table)
            for block in blocks.dropLast() { _ = try? decoder.decode(block) }
            let last = blocks.last!
            let full: [HPACKHeaderField] = (try? decoder.decodingCopy(last)) ?? []
            #expect(!full.isEmpty)
            for cut in 0..<last.count {
                var copy = decoder
                do {
                    let fields = try copy.decode(Array(last[..<cut]))
                    // A cut between representations is a valid, shorter block.
                    #expect(full.starts(with: fields), "cut \(cut)")
                } catch {
                    #expect(error.scope == .connection, "cut \(cut): \(error)")
                }
            }
        }
    }

    @Test func randomCorruptions_errorOrDecode_withinTheLimits() {
        var random = SplitMix64(seed: 20_260_612)
        let limits = HPACKDecoder.Limits(maxHeaderListSize: 300, maxFieldCount: 6, maxStringLength: 40)
        for round in 0..<3000 {
            let sequence = Self.validSequences[round % 2]
            var blocks = sequence.blocks.map(HPACKFixture.hex)
            let which = random.int(0...blocks.count - 1)
            for _ in 0..<random.int(1...4) {
                let at = random.int(0...blocks[which].count - 1)
                switch random.int(0...2) {
                case 0: blocks[which][at] = UInt8(random.int(0...255))
                case 1: blocks[which].insert(UInt8(random.int(0...255)), at: at)
                default: blocks[which].remove(at: at)
                }
                if blocks[which].isEmpty { break }
            }
            var decoder = HPACKDecoder(maxTableSizeLimit: sequence.table, limits: limits)
            for block in blocks {
                do {
                    let fields = try decoder.decode(block)
                    #expect(fields.count <= limits.maxFieldCount, "round \(round)")
                    #expect(fields.reduce(0) { $0 + $1.size } <= limits.maxHeaderListSize, "round \(round)")
                    #expect(fields.allSatisfy { $0.name.count <= 40 && $0.value.count <= 40 })
                } catch where error.scope == .stream {
                    continue
                } catch {
                    break  // the connection would end here
                }
                #expect(decoder.table.size <= decoder.table.maxSize && decoder.table.maxSize <= sequence.table)
            }
        }
    }
}

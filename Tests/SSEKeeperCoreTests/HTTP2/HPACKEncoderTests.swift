import Testing
@testable import SSEKeeperCore

/// `HPACKEncoder`: representation choices, table size updates, and the encoder → decoder round trip.
@Suite struct HPACKEncoderTests {
    @Test func responseHead_usesStaticMatches_andLiteralsWithoutIndexing_byDefault() throws {
        var encoder = HPACKEncoder(huffman: .never)
        let block = encoder.encode([HPACKHeaderField(":status", "200"), HPACKHeaderField("content-type", "text/event-stream"),
                                    HPACKHeaderField("x-custom", "1")])
        // :status 200 is static 8; content-type is static name 31 (literal without indexing, 4-bit prefix: 0x0F 0x10);
        // x-custom has a new name.
        let expected: [UInt8] = [0x88, 0x0F, 0x10, 17] + Array("text/event-stream".utf8) + [0x00, 8] + Array("x-custom".utf8) + [1, 0x31]
        #expect(block == expected)
        #expect(encoder.table.count == 0)
        var decoder = HPACKDecoder()
        #expect(try decoder.decode(block).map(\.description) == [":status: 200", "content-type: text/event-stream", "x-custom: 1"])
    }

    @Test func huffman_isUsedOnlyWhenShorter() {
        var encoder = HPACKEncoder()
        // "no-cache" is 6 octets in Huffman; a string of rare bytes is longer in Huffman and stays raw.
        let block = encoder.encode([HPACKHeaderField("cache-control", "no-cache"),
                                    HPACKHeaderField(name: Array("x".utf8), value: [0x00, 0x01])])
        #expect(block.prefix(3) == [0x0F, 0x09, 0x86])
        #expect(block.suffix(3) == [0x02, 0x00, 0x01])
    }

    @Test func incrementalIndexing_reusesFieldsInLaterBlocks() throws {
        var encoder = HPACKEncoder(indexing: .incremental)
        let fields = [HPACKHeaderField(":status", "200"), HPACKHeaderField("content-type", "text/event-stream"),
                      HPACKHeaderField("cache-control", "no-cache")]
        let first = encoder.encode(fields)
        let second = encoder.encode(fields)
        #expect(second == [0x88, 0xBF, 0xBE])
        var decoder = HPACKDecoder()
        #expect(try decoder.decode(first) == fields)
        #expect(try decoder.decode(second) == fields)
    }

    @Test func sensitiveFields_areNeverIndexed_evenWhenATableMatches() throws {
        var encoder = HPACKEncoder(indexing: .incremental, huffman: .never)
        _ = encoder.encode([HPACKHeaderField("set-cookie", "a=1")])
        let block = encoder.encode([HPACKHeaderField("set-cookie", "a=1", indexing: .never)])
        #expect(block == [0x1F, 0x28, 0x03] + Array("a=1".utf8))  // never indexed, static name 55
        #expect(try HPACKDecoder().decodingCopy(block) == [HPACKHeaderField("set-cookie", "a=1", indexing: .never)])
        // A name only our dynamic table holds is indexed there.
        _ = encoder.encode([HPACKHeaderField("x-secret", "1")])
        #expect(encoder.encode([HPACKHeaderField("x-secret", "2", indexing: .never)]) == [0x1F, 0x2F, 0x01, 0x32])  // 15 + 47 = index 62
    }

    @Test func peerTableSize_change_isAnnouncedAtTheNextBlockStart_smallestFirst() throws {
        var encoder = HPACKEncoder(indexing: .incremental, huffman: .never)
        var decoder = HPACKDecoder()
        _ = try decoder.decode(encoder.encode([HPACKHeaderField("a", "1")]))
        encoder.setPeerMaxTableSize(0)
        encoder.setPeerMaxTableSize(2048)
        let block = encoder.encode([HPACKHeaderField("b", "2")])
        #expect(block.prefix(4) == [0x20, 0x3F, 0xE1, 0x0F])  // 0, then 2048 = 31 + 2017 (0xE1 0x0F)
        #expect(try decoder.decode(block) == [HPACKHeaderField("b", "2")])
        #expect(HPACKFixture.entries(decoder.table) == ["b: 2"] && HPACKFixture.entries(encoder.table) == ["b: 2"])
        #expect(encoder.encode([]) == [])
        // The cap bounds our table whatever the peer allows.
        var capped = HPACKEncoder(indexing: .incremental, maxTableSizeCap: 100)
        capped.setPeerMaxTableSize(1 << 20)
        #expect(capped.table.maxSize == 100)
    }

    @Test func randomHeaderLists_roundTrip_withRandomTableSizesAndUpdates() throws {
        var random = SplitMix64(seed: 7541_9113)
        for round in 0..<300 {
            let cap = [0, 64, 256, 4096][random.int(0...3)]
            let decoderLimit = random.chance(0.5) ? 4096 : max(cap, random.int(0...8192))
            var encoder = HPACKEncoder(indexing: random.chance(0.7) ? .incremental : .withoutIndexing,
                                       huffman: random.chance(0.8) ? .whenShorter : .never, maxTableSizeCap: cap)
            // Both start at HTTP/2's 4096; then our SETTINGS_HEADER_TABLE_SIZE reaches the peer's encoder and is
            // acknowledged.
            var decoder = HPACKDecoder(limits: .init(maxHeaderListSize: 1 << 20, maxFieldCount: 1000))
            decoder.setMaxTableSizeLimit(decoderLimit)
            encoder.setPeerMaxTableSize(decoderLimit)
            var pool: [HPACKHeaderField] = HPACKStaticTable.entries.map { HPACKHeaderField(name: $0.name, value: $0.value) }
            for block in 0..<8 {
                if random.chance(0.2) {
                    let size = random.int(0...decoderLimit)
                    encoder.setPeerMaxTableSize(size)
                    if random.chance(0.5) { encoder.setPeerMaxTableSize(random.int(0...decoderLimit)) }
                }
                var fields: [HPACKHeaderField] = []
                for _ in 0..<random.int(0...12) {
                    var field: HPACKHeaderField
                    if random.chance(0.4) {
                        field = pool[random.int(0...pool.count - 1)]
                        if random.chance(0.3) { field.value = HPACKFixture.randomBytes(&random, maxLength: 30) }
                    } else {
                        field = HPACKHeaderField(name: HPACKFixture.randomBytes(&random, maxLength: 20),
                                                 value: HPACKFixture.randomBytes(&random, maxLength: 200))
                        pool.append(field)
                    }
                    field.indexing = random.chance(0.1) ? .never : .allowed
                    fields.append(field)
                }
                let encoded = encoder.encode(fields)
                let decoded = try decoder.decode(encoded)
                #expect(decoded == fields, "round \(round) block \(block)")
                #expect(decoder.table.maxSize == encoder.table.maxSize, "round \(round) block \(block)")
                #expect(HPACKFixture.entries(decoder.table) == HPACKFixture.entries(encoder.table), "round \(round) block \(block)")
                #expect(decoder.table.size == encoder.table.size && encoder.table.size <= cap)
                if decoded != fields { return }
            }
        }
    }
}

extension HPACKDecoder {
    /// Decodes `block` with a copy, leaving this decoder as it was.
    func decodingCopy(_ block: [UInt8]) throws(HPACKError) -> [HPACKHeaderField] {
        var copy = self
        return try copy.decode(block)
    }
}

import Testing
@testable import SSEKeeperCore

/// Every example of RFC 7541 Appendix C (C.2-C.6), decoded with the dynamic table checked after each block as the
/// RFC lists it, and encoded back by our encoder where its choices match the RFC's.
@Suite struct HPACKAppendixCTests {
    struct Step {
        var block: String
        var fields: [(String, String)]
        var table: [String]
        var tableSize: Int
    }

    private func decodeSequence(_ steps: [Step], maxTableSize: Int = 4096, sourceLocation: SourceLocation = #_sourceLocation) {
        var decoder = HPACKDecoder(maxTableSizeLimit: maxTableSize)
        for (number, step) in steps.enumerated() {
            do {
                let fields = try decoder.decode(HPACKFixture.hex(step.block))
                #expect(fields == HPACKFixture.fields(step.fields), "block \(number + 1)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("block \(number + 1): \(error)", sourceLocation: sourceLocation)
            }
            #expect(HPACKFixture.entries(decoder.table) == step.table, "table after block \(number + 1)", sourceLocation: sourceLocation)
            #expect(decoder.table.size == step.tableSize, "table size after block \(number + 1)", sourceLocation: sourceLocation)
        }
    }

    @Test func c2_1_literalWithIndexing_entersTheTable() throws {
        var decoder = HPACKDecoder()
        let fields = try decoder.decode(HPACKFixture.hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"))
        #expect(fields == [HPACKHeaderField("custom-key", "custom-header")])
        #expect(HPACKFixture.entries(decoder.table) == ["custom-key: custom-header"])
        #expect(decoder.table.size == 55)
    }

    @Test func c2_2_literalWithoutIndexing_leavesTheTableEmpty() throws {
        var decoder = HPACKDecoder()
        let fields = try decoder.decode(HPACKFixture.hex("040c 2f73 616d 706c 652f 7061 7468"))
        #expect(fields == [HPACKHeaderField(":path", "/sample/path")])
        #expect(decoder.table.count == 0 && decoder.table.size == 0)
    }

    @Test func c2_3_literalNeverIndexed_isMarkedSensitive() throws {
        var decoder = HPACKDecoder()
        let fields = try decoder.decode(HPACKFixture.hex("1008 7061 7373 776f 7264 0673 6563 7265 74"))
        #expect(fields == [HPACKHeaderField("password", "secret", indexing: .never)])
        #expect(decoder.table.count == 0)
        var encoder = HPACKEncoder(huffman: .never)
        #expect(encoder.encode(fields) == HPACKFixture.hex("1008 7061 7373 776f 7264 0673 6563 7265 74"))
    }

    @Test func c2_4_indexedField_comesFromTheStaticTable() throws {
        var decoder = HPACKDecoder()
        #expect(try decoder.decode([0x82]) == [HPACKHeaderField(":method", "GET")])
        #expect(decoder.table.count == 0)
    }

    static let requests: [[(String, String)]] = [
        [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")],
        [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"),
         ("cache-control", "no-cache")],
        [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"),
         ("custom-key", "custom-value")],
    ]
    static let requestTables: [([String], Int)] = [
        ([":authority: www.example.com"], 57),
        (["cache-control: no-cache", ":authority: www.example.com"], 110),
        (["custom-key: custom-value", "cache-control: no-cache", ":authority: www.example.com"], 164),
    ]

    @Test func c3_requestsWithoutHuffman_decodeWithTheListedTables() {
        let blocks = ["8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                      "8286 84be 5808 6e6f 2d63 6163 6865",
                      "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"]
        decodeSequence((0..<3).map { Step(block: blocks[$0], fields: Self.requests[$0], table: Self.requestTables[$0].0,
                                          tableSize: Self.requestTables[$0].1) })
    }

    @Test func c4_requestsWithHuffman_decodeWithTheListedTables() {
        let blocks = ["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
                      "8286 84be 5886 a8eb 1064 9cbf",
                      "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"]
        decodeSequence((0..<3).map { Step(block: blocks[$0], fields: Self.requests[$0], table: Self.requestTables[$0].0,
                                          tableSize: Self.requestTables[$0].1) })
    }

    static let date1 = "Mon, 21 Oct 2013 20:13:21 GMT"
    static let date2 = "Mon, 21 Oct 2013 20:13:22 GMT"
    static let cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
    static let responses: [[(String, String)]] = [
        [(":status", "302"), ("cache-control", "private"), ("date", date1), ("location", "https://www.example.com")],
        [(":status", "307"), ("cache-control", "private"), ("date", date1), ("location", "https://www.example.com")],
        [(":status", "200"), ("cache-control", "private"), ("date", date2), ("location", "https://www.example.com"),
         ("content-encoding", "gzip"), ("set-cookie", cookie)],
    ]
    static let responseTables: [([String], Int)] = [
        (["location: https://www.example.com", "date: " + date1, "cache-control: private", ":status: 302"], 222),
        ([":status: 307", "location: https://www.example.com", "date: " + date1, "cache-control: private"], 222),
        (["set-cookie: " + cookie, "content-encoding: gzip", "date: " + date2], 215),
    ]

    @Test func c5_responsesWithoutHuffman_evictWithA256OctetTable() {
        let blocks = [
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32"
                + "3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            "4803 3330 37c1 c0bf",
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970"
                + "7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178"
                + "2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
        ]
        decodeSequence((0..<3).map { Step(block: blocks[$0], fields: Self.responses[$0], table: Self.responseTables[$0].0,
                                          tableSize: Self.responseTables[$0].1) }, maxTableSize: 256)
    }

    @Test func c6_responsesWithHuffman_evictWithA256OctetTable() {
        let blocks = [
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad"
                + "1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
            "4883 640e ffc1 c0bf",
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2"
                + "e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        ]
        decodeSequence((0..<3).map { Step(block: blocks[$0], fields: Self.responses[$0], table: Self.responseTables[$0].0,
                                          tableSize: Self.responseTables[$0].1) }, maxTableSize: 256)
    }

    /// The RFC's request encoder indexes every literal and uses Huffman when shorter, as ours does with
    /// `.incremental`, so C.3 and C.4 come out byte for byte.
    @Test(arguments: [HPACKEncoder.Huffman.never, .whenShorter])
    func c3_c4_requests_encodeToTheRFCBytes(huffman: HPACKEncoder.Huffman) {
        let blocks = huffman == .never
            ? ["8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", "8286 84be 5808 6e6f 2d63 6163 6865",
               "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"]
            : ["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", "8286 84be 5886 a8eb 1064 9cbf",
               "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"]
        var encoder = HPACKEncoder(indexing: .incremental, huffman: huffman)
        for (number, request) in Self.requests.enumerated() {
            #expect(encoder.encode(HPACKFixture.fields(request)) == HPACKFixture.hex(blocks[number]), "request \(number + 1)")
        }
        #expect(HPACKFixture.entries(encoder.table) == Self.requestTables[2].0)
    }

    @Test(arguments: [HPACKEncoder.Huffman.never, .whenShorter])
    func c5_c6_responses_encodeToTheRFCBytes(huffman: HPACKEncoder.Huffman) {
        let blocks = huffman == .never
            ? ["4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32"
                + "3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", "4803 3330 37c1 c0bf",
               "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970"
                + "7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178"
                + "2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31"]
            : ["4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad"
                + "1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
               // C.6.2 Huffman-encodes "307" into 3 octets too (4883 640e ff...); we keep a string raw unless
               // Huffman is strictly shorter, so this block is C.5.2's.
               "4803 3330 37c1 c0bf",
               "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2"
                + "e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07"]
        // The RFC's peer set a 256-octet table: our encoder announces it first, so compare after that update.
        var encoder = HPACKEncoder(indexing: .incremental, huffman: huffman, maxTableSizeCap: 256)
        var first = encoder.encode(HPACKFixture.fields(Self.responses[0]))
        #expect(first.prefix(3) == [0x3F, 0xE1, 0x01])  // size update to 256 (§6.3): 31 + 225
        first.removeFirst(3)
        #expect(first == HPACKFixture.hex(blocks[0]))
        #expect(encoder.encode(HPACKFixture.fields(Self.responses[1])) == HPACKFixture.hex(blocks[1]))
        #expect(encoder.encode(HPACKFixture.fields(Self.responses[2])) == HPACKFixture.hex(blocks[2]))
        #expect(HPACKFixture.entries(encoder.table) == Self.responseTables[2].0)
        #expect(encoder.table.size == Self.responseTables[2].1)
    }
}

import Testing
@testable import SSEKeeperCore

/// The dynamic table (RFC 7541 §2.3.2, §4).
@Suite struct HPACKDynamicTableTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func entrySize_isNamePlusValuePlus32() {
        #expect(HPACKDynamicTable.entrySize(name: bytes("custom-key"), value: bytes("custom-header")) == 55)
    }

    @Test func adding_evictsTheOldestUntilTheNewEntryFits() {
        var table = HPACKDynamicTable(maxSize: 100)
        table.add(name: bytes("a"), value: bytes("1"))  // 34
        table.add(name: bytes("b"), value: bytes("2"))  // 34
        #expect(table.size == 68 && table.count == 2)
        table.add(name: bytes("c"), value: bytes("3"))  // 102 > 100: "a" goes
        #expect(HPACKFixture.entries(table) == ["c: 3", "b: 2"])
        #expect(table.size == 68)
        #expect(table.entry(at: 0)?.name == bytes("c") && table.entry(at: 2) == nil && table.entry(at: -1) == nil)
    }

    @Test func anEntryLargerThanTheTable_emptiesIt_andIsNotAdded() {
        var table = HPACKDynamicTable(maxSize: 64)
        table.add(name: bytes("a"), value: bytes("1"))
        table.add(name: bytes("long-name"), value: bytes("long-value-xxxxxxxxxxxxxxxx"))
        #expect(table.count == 0 && table.size == 0)
    }

    @Test func anEntryExactlyTheTableSize_fits() {
        var table = HPACKDynamicTable(maxSize: 40)
        table.add(name: bytes("abcd"), value: bytes("efgh"))
        #expect(table.count == 1 && table.size == 40)
    }

    @Test func loweringTheMaxSize_evicts_andZeroEmpties() {
        var table = HPACKDynamicTable(maxSize: 4096)
        for index in 0..<10 { table.add(name: bytes("n\(index)"), value: bytes("v")) }  // 35 each
        table.setMaxSize(100)
        #expect(HPACKFixture.entries(table) == ["n9: v", "n8: v"])
        table.setMaxSize(0)
        #expect(table.count == 0 && table.size == 0)
        table.add(name: bytes("x"), value: [])
        #expect(table.count == 0)
    }

    @Test func manyInsertions_wrapTheRing_andMatchASimpleModel() {
        var random = SplitMix64(seed: 42)
        var table = HPACKDynamicTable(maxSize: 256, slotCapacityBytes: 512)
        var model: [(name: [UInt8], value: [UInt8])] = []
        var modelMax = 256
        for step in 0..<5000 {
            if random.chance(0.05) {
                modelMax = random.int(0...512)
                table.setMaxSize(modelMax)
            } else {
                let name = HPACKFixture.randomBytes(&random, maxLength: 20)
                let value = HPACKFixture.randomBytes(&random, maxLength: 60)
                table.add(name: name, value: value)
                model.insert((name, value), at: 0)
            }
            while model.reduce(0, { $0 + $1.name.count + $1.value.count + 32 }) > modelMax { model.removeLast() }
            let size = model.reduce(0) { $0 + $1.name.count + $1.value.count + 32 }
            #expect(table.size == size && table.count == model.count, "step \(step)")
            let names: [[UInt8]] = table.entries.map(\.name)
            let values: [[UInt8]] = table.entries.map(\.value)
            #expect(names == model.map(\.name) && values == model.map(\.value), "step \(step)")
            if table.size != size { return }
        }
    }

    @Test func raisingTheMaxSizePastTheRing_growsIt_keepingTheOrder() {
        var table = HPACKDynamicTable(maxSize: 64)
        table.add(name: bytes("a"), value: bytes("1"))
        table.setMaxSize(1000)
        for index in 0..<20 { table.add(name: bytes("n\(index)"), value: bytes("v")) }
        #expect(table.count == 21)
        #expect(HPACKFixture.entries(table).first == "n19: v" && HPACKFixture.entries(table).last == "a: 1")
    }

    @Test func search_prefersAnExactMatch_thenTheNewestNameMatch() {
        var table = HPACKDynamicTable(maxSize: 4096)
        table.add(name: bytes("x"), value: bytes("1"))
        table.add(name: bytes("x"), value: bytes("2"))
        table.add(name: bytes("y"), value: bytes("3"))
        #expect(table.search(name: bytes("x"), value: bytes("1"))! == (2, true))
        #expect(table.search(name: bytes("x"), value: bytes("9"))! == (1, false))
        #expect(table.search(name: bytes("z"), value: bytes("1")) == nil)
    }
}

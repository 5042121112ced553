import Testing
@testable import SSEKeeperCore

/// The build ID `--version` prints, read from ELF program headers and notes; hostile or truncated files give nil.
struct ELFBuildIDTests {
    /// A minimal ELF64 LE image: header, one PT_LOAD and one PT_NOTE header, then `notes`.
    static func image(notes: [UInt8]) -> [UInt8] {
        func le(_ value: Int, _ size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        var header = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        header += le(2, 2) + le(0x3E, 2) + le(1, 4) + le(0, 8) + le(64, 8) + le(0, 8) + le(0, 4)
        header += le(64, 2) + le(56, 2) + le(2, 2) + le(64, 2) + le(0, 2) + le(0, 2)
        let notesOffset = 64 + 2 * 56
        func programHeader(type: Int, offset: Int, size: Int) -> [UInt8] {
            le(type, 4) + le(4, 4) + le(offset, 8) + le(0, 8) + le(0, 8) + le(size, 8) + le(size, 8) + le(4, 8)
        }
        return header + programHeader(type: 1, offset: 0, size: 0) + programHeader(type: 4, offset: notesOffset, size: notes.count) + notes
    }

    static func note(owner: String, type: Int, description: [UInt8]) -> [UInt8] {
        func le32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        var name = Array(owner.utf8) + [0]
        let nameSize = name.count
        while name.count % 4 != 0 { name.append(0) }
        var padded = description
        while padded.count % 4 != 0 { padded.append(0) }
        return le32(nameSize) + le32(description.count) + le32(type) + name + padded
    }

    @Test func buildID_isFound_afterOtherNotes() {
        let id: [UInt8] = [0xC4, 0x29, 0xB1, 0xFD, 0x00, 0x5E, 0xBB, 0x17]
        let notes = Self.note(owner: "GNU", type: 1, description: [0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0])
            + Self.note(owner: "Go", type: 3, description: [1, 2, 3])
            + Self.note(owner: "GNU", type: 3, description: id)
        #expect(ELFBuildID.find(in: Self.image(notes: notes)) == "c429b1fd005ebb17")
    }

    @Test func noBuildID_givesNil() {
        #expect(ELFBuildID.find(in: Self.image(notes: Self.note(owner: "GNU", type: 1, description: [1, 2, 3, 4]))) == nil)
        #expect(ELFBuildID.find(in: Array("#!/bin/sh\necho not an ELF file\n".utf8) + [UInt8](repeating: 0, count: 64)) == nil)
    }

    @Test func everyTruncation_andCorruptSizes_giveNilOrTheID_neverACrash() {
        let full = Self.image(notes: Self.note(owner: "GNU", type: 3, description: [0xAB, 0xCD]))
        for length in 0...full.count {
            let found = ELFBuildID.find(in: Array(full.prefix(length)))
            #expect(found == nil || found == "abcd")
        }
        for index in full.indices {
            var corrupt = full
            corrupt[index] = 0xFF
            _ = ELFBuildID.find(in: corrupt)
        }
    }
}

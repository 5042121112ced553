@testable import SSEKeeperCore

/// Helpers shared by the HPACK tests.
enum HPACKFixture {
    /// Bytes from a hex dump as RFC 7541 prints it ("8286 8441 ..."); spaces ignored.
    static func hex(_ text: String) -> [UInt8] {
        let digits = text.unicodeScalars.filter { !$0.properties.isWhitespace }.map { Character($0) }
        precondition(digits.count % 2 == 0, "odd hex dump")
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    /// Fields from name/value string pairs.
    static func fields(_ pairs: [(String, String)]) -> [HPACKHeaderField] {
        pairs.map { HPACKHeaderField($0.0, $0.1) }
    }

    /// The dynamic table's entries as strings, newest first.
    static func entries(_ table: HPACKDynamicTable) -> [String] {
        table.entries.map { String(decoding: $0.name, as: UTF8.self) + ": " + String(decoding: $0.value, as: UTF8.self) }
    }

    /// A random byte string of up to `maxLength` bytes, skewed towards header-like ASCII.
    static func randomBytes(_ random: inout SplitMix64, maxLength: Int) -> [UInt8] {
        let length = random.int(0...maxLength)
        let ascii = random.chance(0.7)
        return (0..<length).map { _ in
            ascii ? UInt8(random.int(0x20...0x7E)) : UInt8(random.int(0...255))
        }
    }
}

/// Finds the GNU build ID (`NT_GNU_BUILD_ID`, written by the linker into every ssekeeper binary) in the first bytes
/// of an ELF64 little-endian file, so `ssekeeper --version` can name the exact build it is.
///
/// Reads only the program headers and the `PT_NOTE` segments they point at, every offset bounds-checked against
/// `bytes` (a truncated or foreign file gives nil, never a crash). ELF layout: System V ABI, "ELF Header",
/// "Program Header", "Note Section".
public enum ELFBuildID {
    /// How many leading bytes of the file to pass: program headers and notes sit in the first page of a binary.
    public static let prefixBytes = 64 * 1024

    /// The build ID as lowercase hex, or nil when `bytes` is not ELF64 LE or holds no build-ID note.
    public static func find(in bytes: [UInt8]) -> String? {
        guard bytes.count >= 64, bytes[0] == 0x7F, bytes[1] == 0x45, bytes[2] == 0x4C, bytes[3] == 0x46,
              bytes[4] == 2, bytes[5] == 1 else { return nil }
        guard let headersOffset = integer(bytes, at: 32, size: 8), let entrySize = integer(bytes, at: 54, size: 2),
              let count = integer(bytes, at: 56, size: 2), entrySize >= 56 else { return nil }
        for index in 0..<count {
            let header = headersOffset + index * entrySize
            guard let type = integer(bytes, at: header, size: 4) else { return nil }
            guard type == 4, // PT_NOTE
                  let offset = integer(bytes, at: header + 8, size: 8),
                  let size = integer(bytes, at: header + 32, size: 8)
            else { continue }
            if let id = buildID(inNotes: bytes, from: offset, count: size) { return id }
        }
        return nil
    }

    /// Walks the notes in `bytes[start ..< start + count]` for one of owner `GNU` and type 3 (`NT_GNU_BUILD_ID`).
    private static func buildID(inNotes bytes: [UInt8], from start: Int, count: Int) -> String? {
        guard start >= 0, count >= 0, start <= bytes.count, count <= bytes.count - start else { return nil }
        var position = start
        let end = start + count
        while position + 12 <= end {
            guard let nameSize = integer(bytes, at: position, size: 4),
                  let descriptionSize = integer(bytes, at: position + 4, size: 4),
                  let type = integer(bytes, at: position + 8, size: 4) else { return nil }
            let nameStart = position + 12
            let descriptionStart = nameStart + aligned(nameSize)
            guard descriptionStart + descriptionSize <= end else { return nil }
            if type == 3, nameSize == 4, bytes[nameStart..<nameStart + 4].elementsEqual([0x47, 0x4E, 0x55, 0]) {
                return bytes[descriptionStart..<descriptionStart + descriptionSize]
                    .map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            }
            position = descriptionStart + aligned(descriptionSize)
        }
        return nil
    }

    private static func aligned(_ size: Int) -> Int { (size + 3) & ~3 }

    /// A little-endian unsigned integer of `size` bytes at `offset`, when it lies inside `bytes` and fits an Int.
    private static func integer(_ bytes: [UInt8], at offset: Int, size: Int) -> Int? {
        guard offset >= 0, offset <= bytes.count - size else { return nil }
        var value: UInt64 = 0
        for index in (0..<size).reversed() { value = value << 8 | UInt64(bytes[offset + index]) }
        return value <= UInt64(Int.max >> 8) ? Int(value) : nil
    }
}

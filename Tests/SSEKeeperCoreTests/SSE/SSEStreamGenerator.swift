/// SplitMix64: a tiny, seeded, deterministic generator, so every failing case can be replayed
/// from its seed alone.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }

    /// A uniformly chosen integer in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// A uniformly chosen element.
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }
}

/// Random upstream event streams and random ways to split them, covering every construct of
/// WHATWG HTML §9.2.5/§9.2.6 the tracker must be transparent to.
enum SSEStreamGenerator {
    static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// A random upstream stream: optional leading BOM (or a BOM-like prefix), then random lines
    /// with a random line end each (LF, CRLF or CR), sometimes an unterminated last line.
    static func stream(using rng: inout SplitMix64) -> [UInt8] {
        var out: [UInt8] = []
        switch rng.int(0...19) {
        case 0...5: out += bom
        case 6: out += [0xEF, 0xBB]  // looks like a BOM, is not: the first line starts with garbage
        case 7: out += [0xEF]
        case 8: out += bom + bom  // only the first one is stripped
        case 9: out += [0xEF, 0xBB, 0x0A]  // a BOM prefix cut by a line end
        default: break
        }
        let lineCount = rng.int(0...28)
        for _ in 0..<lineCount {
            out += line(using: &rng)
            out += lineEnd(using: &rng)
        }
        if rng.chance(0.2) { out += line(using: &rng) }
        return out
    }

    static func lineEnd(using rng: inout SplitMix64) -> [UInt8] {
        rng.pick([[0x0A], [0x0A], [0x0D, 0x0A], [0x0D]])
    }

    /// One line without its line end.
    static func line(using rng: inout SplitMix64) -> [UInt8] {
        let roll = rng.int(0...99)
        switch roll {
        case 0..<28: return field("data", using: &rng)
        case 28..<48: return []
        case 48..<56: return field("event", using: &rng)
        case 56..<64:
            if rng.chance(0.15) { return Array("id: a\u{0}b".utf8) }
            return field("id", using: &rng)
        case 64..<70:
            let value = rng.pick(["1000", "0", "007", "12a", "", " 5", "99999999999999999999", "-1", "3.5", "٣"])
            return Array("retry".utf8) + separator(using: &rng) + Array(value.utf8)
        case 70..<80:
            return [0x3A] + (rng.chance(0.3) ? [] : Array(rng.pick([" hello", "data: x", ":", " ", "é"]).utf8))
        case 80..<87:
            let name = rng.pick(["foo", "Data", "dat", " data", "data ", "event ", "\u{FEFF}data", "ID", "x"])
            return Array(name.utf8) + separator(using: &rng) + value(using: &rng)
        case 87..<94:
            return Array(rng.pick(["data", "event", "id", "retry", "x", "data "]).utf8)
        default:
            // Invalid or truncated UTF-8 around a valid field.
            let junk: [[UInt8]] = [[0x80], [0xE2, 0x82], [0xF0, 0x9F], [0xFF], [0xC3]]
            return Array("data:".utf8) + rng.pick(junk) + value(using: &rng) + rng.pick(junk)
        }
    }

    /// `name`, then a separator and a value, or (sometimes) nothing at all.
    static func field(_ name: String, using rng: inout SplitMix64) -> [UInt8] {
        Array(name.utf8) + separator(using: &rng) + value(using: &rng)
    }

    static func separator(using rng: inout SplitMix64) -> [UInt8] {
        Array(rng.pick([":", ": ", ": ", ":  ", ":", ""]).utf8)
    }

    /// A random value: empty, ASCII, colons, spaces, non-ASCII (2, 3 and 4 byte UTF-8), NUL, BOM.
    static func value(using rng: inout SplitMix64) -> [UInt8] {
        let pieces = ["a", "hello", ":", ": ", " ", "x:y", "é", "日本", "🎉", "{\"k\":1}", "\u{0}", "\u{FEFF}", "data:"]
        var out: [UInt8] = []
        for _ in 0..<rng.int(0...4) { out += Array(rng.pick(pieces).utf8) }
        return out
    }

    /// Split points for `count` bytes, in one of several styles: whole, byte at a time, random
    /// cuts, cuts after every CR (so the next read may start with its LF), or a few cuts.
    /// Returns chunk lengths summing to `count` (empty chunks included sometimes).
    static func chunkLengths(count: Int, bytes: [UInt8], using rng: inout SplitMix64) -> [Int] {
        var cuts: [Int] = []
        switch rng.int(0...5) {
        case 0:
            break
        case 1:
            cuts = count > 1 ? Array(1..<count) : []
        case 2:
            let p = rng.pick([0.02, 0.1, 0.3, 0.6])
            cuts = count > 1 ? (1..<count).filter { _ in rng.chance(p) } : []
        case 3:
            cuts = bytes.indices.filter { bytes[$0] == 0x0D || rng.chance(0.05) }.map { $0 + 1 }
        case 4:
            // Inside the leading three bytes (a BOM, if any) and at random.
            cuts = [1, 2, 3].filter { _ in rng.chance(0.6) }
            if count > 1 { cuts += (0..<rng.int(0...3)).map { _ in rng.int(1...count - 1) } }
        default:
            if count > 1 { cuts = (0..<rng.int(1...4)).map { _ in rng.int(1...count - 1) } }
        }
        var lengths: [Int] = []
        var previous = 0
        for cut in Set(cuts.filter { $0 > 0 && $0 < count }).sorted() {
            lengths.append(cut - previous)
            previous = cut
            if rng.chance(0.03) { lengths.append(0) }
        }
        lengths.append(count - previous)
        return lengths
    }
}

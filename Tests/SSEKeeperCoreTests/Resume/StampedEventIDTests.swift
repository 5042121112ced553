import Testing
@testable import SSEKeeperCore

/// `sk1.<token>.<seq>[.<backend-id>]`: rendering, strict parsing, round trips and hostile inputs.
struct StampedEventIDTests {
    static let tokenText = "AAECAwQFBgcICQoLDA0ODw"
    static let token = StreamToken(text: tokenText)!

    static func id(_ sequence: UInt64, _ backendID: String = "") -> StampedEventID {
        StampedEventID(token: token, sequence: sequence, backendID: Array(backendID.utf8))!
    }

    @Test func rendering_writesTheIssuesFormat() {
        #expect(Self.id(0).text == "sk1.AAECAwQFBgcICQoLDA0ODw.0")
        #expect(Self.id(42).text == "sk1.AAECAwQFBgcICQoLDA0ODw.42")
        #expect(Self.id(7, "evt-9").text == "sk1.AAECAwQFBgcICQoLDA0ODw.7.evt-9")
        #expect(Self.id(.max, "a.b.c").bytes == Array("sk1.AAECAwQFBgcICQoLDA0ODw.18446744073709551615.a.b.c".utf8))
    }

    @Test func parsing_readsEveryPart() throws {
        let plain = try #require(StampedEventID(parsing: "sk1.AAECAwQFBgcICQoLDA0ODw.42"))
        #expect(plain.token == Self.token && plain.sequence == 42 && plain.backendID.isEmpty)
        let withBackend = try #require(StampedEventID(parsing: "sk1.AAECAwQFBgcICQoLDA0ODw.0.sk1.x..y. "))
        #expect(withBackend.sequence == 0)
        #expect(withBackend.backendID == Array("sk1.x..y. ".utf8))
        let maximum = try #require(StampedEventID(parsing: "sk1.AAECAwQFBgcICQoLDA0ODw.18446744073709551615"))
        #expect(maximum.sequence == .max)
        // Bytes, a slice of a larger buffer, and a backend id that is not UTF-8.
        let raw: [UInt8] = Array("sk1.AAECAwQFBgcICQoLDA0ODw.3.".utf8) + [0xFF, 0xC3, 0x09]
        #expect(StampedEventID(parsing: raw)?.backendID == [0xFF, 0xC3, 0x09])
        let framed = Array("id: ".utf8) + raw + [0x0A]
        #expect(StampedEventID(parsing: framed[4..<framed.count - 1]) == StampedEventID(parsing: raw))
    }

    @Test func randomIDs_roundTrip_andParsedTextsRenderToThemselves() {
        var rng = SplitMix64(seed: 0x5EC)
        let backendAlphabet: [UInt8] = Array("ab.-_ 0:é".utf8) + [0x09, 0x7F, 0xFF, 0x80]
        for _ in 0..<500 {
            let token = StreamToken(random: &rng)
            let sequence: UInt64 = rng.chance(0.3) ? UInt64(rng.int(0...12)) : rng.next() >> UInt64(rng.int(0...63))
            let backendID = (0..<rng.pick([0, 0, 1, 5, 40])).map { _ in rng.pick(backendAlphabet) }
            let id = StampedEventID(token: token, sequence: sequence, backendID: backendID)!
            let parsed = StampedEventID(parsing: id.bytes)
            #expect(parsed == id, "\(id.text)")
            #expect(parsed?.bytes == id.bytes)
            if backendID.allSatisfy({ $0 < 0x80 }) { #expect(StampedEventID(parsing: id.text) == id) }
        }
    }

    @Test func init_refusesBackendIDsThatCannotBeAnIdField() {
        for bad: [UInt8] in [[0x0D], [0x0A], [0x00], Array("a\r\nid: x".utf8), [0x61, 0x00]] {
            #expect(StampedEventID(token: Self.token, sequence: 1, backendID: bad) == nil, "\(bad)")
        }
        #expect(StampedEventID(token: Self.token, sequence: 1, backendID: [0x09, 0x20]) != nil)
    }

    @Test func parsing_rejectsAWrongPrefixOrToken() {
        let rest = ".AAECAwQFBgcICQoLDA0ODw.1"
        for text in [
            "sk2" + rest, "SK1" + rest, "sk" + rest, "sk1" + "x" + rest, "xsk1" + rest, "sk1:" + rest.dropFirst(),
            rest, "sk1", "sk1.", "sk1..1", "sk1.AAECAwQFBgcICQoLDA0ODw", "sk1.AAECAwQFBgcICQoLDA0ODw.",
            "sk1.AAECAwQFBgcICQoLDA0OD.1", "sk1.AAECAwQFBgcICQoLDA0ODwA.1", "sk1.AAECAwQFBgcICQoLDA0ODx.1",
            "sk1.AAECAwQFBgcICQoLDA0OD+.1", "sk1.AAECAwQFBgcICQoLDA0OD=.1", "sk1.AAECAwQFBgcICQoLDA0ODw=.1",
            " sk1" + rest, "sk1" + rest + "\n",
        ] {
            #expect(StampedEventID(parsing: text) == nil, "\(text.debugDescription)")
        }
    }

    @Test func parsing_rejectsSequencesThatAreNotCanonicalDecimal() {
        let head = "sk1.AAECAwQFBgcICQoLDA0ODw."
        for sequence in [
            "", "01", "00", "007", "+1", "-1", " 1", "1 ", "1a", "0x1", "1e3", "１", "1_000",
            "18446744073709551616", "18446744073709551619", "99999999999999999999", "100000000000000000000",
            "000000000000000000001", String(repeating: "9", count: 5000), String(repeating: "0", count: 5000) + "1",
        ] {
            #expect(StampedEventID(parsing: head + sequence) == nil, "\(sequence.prefix(40))")
            #expect(StampedEventID(parsing: head + sequence + ".backend") == nil, "\(sequence.prefix(40)) with backend")
        }
        #expect(StampedEventID(parsing: head + "10000000000000000000")?.sequence == 10_000_000_000_000_000_000)
    }

    @Test func parsing_rejectsAnEmptyOrUnwritableBackendID() {
        let head = "sk1.AAECAwQFBgcICQoLDA0ODw.5."
        #expect(StampedEventID(parsing: head) == nil)
        #expect(StampedEventID(parsing: head + ".")?.backendID == [UInt8(ascii: ".")])
        for bad in ["\r", "\n", "\0", "a\rb", "abc\n", "\r\n", "x\0y"] {
            #expect(StampedEventID(parsing: head + bad) == nil, "\(bad.debugDescription)")
        }
    }

    @Test func parsing_hostileInputs_neitherCrashNorAccept() {
        var rng = SplitMix64(seed: 0xBAD)
        let valid = Array("sk1.AAECAwQFBgcICQoLDA0ODw.123.b".utf8)
        // Of the shorter prefixes of a valid id, only those ending inside the sequence number are ids.
        for length in 0..<(valid.count - 1) {
            let parsed = StampedEventID(parsing: valid[..<length])
            #expect((parsed != nil) == (28...30).contains(length), "prefix of \(length) bytes")
            #expect(parsed.map { $0.bytes == Array(valid[..<length]) } ?? true, "prefix of \(length) bytes")
        }
        // Random byte flips either are refused or parse to something that renders to exactly the input.
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<rng.int(1...3) {
                bytes[rng.int(0...bytes.count - 1)] = UInt8(rng.int(0...255))
            }
            if let parsed = StampedEventID(parsing: bytes) {
                #expect(parsed.bytes == bytes, "\(bytes)")
            }
        }
        #expect(StampedEventID(parsing: [UInt8](repeating: UInt8(ascii: "."), count: 10_000)) == nil)
        #expect(StampedEventID(parsing: Array(repeating: "sk1.", count: 1000).joined()) == nil)
    }

    @Test func ids_compareByEveryPart() {
        #expect(Self.id(1) == Self.id(1))
        #expect(Self.id(1) != Self.id(2))
        #expect(Self.id(1, "a") != Self.id(1))
        var rng = SplitMix64(seed: 1)
        let other = StampedEventID(token: StreamToken(random: &rng), sequence: 1, backendID: [])!
        #expect(other != Self.id(1))
        #expect(Set([Self.id(1), Self.id(1), Self.id(1, "a"), other]).count == 3)
    }
}

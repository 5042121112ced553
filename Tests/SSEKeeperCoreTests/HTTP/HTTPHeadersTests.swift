import Foundation
import Testing
@testable import SSEKeeperCore

@Suite struct HTTPHeadersTests {
    let headers: HTTPHeaders = [
        "Host": "example.com",
        "Connection": "keep-alive, Upgrade",
        "accept": "text/html",
        "ACCEPT": "text/event-stream;q=0.9",
        "connection": "X-Trace ,\tTE",
    ]

    @Test func first_andValues_matchNamesCaseInsensitively() {
        #expect(headers.first("HOST") == "example.com")
        #expect(headers.first("Missing") == nil)
        #expect(headers.values("Accept") == ["text/html", "text/event-stream;q=0.9"])
        #expect(headers.count(of: "connection") == 2)
        #expect(headers.contains("ConNection"))
    }

    @Test(arguments: ["keep-alive", "UPGRADE", "x-trace", "te"])
    func containsToken_findsListElements_inAnyLineAnyCaseAndWhitespace(_ token: String) {
        #expect(headers.containsToken(token, in: "Connection"))
    }

    @Test(arguments: ["keep", "alive", "keep-alive, Upgrade", "", "close"])
    func containsToken_matchesWholeElementsOnly(_ token: String) {
        #expect(!headers.containsToken(token, in: "Connection"))
    }

    @Test func containsToken_toleratesEmptyElements() {
        let headers: HTTPHeaders = ["Connection": " , ,close,"]
        #expect(headers.containsToken("close", in: "connection"))
    }

    /// Lists of every length up to 40, the commas anywhere: the word scan for commas finds the elements a split does.
    @Test func listContains_agreesWithSplittingAtEveryComma() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab, \tAB")
        for _ in 0..<20_000 {
            let list = String((0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            let token = ["a", "ab", "b", "", "ba"].randomElement(using: &generator)!
            let expected = list.split(separator: ",", omittingEmptySubsequences: false).contains { element in
                element.trimmingCharacters(in: .init(charactersIn: " \t")).lowercased() == token
            }
            #expect(HTTPSyntax.listContains(list, token: token) == expected, "\(list.debugDescription) \(token)")
        }
    }

    @Test(arguments: [("text/event-stream", true), ("TEXT/Event-Stream", true), (" text/event-stream ; charset=utf-8", true),
                      ("text/event-stream;", true), ("text/event-stream\t;q=1", true), ("text/event-streamx", false),
                      ("text/event-strea", false), ("", false), (";text/event-stream", false), ("text/plain", false),
                      ("text/event stream", false)])
    func eventStreamMediaType_ignoresCaseOWSAndParameters_only(value: String, expected: Bool) {
        var value = value
        #expect(value.withUTF8(HTTPSyntax.isEventStreamMediaType) == expected)
    }

    @Test func remove_dropsEveryLineOfThatName() {
        var headers = headers
        headers.remove("ACCEPT")
        #expect(headers.fields.map(\.name) == ["Host", "Connection", "connection"])
    }

    @Test func add_appends_andSet_replacesTheFirstInPlace() {
        var headers = headers
        headers.add("Via", "1.1 a")
        #expect(headers.fields.last == HTTPField(name: "Via", value: "1.1 a"))
        headers.set("Accept", "*/*")
        #expect(headers.values("accept") == ["*/*"])
        #expect(headers.fields[2] == HTTPField(name: "accept", value: "*/*"))
        headers.set("X-New", "1")
        #expect(headers.fields.last?.name == "X-New")
    }

    // Names the proxy acts on are recognized once per field (`HTTPField.known`); lookups compare that.

    static let knownNames: [KnownFieldName] = [
        .accept, .acceptEncoding, .cacheControl, .connection, .contentEncoding, .contentLength, .contentType, .host,
        .keepAlive, .lastEventID, .proxyConnection, .te, .trailer, .transferEncoding, .upgrade, .xAccelBuffering,
        .xForwardedFor, .xForwardedHost, .xForwardedProto,
    ]

    @Test(arguments: knownNames)
    func knownName_isRecognizedInAnyCase_andNotItsNearMisses(_ known: KnownFieldName) {
        let spelling = known.spelling
        #expect(KnownFieldName(spelling) == known)
        #expect(KnownFieldName(spelling.lowercased()) == known)
        #expect(KnownFieldName(spelling.uppercased()) == known)
        #expect(KnownFieldName(String(spelling.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.lowercased()) : Character($0.element.uppercased()) })) == known)
        #expect(KnownFieldName(spelling + "s") == nil)
        #expect(KnownFieldName(String(spelling.dropLast())) == nil)
        #expect(KnownFieldName(String(spelling.dropFirst())) == nil)
        // Each byte changed to what a case fold must not confuse it with: a letter to the next letter, "-" to
        // "\r" (0x0D, which "|0x20" would turn into "-") and to "_".
        let bytes = Array(spelling.utf8)
        for index in bytes.indices {
            var changed = bytes
            switch bytes[index] {
            case UInt8(ascii: "-"):
                changed[index] = 0x0D
                #expect(KnownFieldName(String(decoding: changed, as: UTF8.self)) == nil)
                changed[index] = UInt8(ascii: "_")
            case UInt8(ascii: "Z"), UInt8(ascii: "z"): changed[index] = bytes[index] - 1
            default: changed[index] = bytes[index] + 1
            }
            #expect(KnownFieldName(String(decoding: changed, as: UTF8.self)) == nil, "\(changed)")
        }
    }

    @Test func parsedFields_andMadeFields_areRecognizedAlike() throws {
        let bytes = Array("GET / HTTP/1.1\r\nhost: a\r\nLAST-EVENT-ID: 7\r\nX-Custom: 1\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        var parser = HeadParser(maxHeaderBytes: 8192)
        let result = try bytes.withUnsafeBytes { try parser.parseRequest($0) }
        guard case .complete(let head, _) = result else {
            Issue.record("the head did not parse: \(result)")
            return
        }
        #expect(head.headers.fields.map(\.known) == [.host, .lastEventID, nil, .transferEncoding])
        #expect(head.headers.fields.map { KnownFieldName($0.name) } == head.headers.fields.map(\.known))
        #expect(head.headers.first(.lastEventID) == "7")
        #expect(head.headers.first("last-event-id") == "7")
        #expect(head.headers.first("x-CUSTOM") == "1")
        #expect(head.headers.first("X-Custo") == nil)
        var renamed = HTTPField(name: "X-Old", value: "v")
        renamed.name = "Cache-Control"
        #expect(renamed.known == .cacheControl)
        #expect(HTTPHeaders([renamed]).containsToken("V", in: .cacheControl))
        renamed.name = "X-Other"
        #expect(renamed.known == nil)
    }

    @Test func lowercasedWord_foldsEachByteAsTheByteFunctionDoes() {
        var generator = SystemRandomNumberGenerator()
        for byte in 0...255 {
            for lane in 0..<8 {
                var word = generator.next() as UInt64
                word &= ~(UInt64(0xFF) << (8 * lane))
                word |= UInt64(byte) << (8 * lane)
                let folded = HTTPSyntax.lowercased(word: word)
                for position in 0..<8 {
                    let original = UInt8(truncatingIfNeeded: word >> (8 * position))
                    #expect(UInt8(truncatingIfNeeded: folded >> (8 * position)) == HTTPSyntax.lowercased(original))
                }
            }
        }
    }

    @Test func equalsIgnoringCase_agreesWithTheByteByByteRule() {
        var generator = SystemRandomNumberGenerator()
        // Letters, their other case, the bytes a fold confuses them with (0x0D/"-", "@"/"`", 0xC1/0xE1) and others.
        let alphabet: [UInt8] = Array("aAzZmM-_\r@`[{".utf8) + [0xC1, 0xE1, 0x80, 0xFF, 0x00]
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...24, using: &generator)
            let left = (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
            var right = left.map { byte -> UInt8 in
                Bool.random(using: &generator) ? byte : alphabet.randomElement(using: &generator)!
            }
            if Bool.random(using: &generator) { right = left.map { HTTPSyntax.lowercased($0) } }
            let expected = left.map(HTTPSyntax.lowercased) == right.map(HTTPSyntax.lowercased)
            let actual = left.withUnsafeBufferPointer { l in right.withUnsafeBufferPointer { r in HTTPSyntax.equalsIgnoringCase(l, r) } }
            #expect(actual == expected, "\(left) \(right)")
            let match = left.withUnsafeBufferPointer { l in right.withUnsafeBufferPointer { r in HTTPSyntax.compareIgnoringCase(l, r) } }
            let expectedMatch: HTTPSyntax.CaseMatch = left == right ? .exact : expected ? .ignoringCase : .different
            #expect(match == expectedMatch, "\(left) \(right)")
        }
    }

    /// The word test agrees with `isFieldValueByte` on ASCII for every byte value at every position of the word.
    @Test func spaceOrVisibleASCIIWord_agreesWithTheByteRule_forEveryByteAtEveryPosition() {
        let filler = Array("ab-/ 9~z".utf8)
        for position in 0..<8 {
            for value in 0...255 {
                var word = filler
                word[position] = UInt8(value)
                let packed = word.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                let expected = word.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }
                #expect(HTTPSyntax.isSpaceOrVisibleASCII(word: packed) == expected, "byte \(value) at \(position)")
            }
        }
        // Two bad bytes, the higher one alone would pass: a borrow from below must not hide or invent one.
        for low in [UInt8(0x00), 0x1F, 0x7F, 0x80, 0x09] {
            for high in [UInt8(0x20), 0x21, 0x7E, 0x01] {
                var word = filler
                word[2] = low
                word[3] = high
                let packed = word.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                #expect(!HTTPSyntax.isSpaceOrVisibleASCII(word: packed), "\(low) then \(high)")
            }
        }
    }

    /// Every length up to 24 and every position: the overlapping loads leave no byte unread.
    @Test func equalsIgnoringCase_readsEveryByte_atEveryLength() {
        for count in 1...24 {
            let left = [UInt8](repeating: UInt8(ascii: "a"), count: count)
            for position in 0..<count {
                for (byte, equal) in [(UInt8(ascii: "A"), true), (UInt8(ascii: "b"), false), (UInt8(ascii: "!"), false)] {
                    var right = left
                    right[position] = byte
                    let actual = left.withUnsafeBufferPointer { l in
                        right.withUnsafeBufferPointer { r in HTTPSyntax.equalsIgnoringCase(l, r) }
                    }
                    #expect(actual == equal, "length \(count), byte \(byte) at \(position)")
                }
            }
        }
    }
}

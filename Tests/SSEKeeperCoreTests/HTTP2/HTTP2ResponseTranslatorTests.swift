import Testing
@testable import SSEKeeperCore

/// `HTTP2ResponseTranslator`: what the proxy writes for a stream (HTTP/1.1 heads, then the unframed body) split
/// into heads and body bytes, whole, byte by byte and at random splits.
struct HTTP2ResponseTranslatorTests {
    static let response = Array(("HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
        + "data: one\n\ndata: two\n\n").utf8)

    /// Feeds `writes` and returns the heads and the body bytes.
    static func translate(_ writes: [[UInt8]]) throws -> (heads: [HTTP2ResponseTranslator.Head], body: [UInt8]) {
        var translator = HTTP2ResponseTranslator(maxHeadBytes: 4096)
        var heads: [HTTP2ResponseTranslator.Head] = []
        var body: [UInt8] = []
        for write in writes {
            let pieces = try write.withUnsafeBytes { try translator.take($0) }
            heads += pieces.heads
            body += write[pieces.bodyStart...]
        }
        return (heads, body)
    }

    static func check(_ result: (heads: [HTTP2ResponseTranslator.Head], body: [UInt8])) {
        #expect(result.heads.map(\.status) == [103, 200])
        #expect(result.heads[1].fields.first == HPACKHeaderField("Content-Type", "text/event-stream"))
        #expect(String(decoding: result.body, as: UTF8.self) == "data: one\n\ndata: two\n\n")
    }

    @Test func wholeWrite() throws {
        Self.check(try Self.translate([Self.response]))
    }

    @Test func byteByByte() throws {
        Self.check(try Self.translate(Self.response.map { [$0] }))
    }

    @Test func randomSplits() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var writes: [[UInt8]] = []
            var rest = Self.response[...]
            while !rest.isEmpty {
                let take = Int.random(in: 1...min(40, rest.count), using: &generator)
                writes.append(Array(rest.prefix(take)))
                rest = rest.dropFirst(take)
            }
            Self.check(try Self.translate(writes))
        }
    }

    @Test func afterTheFinalHead_everyByteIsBody_evenOneThatLooksLikeAHead() throws {
        let result = try Self.translate([Array("HTTP/1.1 200 OK\r\n\r\n".utf8), Array("HTTP/1.1 200 OK\r\n\r\n".utf8)])
        #expect(result.heads.count == 1)
        #expect(result.body == Array("HTTP/1.1 200 OK\r\n\r\n".utf8))
    }

    @Test func bytesThatAreNotAHead_throw() {
        var translator = HTTP2ResponseTranslator(maxHeadBytes: 64)
        #expect(throws: HTTPParseError.self) { _ = try Array("garbage\r\n\r\n".utf8).withUnsafeBytes { try translator.take($0) } }
        var small = HTTP2ResponseTranslator(maxHeadBytes: 64)
        #expect(throws: HTTPParseError.self) {
            _ = try Array(("HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 100)).utf8).withUnsafeBytes { try small.take($0) }
        }
    }
}

import Testing
@testable import SSEKeeperCore

/// The stamper writes ids that `StampedEventID` parses back: the two halves of ride-through's id format agree.
struct StampedIDRoundTripTests {
    @Test func theStampersIDs_parseBack_withTokenSequenceAndBackendID() throws {
        var generator = SystemRandomNumberGenerator()
        let token = StreamToken(random: &generator)
        var stamper = EventIDStamper(token: token.textBytes)
        var output: [UInt8] = []
        let backend = Array("id: 41\ndata: a\n\ndata: b\n\nid: x.y\ndata: c\n\n".utf8)
        backend.withUnsafeBytes { stamper.stamp($0, into: &output, onEvent: { _ in }) }
        let ids = String(decoding: output, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("id: ") }.map { Array($0.dropFirst(4).utf8) }
        #expect(ids.count == 3)
        let parsed = try ids.map { try #require(StampedEventID(parsing: $0)) }
        #expect(parsed.map(\.token) == [token, token, token])
        #expect(parsed.map(\.sequence) == [1, 2, 3])
        // The backend part is the backend's last event ID after each event, as a spec client would hold it.
        #expect(parsed.map { String(decoding: $0.backendID, as: UTF8.self) } == ["41", "41", "x.y"])
        #expect(parsed.map(\.bytes) == ids)
    }
}

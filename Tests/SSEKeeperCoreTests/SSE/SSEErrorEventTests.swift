import Testing
@testable import SSEKeeperCore

/// ssekeeper's own `event: error`: dispatched whole, never merged with the upstream's events, never clearing the
/// client's last event ID.
struct SSEErrorEventTests {
    /// Feeds `upstream` through a tracker (as one read), then the error event; returns what a WHATWG client saw.
    static func clientView(after upstream: String, lastEventID: String? = nil) -> (event: [UInt8]?, seen: SpecEventStreamParser) {
        var tracker = SSEStreamTracker()
        var client = SpecEventStreamParser(lastEventIdString: lastEventID ?? "")
        Array(upstream.utf8).withUnsafeBytes { bytes in tracker.forward(bytes) { client.feed($0) } }
        let event = tracker.event(fields: SSEErrorEvent.fields(status: 502, reason: "upstream closed", lastEventID: lastEventID))
        if let event { client.feed(event) }
        return (event, client)
    }

    @Test func errorEvent_isDispatchedWhole_afterACompleteUpstreamEvent() {
        let (event, client) = Self.clientView(after: "id: 4\ndata: four\n\n")
        #expect(event != nil)
        let events = client.observation.events
        #expect(events.count == 2)
        #expect(events.last?.type == "error")
        #expect(events.last?.data == "{\"status\":502,\"reason\":\"upstream closed\"}")
        #expect(client.observation.lastEventIdString == "4", "the upstream's last id survives")
    }

    @Test func errorEvent_isRefused_insideAnUnfinishedEvent_orMidLine() {
        #expect(Self.clientView(after: "data: half an event\n").event == nil)
        #expect(Self.clientView(after: "data: half a li").event == nil)
    }

    @Test func errorEvent_afterABareCR_keepsTheClientsLineEnds() {
        let (event, client) = Self.clientView(after: "data: x\r\r")
        #expect(event != nil)
        #expect(client.observation.events.map(\.type) == ["message", "error"])
        #expect(client.observation.dataBuffer.isEmpty)
    }

    @Test func errorEvent_beforeTheFirstUpstreamEvent_carriesTheClientsLastEventID() {
        let (_, client) = Self.clientView(after: ": just a comment\n", lastEventID: "41")
        #expect(client.observation.events.map(\.type) == ["error"])
        #expect(client.observation.lastEventIdString == "41", "the client reconnects from where it was")
    }

    @Test func errorEvent_escapesTheReasonAsJSON_andCannotBreakItsLine() {
        let fields = SSEErrorEvent.fields(status: 502, reason: "a \"quoted\"\nreason\\", lastEventID: "x\ny")
        #expect(fields.contains("data: {\"status\":502,\"reason\":\"a \\\"quoted\\\"\\nreason\\\\\"}"))
        var tracker = SSEStreamTracker()
        let bytes = tracker.event(fields: fields)!
        var client = SpecEventStreamParser()
        client.feed(bytes)
        #expect(client.observation.events.count == 1, "a CR or LF inside a field cannot end the event early")
    }

    @Test func unavailableResponse_isA200EventStream_withRetry_andTheErrorEvent() {
        let bytes = SSEErrorEvent.unavailableResponse(status: 502, reason: "connection refused", retryMilliseconds: 5000, lastEventID: "9")
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        #expect(parts[0].hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(parts[0].contains("\r\nContent-Type: text/event-stream\r\n"))
        #expect(parts[0].contains("\r\nContent-Length: \(parts[1].utf8.count)\r\n"))
        #expect(parts[0].contains("\r\nConnection: close"))
        var client = SpecEventStreamParser(lastEventIdString: "9")
        client.feed(Array(parts[1].utf8))
        #expect(client.observation.reconnectionTimes == ["5000"])
        #expect(client.observation.events.map(\.type) == ["error"])
        #expect(client.observation.lastEventIdString == "9")
    }
}

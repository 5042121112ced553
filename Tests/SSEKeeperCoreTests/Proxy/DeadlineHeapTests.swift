import Testing
@testable import SSEKeeperCore

struct DeadlineHeapTests {
    @Test func entries_popInDeadlineOrder_onlyOnceExpired() {
        var heap = DeadlineHeap<String>()
        heap.insert("c", at: 30)
        heap.insert("a", at: 10)
        heap.insert("b", at: 20)
        heap.insert("a2", at: 10)
        #expect(heap.earliest == 10)
        #expect(heap.popExpired(now: 9) == nil)
        var popped: [String] = []
        while let entry = heap.popExpired(now: 20) { popped.append(entry.payload) }
        #expect(popped.sorted() == ["a", "a2", "b"])
        #expect(heap.count == 1)
        #expect(heap.popExpired(now: 30)?.payload == "c")
        #expect(heap.isEmpty)
        #expect(heap.earliest == nil)
    }

    @Test func manyRandomDeadlines_comeOutSorted() {
        var heap = DeadlineHeap<Int>()
        var generator = SystemRandomNumberGenerator()
        let deadlines = (0..<5000).map { _ in UInt64.random(in: 0..<1_000_000, using: &generator) }
        for (index, deadline) in deadlines.enumerated() { heap.insert(index, at: deadline) }
        var previous: UInt64 = 0
        var count = 0
        while let entry = heap.popExpired(now: .max) {
            #expect(entry.deadline >= previous)
            #expect(deadlines[entry.payload] == entry.deadline)
            previous = entry.deadline
            count += 1
        }
        #expect(count == deadlines.count)
    }
}

struct RouterTests {
    static let settings = StreamSettings()

    @Test func theLongestMatchingPrefix_wins_regardlessOfDeclarationOrder() {
        let router = Router(routes: [
            Route(prefix: "/", upstreamName: "root", settings: Self.settings),
            Route(prefix: "/api/stream/", upstreamName: "stream", settings: Self.settings),
            Route(prefix: "/api/", upstreamName: "api", settings: Self.settings),
        ])
        #expect(router.route(forPath: "/api/stream/42")?.upstreamName == "stream")
        #expect(router.route(forPath: "/api/stream")?.upstreamName == "api")
        #expect(router.route(forPath: "/api/")?.upstreamName == "api")
        #expect(router.route(forPath: "/other")?.upstreamName == "root")
    }

    @Test func aPathMatchingNoRoute_getsNil() {
        let router = Router(routes: [Route(prefix: "/events", upstreamName: "e", settings: Self.settings)])
        #expect(router.route(forPath: "/event") == nil)
        #expect(router.route(forPath: "*") == nil)
        #expect(router.route(forPath: "/eventsource")?.upstreamName == "e", "prefixes match bytes, not path segments")
    }
}

struct AccessLogRecordTests {
    @Test func aRecord_isOneLineOfKeyValuePairs_withUnsafeValuesQuoted() {
        let record = AccessLogRecord(
            client: "127.0.0.1:5000", method: "GET", path: "/a b\"\n", status: 200, bytesSent: 812,
            durationNanos: 12_004_000_000, heartbeatsSent: 3, heartbeatsSkipped: 1, end: .clientClosed,
            upstream: "127.0.0.1:9000", reason: nil)
        #expect(record.line == #"access client=127.0.0.1:5000 method=GET path="/a b\"\x0a" status=200 bytes=812 duration=12.004s heartbeats=3 skipped=1 end=client_closed upstream=127.0.0.1:9000"#)
        #expect(!record.line.contains("\n"))
    }

    @Test func anSSERecord_carriesTheLongestUpstreamGap_beforeTheUpstream() {
        let record = AccessLogRecord(
            client: "c", method: "GET", path: "/e", status: 200, bytesSent: 1, durationNanos: 2_000_000_000,
            heartbeatsSent: 4, heartbeatsSkipped: 0, end: .completed, upstream: "u", reason: nil,
            longestUpstreamGapNanos: 1_500_000_000)
        #expect(record.line.hasSuffix("end=completed upstream_quiet_max=1.500s upstream=u"))
    }
}

struct ErrorResponseTests {
    @Test func anErrorResponse_isShortPlainText_withConnectionClose() {
        let text = String(decoding: ErrorResponse.bytes(status: 502, detail: "upstream api unreachable: Connection refused"), as: UTF8.self)
        let body = "502 Bad Gateway: upstream api unreachable: Connection refused\n"
        #expect(text == "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n" + body)
    }

    @Test func controlCharactersInTheDetail_cannotInjectLines() {
        let text = String(decoding: ErrorResponse.bytes(status: 400, detail: "bad\r\nSet-Cookie: x"), as: UTF8.self)
        #expect(!text.contains("\r\nSet-Cookie"))
        #expect(text.hasSuffix("400 Bad Request: bad  Set-Cookie: x\n"))
    }
}

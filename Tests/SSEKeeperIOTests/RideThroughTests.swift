import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// Client ride-through over real sockets (issue 15): a client that leaves and comes back with the `Last-Event-ID`
/// it was given gets its stream back — the events it missed, then the live stream — on the same upstream request;
/// a reconnect that does not match the original request never touches the stream.
@Suite(.serialized)
struct RideThroughTests {
    /// A backend that sends `data: N` events when the test says so (`step`), on one request per connection.
    final class PacedBackend: @unchecked Sendable {
        let steps = DispatchSemaphore(value: 0)
        var upstream: TestUpstream!

        /// `script`: for each step, the bytes to send; the response head goes first.
        init(_ script: [String], head: String = sseResponseHead(chunked: false), endAfter: Bool = false) throws {
            upstream = try TestUpstream { [steps] connection, _, _ in
                try connection.send(head)
                for part in script {
                    steps.wait()
                    try connection.send(part)
                }
                if endAfter { return }
                _ = try? connection.secondsUntilClosed()
            }
        }

        func step(_ count: Int = 1) { for _ in 0..<count { steps.signal() } }
        var port: UInt16 { upstream.port }
    }

    static func settings(window: Duration = .seconds(5), maxDuration: Duration? = nil) -> StreamSettings {
        var settings = StreamSettings(idleTimeout: .seconds(30))
        settings.clientResumeWindow = window
        settings.streamMaxDuration = maxDuration
        return settings
    }

    /// The value of the last `id:` line in `text`.
    static func lastID(_ text: String) -> String? {
        text.utf8.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
            .last { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Opens a stream and reads until `marker`.
    static func open(_ proxy: ProxyHarness, path: String = "/events", headers: String = "", body: String? = nil,
                     until marker: String) throws -> (TestSocket, String) {
        let client = try proxy.client()
        client.setReceiveTimeout(seconds: 5)
        let method = body == nil ? "GET" : "POST"
        let length = body.map { "Content-Length: \($0.utf8.count)\r\n" } ?? ""
        try client.send("\(method) \(path) HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\(headers)\(length)\r\n\(body ?? "")")
        var seen: [UInt8] = []
        try client.receive(until: marker, into: &seen)
        return (client, text(seen))
    }

    /// Opens a stream and reads its first stamped event whole; returns the text so far and that event's id.
    static func openUntilID(_ proxy: ProxyHarness, path: String = "/events", headers: String = "",
                            body: String? = nil) throws -> (TestSocket, String, String) {
        let (client, seen) = try open(proxy, path: path, headers: headers, body: body, until: "id: sk1.")
        var all = Array(seen.utf8)
        let start = all.firstRange(of: Array("id: sk1.".utf8))!.lowerBound
        while all[start...].firstRange(of: Array("\n\n".utf8)) == nil {
            let some = try client.receiveSome()
            if some.isEmpty { throw TestError("EOF inside the first event") }
            all += some
        }
        let text = text(all)
        return (client, text, try #require(lastID(text)))
    }

    @Test func aClientThatLeavesAndComesBack_getsTheEventsItMissed_thenTheLiveStream_onOneUpstreamRequest() throws {
        let backend = try PacedBackend(["id: a\ndata: one\n\n", "data: two\n\n", "id: c\ndata: three\n\n", "data: four\n\n"])
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings())
        backend.step()
        let (first, _, id) = try Self.openUntilID(proxy)
        #expect(id.hasPrefix("sk1.") && id.hasSuffix(".1.a"), "the event carries ssekeeper's id with the backend's: \(id)")
        first.close()
        #expect(proxy.waitForLogLine(containing: ["client_detached"]) != nil, "the stream was kept when the client left")

        backend.step(2)  // two and three arrive while nobody is attached
        usleep(200_000)
        let (second, replayed) = try Self.open(proxy, headers: "Last-Event-ID: \(id)\r\n", until: "data: three\n")
        #expect(replayed.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(!replayed.contains("data: one"), "nothing the client had is sent again")
        #expect(replayed.contains("data: two\nid: sk1."), "missed events are replayed with their ids")
        backend.step()
        var live: [UInt8] = []
        try second.receive(until: "data: four\n", into: &live)
        #expect(backend.upstream.connectionCount == 1, "the backend saw one request")
        // Each connection's access record counts its own bytes, not the stream's so far.
        second.close()
        let received = replayed.utf8.count + live.count
        for _ in 0..<100 where proxy.log.components(separatedBy: "end=client_detached").count < 3 { usleep(20_000) }
        let lines = proxy.log.split(separator: "\n").filter { $0.contains("end=client_detached") }
        let bytes = lines.compactMap { line in line.split(separator: " ").first { $0.hasPrefix("bytes=") }.flatMap { Int($0.dropFirst(6)) } }
        #expect(bytes.count == 2)
        if bytes.count == 2 {
            #expect(bytes[1] >= received && bytes[1] < received + 200, "the second line counts the second connection's bytes: \(bytes), received \(received)")
        }
        let metrics = proxy.server.group.loops[0].metrics.route("/").counters
        #expect(proxy.server.group.loops[0].queue.sync { metrics.resumeReattached } == 1)
        #expect(proxy.server.group.loops[0].queue.sync { metrics.resumeReplayedEvents } == 2)
    }

    @Test func aReconnectWithAnotherAuthorization_isANewRequest_withTheBackendsOwnID_andTheStreamIsUntouched() throws {
        let release = DispatchSemaphore(value: 0)
        let upstream = try TestUpstream { connection, request, _ in
            try connection.send(sseResponseHead(chunked: false))
            if request.contains("mallory") {
                try connection.send("data: for mallory\n\n")
            } else {
                try connection.send("id: a\ndata: one\n\n")
                release.wait()
                try connection.send("data: two\n\n")
            }
            _ = try? connection.secondsUntilClosed()
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: Self.settings())
        let (first, _, id) = try Self.openUntilID(proxy, headers: "Authorization: Bearer alice\r\n")
        first.close()
        _ = proxy.waitForLogLine(containing: ["client_detached"])
        release.signal()
        usleep(100_000)

        // Mallory has the id but not the credentials: a new request, and Alice's stream stays.
        let (intruder, other) = try Self.open(proxy, headers: "Authorization: Bearer mallory\r\nLast-Event-ID: \(id)\r\n",
                                              until: "data: for mallory\n")
        #expect(!other.contains("data: two"), "no replay for another client")
        intruder.close()
        #expect(upstream.connectionCount == 2)
        let request = try #require(upstream.receivedRequests.last)
        #expect(request.contains("Last-Event-ID: a\r\n"), "the backend gets its own id, never ssekeeper's")
        #expect(!request.contains("sk1."))
        #expect(proxy.log.contains("does not match"))
        #expect(!proxy.log.contains("Bearer"), "mismatches are logged without values")

        // Alice still rides through, and gets the event she missed.
        let (alice, back) = try Self.open(proxy, headers: "Authorization: Bearer alice\r\nLast-Event-ID: \(id)\r\n", until: "data: two\n")
        #expect(!back.contains("data: one"))
        alice.close()
        let loop = proxy.server.group.loops[0]
        #expect(loop.queue.sync { loop.metrics.route("/").counters.resumeReattached } == 1)
        #expect(loop.queue.sync { loop.metrics.route("/").counters.resumeRefused } == 1)
    }

    @Test func nobodyComingBackWithinTheWindow_closesTheUpstream() throws {
        let backend = try PacedBackend(["data: one\n\n"])
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings(window: .seconds(1)))
        backend.step()
        let (first, _) = try Self.open(proxy, until: "data: one\n")
        let left = Date()
        first.close()
        #expect(proxy.waitForLogLine(containing: ["resume_expired"], seconds: 6) != nil)
        let waited = Date().timeIntervalSince(left)
        #expect(waited >= 0.9 && waited < 4, "the upstream is closed when the window ends (\(waited) s)")
        #expect(proxy.server.group.loops[0].queue.sync { proxy.server.group.loops[0].rideThrough.streams.count } == 0)
    }

    @Test func aSecondClientAttaching_closesTheFirstOnesConnection() throws {
        let backend = try PacedBackend(["data: one\n\n", "data: two\n\n"])
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings())
        backend.step()
        let (first, _, id) = try Self.openUntilID(proxy)
        // The first connection is still open (a client that vanished without a word looks like this).
        let (second, _) = try Self.open(proxy, headers: "Last-Event-ID: \(id)\r\n", until: "\r\n\r\n")
        #expect(try first.secondsUntilClosed() < 2, "one client per stream: the first is closed")
        backend.step()
        var live: [UInt8] = []
        try second.receive(until: "data: two\n", into: &live)
        #expect(backend.upstream.connectionCount == 1)
    }

    @Test func aPOSTStream_reattachesOnlyWithTheSameBody() throws {
        let backend = try PacedBackend(["data: one\n\n", "data: two\n\n", "data: other\n\n"])
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings())
        backend.step()
        let (first, _, id) = try Self.openUntilID(proxy, body: "{\"task\":1}")
        first.close()
        _ = proxy.waitForLogLine(containing: ["client_detached"])
        backend.step()
        usleep(100_000)
        // Another body: a new request (the backend's second connection).
        backend.step()
        let (other, _) = try Self.open(proxy, headers: "Last-Event-ID: \(id)\r\n", body: "{\"task\":2}", until: "\r\n\r\n")
        other.close()
        // The same body: the stream, with the event it missed.
        let (same, replayed) = try Self.open(proxy, headers: "Last-Event-ID: \(id)\r\n", body: "{\"task\":1}", until: "data: two\n")
        #expect(replayed.contains("data: two"))
        same.close()
        #expect(backend.upstream.connectionCount == 2)
        #expect(backend.upstream.receivedRequests.allSatisfy { !$0.contains("sk1.") })
    }

    @Test func aStreamThatEndsWhileItsClientIsAway_givesTheReturningClientItsLastEventsAndTheEnd() throws {
        let backend = try PacedBackend(["data: one\n\n", "data: last\n\n"], head: sseResponseHead(chunked: false), endAfter: true)
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings())
        backend.step()
        let (first, _, id) = try Self.openUntilID(proxy)
        first.close()
        _ = proxy.waitForLogLine(containing: ["client_detached"])
        backend.step()  // the last event, then the backend closes
        usleep(300_000)
        let client = try proxy.client()
        client.setReceiveTimeout(seconds: 5)
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\nLast-Event-ID: \(id)\r\n\r\n")
        var received: [UInt8] = []
        try client.receive(until: "0\r\n\r\n", into: &received)
        let all = Self.text(received)
        #expect(all.contains("data: last\n"))
        #expect(all.hasSuffix("0\r\n\r\n"), "the response ends cleanly, as the backend ended it")
    }

    @Test func streamMaxDuration_endsTheClientConnectionWithAShortRetry_andTheClientRidesThrough() throws {
        let backend = try PacedBackend(["data: one\n\n", "data: two\n\n"])
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings(maxDuration: .seconds(1)))
        backend.step()
        let (first, seen) = try Self.open(proxy, until: "id: sk1.")
        let started = Date()
        let all = seen + Self.text(try first.receiveAll())
        let lasted = Date().timeIntervalSince(started)
        #expect(lasted > 0.5 && lasted < 3, "the connection ends after stream_max_duration (\(lasted) s)")
        #expect(all.contains("retry: \(ProxyStream.lifetimeRetryMilliseconds)\n"))
        #expect(all.hasSuffix("0\r\n\r\n"), "a clean end, at an event boundary")
        let id = try #require(Self.lastID(all))
        backend.step()
        let (second, back) = try Self.open(proxy, headers: "Last-Event-ID: \(id)\r\n", until: "data: two\n")
        #expect(!back.contains("data: one"))
        second.close()
        #expect(backend.upstream.connectionCount == 1, "the backend saw one request")
    }
}

import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO
import SSEKeeperTestSupport

/// `upstream_resume` over real sockets, against a real Python SSE backend that is killed (SIGKILL) and restarted
/// on the same port while a client is streaming through ssekeeper.
@Suite(.serialized) struct UpstreamResumeTests {
    /// Heartbeats every ~100 ms, a short window and short back-offs, so the tests stay quick.
    static func settings(_ mode: UpstreamResumeMode, window: Duration = .seconds(5)) -> StreamSettings {
        StreamSettings(idleTimeout: .milliseconds(300), upstreamResume: mode, resumeWindow: window,
                       resumeBackoffMin: .milliseconds(20), resumeBackoffMax: .milliseconds(200))
    }

    /// Opens an SSE request through the proxy; returns the socket and a reader positioned after the head.
    static func open(_ proxy: ProxyHarness, lastEventID: String? = nil) throws -> (TestSocket, ChunkedReader) {
        let client = try proxy.client()
        client.setReceiveTimeout(seconds: 10)
        let extra = lastEventID.map { "Last-Event-ID: \($0)\r\n" } ?? ""
        try client.send("GET /events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\(extra)\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200)
        #expect(head.header("Transfer-Encoding") == "chunked")
        return (client, ChunkedReader(initial: head.rest))
    }

    static func ids(_ stream: ObservedStream) -> [Int] { stream.events.compactMap { Int($0.id) } }

    @Test func backendKilledAndRestarted_clientSeesOneUnbrokenStream_withNoLostOrDuplicateEvent() throws {
        let backend = try PythonSSEBackend(["--interval-ms", "50"])
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings(.on))
        let (client, initialReader) = try Self.open(proxy)
        var reader = initialReader
        var stream = ObservedStream()
        try stream.read(from: client, reader: &reader) { $0.events.count >= 5 }
        let killedAt = stream.now
        backend.kill()
        let restarter = Thread {
            usleep(600_000)
            try? backend.restart(["--interval-ms", "50"])
        }
        restarter.start()
        try stream.read(from: client, reader: &reader) { $0.events.count >= 12 }
        #expect(!stream.ended)
        #expect(Self.ids(stream) == Array(1...stream.events.count), "events: \(stream.events)")
        #expect(stream.events.allSatisfy { $0.data == "event \($0.id)" })
        let lastBefore = stream.eventTimes[4]
        let firstAfter = stream.eventTimes[5]
        let heartbeats = stream.comments(between: lastBefore, and: firstAfter)
        #expect(heartbeats >= 2, "heartbeats during the outage: \(heartbeats)")
        #expect(firstAfter - killedAt >= 0.5 && firstAfter - killedAt < 3, "gap \(firstAfter - killedAt)")
        #expect(backend.requestLog.contains("request last-event-id=5"), "\(backend.requestLog)")
        print("upstream resume: the client saw no event for \(String(format: "%.3f", firstAfter - lastBefore)) s "
            + "(backend down 0.6 s), \(heartbeats) heartbeats in between, 0 events lost, 0 duplicated")
        client.close()
        #expect(proxy.waitForLogLine(containing: ["access", "resumes=1"]) != nil, "\(proxy.log)")
        #expect(proxy.log.contains("resumed from upstream"))
        let metrics = try ExpositionChecker(proxy.server.metricsExposition())
        #expect(metrics.value("ssekeeper_resumes_attempted_total", ["route": "/"]) == 1)
        #expect(metrics.value("ssekeeper_resumes_succeeded_total", ["route": "/"]) == 1)
        #expect(metrics.value("ssekeeper_resumes_given_up_total", ["route": "/"]) == 0)
        #expect(metrics.value("ssekeeper_resume_gap_seconds_count", ["route": "/"]) == 1)
    }

    @Test func breakInsideAnEvent_neverDeliversThePartialEvent_andTheResumeSendsItWhole() throws {
        let backend = try PythonSSEBackend(["--interval-ms", "30", "--stall-in-event", "4"])
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings(.on))
        let (client, initialReader) = try Self.open(proxy)
        var reader = initialReader
        var stream = ObservedStream()
        try stream.read(from: client, reader: &reader) { $0.events.count >= 3 }
        usleep(300_000)  // event 4's first half reaches ssekeeper and is held there
        backend.kill()
        try backend.restart(["--interval-ms", "30"])
        try stream.read(from: client, reader: &reader) { $0.events.count >= 7 }
        #expect(Self.ids(stream) == Array(1...stream.events.count), "events: \(stream.events)")
        #expect(!stream.dataLines.contains { $0.contains("part one") }, "a partial event reached the client: \(stream.dataLines)")
        #expect(backend.requestLog.contains("request last-event-id=3"), "\(backend.requestLog)")
    }

    @Test func windowPassing_closesTheClientStream_soItReconnectsByItself() throws {
        let backend = try PythonSSEBackend(["--interval-ms", "50"])
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings(.on, window: .milliseconds(600)))
        let (client, initialReader) = try Self.open(proxy)
        var reader = initialReader
        var stream = ObservedStream()
        try stream.read(from: client, reader: &reader) { $0.events.count >= 2 }
        let killedAt = stream.now
        backend.kill()
        try stream.read(from: client, reader: &reader) { _ in false }
        let endedAfter = stream.now - killedAt
        #expect(stream.ended, "the response ends with its final chunk")
        #expect(endedAfter >= 0.5 && endedAfter < 3, "ended \(endedAfter) s after the kill (window 0.6 s)")
        #expect(stream.comments(between: killedAt, and: stream.now) >= 2)
        #expect(proxy.waitForLogLine(containing: ["resume_window"]) != nil, "\(proxy.log)")
        #expect(try ExpositionChecker(proxy.server.metricsExposition()).value("ssekeeper_resumes_given_up_total", ["route": "/"]) == 1)
    }

    @Test func fourHundredFourOnResume_endsTheClientStreamCleanly() throws {
        let backend = try PythonSSEBackend(["--interval-ms", "50"])
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings(.on))
        let (client, initialReader) = try Self.open(proxy)
        var reader = initialReader
        var stream = ObservedStream()
        try stream.read(from: client, reader: &reader) { $0.events.count >= 2 }
        backend.kill()
        try backend.restart(["--status-on-resume", "404"])
        let restartedAt = stream.now
        try stream.read(from: client, reader: &reader) { _ in false }
        #expect(stream.ended)
        #expect(stream.now - restartedAt < 3)
        #expect(Self.ids(stream) == [1, 2])
        #expect(proxy.waitForLogLine(containing: ["answered the resume with status 404"]) != nil, "\(proxy.log)")
    }

    @Test(arguments: [503, 429])
    func warmingUpBackendAnswering5xxOr429_isRetriedWithinTheWindow_andTheStreamGoesOn(status: Int) throws {
        let backend = try PythonSSEBackend(["--interval-ms", "50"])
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings(.on))
        let (client, initialReader) = try Self.open(proxy)
        var reader = initialReader
        var stream = ObservedStream()
        try stream.read(from: client, reader: &reader) { $0.events.count >= 2 }
        backend.kill()
        try backend.restart(["--interval-ms", "50", "--status-on-resume", "\(status)", "--status-times", "2"])
        try stream.read(from: client, reader: &reader) { $0.events.count >= 5 }
        #expect(!stream.ended)
        #expect(Self.ids(stream) == [1, 2, 3, 4, 5], "events: \(stream.events)")
        let resumes = backend.requestLog.split(separator: "\n").filter { $0.contains("last-event-id=2") }
        #expect(resumes.count == 3, "two answered \(status), the third streamed: \(backend.requestLog)")
        #expect(proxy.log.contains("answered the resume with status \(status)"), "\(proxy.log)")
        let metrics = try ExpositionChecker(proxy.server.metricsExposition())
        #expect(metrics.value("ssekeeper_resumes_succeeded_total", ["route": "/"]) == 1)
        #expect(metrics.value("ssekeeper_resumes_given_up_total", ["route": "/"]) == 0)
    }

    @Test func backendAnswering503UntilTheWindowPasses_endsTheStreamWhenTheWindowEnds() throws {
        let backend = try PythonSSEBackend(["--interval-ms", "50"])
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings(.on, window: .milliseconds(600)))
        let (client, initialReader) = try Self.open(proxy)
        var reader = initialReader
        var stream = ObservedStream()
        try stream.read(from: client, reader: &reader) { $0.events.count >= 2 }
        let killedAt = stream.now
        backend.kill()
        try backend.restart(["--status-on-resume", "503"])
        try stream.read(from: client, reader: &reader) { _ in false }
        #expect(stream.ended)
        #expect(Self.ids(stream) == [1, 2])
        let endedAfter = stream.now - killedAt
        #expect(endedAfter >= 0.5 && endedAfter < 3, "ended \(endedAfter) s after the kill (window 0.6 s)")
        #expect(proxy.waitForLogLine(containing: ["resume_window", "answered the resume with status 503"]) != nil, "\(proxy.log)")
    }

    @Test func backendIgnoringLastEventID_replaysFromItsStart_andTheClientGetsWhatItSent() throws {
        let backend = try PythonSSEBackend(["--interval-ms", "50", "--ignore-last-event-id"])
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings(.on))
        let (client, initialReader) = try Self.open(proxy)
        var reader = initialReader
        var stream = ObservedStream()
        try stream.read(from: client, reader: &reader) { $0.events.count >= 4 }
        backend.kill()
        try backend.restart(["--interval-ms", "50", "--ignore-last-event-id"])
        try stream.read(from: client, reader: &reader) { $0.events.count >= 7 }
        #expect(Self.ids(stream) == [1, 2, 3, 4, 1, 2, 3], "duplicates are the backend's: \(stream.events)")
        #expect(backend.requestLog.contains("request last-event-id=4"))
    }

    @Test(arguments: [UpstreamResumeMode.on, .always])
    func cleanEndOfTheResponse_isResumedOnlyWithAlways(mode: UpstreamResumeMode) throws {
        let backend = try PythonSSEBackend(["--interval-ms", "20", "--end-after", "3"])
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings(mode))
        let (client, initialReader) = try Self.open(proxy)
        var reader = initialReader
        var stream = ObservedStream()
        try stream.read(from: client, reader: &reader) { $0.events.count >= 6 }
        if mode == .on {
            #expect(stream.ended)
            #expect(Self.ids(stream) == [1, 2, 3])
        } else {
            #expect(!stream.ended)
            #expect(Self.ids(stream) == [1, 2, 3, 4, 5, 6], "one event per resumed response: \(stream.events)")
        }
    }

    @Test func drainDuringTheGap_endsTheStreamWithRetry() throws {
        let backend = try PythonSSEBackend(["--interval-ms", "50"])
        var limits = Limits()
        limits.drainRetry = .milliseconds(250)
        limits.drainSpread = .zero
        let proxy = try ProxyHarness(routes: [(prefix: "/", ports: [backend.port], settings: Self.settings(.on))], limits: limits)
        let (client, initialReader) = try Self.open(proxy)
        var reader = initialReader
        var stream = ObservedStream()
        try stream.read(from: client, reader: &reader) { $0.events.count >= 2 }
        backend.kill()
        usleep(200_000)
        proxy.server.drain { _ in }
        var tail: [UInt8] = []
        while !reader.finished { tail += try reader.nextChunk(from: client) }
        #expect(String(decoding: tail, as: UTF8.self).contains("retry: 250\n"), "\(String(decoding: tail, as: UTF8.self).debugDescription)")
    }

    @Test func clientClosingDuringTheGap_cancelsTheResumeAtOnce() throws {
        let backend = try PythonSSEBackend(["--interval-ms", "50"])
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings(.on))
        let (client, initialReader) = try Self.open(proxy)
        var reader = initialReader
        var stream = ObservedStream()
        try stream.read(from: client, reader: &reader) { $0.events.count >= 2 }
        backend.kill()
        usleep(300_000)
        #expect(try ExpositionChecker(proxy.server.metricsExposition()).value("ssekeeper_upstream_connect_errors_total", ["route": "/", "kind": "refused"]) ?? 0 >= 2,
                "the resume keeps trying while the client is there")
        client.close()
        let line = proxy.waitForLogLine(containing: ["access", "end=client_closed"], seconds: 2)
        #expect(line?.contains("resumes=0") == true, "\(proxy.log)")
        let refused = { try ExpositionChecker(proxy.server.metricsExposition()).value("ssekeeper_upstream_connect_errors_total", ["route": "/", "kind": "refused"]) }
        let afterClose = try refused()
        usleep(500_000)
        #expect(try refused() == afterClose, "no connect after the client left")
        #expect(try ExpositionChecker(proxy.server.metricsExposition()).value("ssekeeper_open_streams", ["route": "/"]) == 0)
    }

    @Test func backendEndingEveryStreamAtOnce_withAlways_isReconnectedToWithBackoff_notInALoop() throws {
        let backend = try PythonSSEBackend(["--end-after", "1", "--ignore-last-event-id"])
        let proxy = try ProxyHarness(upstreamPort: backend.port, settings: Self.settings(.always))
        let (client, initialReader) = try Self.open(proxy)
        var reader = initialReader
        var stream = ObservedStream()
        let until = stream.now + 1.0
        try stream.read(from: client, reader: &reader) { $0.now >= until }
        let requests = backend.requestLog.split(separator: "\n").count
        // Back-off 20 ms doubling to 200 ms: about 8 reconnects in a second; without it, hundreds.
        #expect(requests >= 3 && requests <= 20, "\(requests) requests in 1 s")
        #expect(!stream.ended)
    }
}

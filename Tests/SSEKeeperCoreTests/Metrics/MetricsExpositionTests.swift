import Testing
@testable import SSEKeeperCore
import SSEKeeperTestSupport

struct MetricsExpositionTests {
    /// Two loops' figures for two routes plus unrouted answers, as a scrape would merge them.
    static func sampleSnapshot() -> MetricsSnapshot {
        let loopA = LoopMetrics()
        let loopB = LoopMetrics()
        let events = loopA.route("/events")
        events.counters.activeRequests += 2
        events.counters.openStreams += 1
        events.counters.countRequest(status: 200)
        events.counters.countRequest(status: 499)
        events.counters.bytesIn &+= 100
        events.counters.bytesOut &+= 250
        events.counters.heartbeatsSent &+= 4
        events.counters.heartbeatsSkipped &+= 1
        events.counters.upstreamQuiet.observe(nanos: 300_000_000)
        events.counters.quietClientCloses &+= 1
        events.counters.quietCloseAge.observe(nanos: 61_000_000_000)
        events.counters.teardown.observe(nanos: 40_000)
        events.counters.streamDuration.observe(nanos: 61_000_000_000)
        events.counters.countConnectError(.refused)
        events.counters.countDeadPeer(.clientStalled)
        events.counters.countDeadPeer(.clientClosed)
        events.counters.resumeWindowsOpened &+= 3
        events.counters.resumeReattached &+= 2
        events.counters.resumeExpired &+= 1
        events.counters.resumeReplayedEvents &+= 40
        events.counters.resumeReplayedBytes &+= 4_000
        events.counters.resumeRefused &+= 1
        events.counters.detachedStreams += 1
        events.counters.resumeBufferBytes += 70_000
        let eventsB = loopB.route("/events")
        eventsB.counters.openStreams += 2
        eventsB.counters.countRequest(status: 200)
        eventsB.counters.upstreamQuiet.observe(nanos: 20_000_000_000)
        eventsB.counters.countDeadPeer(.clientStalled)
        eventsB.counters.countDeadPeer(.upstreamSilent)
        eventsB.counters.resumeWindowsOpened &+= 5
        eventsB.counters.resumeReattached &+= 1
        eventsB.counters.resumeEvicted &+= 2
        eventsB.counters.resumeReplayedEvents &+= 2
        eventsB.counters.resumeReplayedBytes &+= 96
        eventsB.counters.resumeUnattachable &+= 4
        eventsB.counters.detachedStreams += 2
        eventsB.counters.resumeBufferBytes += 1_024
        loopB.route("/api\"x").counters.countConnectError(.timeout)
        loopA.unrouted.counters.countRequest(status: 400)
        loopA.process.countRejection(.badRequest)
        loopB.process.countRejection(.maxConnections)
        loopB.process.acceptBackoffs &+= 1
        loopB.process.connectionsHandedOver &+= 2
        loopA.process.connectionsAccepted &+= 5
        var snapshot = loopA.snapshot()
        snapshot.merge(loopB.snapshot())
        snapshot.includeRoutes(["/", "/events", MetricsSnapshot.unroutedLabel])
        return snapshot
    }

    @Test func theExposition_passesTheStrictChecker_andCarriesTheMergedValues() throws {
        let text = MetricsExposition.render(
            Self.sampleSnapshot(), process: .init(openConnections: 7, draining: false, eventLoops: 3))
        let parsed = try ExpositionChecker(text)
        #expect(parsed.value("ssekeeper_open_connections") == 7)
        #expect(parsed.value("ssekeeper_draining") == 0)
        #expect(parsed.value("ssekeeper_event_loops") == 3)
        #expect(parsed.value("ssekeeper_connections_accepted_total") == 5)
        #expect(parsed.value("ssekeeper_rejected_requests_total", ["reason": "bad_request"]) == 1)
        #expect(parsed.value("ssekeeper_rejected_requests_total", ["reason": "max_connections"]) == 1)
        #expect(parsed.value("ssekeeper_rejected_requests_total", ["reason": "too_large"]) == 0)
        #expect(parsed.value("ssekeeper_accept_backoffs_total") == 1)
        #expect(parsed.value("ssekeeper_connections_handed_over_total") == 2)
        #expect(parsed.value("ssekeeper_active_requests", ["route": "/events"]) == 2)
        #expect(parsed.value("ssekeeper_open_streams", ["route": "/events"]) == 3)
        #expect(parsed.value("ssekeeper_requests_total", ["route": "/events", "code": "2xx"]) == 2)
        #expect(parsed.value("ssekeeper_requests_total", ["route": "/events", "code": "4xx"]) == 1)
        #expect(parsed.value("ssekeeper_requests_total", ["route": "none", "code": "4xx"]) == 1)
        #expect(parsed.value("ssekeeper_upstream_received_bytes_total", ["route": "/events"]) == 100)
        #expect(parsed.value("ssekeeper_client_sent_bytes_total", ["route": "/events"]) == 250)
        #expect(parsed.value("ssekeeper_heartbeats_sent_total", ["route": "/events"]) == 4)
        #expect(parsed.value("ssekeeper_heartbeats_skipped_total", ["route": "/events"]) == 1)
        #expect(parsed.value("ssekeeper_upstream_quiet_seconds_count", ["route": "/events"]) == 2)
        #expect(parsed.value("ssekeeper_upstream_quiet_seconds_bucket", ["route": "/events", "le": "0.5"]) == 1)
        #expect(parsed.value("ssekeeper_upstream_quiet_seconds_bucket", ["route": "/events", "le": "20"]) == 2)
        #expect(parsed.value("ssekeeper_upstream_quiet_seconds_sum", ["route": "/events"]) == 20.3)
        #expect(parsed.value("ssekeeper_quiet_client_closes_total", ["route": "/events"]) == 1)
        #expect(parsed.value("ssekeeper_quiet_client_close_age_seconds_bucket", ["route": "/events", "le": "60"]) == 0)
        #expect(parsed.value("ssekeeper_quiet_client_close_age_seconds_bucket", ["route": "/events", "le": "75"]) == 1)
        #expect(parsed.value("ssekeeper_teardown_seconds_bucket", ["route": "/events", "le": "0.00005"]) == 1)
        #expect(parsed.value("ssekeeper_stream_duration_seconds_count", ["route": "/events"]) == 1)
        #expect(parsed.value("ssekeeper_upstream_connect_errors_total", ["route": "/events", "kind": "refused"]) == 1)
        #expect(parsed.value("ssekeeper_upstream_connect_errors_total", ["route": "/api\"x", "kind": "timeout"]) == 1)
    }

    @Test func aConfiguredRouteWithoutTraffic_hasZeroSeries_fromTheFirstScrape() throws {
        var snapshot = MetricsSnapshot()
        snapshot.includeRoutes(["/quiet", MetricsSnapshot.unroutedLabel])
        let parsed = try ExpositionChecker(MetricsExposition.render(snapshot, process: .init(openConnections: 0, draining: true)))
        #expect(parsed.value("ssekeeper_draining") == 1)
        #expect(parsed.value("ssekeeper_open_streams", ["route": "/quiet"]) == 0)
        #expect(parsed.value("ssekeeper_upstream_quiet_seconds_bucket", ["route": "/quiet", "le": "+Inf"]) == 0)
        #expect(parsed.samples("ssekeeper_requests_total").count == 10, "five status classes for /quiet and for none")
        #expect(parsed.value("ssekeeper_open_streams", ["route": "none"]) == nil, "unrouted answers have no streams")
    }

    @Test func everyFamily_isDeclaredOnce_withHelp() throws {
        let parsed = try ExpositionChecker(MetricsExposition.render(Self.sampleSnapshot(), process: .init(openConnections: 0, draining: false)))
        #expect(parsed.order.count == 38)
        for name in parsed.order {
            #expect(name.hasPrefix("ssekeeper_"))
            #expect(parsed.families[name]?.help?.isEmpty == false, "\(name) has no HELP")
        }
    }

    @Test func deadPeerEnds_areCountedPerRouteAndReason_mergedOverLoops_withEveryReasonPresent() throws {
        let parsed = try ExpositionChecker(MetricsExposition.render(Self.sampleSnapshot(), process: .init(openConnections: 0, draining: false)))
        let family = try #require(parsed.families["ssekeeper_dead_peer_ends_total"])
        #expect(family.type == "counter")
        #expect(family.help?.contains("client_stalled") == true)
        let reasons = ["client_stalled", "client_dead", "upstream_dead", "upstream_read_timeout", "upstream_silent"]
        #expect(RouteCounters.deadPeerReasons.map(\.rawValue) == reasons, "the label values are the access log's end reasons")
        #expect(parsed.value("ssekeeper_dead_peer_ends_total", ["route": "/events", "reason": "client_stalled"]) == 2)
        #expect(parsed.value("ssekeeper_dead_peer_ends_total", ["route": "/events", "reason": "upstream_silent"]) == 1)
        #expect(parsed.value("ssekeeper_dead_peer_ends_total", ["route": "/events", "reason": "client_dead"]) == 0)
        #expect(parsed.value("ssekeeper_dead_peer_ends_total", ["route": "/", "reason": "upstream_dead"]) == 0)
        #expect(parsed.samples("ssekeeper_dead_peer_ends_total").count == 3 * reasons.count, "three routes, five reasons each")
        #expect(parsed.value("ssekeeper_dead_peer_ends_total", ["route": "none", "reason": "client_dead"]) == nil,
                "unrouted answers have no peers to lose")
        #expect(parsed.value("ssekeeper_dead_peer_ends_total", ["route": "/events", "reason": "client_closed"]) == nil,
                "a client that closed is not a dead peer")
    }

    @Test func clientRideThrough_isCountedPerRoute_mergedOverLoops_withTheRightTypes() throws {
        let parsed = try ExpositionChecker(MetricsExposition.render(Self.sampleSnapshot(), process: .init(openConnections: 0, draining: false)))
        let expected: [(name: String, type: String, events: Double)] = [
            ("ssekeeper_client_resume_windows_opened_total", "counter", 8),
            ("ssekeeper_client_resume_reattached_total", "counter", 3),
            ("ssekeeper_client_resume_expired_total", "counter", 1),
            ("ssekeeper_client_resume_evicted_total", "counter", 2),
            ("ssekeeper_client_resume_replayed_events_total", "counter", 42),
            ("ssekeeper_client_resume_replayed_bytes_total", "counter", 4_096),
            ("ssekeeper_client_resume_refused_total", "counter", 1),
            ("ssekeeper_client_resume_unattachable_total", "counter", 4),
            ("ssekeeper_client_resume_detached_streams", "gauge", 3),
            ("ssekeeper_client_resume_buffer_bytes", "gauge", 71_024),
        ]
        for (name, type, events) in expected {
            let family = try #require(parsed.families[name], "\(name) is missing")
            #expect(family.type == type, "\(name)")
            #expect(family.help?.isEmpty == false, "\(name) has no HELP")
            #expect(parsed.value(name, ["route": "/events"]) == events, "\(name): both loops added")
            #expect(parsed.value(name, ["route": "/"]) == 0, "\(name): a route without traffic has its zero")
            #expect(parsed.value(name, ["route": "none"]) == nil, "\(name): unrouted answers have no streams")
            #expect(parsed.samples(name).count == 3, "\(name): one series per routed label")
        }
        #expect(parsed.families["ssekeeper_client_resume_evicted_total"]?.help?.contains("client_resume_memory") == true)
    }

    @Test func merge_addsEveryRideThroughFigure_andACopyIsEqual() {
        var first = RouteCounters()
        first.resumeWindowsOpened = 1
        first.resumeReattached = 2
        first.resumeExpired = 3
        first.resumeEvicted = 4
        first.resumeReplayedEvents = 5
        first.resumeReplayedBytes = 6
        first.resumeRefused = 7
        first.resumeUnattachable = 8
        first.detachedStreams = 9
        first.resumeBufferBytes = 10
        var second = first
        second.resumeWindowsOpened = .max
        second.merge(first)
        #expect(second.resumeWindowsOpened == 0, "counters wrap rather than trap")
        #expect([second.resumeReattached, second.resumeExpired, second.resumeEvicted, second.resumeReplayedEvents,
                 second.resumeReplayedBytes, second.resumeRefused, second.resumeUnattachable] == [4, 6, 8, 10, 12, 14, 16])
        #expect(second.detachedStreams == 18)
        #expect(second.resumeBufferBytes == 20)
        #expect(first.detachedCopy() == first)
    }

    @Test func liveCounters_keepTheirOwnStorage_afterASnapshot() {
        let loop = LoopMetrics()
        let box = loop.route("/")
        box.counters.upstreamQuiet.observe(nanos: 1)
        let before = loop.snapshot()
        box.counters.upstreamQuiet.observe(nanos: 1)
        box.counters.countRequest(status: 204)
        #expect(before.routes["/"]?.upstreamQuiet.count == 1)
        #expect(loop.snapshot().routes["/"]?.upstreamQuiet.count == 2)
        #expect(loop.route("/") === box, "a label's box is made once")
    }

    @Test(arguments: [(200, 1), (101, 0), (304, 2), (499, 3), (503, 4), (0, 4), (999, 4)])
    func countRequest_usesTheStatusClass(status: Int, index: Int) {
        var counters = RouteCounters()
        counters.countRequest(status: status)
        #expect(counters.requestsByClass[index] == 1)
    }

    @Test(arguments: [(400, RejectionReason.badRequest), (405, .methodNotAllowed), (408, .timeout), (413, .tooLarge),
                      (414, .tooLarge), (431, .tooLarge), (501, .notImplemented), (505, .unsupportedVersion), (418, .other)])
    func rejectionReasons_followTheStatus(status: Int, reason: RejectionReason) {
        #expect(RejectionReason(status: status) == reason)
    }
}

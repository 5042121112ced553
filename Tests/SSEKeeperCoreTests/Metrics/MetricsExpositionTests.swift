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
        let eventsB = loopB.route("/events")
        eventsB.counters.openStreams += 2
        eventsB.counters.countRequest(status: 200)
        eventsB.counters.upstreamQuiet.observe(nanos: 20_000_000_000)
        eventsB.counters.countDeadPeer(.clientStalled)
        eventsB.counters.countDeadPeer(.upstreamSilent)
        loopB.route("/api\"x").counters.countConnectError(.timeout)
        loopA.unrouted.counters.countRequest(status: 400)
        loopA.process.countRejection(.badRequest)
        loopB.process.countRejection(.maxConnections)
        loopB.process.acceptBackoffs &+= 1
        loopA.process.connectionsAccepted &+= 5
        var snapshot = loopA.snapshot()
        snapshot.merge(loopB.snapshot())
        snapshot.includeRoutes(["/", "/events", MetricsSnapshot.unroutedLabel])
        return snapshot
    }

    @Test func theExposition_passesTheStrictChecker_andCarriesTheMergedValues() throws {
        let text = MetricsExposition.render(Self.sampleSnapshot(), process: .init(openConnections: 7, draining: false))
        let parsed = try ExpositionChecker(text)
        #expect(parsed.value("ssekeeper_open_connections") == 7)
        #expect(parsed.value("ssekeeper_draining") == 0)
        #expect(parsed.value("ssekeeper_connections_accepted_total") == 5)
        #expect(parsed.value("ssekeeper_rejected_requests_total", ["reason": "bad_request"]) == 1)
        #expect(parsed.value("ssekeeper_rejected_requests_total", ["reason": "max_connections"]) == 1)
        #expect(parsed.value("ssekeeper_rejected_requests_total", ["reason": "too_large"]) == 0)
        #expect(parsed.value("ssekeeper_accept_backoffs_total") == 1)
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
        #expect(parsed.order.count == 23)
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

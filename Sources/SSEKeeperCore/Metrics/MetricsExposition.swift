/// The `/metrics` page: every ssekeeper metric family, rendered from a merged `MetricsSnapshot` in the
/// Prometheus text format 0.0.4 by `PrometheusTextWriter`.
///
/// Families (all prefixed `ssekeeper_`; durations in seconds):
/// - process: `open_connections` (gauge), `connections_accepted_total`, `draining` (gauge, 0 or 1), `event_loops`
///   (gauge),
///   `rejected_requests_total{reason}`, `accept_backoffs_total`;
/// - per route (`route` is the route prefix; requests ssekeeper answered without a route use `route="none"`,
///   which appears only in `requests_total`): `active_requests`, `open_streams` (gauges), `requests_total{code}`
///   (status class `1xx`...`5xx`), `upstream_received_bytes_total` (bytes in), `client_sent_bytes_total` (bytes
///   out), `heartbeats_sent_total`, `heartbeats_skipped_total`, `stream_duration_seconds`,
///   `upstream_quiet_seconds`, `quiet_client_closes_total`, `quiet_client_close_age_seconds`,
///   `teardown_seconds`, `resumes_attempted_total`, `resumes_succeeded_total`, `resumes_given_up_total`,
///   `resume_gap_seconds` (histograms where named `_seconds`), client ride-through (`client_resume_window`):
///   `client_resume_windows_opened_total`, `client_resume_reattached_total`, `client_resume_expired_total`,
///   `client_resume_evicted_total`, `client_resume_replayed_events_total`, `client_resume_replayed_bytes_total`,
///   `client_resume_refused_total`, `client_resume_unattachable_total`, `client_resume_detached_streams` and
///   `client_resume_buffer_bytes` (gauges), `upstream_connect_errors_total{kind}`,
///   `dead_peer_ends_total{reason}` (`RouteCounters.deadPeerReasons`, labelled with their access-log `end`).
///
/// Series are written for every route label in the snapshot and every value of `reason`, `code` and `kind`,
/// zero or not, so a dashboard sees them from the first scrape. Routes are sorted by label.
public enum MetricsExposition {
    /// Process-wide values that are not counters of a loop.
    public struct ProcessState: Sendable {
        /// Client connections open now (`max_connections` counts these).
        public var openConnections: Int
        /// Whether the server is draining (`/healthz` answers 503).
        public var draining: Bool
        /// Event loops serving connections (`event_loops`, as resolved at start).
        public var eventLoops: Int

        public init(openConnections: Int, draining: Bool, eventLoops: Int = 1) {
            self.openConnections = openConnections
            self.draining = draining
            self.eventLoops = eventLoops
        }
    }

    /// The whole exposition text.
    public static func render(_ snapshot: MetricsSnapshot, process: ProcessState) -> String {
        var writer = PrometheusTextWriter()
        writer.family("ssekeeper_open_connections", type: .gauge, help: "Client connections open now, idle keep-alive ones included.")
        writer.sample(process.openConnections)
        writer.family("ssekeeper_connections_accepted_total", type: .counter, help: "Client connections accepted (including those then refused for max_connections).")
        writer.sample(snapshot.process.connectionsAccepted)
        writer.family("ssekeeper_draining", type: .gauge, help: "1 while the server drains (it no longer accepts; /healthz answers 503), else 0.")
        writer.sample(process.draining ? 1 : 0)
        writer.family("ssekeeper_event_loops", type: .gauge, help: "Event loops serving connections (event_loops; auto: the CPUs of the affinity mask, within the cgroup CPU quota).")
        writer.sample(process.eventLoops)
        writer.family("ssekeeper_rejected_requests_total", type: .counter, help: "Requests and connections ssekeeper refused itself, by reason.")
        for reason in RejectionReason.allCases {
            writer.sample(snapshot.process.rejected[reason.rawValue], labels: [("reason", reason.label)])
        }
        writer.family("ssekeeper_accept_backoffs_total", type: .counter, help: "Times accepting paused for 100ms because the process ran out of descriptors (EMFILE/ENFILE).")
        writer.sample(snapshot.process.acceptBackoffs)
        writer.family("ssekeeper_connections_handed_over_total", type: .counter, help: "Client connections handed to another event loop: ride-through reconnects accepted on one loop whose stream runs on another.")
        writer.sample(snapshot.process.connectionsHandedOver)
        writer.family("ssekeeper_http2_connections_total", type: .counter, help: "Client connections served with HTTP/2 (ALPN h2 on tls listeners, prior knowledge on h2c ones).")
        writer.sample(snapshot.process.http2Connections)
        writer.family("ssekeeper_http2_streams_total", type: .counter, help: "Requests clients opened as HTTP/2 streams (divided by ssekeeper_http2_connections_total: streams per connection).")
        writer.sample(snapshot.process.http2Streams)
        writer.family("ssekeeper_http2_connection_errors_total", type: .counter, help: "HTTP/2 connections ssekeeper ended with a GOAWAY error code (protocol errors, floods, compression errors).")
        writer.sample(snapshot.process.http2ConnectionErrors)

        let labels = snapshot.routes.keys.sorted()
        let routed = labels.filter { $0 != MetricsSnapshot.unroutedLabel }
        func perRoute(_ name: String, _ type: PrometheusTextWriter.MetricType, _ help: String, _ value: (RouteCounters) -> UInt64) {
            writer.family(name, type: type, help: help)
            for label in routed { writer.sample(value(snapshot.routes[label]!), labels: [("route", label)]) }
        }
        func perRouteGauge(_ name: String, _ help: String, _ value: (RouteCounters) -> Int) {
            writer.family(name, type: .gauge, help: help)
            for label in routed { writer.sample(value(snapshot.routes[label]!), labels: [("route", label)]) }
        }
        func perRouteHistogram(_ name: String, _ help: String, _ value: (RouteCounters) -> Histogram) {
            writer.family(name, type: .histogram, help: help)
            for label in routed { writer.histogram([("route", label)], value(snapshot.routes[label]!)) }
        }

        perRouteGauge("ssekeeper_active_requests", "Requests in progress, from the parsed request head until the response ends.") { $0.activeRequests }
        perRouteGauge("ssekeeper_open_streams", "SSE responses (text/event-stream) streaming now.") { $0.openStreams }
        writer.family("ssekeeper_requests_total", type: .counter, help: "Finished requests by status class; route=\"none\": answered by ssekeeper without a route (rejections, 404, the probe).")
        for label in labels {
            let counters = snapshot.routes[label]!
            for (index, code) in RouteCounters.statusClasses.enumerated() {
                writer.sample(counters.requestsByClass[index], labels: [("route", label), ("code", code)])
            }
        }
        perRoute("ssekeeper_upstream_received_bytes_total", .counter, "Bytes in: read from upstream servers (response heads and bodies).") { $0.bytesIn }
        perRoute("ssekeeper_client_sent_bytes_total", .counter, "Bytes out: written to clients (heads, bodies, chunk framing, heartbeats, error answers).") { $0.bytesOut }
        perRoute("ssekeeper_heartbeats_sent_total", .counter, "Heartbeat comments written to SSE clients.") { $0.heartbeatsSent }
        perRoute("ssekeeper_heartbeats_skipped_total", .counter, "Heartbeats due while the client's parser was mid-line, so not sent (retried one interval later).") { $0.heartbeatsSkipped }
        perRouteHistogram("ssekeeper_stream_duration_seconds", "Lifetime of finished SSE streams, from the response head to the end.") { $0.streamDuration }
        perRouteHistogram("ssekeeper_upstream_quiet_seconds", "Gaps between reads from the upstream on SSE streams (the silences heartbeats fill).") { $0.upstreamQuiet }
        perRoute("ssekeeper_quiet_client_closes_total", .counter, "SSE streams closed by the client side after the upstream was quiet for at least one heartbeat interval.") { $0.quietClientCloses }
        perRouteHistogram("ssekeeper_quiet_client_close_age_seconds", "Stream age at those closes: a cluster at one age reveals an intermediary cutting streams.") { $0.quietCloseAge }
        perRouteHistogram("ssekeeper_teardown_seconds", "From noticing a client's close (EOF, reset, failed write) to shutting the upstream socket.") { $0.teardown }
        perRoute("ssekeeper_resumes_attempted_total", .counter, "SSE streams whose upstream ended while ssekeeper kept the client and reconnected (upstream_resume).") { $0.resumesAttempted }
        perRoute("ssekeeper_resumes_succeeded_total", .counter, "Resumes that spliced a new upstream response into the client's stream.") { $0.resumesSucceeded }
        perRoute("ssekeeper_resumes_given_up_total", .counter, "Resumes that ended the client's stream: resume_window passed, or the upstream answered other than 200 text/event-stream.") { $0.resumesGivenUp }
        perRouteHistogram("ssekeeper_resume_gap_seconds", "Successful resumes: from the upstream break to the new response head.") { $0.resumeGap }
        perRoute("ssekeeper_client_resume_windows_opened_total", .counter, "Clients of ridden-through SSE streams that left while ssekeeper kept the stream for a reconnect (client_resume_window).") { $0.resumeWindowsOpened }
        perRoute("ssekeeper_client_resume_reattached_total", .counter, "Reconnects attached to their kept stream: missed events replayed, no new backend request.") { $0.resumeReattached }
        perRoute("ssekeeper_client_resume_expired_total", .counter, "Kept streams whose client_resume_window passed with no client back; the upstream was closed.") { $0.resumeExpired }
        perRoute("ssekeeper_client_resume_evicted_total", .counter, "Kept streams ended because the replay buffers reached client_resume_memory (oldest first).") { $0.resumeEvicted }
        perRoute("ssekeeper_client_resume_replayed_events_total", .counter, "Events replayed to reattached clients.") { $0.resumeReplayedEvents }
        perRoute("ssekeeper_client_resume_replayed_bytes_total", .counter, "Bytes of the events replayed to reattached clients.") { $0.resumeReplayedBytes }
        perRoute("ssekeeper_client_resume_refused_total", .counter, "Reconnects with this route's stream id that did not match the original request (method, target, client_resume_match headers, body digest); sent on as new requests.") { $0.resumeRefused }
        perRoute("ssekeeper_client_resume_unattachable_total", .counter, "Reconnects with a stamped id that could not be attached (no such stream here, window over, position no longer buffered); sent on as new requests.") { $0.resumeUnattachable }
        perRouteGauge("ssekeeper_client_resume_detached_streams", "Ridden-through SSE streams kept without a client now.") { $0.detachedStreams }
        perRouteGauge("ssekeeper_client_resume_buffer_bytes", "Bytes held now in the replay buffers of the route's streams (client_resume_buffer).") { $0.resumeBufferBytes }
        writer.family("ssekeeper_upstream_connect_errors_total", type: .counter, help: "Failed connects to upstream servers, by kind.")
        for label in routed {
            let counters = snapshot.routes[label]!
            for kind in ConnectErrorKind.allCases {
                writer.sample(counters.connectErrors[kind.rawValue], labels: [("route", label), ("kind", kind.label)])
            }
        }
        writer.family("ssekeeper_dead_peer_ends_total", type: .counter, help: "Requests ended because a peer was dead or stalled, by reason: client_stalled (client_send_timeout), client_dead (client_ack_timeout), upstream_dead (upstream_dead_timeout), upstream_read_timeout, upstream_silent (sse_max_silence).")
        for label in routed {
            let counters = snapshot.routes[label]!
            for (index, reason) in RouteCounters.deadPeerReasons.enumerated() {
                writer.sample(counters.deadPeerEnds[index], labels: [("route", label), ("reason", reason.rawValue)])
            }
        }
        return writer.text
    }
}

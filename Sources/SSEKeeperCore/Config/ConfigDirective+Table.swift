extension ConfigDirective {
    /// The directive table, nginx style: one row per directive, looked up by `ConfigBuilder` for every statement.
    ///
    /// Each row's handler reads its argument with the `ConfigBuilder` readers (`duration`, `count`, `size`,
    /// `choice`, which report a bad value at its token with the exact range) and stores it. Stream settings
    /// (`.main` and `.route`) go through `setStream(in:_:)`, into the top-level defaults or the route being read.
    /// `docs/configuration.md` documents every row (syntax, default, contexts), and `DirectiveTableTests` keeps
    /// it, `proxy.conf.example` and the defaults written here in step with the code.
    ///
    /// The order of distinct names breaks ties between typo suggestions: keep new rows after their area's rows.
    static let all: [ConfigDirective] = [
        ConfigDirective(
            name: "listen", contexts: [.main],
            form: .valueWithOptions { builder, argument, options in builder.applyListen(argument, options: options) },
            repetition: .repeatable, syntax: "listen HOST:PORT [tls|h2c];", defaultValue: noDefault,
            summary: "An address clients connect to, in plain TCP, with tls, or h2c (HTTP/2 with prior knowledge too); at least one is required."),
        .value("tls_certificate", "FILE", in: [.main], default: noDefault,
               "The PEM certificate chain (leaf first) that listeners with tls present; required with them.") { builder, argument in
            builder.applyTLSFile(argument, \.certificatePath)
        },
        .value("tls_certificate_key", "FILE", in: [.main], default: noDefault,
               "The PEM private key of tls_certificate; required with a tls listener.") { builder, argument in
            builder.applyTLSFile(argument, \.keyPath)
        },
        ConfigDirective(
            name: "upstream", contexts: [.main],
            form: .block { builder, statement, name in builder.applyUpstream(statement, name: name) },
            repetition: .repeatable, syntax: "upstream NAME { server HOST:PORT; }", defaultValue: noDefault,
            summary: "A named pool of backend servers, for routes to send requests to."),
        ConfigDirective(
            name: "route", contexts: [.main],
            form: .block { builder, statement, prefix in builder.applyRoute(statement, prefix: prefix) },
            repetition: .repeatable, syntax: "route PREFIX { upstream NAME; }", defaultValue: noDefault,
            summary: "Requests whose path starts with PREFIX go to an upstream; the longest prefix wins."),

        // Upstream blocks.
        ConfigDirective(
            name: "server", contexts: [.upstream],
            form: .valueWithOptions { builder, argument, options in builder.applyServer(argument, options: options) },
            repetition: .repeatable,
            syntax: "server HOST:PORT [weight=N] [max_fails=N] [fail_timeout=DURATION] [backup];",
            defaultValue: noDefault,
            summary: "One backend server of the pool, with its share, passive health and backup role."),
        .value("upstream_keepalive", "COUNT", in: [.upstream], default: "0",
               "Idle connections to the pool kept per event loop for reuse by non-SSE requests.") { builder, argument in
            if let value = builder.count(argument, in: ConfigBuilder.upstreamKeepaliveRange) {
                builder.currentUpstream?.upstream.keepalive = value
            }
        },
        .value("upstream_keepalive_timeout", "DURATION", in: [.upstream], default: "60s",
               "How long an idle pooled upstream connection is kept.") { builder, argument in
            if let value = builder.duration(argument) { builder.currentUpstream?.upstream.keepaliveTimeout = value }
        },

        // Route blocks.
        .value("upstream", "NAME", in: [.route], default: noDefault,
               "The upstream pool this route's requests go to; required in every route.") { builder, argument in
            builder.currentRoute?.upstreamToken = argument.token
        },

        // Stream settings: top-level defaults, overridden per route.
        .value("idle_timeout", "DURATION", in: [.main, .route], default: "60s",
               "The shortest idle timeout between clients and ssekeeper.") { builder, argument in
            if let value = builder.duration(argument) { builder.setStream(in: argument.context) { $0.idleTimeout = value } }
        },
        .value("heartbeat_fraction", "FRACTION", in: [.main, .route], default: "0.33",
               "A heartbeat is sent after idle_timeout x FRACTION of silence.") { builder, argument in
            if let value = builder.heartbeatFraction(argument) {
                builder.setStream(in: argument.context) { $0.heartbeatFraction = value }
            }
        },
        .value("heartbeat_comment", "TEXT", in: [.main, .route], default: "heartbeat",
               "The text of the heartbeat comment line, `: TEXT`.") { builder, argument in
            if let problem = ConfigBuilder.commentProblem(argument.text) {
                builder.report(problem, at: argument.token)
            } else {
                builder.setStream(in: argument.context) { $0.heartbeatComment = argument.text }
            }
        },
        .value("sse_retry", "DURATION|off", in: [.main, .route], default: "off",
               "When set, `retry: <ms>` starts every SSE stream.") { builder, argument in
            if let value = builder.durationOrOff(argument) { builder.setStream(in: argument.context) { $0.sseRetry = value } }
        },
        .value("sse_unavailable", "reconnect|status", in: [.main, .route], default: "reconnect",
               "What an SSE request gets when no upstream server can be reached.") { builder, argument in
            if let value = builder.choice(argument, ["reconnect": SSEUnavailableMode.reconnect, "status": .status]) {
                builder.setStream(in: argument.context) { $0.sseUnavailable = value }
            }
        },
        .value("sse_upstream_error_event", "on|off", in: [.main, .route], default: "off",
               "Whether a stream whose upstream breaks gets `event: error` before it ends.") { builder, argument in
            if let value = builder.choice(argument, ["on": true, "off": false]) {
                builder.setStream(in: argument.context) { $0.sseUpstreamErrorEvent = value }
            }
        },
        .value("upstream_resume", "off|on|always", in: [.main, .route], default: "off",
               "Whether a stream is kept and resumed with Last-Event-ID when its upstream ends.") { builder, argument in
            let choices: KeyValuePairs<String, UpstreamResumeMode> = ["off": .off, "on": .on, "always": .always]
            if let value = builder.choice(argument, choices) {
                builder.setStream(in: argument.context) { $0.upstreamResume = value }
            }
        },
        .value("resume_window", "DURATION", in: [.main, .route], default: "30s",
               "How long a resume keeps trying before the client's stream ends.") { builder, argument in
            if let value = builder.duration(argument) { builder.setStream(in: argument.context) { $0.resumeWindow = value } }
        },
        .value("resume_backoff", "MIN..MAX", in: [.main, .route], default: "100ms..5s",
               "The delays between resume attempts: MIN doubling up to MAX, with jitter.") { builder, argument in
            if let value = builder.resumeBackoff(argument) {
                builder.setStream(in: argument.context) { $0.resumeBackoff = value }
            }
        },

        ConfigDirective(
            name: "cors_allow_origin", contexts: [.main, .route],
            form: .values { builder, arguments in builder.applyCORSAllowOrigin(arguments) },
            repetition: .once, syntax: "cors_allow_origin ORIGIN ...|*|off;", defaultValue: "off",
            summary: "Pages on these origins may read the route's responses: ssekeeper adds the CORS fields and answers preflights."),
        .value("cors_allow_credentials", "on|off", in: [.main, .route], default: "off",
               "Whether a listed origin may send cookies (Access-Control-Allow-Credentials: true).") { builder, argument in
            builder.applyCORSAllowCredentials(argument)
        },

        // Limits and timeouts (top level only).
        .value("client_header_timeout", "DURATION", in: [.main], default: "10s",
               "A client must send its whole request head within this time, else 408.") { builder, argument in
            if let value = builder.duration(argument) { builder.limits.clientHeaderTimeout = value }
        },
        .value("upstream_connect_timeout", "DURATION", in: [.main], default: "5s",
               "Connecting to one upstream server may take this long.") { builder, argument in
            if let value = builder.duration(argument) { builder.limits.upstreamConnectTimeout = value }
        },
        .value("upstream_header_timeout", "DURATION", in: [.main], default: "60s",
               "The upstream must send its response head within this time, else 504.") { builder, argument in
            if let value = builder.duration(argument) { builder.limits.upstreamHeaderTimeout = value }
        },
        .value("keepalive_timeout", "DURATION", in: [.main], default: "75s",
               "An idle keep-alive client connection is closed after this.") { builder, argument in
            if let value = builder.duration(argument) { builder.limits.keepaliveTimeout = value }
        },
        .value("max_connections", "COUNT", in: [.main], default: "10000",
               "Open client connections at most; more get 503 at once.") { builder, argument in
            if let value = builder.count(argument, in: ConfigBuilder.maxConnectionsRange) {
                builder.limits.maxConnections = value
            }
        },
        .value("event_loops", "auto|COUNT", in: [.main], default: "auto",
               "Event loops serving connections; auto: one per CPU the process may run on. Read at start.") { builder, argument in
            if argument.text == "auto" {
                builder.limits.eventLoops = .auto
            } else if let value = builder.count(argument, in: 1...EventLoopCount.maximum, alternative: ", or auto") {
                builder.limits.eventLoops = .count(value)
            }
        },
        .value("max_header_size", "SIZE", in: [.main], default: "16k",
               "The largest request or response head.") { builder, argument in
            if let value = builder.size(argument, in: ConfigBuilder.maxHeaderBytesRange) {
                builder.limits.maxHeaderBytes = value
            }
        },
        .value("max_buffer_size", "SIZE", in: [.main], default: "256k",
               "Bytes queued for one slow peer before the other side is no longer read.") { builder, argument in
            if let value = builder.size(argument, in: ConfigBuilder.maxBufferedBytesRange) {
                builder.limits.maxBufferedBytes = value
            }
        },
        .value("max_body_size", "SIZE|off", in: [.main], default: "off",
               "The largest request body accepted; a larger one gets 413.") { builder, argument in
            if argument.text == "off" {
                builder.limits.maxBodyBytes = nil
            } else if let value = builder.size(argument, in: ConfigBuilder.maxBodyBytesRange) {
                builder.limits.maxBodyBytes = value
            }
        },
        .value("probe_path", "PATH|off", in: [.main], default: "off",
               "The path ssekeeper answers itself with a silent probe stream.") { builder, argument in
            builder.applyProbePath(argument)
        },
        .value("probe_max_silence", "DURATION", in: [.main], default: "15m",
               "The longest silence a probe request may ask for.") { builder, argument in
            if let value = builder.duration(argument) { builder.probe.maxSilence = value }
        },
        .value("max_connections_per_ip", "COUNT|off", in: [.main], default: "off",
               "Open connections from one client address at most; more get 503.") { builder, argument in
            if argument.text == "off" {
                builder.limits.maxConnectionsPerClient = nil
            } else if let value = builder.count(argument, in: ConfigBuilder.maxConnectionsRange, alternative: ", or off") {
                builder.limits.maxConnectionsPerClient = value
            }
        },
        .value("drain_timeout", "DURATION", in: [.main], default: "10s",
               "On SIGTERM, how long open connections get to end before the process exits.") { builder, argument in
            if let value = builder.duration(argument) { builder.limits.drainTimeout = value }
        },
        .value("drain_retry", "DURATION", in: [.main], default: "1s",
               "On SIGTERM, the `retry:` sent to each SSE stream before it ends.") { builder, argument in
            if let value = builder.duration(argument) { builder.limits.drainRetry = value }
        },
        .value("drain_spread", "DURATION", in: [.main], default: "2s",
               "On SIGTERM, the window the ends of SSE streams are spread over; 0s ends them all at once.") { builder, argument in
            builder.applyDrainSpread(argument)
        },

        // Observing.
        .value("admin_listen", "HOST:PORT|off", in: [.main], default: "off",
               "The address of the admin endpoint (/metrics, /healthz, /streams).") { builder, argument in
            builder.applyAdminListen(argument)
        },
        .value("access_log", "PATH|stderr|off", in: [.main], default: "stderr",
               "Where one record per finished request goes.") { builder, argument in
            builder.applyAccessLog(argument)
        },
        .value("log_format", "text|json", in: [.main], default: "text",
               "How each access record is written.") { builder, argument in
            if let value = builder.choice(argument, ["text": LogFormat.text, "json": .json]) {
                builder.observe.logFormat = value
            }
        },

        // Dead peers (issue 14): stream settings first, then the socket timeouts (top level only).
        .value("client_send_timeout", "DURATION|off", in: [.main, .route], default: "60s",
               "A client that accepts none of the bytes waiting for it for this long is closed.") { builder, argument in
            builder.applyClientSendTimeout(argument)
        },
        .value("upstream_read_timeout", "DURATION|off", in: [.main, .route], default: "60s",
               "A non-SSE response whose upstream sends nothing for this long mid-body is ended.") { builder, argument in
            if let value = builder.durationOrOff(argument) {
                builder.setStream(in: argument.context) { $0.upstreamReadTimeout = value }
            }
        },
        .value("sse_max_silence", "DURATION|off", in: [.main, .route], default: "off",
               "An SSE upstream that sends nothing for this long is treated as broken: resumed or ended.") { builder, argument in
            if let value = builder.durationOrOff(argument) {
                builder.setStream(in: argument.context) { $0.sseMaxSilence = value }
            }
        },
        .value("heartbeat_event", "NAME|off", in: [.main, .route], default: "off",
               "When set, a heartbeat between events is the event `event: NAME` with `data: TEXT`.") { builder, argument in
            builder.applyHeartbeatEvent(argument)
        },
        .value("heartbeat_data", "TEXT", in: [.main, .route], default: noDefault,
               "The data of a heartbeat event; without it, the server's Unix time in milliseconds.") { builder, argument in
            builder.applyHeartbeatData(argument)
        },
        .value("client_ack_timeout", "DURATION|off", in: [.main], default: "30s",
               "A client whose TCP acknowledges nothing sent for this long is dropped (TCP_USER_TIMEOUT).") { builder, argument in
            if let value = builder.durationOrOff(argument, in: ConfigBuilder.clientAckTimeoutRange) {
                builder.limits.clientAckTimeout = value
            }
        },
        .value("upstream_dead_timeout", "DURATION|off", in: [.main], default: "60s",
               "An upstream host that stopped answering is noticed within about this long (TCP keepalive).") { builder, argument in
            if let value = builder.durationOrOff(argument, in: ConfigBuilder.upstreamDeadTimeoutRange) {
                builder.limits.upstreamDeadTimeout = value
            }
        },

        // Client ride-through (issue 15): stream settings first, then the memory cap (top level only).
        .value("client_resume_window", "DURATION|off", in: [.main, .route], default: "off",
               "A stream whose client goes away keeps its upstream this long, for a reconnect to be attached and replayed what it missed.") { builder, argument in
            builder.applyClientResumeWindow(argument)
        },
        .value("client_resume_buffer", "SIZE", in: [.main, .route], default: "1m",
               "Bytes of recent events one ride-through stream keeps to replay to its reconnecting client.") { builder, argument in
            builder.applyClientResumeBuffer(argument)
        },
        ConfigDirective(
            name: "client_resume_match", contexts: [.main, .route],
            form: .values { builder, arguments in builder.applyClientResumeMatch(arguments) },
            repetition: .once, syntax: "client_resume_match HEADER ...|none;", defaultValue: "Authorization Cookie",
            summary: "The request headers a reconnect must repeat, besides method, target and body, to be attached to a stream."),
        .value("stream_max_duration", "DURATION|off", in: [.main, .route], default: "off",
               "A client connection on an SSE stream is ended at an event boundary after this long, with a short retry.") { builder, argument in
            builder.applyStreamMaxDuration(argument)
        },
        .value("client_resume_memory", "SIZE", in: [.main], default: "256m",
               "The bytes all ride-through buffers hold together; at the cap the oldest detached streams are ended.") { builder, argument in
            if let value = builder.size(argument, in: ConfigBuilder.clientResumeMemoryRange) {
                builder.limits.clientResumeMemory = value
            }
        },

        // HTTP/2 for clients (issue 17): top level only.
        .value("http2", "on|off", in: [.main], default: "on",
               "Whether clients may speak HTTP/2: h2 in ALPN on tls listeners, prior knowledge on h2c ones.") { builder, argument in
            if let value = builder.choice(argument, ["on": true, "off": false]) { builder.limits.http2 = value }
        },
        .value("http2_max_concurrent_streams", "COUNT", in: [.main], default: "128",
               "The streams one HTTP/2 connection may have open at once; one more is refused.") { builder, argument in
            if let value = builder.count(argument, in: ConfigBuilder.http2MaxConcurrentStreamsRange) {
                builder.limits.http2MaxConcurrentStreams = value
            }
        },
    ]
}
